import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Diagnostic } from '../../connectors/diagnostics.ts';
import { hasErrors } from '../../connectors/diagnostics.ts';
import { importPackage } from '../../connectors/import-package.ts';
import type { PackageFiles } from '../../connectors/package.ts';
import type { ConnectionFlags } from '../api-client.ts';
import { ApiError, connect, UsageError } from '../api-client.ts';
import type { LoadedPackage, PackageFlags } from '../connector/load-package.ts';
import { loadPackage, packageFolders, readSettings } from '../connector/load-package.ts';
import { createProgress } from '../connector/progress.ts';
import { counts, formatReport } from '../connector/report.ts';

// GraphClient.call prefixes /v1.0.
const PATH = '/behalf/connectors';

interface CommonFlags extends PackageFlags, ConnectionFlags {
  json?: boolean;
  verbose?: boolean;
  upload?: boolean;
  secret?: string;
  connectorId?: string;
  dest?: string;
  overwrite?: boolean;
  overwriteSettings?: boolean;
}

function out(text: string): void {
  process.stdout.write(text);
}

function fail(message: string, code = 1): void {
  process.stderr.write(message + '\n');
  process.exitCode = code;
}

/** paconn's flags, long and short (connector-format.md §3.1). */
function packageOptions(cmd: Command): Command {
  return cmd
    .option('-d, --api-def <file>', 'API definition (apiDefinition.swagger.json, or an OpenAPI 3 file)')
    .option('-p, --api-prop <file>', 'API properties (apiProperties.json)')
    .option('-i, --icon <file>', 'icon (icon.png)')
    .option('-x, --script <file>', 'custom code (script.csx)')
    .option('-s, --settings <file>', 'paconn settings.json holding the paths and the connector id');
}

/** The management API connection, as the directory commands make it (admin credential + local CA). */
function serverOptions(cmd: Command): Command {
  return cmd
    .option(
      '--data-dir <dir>',
      'data directory holding admin-credential.json and tls/ca.pem (or BEHALF_DATA_DIR)',
    )
    .option('--authority <url>', 'https://host/{tenant} (or BEHALF_AUTHORITY)')
    .option('--client-id <id>', 'administrator client id (or BEHALF_CLIENT_ID)')
    .option('--client-secret <secret>', 'administrator client secret (or BEHALF_CLIENT_SECRET)')
    .option('--tenant <id>', 'act in this tenant (default: the credential’s tenant)');
}

async function withServer<T>(
  flags: CommonFlags,
  work: (call: <R>(method: string, path: string, body?: unknown) => Promise<R>) => Promise<T>,
): Promise<T> {
  const client = connect(flags);
  try {
    return await work((method, path, body) => client.call(method, path, body));
  } finally {
    await client.close();
  }
}

function check(loaded: LoadedPackage): Diagnostic[] {
  if (hasErrors(loaded.diagnostics)) return loaded.diagnostics;
  return [...loaded.diagnostics, ...importPackage(loaded.files).diagnostics];
}

function uploadBody(files: PackageFiles, secret: string | undefined) {
  return {
    ...(files.apiDefinition
      ? { apiDefinition: files.apiDefinition.text, apiDefinitionName: files.apiDefinition.name }
      : {}),
    ...(files.apiProperties ? { apiProperties: files.apiProperties.text } : {}),
    ...(files.icon ? { icon: Buffer.from(files.icon).toString('base64') } : {}),
    ...(files.script !== undefined ? { script: files.script } : {}),
    ...(secret !== undefined ? { secret } : {}),
  };
}

function jsonReport(label: string, diagnostics: readonly Diagnostic[]) {
  return { package: label, valid: !hasErrors(diagnostics), ...counts(diagnostics), diagnostics };
}

function report(label: string, diagnostics: readonly Diagnostic[], flags: CommonFlags): void {
  if (flags.json) out(JSON.stringify(jsonReport(label, diagnostics), null, 2) + '\n');
  else
    out(
      formatReport(label, diagnostics, {
        color: process.stdout.isTTY === true,
        verbose: flags.verbose === true,
      }),
    );
}

async function guarded(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof UsageError) return fail(error.message, 2);
    if (error instanceof ApiError)
      return fail(`The server refused the request (${error.status} ${error.code}): ${error.message}`);
    throw error;
  }
}

