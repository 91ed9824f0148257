import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { DuplicateKeyError } from '../../core/errors.ts';
import type { Random } from '../../core/ids.ts';
import type { Envelope } from '../../crypto/envelope.ts';
import type { Jwk } from '../../crypto/jwt.ts';
import { signJwt } from '../../crypto/jwt.ts';
import type { RecordStore } from '../../storage/record-store.ts';

/**
 * Behalf as an OIDC issuer for its own workload identity (reference/connector-format.md §5.8,
 * "Use managed identity"): a connector app with no secret lists this issuer and the connector's
 * subject as a federated credential, and Behalf authenticates as that app with a short-lived
 * assertion signed here (RFC 7523 client assertion; Entra's workload identity federation). The
 * discovery document and JWKS live at stable URLs under `{publicUrl}/workload-identity`.
 */
export const WORKLOAD_IDENTITY_PATH = '/workload-identity';
/** The audience Entra expects in federated-credential assertions (its documented default). */
export const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';
const KEY_KIND = 'workload-identity-key';
const KEY_ID = 'current';

interface StoredKey {
  readonly kid: string;
  /** PKCS#8 PEM, sealed by the envelope. */
  readonly sealedPrivateKey: string;
  readonly createdAt: number;
}

export interface WorkloadIdentityIssuer {
  issuer(): string;
  assertion(subject: string, audience?: string): Promise<string>;
  discovery(): Record<string, unknown>;
  jwks(): Promise<{ keys: Jwk[] }>;
}

export function createWorkloadIdentityIssuer(deps: {
  store: RecordStore;
  envelope: Envelope;
  clock: Clock;
  random: Random;
  publicUrl: () => string;
}): WorkloadIdentityIssuer {
  const { store, envelope, clock, random } = deps;
  let loaded: Promise<{ kid: string; privateKey: KeyObject; publicJwk: Jwk }> | undefined;
  const aad = (kid: string) => `behalf:workload-identity-key:${kid}`;

  const load = async () => {
    let record = await store.get<StoredKey>(KEY_KIND, KEY_ID);
    if (!record) {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const kid = random.bytes(16).toString('base64url');
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      try {
        record = await store.insert<StoredKey>({
          kind: KEY_KIND,
          id: KEY_ID,
          partition: '',
          data: { kid, sealedPrivateKey: envelope.encrypt(pem, aad(kid)), createdAt: clock.now() },
        });
      } catch (error) {
        // Another Behalf process created it first: use theirs, so all nodes sign with one key.
        if (!(error instanceof DuplicateKeyError)) throw error;
        record = (await store.get<StoredKey>(KEY_KIND, KEY_ID))!;
      }
    }
    const privateKey = createPrivateKey(
      envelope.decryptText(record.data.sealedPrivateKey, aad(record.data.kid)),
    );
    const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as Jwk;
    return {
      kid: record.data.kid,
      privateKey,
      publicJwk: { ...publicJwk, kid: record.data.kid, use: 'sig', alg: 'RS256' },
    };
  };
  const key = () =>
    (loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    }));

  const issuer = () => deps.publicUrl() + WORKLOAD_IDENTITY_PATH;
  return {
    issuer,
    async assertion(subject, audience = FEDERATED_AUDIENCE) {
      const { kid, privateKey } = await key();
      const now = Math.floor(clock.now() / 1000);
      return signJwt(
        {
          iss: issuer(),
          sub: subject,
          aud: audience,
          iat: now,
          nbf: now,
          exp: now + 300,
          jti: random.uuid(),
        },
        { privateKey, algorithm: 'RS256', header: { kid } },
      );
    },
    discovery: () => ({
      issuer: issuer(),
      jwks_uri: `${issuer()}/.well-known/jwks.json`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    }),
    async jwks() {
      return { keys: [(await key()).publicJwk] };
    },
  };
}
