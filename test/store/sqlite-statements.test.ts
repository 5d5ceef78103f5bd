import BetterSqlite3 from 'better-sqlite3';
import { rowBuilder, sqliteStatements } from '../../src/store/sql/sqlite-statements';

function database() {
  const db = new BetterSqlite3(':memory:');
  const columns = Array.from({ length: 48 }, (_, i) => `c${i} text`).join(', ');
  db.exec(`create table wide (id integer primary key, ${columns}, "odd name" text)`);
  db.exec('create table other (id integer primary key, wide_id integer, note text)');
  const values = (id: number) => [id, ...Array.from({ length: 48 }, (_, i) => `v${id}.${i}`), `odd ${id}`];
  const insert = db.prepare(`insert into wide values (${Array.from({ length: 50 }, () => '?').join(', ')})`);
  for (let id = 1; id <= 3; id++) insert.run(values(id));
  db.prepare('insert into other values (?, ?, ?)').run(10, 2, 'a note');
  return db;
}

test('rows read through the statements are what better-sqlite3 reads, column for column', () => {
  const db = database();
  const statements = sqliteStatements(db);
  for (const text of ['select * from wide order by id', 'select wide.*, other.id, other.note from wide join other on other.wide_id = wide.id', 'select count(*) as n from wide']) {
    expect(statements.prepare(text).all([])).toEqual(db.prepare(text).all());
  }
  const row = statements.prepare('select * from wide where id = ?').all([2])[0] as Record<string, unknown>;
  expect(Object.keys(row)).toEqual(['id', ...Array.from({ length: 48 }, (_, i) => `c${i}`), 'odd name']);
  expect([...statements.prepare('select id, c0 from wide where id > ?').iterate([1])]).toEqual([
    { id: 2, c0: 'v2.0' },
    { id: 3, c0: 'v3.0' },
  ]);
  db.close();
});

test('a join naming a column twice keeps the last value, as better-sqlite3 does', () => {
  const db = database();
  const text = 'select wide.id, other.id from wide join other on other.wide_id = wide.id';
  expect(sqliteStatements(db).prepare(text).all([])).toEqual(db.prepare(text).all());
  expect(sqliteStatements(db).prepare(text).all([])).toEqual([{ id: 10 }]);
  db.close();
});

test('statements that write run as before, and the same text is prepared once', () => {
  const db = database();
  const statements = sqliteStatements(db);
  const update = statements.prepare('update wide set c0 = ? where id = ?');
  expect(update.reader).toBe(false);
  expect(update.run(['changed', 1]).changes).toBe(1);
  expect(statements.prepare('update wide set c0 = ? where id = ?')).toBe(update);
  expect(statements.prepare('select c0 from wide where id = 1').all([])).toEqual([{ c0: 'changed' }]);
  db.close();
});

test('a row builder makes plain objects from values; a column named __proto__ is a property, not the prototype', () => {
  expect(rowBuilder(['a', 'b "quoted"', 'a'])([1, 2, 3])).toEqual({ a: 3, 'b "quoted"': 2 });
  const row = rowBuilder(['id', '__proto__'])([1, 'x']);
  expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  expect(Object.keys(row)).toEqual(['id', '__proto__']);
  expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('x');
});

test('statements that return the same columns share one row builder', () => {
  const db = database();
  const statements = sqliteStatements(db);
  const two = statements.prepare('select * from wide where id in (?, ?)');
  const three = statements.prepare('select * from wide where id in (?, ?, ?)');
  // Each builder is a compiled function: IN lists of every length would otherwise make one each.
  expect(two.all([1, 2]).map((r) => r.id)).toEqual([1, 2]);
  expect(three.all([1, 2, 3]).map((r) => r.id)).toEqual([1, 2, 3]);
  expect(statements.sizes()).toEqual({ statements: 2, builders: 1 });
  db.close();
});