function writeSettings(loaded: LoadedPackage, connectorId: string, overwrite: boolean): void {
  const path = loaded.settingsPath;
  if (!path) return;
  const current = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>)
    : {};
  if (current.connectorId !== undefined && current.connectorId !== connectorId && !overwrite) return;
  writeFileSync(path, JSON.stringify({ ...current, connectorId }, null, 2) + '\n');
}

/** `behalf connector …`: paconn-compatible commands; `validate` and `import-folder` work offline. */
export function registerConnectorCommand(program: Command): void {
  const connector = program
    .command('connector')
    .description('Power Platform connector packages (paconn-compatible).');

  packageOptions(
    connector
      .command('validate [folders...]')
      .description(
        'Validate packages offline (a folder each, default: the current one); exit code 0 only without errors.',
      ),
  )
    .option('--json', 'machine-readable output (an array when several folders are given)')
    .option('-v, --verbose', 'also show notes (info-level findings)')
    .action((folders: string[], flags: CommonFlags) => {
      const targets = folders.length > 0 ? folders : [undefined];
      const results = targets.map((folder) => {
        const loaded = loadPackage(folder, flags);
        return { label: loaded.label, diagnostics: check(loaded) };
      });
      if (flags.json && results.length > 1)
        out(
          JSON.stringify(
            results.map((r) => jsonReport(r.label, r.diagnostics)),
            null,
            2,
          ) + '\n',
        );
      else for (const r of results) report(r.label, r.diagnostics, flags);
      process.exitCode = results.some((r) => hasErrors(r.diagnostics)) ? 1 : 0;
    });

  connector
    .command('import-folder <dir>')
    .description(
      'Validate every package under <dir> (each sub-folder); with --upload, also create each valid one on the server.',
    )
    .option('--json', 'machine-readable summary')
    .option('--upload', 'create every valid package on the server (connection flags as for create)')
    .action((dir: string, flags: CommonFlags) =>
      guarded(async () => {
        const folders = packageFolders(resolve(dir));
        const progress = createProgress(folders.length, process.stderr);
        const results: { package: string; errors: number; warnings: number; id?: string }[] = [];
        const client = flags.upload ? connect(flags) : undefined;
        for (const folder of folders) {
          const loaded = loadPackage(folder, {});
          const diagnostics = check(loaded);
          const c = counts(diagnostics);
          let id: string | undefined;
          if (client && c.errors === 0) {
            const created = await client.call<{ id: string }>(
              'POST',
              PATH,
              uploadBody(loaded.files, undefined),
            );
            id = created.id;
          }
          results.push({ package: folder, errors: c.errors, warnings: c.warnings, ...(id ? { id } : {}) });
          progress.tick(folder);
        }
        progress.done();
        await client?.close();
        const invalid = results.filter((r) => r.errors > 0);
        if (flags.json)
          out(JSON.stringify({ total: results.length, invalid: invalid.length, results }, null, 2) + '\n');
        else {
          for (const r of invalid)
            out(
              `invalid: ${r.package} (${r.errors} error(s)); run \`behalf connector validate "${r.package}"\`\n`,
            );
          out(
            `${results.length} package(s), ${results.length - invalid.length} valid, ${invalid.length} invalid\n`,
          );
        }
        process.exitCode = invalid.length > 0 ? 1 : 0;
      }),
    );

  serverOptions(
    packageOptions(
      connector.command('create [folder]').description('Validate and create a connector on the server.'),
    ),
  )
    .option('-r, --secret <secret>', 'OAuth client secret (stored encrypted, never returned)')
    .option('-w, --overwrite-settings', 'replace the connectorId already in settings.json')
    .action((folder: string | undefined, flags: CommonFlags) =>
      guarded(async () => {
        const loaded = loadPackage(folder, flags);
        const diagnostics = check(loaded);
        if (hasErrors(diagnostics)) {
          report(loaded.label, diagnostics, flags);
          return fail('Not created: the package has errors.');
        }
        const created = await withServer(flags, (call) =>
          call<{ id: string; redirectUrl: string; workloadIdentity: { issuer: string; subject: string } }>(
            'POST',
            PATH,
            uploadBody(loaded.files, flags.secret),
          ),
        );
        writeSettings(loaded, created.id, flags.overwriteSettings === true);
        out(
          `Created connector ${created.id}\n` +
            `  Redirect URL (register it on the app registration): ${created.redirectUrl}\n` +
            `  Federated credential: issuer ${created.workloadIdentity.issuer}, subject ${created.workloadIdentity.subject}\n`,
        );
      }),
    );

  serverOptions(
    packageOptions(
      connector.command('update [folder]').description('Validate and upload a new version of a connector.'),
    ),
  )
    .option('-c, --cid <id>', 'the connector id (or settings.json "connectorId")')
    .option('--connector-id <id>', 'same as --cid')
    .option('-r, --secret <secret>', 'OAuth client secret (kept when omitted)')
    .action((folder: string | undefined, flags: CommonFlags & { cid?: string }) =>
      guarded(async () => {
        const loaded = loadPackage(folder, flags);
        const id = flags.connectorId ?? flags.cid ?? loaded.settings.connectorId;
        if (!id) throw new UsageError('No connector id: pass --cid or set "connectorId" in settings.json.');
        const diagnostics = check(loaded);
        if (hasErrors(diagnostics)) {
          report(loaded.label, diagnostics, flags);
          return fail('Not updated: the package has errors.');
        }
        const updated = await withServer(flags, (call) =>
          call<{ id: string; version: number }>(
            'PUT',
            `${PATH}/${encodeURIComponent(id)}`,
            uploadBody(loaded.files, flags.secret),
          ),
        );
        out(`Updated connector ${updated.id} to version ${updated.version}\n`);
      }),
    );

  serverOptions(connector.command('download').description('Download a connector package.'))
    .option('-c, --cid <id>', 'the connector id')
    .option('--connector-id <id>', 'same as --cid')
    .option('-d, --dest <dir>', 'destination folder (default: a folder named after the id)')
    .option('-w, --overwrite', 'overwrite existing files')
    .option('-s, --settings <file>', 'settings.json with the connectorId')
    .action((flags: CommonFlags & { cid?: string }) =>
      guarded(async () => {
        const id = flags.connectorId ?? flags.cid ?? readSettings(flags.settings).connectorId;
        if (!id) throw new UsageError('No connector id: pass --cid.');
        const pkg = await withServer(flags, (call) =>
          call<{
            apiDefinitionName: string;
            apiDefinition: string;
            apiProperties?: string;
            icon?: string;
            script?: string;
          }>('GET', `${PATH}/${encodeURIComponent(id)}/package`),
        );
        const dest = resolve(flags.dest ?? id);
        mkdirSync(dest, { recursive: true });
        const files: [string, string | Buffer][] = [[pkg.apiDefinitionName, pkg.apiDefinition]];
        if (pkg.apiProperties !== undefined) files.push(['apiProperties.json', pkg.apiProperties]);
        if (pkg.icon !== undefined) files.push(['icon.png', Buffer.from(pkg.icon, 'base64')]);
        if (pkg.script !== undefined) files.push(['script.csx', pkg.script]);
        const settings = {
          connectorId: id,
          apiDefinition: pkg.apiDefinitionName,
          apiProperties: 'apiProperties.json',
          ...(pkg.icon ? { icon: 'icon.png' } : {}),
          ...(pkg.script !== undefined ? { script: 'script.csx' } : {}),
        };
        files.push(['settings.json', JSON.stringify(settings, null, 2) + '\n']);
        const clash = files.find(([name]) => existsSync(join(dest, name)));
        if (clash && !flags.overwrite)
          throw new UsageError(`${join(dest, clash[0])} exists; pass --overwrite to replace it.`);
        for (const [name, content] of files) writeFileSync(join(dest, name), content);
        out(`Downloaded connector ${id} to ${dest}\n`);
      }),
    );

  serverOptions(connector.command('list').description('List connectors.'))
    .option('--json', 'machine-readable output')
    .action((flags: CommonFlags) =>
      guarded(async () => {
        const { value } = await withServer(flags, (call) =>
          call<{ value: { id: string; displayName: string; version: number; redirectUrl: string }[] }>(
            'GET',
            PATH,
          ),
        );
        if (flags.json) out(JSON.stringify(value, null, 2) + '\n');
        else for (const c of value) out(`${c.id}  v${c.version}  ${c.displayName}\n`);
      }),
    );

  serverOptions(connector.command('delete').description('Delete a connector.'))
    .option('-c, --cid <id>', 'the connector id')
    .option('--connector-id <id>', 'same as --cid')
    .action((flags: CommonFlags & { cid?: string }) =>
      guarded(async () => {
        const id = flags.connectorId ?? flags.cid;
        if (!id) throw new UsageError('No connector id: pass --cid.');
        await withServer(flags, (call) => call('DELETE', `${PATH}/${encodeURIComponent(id)}`));
        out(`Deleted connector ${id}\n`);
      }),
    );
}
