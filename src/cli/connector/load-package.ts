import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Diagnostic } from '../../connectors/diagnostics.ts';
import type { PackageFiles } from '../../connectors/package.ts';

/** paconn's flags and settings.json keys (connector-format.md §3.1). */
export interface PackageFlags {
  readonly apiDef?: string;
  readonly apiProp?: string;
  readonly icon?: string;
  readonly script?: string;
  readonly settings?: string;
}

/** settings.json: paconn's argument store (connector-format.md §3.1). */
export interface Settings {
  readonly connectorId?: string;
  readonly environment?: string;
  readonly apiProperties?: string;
  readonly apiDefinition?: string;
  readonly icon?: string;
  readonly script?: string;
}

export interface LoadedPackage {
  readonly files: PackageFiles;
  readonly settings: Settings;
  readonly settingsPath: string | undefined;
  /** Problems reading the files (a missing path), reported like any other diagnostic. */
  readonly diagnostics: Diagnostic[];
  readonly label: string;
}

function findCaseInsensitive(dir: string, name: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const hit = readdirSync(dir).find((n) => n.toLowerCase() === name.toLowerCase());
  return hit === undefined ? undefined : join(dir, hit);
}

export function readSettings(path: string | undefined): Settings {
  if (!path || !existsSync(path)) return {};
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  return JSON.parse(text) as Settings;
}

/**
 * Reads a package from a folder and/or paconn-style flags. Flags win over settings.json, which wins
 * over the conventional file names in the folder (`apiDefinition.swagger.json`, compared
 * case-insensitively because real packages vary).
 */
export function loadPackage(folder: string | undefined, flags: PackageFlags): LoadedPackage {
  const base = resolve(folder ?? '.');
  const settingsPath =
    flags.settings !== undefined ? resolve(flags.settings) : findCaseInsensitive(base, 'settings.json');
  const settings = readSettings(settingsPath);
  const settingsDir = settingsPath ? dirname(settingsPath) : base;
  const pick = (
    flag: string | undefined,
    setting: string | undefined,
    conventional: string,
  ): string | undefined =>
    flag !== undefined
      ? resolve(flag)
      : setting !== undefined
        ? resolve(settingsDir, setting)
        : findCaseInsensitive(base, conventional);
  const diagnostics: Diagnostic[] = [];
  const readText = (path: string | undefined, required: boolean, what: string) => {
    if (path === undefined || !existsSync(path) || !statSync(path).isFile()) {
      if (required || path !== undefined)
        diagnostics.push({
          severity: 'error',
          rule: 'package.missing-file',
          file: path ?? what,
          pointer: '',
          message: `${what} was not found${path ? ` at ${path}` : ` in ${base}`}.`,
          fix: `Pass its path with --${what === 'apiDefinition.swagger.json' ? 'api-def' : what === 'apiProperties.json' ? 'api-prop' : what === 'script.csx' ? 'script' : 'icon'}.`,
        });
      return undefined;
    }
    return readFileSync(path);
  };
  const defPath = pick(flags.apiDef, settings.apiDefinition, 'apiDefinition.swagger.json');
  const propPath = pick(flags.apiProp, settings.apiProperties, 'apiProperties.json');
  const iconPath = pick(flags.icon, settings.icon, 'icon.png');
  const scriptPath = pick(flags.script, settings.script, 'script.csx');
  const def = readText(defPath, true, 'apiDefinition.swagger.json');
  const props = readText(propPath, false, 'apiProperties.json');
  const icon = readText(iconPath, false, 'icon.png');
  const script = readText(scriptPath, false, 'script.csx');
  const name = (p: string | undefined, fallback: string) => (p ? p.split(/[\\/]/).pop()! : fallback);
  return {
    files: {
      ...(def
        ? { apiDefinition: { name: name(defPath, 'apiDefinition.swagger.json'), text: def.toString('utf8') } }
        : {}),
      ...(props
        ? { apiProperties: { name: name(propPath, 'apiProperties.json'), text: props.toString('utf8') } }
        : {}),
      ...(icon ? { icon: new Uint8Array(icon) } : {}),
      ...(script ? { script: script.toString('utf8') } : {}),
    },
    settings,
    settingsPath,
    diagnostics,
    label: base,
  };
}

/** Sub-folders of `dir` that hold a package (an API definition file). */
export function packageFolders(dir: string): string[] {
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .filter(
      (p) => statSync(p).isDirectory() && findCaseInsensitive(p, 'apiDefinition.swagger.json') !== undefined,
    )
    .sort();
}
