import { sqliteConnectionPragmas } from '../../src/store/store';

test("the daemon's SQLite connection keeps SQLite's own 2 MB page cache, not better-sqlite3's 16 MB", () => {
  // With 16 MB, each commit after a B-tree split walked the whole cache (README, "The fifth round").
  expect(sqliteConnectionPragmas({})).toContain('cache_size = -2000');
  expect(sqliteConnectionPragmas({})).toContain('synchronous = NORMAL');
  expect(sqliteConnectionPragmas({ sqliteSynchronous: 'full' })).toContain('synchronous = FULL');
  expect(sqliteConnectionPragmas({})).toContain('journal_mode = WAL');
});
