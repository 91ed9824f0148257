import { existsSync, readFileSync } from 'node:fs';

/** How many times `marker` occurs in raw bytes (as latin1, each byte is one character). */
export function copiesIn(bytes: Buffer, marker: string): number {
  return bytes.toString('latin1').split(marker).length - 1;
}

/**
 * How many times `marker` occurs in the raw bytes of a SQLite database file and of its write-ahead
 * log (0 for a missing one): rows, but also free space and earlier page images, which a copy of the
 * files would still yield.
 */
export function copiesInSqliteFiles(file: string, marker: string): { database: number; log: number } {
  const count = (path: string) => (existsSync(path) ? copiesIn(readFileSync(path), marker) : 0);
  return { database: count(file), log: count(`${file}-wal`) };
}
