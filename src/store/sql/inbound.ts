import type { InboundStore } from '../types';
import type { Db } from './common';

export function sqlInboundStore(db: Db): InboundStore {
  return {
    async remember(key, at) {
      // ON CONFLICT DO NOTHING: a replica recording the same key at the same moment waits for ours and inserts nothing.
      const r = await db
        .insertInto('inbound_seen')
        .values({ key, seen_at: at })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
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
      await db
        .insertInto('cursors')
        .values({ name, value, updated_at: at })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: at }))
        .execute();
    },
  };
}
