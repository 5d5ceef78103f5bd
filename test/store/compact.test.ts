import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openStore } from '../../src/store';
import { tempDir } from '../helpers';

test('a compaction step gives back as many free pages as it is asked for, not one', async () => {
  const tmp = tempDir();
  const file = path.join(tmp.dir, 'faultdesk.db');
  const store = await openStore({ url: `sqlite:${file}`, migrate: true });
  try {
    // Free pages made beside the daemon's connection: a table filled and dropped.
    const other = new BetterSqlite3(file);
    other.exec('create table scratch (text text)');
    other.prepare('insert into scratch (text) select ? from (with recursive n(i) as (select 1 union all select i + 1 from n where i < 600) select i from n)').run('x'.repeat(3000));
    other.exec('drop table scratch');
    const free = () => (other.prepare('pragma freelist_count').get() as { freelist_count: number }).freelist_count;
    const before = free();
    expect(before).toBeGreaterThan(400);
    expect(await store.compact(100)).toBe(before - 100);
    expect(await store.compact(10_000)).toBe(0);
    expect(free()).toBe(0);
    other.close();
  } finally {
    await store.close();
    tmp.cleanup();
  }
});
