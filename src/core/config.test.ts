import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConfigError, envName, flagName, loadConfig } from './config.ts';

it('derives flag and variable names from the key', () => {
  assert.equal(flagName('dataDir'), '--data-dir');
  assert.equal(envName('dataDir'), 'BEHALF_DATA_DIR');
});

it('applies defaults, then BEHALF_* variables, then explicit flags', () => {
  assert.equal(loadConfig({}, {}).port, 7443);
  assert.equal(loadConfig({}, { BEHALF_PORT: '8443' }).port, 8443);
  assert.equal(loadConfig({ port: 9443 }, { BEHALF_PORT: '8443' }).port, 9443);
  assert.equal(loadConfig({}, { BEHALF_DEMO: 'true' }).demo, true);
});

it('names the flag, the variable and the problem for a bad value', () => {
  assert.throws(
    () => loadConfig({ port: 'abc', databaseUrl: 'mysql://x' }, {}),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.problems.some((p) => p.startsWith('--port / BEHALF_PORT')) &&
      error.problems.some((p) => p.includes('postgres://')),
  );
});

it('refuses unknown settings', () => {
  assert.throws(() => loadConfig({ prot: 1 }, {}), ConfigError);
});
