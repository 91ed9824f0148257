import type { Clock } from '../core/clock.ts';
import { WireError } from '../core/errors.ts';
import type { Random } from '../core/ids.ts';
import type { Envelope } from '../crypto/envelope.ts';
import type { Diagnostic } from '../connectors/diagnostics.ts';
import { hasErrors } from '../connectors/diagnostics.ts';
import type { ExportedPackage } from '../connectors/export.ts';
import { exportPackage, secretPaths, withoutSecrets } from '../connectors/export.ts';
import { importPackage } from '../connectors/import-package.ts';
import type { ConnectorModel } from '../connectors/model.ts';
import type { PackageFiles } from '../connectors/package.ts';
import { valueAt } from '../connectors/pointer.ts';
import type { RecordStore, StoredRecord } from '../storage/record-store.ts';

export const CONNECTOR_KIND = 'connector';
export const CONNECTOR_VERSION_KIND = 'connector-version';
/** The issuer path of the workload identity the federated-credential option presents (docs/connectors.md). */
export const WORKLOAD_IDENTITY_PATH = '/workload-identity';

/** The package as stored: original texts (secrets cut out), icon as base64. */
export interface StoredPackage {
  readonly apiDefinitionName: string;
  readonly apiDefinition: string;
  readonly apiProperties?: string;
  readonly icon?: string;
  readonly script?: string;
}

export interface ConnectorData {
  readonly tenantId: string;
  readonly displayName: string;
  readonly description: string;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly package: StoredPackage;
  /** Envelope-encrypted client secret; write-only through the API. */
  readonly clientSecret?: string;
}

export interface ConnectorDetails {
  readonly id: string;
  readonly tenantId: string;
  readonly displayName: string;
  readonly description: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** GlobalPerConnector: this connector's own OAuth redirect URL, to register on the app registration. */
  readonly redirectUrl: string;
  /** What a federated credential on the connector's app registration must trust (issuer + subject). */
  readonly workloadIdentity: { readonly issuer: string; readonly subject: string; readonly audience: string };
  readonly hasClientSecret: boolean;
  readonly operations: readonly {
    readonly operationId: string;
    readonly summary: string;
    readonly needsCustomCode: boolean;
  }[];
  readonly identityProviders: readonly string[];
}

/** The package did not validate: 422 with every diagnostic, so a client can point at each one. */
export class InvalidConnectorPackageError extends WireError {
  readonly status = 422;
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    super('The connector package has errors.');
    this.diagnostics = diagnostics;
  }
  body() {
    return {
      error: { code: 'InvalidConnectorPackage', message: this.message, diagnostics: this.diagnostics },
    };
  }
}

export class ConnectorNotFoundError extends WireError {
  readonly status = 404;
  readonly connectorId: string;
  constructor(connectorId: string) {
    super(`Connector ${connectorId} does not exist.`);
    this.connectorId = connectorId;
  }
  body() {
    return { error: { code: 'ConnectorNotFound', message: this.message } };
  }
}

export class ConnectorConflictError extends WireError {
  readonly status = 409;
  body() {
    return {
      error: { code: 'Conflict', message: 'The connector changed meanwhile; read it again and retry.' },
    };
  }
}

export interface ConnectorRegistryOptions {
  readonly store: RecordStore;
  readonly clock: Clock;
  readonly random: Random;
  /** Behalf's public base URL (known only once the server listens). */
  readonly publicUrl: () => string;
  /** Encrypts client secrets at rest; without it, a secret is refused rather than stored in clear. */
  readonly envelope?: Envelope;
}

export interface UpsertResult {
  readonly connector: ConnectorDetails;
  readonly diagnostics: readonly Diagnostic[];
}

