export { createDirectory } from './directory.ts';
export type { Directory } from './directory.ts';
export type { DirectoryDeps, SecretHasher, PasswordHasher } from './deps.ts';
export { DirectoryError } from './errors.ts';
export type { SecretCheck, CreatedPassword } from './credentials.ts';
export type * from './model.ts';
export { MICROSOFT_GRAPH_APP_ID, MICROSOFT_GRAPH_RESOURCE, DEFAULT_ACCESS_ROLE_ID } from './model.ts';
