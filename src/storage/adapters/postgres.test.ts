import { manualClock } from '../../core/clock.ts';
import { storeSuite } from '../store.suite.ts';
import { openPostgresStore } from './postgres.ts';
import { testDatabaseUrl, uniqueSchema } from '../../../test/support/postgres.ts';

// Not optional: CI starts PostgreSQL, and a missing server fails this suite rather than skipping it.
storeSuite(
  'postgres',
  {
    open: async (clock) =>
      openPostgresStore({
        connectionString: testDatabaseUrl(),
        schema: uniqueSchema('store'),
        clock,
        poolSize: 4,
      }),
  },
  manualClock,
);
