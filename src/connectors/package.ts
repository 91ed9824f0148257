import type { Diagnostic } from './diagnostics.ts';
import type { JsonSource } from './json-source.ts';
import type { ConnectorModel } from './model.ts';

/** Canonical file names of a Power Platform package (connector-format.md §1.1). */
export const API_DEFINITION = 'apiDefinition.swagger.json';
export const API_PROPERTIES = 'apiProperties.json';
export const ICON = 'icon.png';
export const SCRIPT = 'script.csx';
export const SETTINGS = 'settings.json';

export interface TextFile {
  /** The file name as found (real packages vary: `apidefinition.swagger.json`). */
  readonly name: string;
  readonly text: string;
}

/** A package as bytes and text, read by an edge (CLI, HTTP); connectors/ never touches the disk. */
export interface PackageFiles {
  readonly apiDefinition?: TextFile;
  readonly apiProperties?: TextFile;
  readonly icon?: Uint8Array;
  readonly script?: string;
  /** Other JSON files of the package that `$ref`s may point into, by relative name. */
  readonly extra?: readonly TextFile[];
}

export interface ImportedConnector {
  /** The original documents, kept so export can reproduce them. */
  readonly documents: {
    readonly apiDefinition?: JsonSource;
    readonly apiProperties?: JsonSource;
    readonly extra: readonly JsonSource[];
  };
  readonly icon?: Uint8Array;
  readonly script?: string;
  /** Undefined when a required file is missing or unreadable. */
  readonly model: ConnectorModel | undefined;
  readonly diagnostics: readonly Diagnostic[];
}
