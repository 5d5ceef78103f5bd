import BetterSqlite3 from 'better-sqlite3';
import { inList, sqliteRowWriter } from '../../src/store/sql/sqlite-rows';
import { sqliteStatements } from '../../src/store/sql/sqlite-statements';

const writer = (db: BetterSqlite3.Database) => sqliteRowWriter(db, sqliteStatements(db));

function fresh() {
  const db = new BetterSqlite3(':memory:');
  db.exec(`create table t ("id" text primary key, "name" text not null, "muted" integer default 0 not null, "note" text)`);
  db.exec(`create table a ("id" integer primary key autoincrement, "text" text not null)`);
  return db;
}

test('inserts rows with one prepared statement each; an undefined column takes its default, as with Kysely', () => {
  const db = fresh();
  const rows = writer(db);
  rows.insert('t', [{ id: 'x', name: 'one', muted: undefined, note: null }, { id: 'y', name: 'two', muted: 1, note: 'n' }]);
  expect(db.prepare('select * from t order by id').all()).toEqual([
    { id: 'x', name: 'one', muted: 0, note: null },
    { id: 'y', name: 'two', muted: 1, note: 'n' },
  ]);
});

test('gives the new rowids in the order of the rows', () => {
  const db = fresh();
  const ids = writer(db).insert('a', [{ text: 'first' }, { id: undefined, text: 'second' }]);
  expect(ids).toEqual([1, 2]);
  expect(db.prepare('select text from a where id = ?').get(2)).toEqual({ text: 'second' });
});

test('an upsert by id replaces the columns it names and inserts what is new', () => {
  const db = fresh();
  const rows = writer(db);
  rows.insert('t', [{ id: 'x', name: 'one', muted: 1, note: 'kept?' }]);
  rows.upsertById('t', [{ id: 'x', name: 'renamed', note: null }, { id: 'z', name: 'new' }]);
  expect(db.prepare('select * from t order by id').all()).toEqual([
    { id: 'x', name: 'renamed', muted: 1, note: null },
    { id: 'z', name: 'new', muted: 0, note: null },
  ]);
});

test('refuses a name that is not a plain identifier instead of putting it into SQL', () => {
  const rows = writer(fresh());
  expect(() => rows.insert('t', [{ id: 'x', 'name" text); drop table t; --': 'y' }])).toThrow(/not a column or table name/);
  expect(() => rows.insert('t; drop table t', [{ id: 'x' }])).toThrow(/not a column or table name/);
});

test('an update against the row as read sets only the columns that changed, and skips a row with none', () => {
  const db = fresh();
  const rows = writer(db);
  rows.insert('t', [{ id: 'x', name: 'one', muted: 0, note: 'a' }, { id: 'y', name: 'two', muted: 0, note: 'b' }]);
  const was = new Map(db.prepare('select * from t').all().map((r) => [(r as { id: string }).id, r as Record<string, unknown>]));
  // Another writer in the same transaction changed a column the update does not change: it stays.
  db.prepare(`update t set note = 'theirs' where id = 'x'`).run();
  const changes = () => (db.prepare('select total_changes() as n').get() as { n: number }).n;
  const before = changes();
  rows.updateChanged('t', [{ id: 'x', name: 'renamed', muted: 0, note: 'a' }, { id: 'y', name: 'two', muted: 0, note: 'b' }, { id: 'z', name: 'new' }], was);
  expect(db.prepare('select * from t order by id').all()).toEqual([
    { id: 'x', name: 'renamed', muted: 0, note: 'theirs' },
    { id: 'y', name: 'two', muted: 0, note: 'b' },
    { id: 'z', name: 'new', muted: 0, note: null },
  ]);
  // x and z written; y, unchanged, not.
  expect(changes() - before).toBe(2);
});

test('an IN list has one placeholder a value', () => {
  expect([inList(1), inList(3), inList(0)]).toEqual(['?', '?, ?, ?', '']);
});
