import type { InboundStore } from '../types';
import { insertIfAbsent, upsert, type Db, type SqlOptions } from './common';

export function sqlInboundStore(db: Db, options: SqlOptions): InboundStore {
  return {
    async remember(key, at) {
      // Insert-if-absent: a replica recording the same key at the same moment waits for ours and inserts nothing.
      return insertIfAbsent(db, options, 'inbound_seen', { key, seen_at: at }, ['key']);
    },
    async forget(before) {
      const r = await db.deleteFrom('inbound_seen').where('seen_at', '<', before).executeTakeFirst();
      return Number(r.numDeletedRows ?? 0);
    },
    async cursor(name) {
      const r = await db.selectFrom('cursors').select('value').where('name', '=', name).executeTakeFirst();
      return r?.value;
    },
    async saveCursor(name, value, at) {
      await upsert(db, options, 'cursors', { name, value, updated_at: at }, ['name'], { value, updated_at: at });
    },
  };
}
