import { manualClock } from '../../core/clock.ts';
import { storeSuite } from '../store.suite.ts';
import { createMemoryStore } from './memory.ts';

storeSuite('memory', { open: async (clock) => createMemoryStore({ clock }) }, manualClock);