export interface ConnectorRegistry {
  create(tenantId: string, files: PackageFiles, secret?: string): Promise<UpsertResult>;
  update(tenantId: string, id: string, files: PackageFiles, secret?: string): Promise<UpsertResult>;
  get(tenantId: string, id: string): Promise<ConnectorDetails>;
  list(tenantId: string): Promise<ConnectorDetails[]>;
  delete(tenantId: string, id: string): Promise<void>;
  download(tenantId: string, id: string): Promise<ExportedPackage>;
  /** The parsed model of the current version (gateway, agents). */
  model(tenantId: string, id: string): Promise<ConnectorModel>;
  /** The decrypted client secret, for the token exchange only; never for an API response. */
  clientSecret(tenantId: string, id: string): Promise<string | undefined>;
}

type Record_ = StoredRecord<ConnectorData>;

export function createConnectorRegistry(options: ConnectorRegistryOptions): ConnectorRegistry {
  const { store, clock, random } = options;
  const tenantKey = (tenantId: string) => `tenant:${tenantId}`;

  function details(record: Record_): ConnectorDetails {
    const base = options.publicUrl().replace(/\/+$/, '');
    const imported = importPackage(toFiles(record.data.package));
    const model = imported.model;
    const params = model
      ? [model.connectionParameters, ...model.connectionParameterSets.map((s) => s.parameters)]
      : [];
    const idps = [
      ...new Set(
        params.flatMap((p) => Object.values(p)).flatMap((p) => (p.oauth ? [p.oauth.identityProvider] : [])),
      ),
    ];
    return {
      id: record.id,
      tenantId: record.data.tenantId,
      displayName: record.data.displayName,
      description: record.data.description,
      version: record.data.version,
      createdAt: new Date(record.data.createdAt).toISOString(),
      updatedAt: new Date(record.data.updatedAt).toISOString(),
      redirectUrl: `${base}/redirect/${record.id}`,
      workloadIdentity: {
        issuer: `${base}${WORKLOAD_IDENTITY_PATH}`,
        subject: `connector:${record.data.tenantId}:${record.id}`,
        // The audience Entra expects for federated credentials (Workload identity federation docs).
        audience: 'api://AzureADTokenExchange',
      },
      hasClientSecret: record.data.clientSecret !== undefined,
      operations: (model?.operations ?? []).map((o) => ({
        operationId: o.operationId,
        summary: o.summary,
        needsCustomCode: o.needsCustomCode,
      })),
      identityProviders: idps,
    };
  }

  /** Validates, strips secrets from the stored text and seals the secret (from --secret or the file). */
  function prepare(id: string, files: PackageFiles, secret: string | undefined) {
    const imported = importPackage(files);
    if (hasErrors(imported.diagnostics) || !imported.model)
      throw new InvalidConnectorPackageError(imported.diagnostics);
    const exported = exportPackage(imported);
    const fromFile = firstSecret(imported.documents.apiProperties?.value);
    const plain = secret ?? fromFile;
    if (plain !== undefined && !options.envelope) throw new InternalSecretError();
    const pkg: StoredPackage = {
      apiDefinitionName: exported.apiDefinition.name,
      apiDefinition: exported.apiDefinition.text,
      ...(exported.apiProperties ? { apiProperties: withoutSecrets(exported.apiProperties.text) } : {}),
      ...(exported.icon ? { icon: Buffer.from(exported.icon).toString('base64') } : {}),
      ...(exported.script !== undefined ? { script: exported.script } : {}),
    };
    const sealed =
      plain !== undefined ? options.envelope!.encrypt(plain, `connector/${id}/client_secret`) : undefined;
    return { imported, pkg, sealed, model: imported.model };
  }

  async function load(tenantId: string, id: string): Promise<Record_> {
    const record = await store.get<ConnectorData>(CONNECTOR_KIND, id);
    // Another tenant's connector reads as absent: ids are not secrets, but existence should not leak.
    if (!record || record.data.tenantId !== tenantId) throw new ConnectorNotFoundError(id);
    return record;
  }

  async function snapshot(tx: RecordStore, id: string, data: ConnectorData): Promise<void> {
    await tx.insert({
      kind: CONNECTOR_VERSION_KIND,
      id: `${id}/${String(data.version).padStart(6, '0')}`,
      partition: data.tenantId,
      data: { connectorId: id, version: data.version, createdAt: data.updatedAt, package: data.package },
      indexKeys: [`connector:${id}`],
    });
  }

  return {
    async create(tenantId, files, secret) {
      const id = random.uuid();
      const { imported, pkg, sealed, model } = prepare(id, files, secret);
      const now = clock.now();
      const data: ConnectorData = {
        tenantId,
        displayName: model.title,
        description: model.description,
        version: 1,
        createdAt: now,
        updatedAt: now,
        package: pkg,
        ...(sealed ? { clientSecret: sealed } : {}),
      };
      const record = await store.transaction(async (tx) => {
        const inserted = await tx.insert({
          kind: CONNECTOR_KIND,
          id,
          partition: tenantId,
          data,
          indexKeys: [tenantKey(tenantId)],
        });
        await snapshot(tx, id, data);
        return inserted;
      });
      return { connector: details(record), diagnostics: imported.diagnostics };
    },
    async update(tenantId, id, files, secret) {
      const current = await load(tenantId, id);
      const { imported, pkg, sealed, model } = prepare(id, files, secret);
      const data: ConnectorData = {
        ...current.data,
        // paconn update keeps the display name (connector-format.md §3.1).
        description: model.description,
        version: current.data.version + 1,
        updatedAt: clock.now(),
        package: pkg,
        ...(sealed ? { clientSecret: sealed } : {}),
      };
      const record = await store.transaction(async (tx) => {
        const updated = await tx.update<ConnectorData>(CONNECTOR_KIND, id, current.version, data);
        if (!updated) throw new ConnectorConflictError('conflict');
        await snapshot(tx, id, data);
        return updated;
      });
      return { connector: details(record), diagnostics: imported.diagnostics };
    },
    async get(tenantId, id) {
      return details(await load(tenantId, id));
    },
    async list(tenantId) {
      const records = await store.findByIndex<ConnectorData>(CONNECTOR_KIND, tenantKey(tenantId), {
        limit: 1000,
      });
      return records.map(details);
    },
    async delete(tenantId, id) {
      const record = await load(tenantId, id);
      await store.transaction(async (tx) => {
        await tx.delete(CONNECTOR_KIND, id, record.version);
        for (const v of await tx.findByIndex(CONNECTOR_VERSION_KIND, `connector:${id}`, { limit: 1000 }))
          await tx.delete(CONNECTOR_VERSION_KIND, v.id);
      });
    },
    async download(tenantId, id) {
      const record = await load(tenantId, id);
      return exportPackage(importPackage(toFiles(record.data.package)));
    },
    async model(tenantId, id) {
      const record = await load(tenantId, id);
      const model = importPackage(toFiles(record.data.package)).model;
      if (!model) throw new ConnectorNotFoundError(id);
      return model;
    },
    async clientSecret(tenantId, id) {
      const record = await load(tenantId, id);
      if (!record.data.clientSecret || !options.envelope) return undefined;
      return options.envelope.decryptText(record.data.clientSecret, `connector/${id}/client_secret`);
    },
  };
}

/** Storing a secret needs the envelope; refusing is safer than keeping it in clear. */
class InternalSecretError extends WireError {
  readonly status = 503;
  body() {
    return {
      error: {
        code: 'SecretStorageUnavailable',
        message: 'Client secrets cannot be stored: no vault key is configured.',
      },
    };
  }
}

function firstSecret(properties: unknown): string | undefined {
  const path = secretPaths(properties)[0];
  const value = path ? valueAt(properties, path) : undefined;
  return typeof value === 'string' ? value : undefined;
}

export function toFiles(pkg: StoredPackage): PackageFiles {
  return {
    apiDefinition: { name: pkg.apiDefinitionName, text: pkg.apiDefinition },
    ...(pkg.apiProperties !== undefined
      ? { apiProperties: { name: 'apiProperties.json', text: pkg.apiProperties } }
      : {}),
    ...(pkg.icon !== undefined ? { icon: new Uint8Array(Buffer.from(pkg.icon, 'base64')) } : {}),
    ...(pkg.script !== undefined ? { script: pkg.script } : {}),
  };
}
