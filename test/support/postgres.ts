import { randomBytes } from 'node:crypto';

/** The PostgreSQL every test uses: CI's local server, trust auth, database `test`. */
export function testDatabaseUrl(): string {
  return process.env['BEHALF_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** A fresh schema name per test store, so suites running in parallel never see each other's rows. */
export function uniqueSchema(prefix: string): string {
  return `t_${prefix}_${randomBytes(6).toString('hex')}`;
}
