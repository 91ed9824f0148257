import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualClock } from '../../core/clock.ts';
import { storeSuite } from '../store.suite.ts';
import { openSqliteStore } from './sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'behalf-sqlite-'));
let n = 0;
storeSuite(
  'sqlite',
  { open: async (clock) => openSqliteStore({ filename: join(dir, `store-${n++}.db`), clock }) },
  manualClock,
);
