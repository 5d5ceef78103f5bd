import type { RetentionStore } from '../types';
import type { Db } from './common';

/**
 * Deletes what retention no longer keeps. Each call is one small batch, meant
 * to run in its own short transaction so the writer is never held for long.
 */
export function sqlRetentionStore(db: Db): RetentionStore {
  return {
    async purgeFaults(before, limit) {
      // A fault with anything undelivered or parked in the outbox is kept: it is still work.
      const ids = (
        await db
          .selectFrom('faults as f')
          .select('f.id')
          .where('f.state', '=', 'resolved')
          .where('f.resolved_at', '<', before)
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('outbox as o').select('o.id').whereRef('o.fault_id', '=', 'f.id').where('o.state', '!=', 'done'))),
          )
          .orderBy('f.resolved_at')
          .limit(limit)
          .execute()
      ).map((r) => r.id);
      if (ids.length === 0) return { faults: 0, alerts: 0, outbox: 0, localTickets: 0 };
      const tickets = db.selectFrom('local_tickets').select('id').where('fault_id', 'in', ids);
      await db.deleteFrom('local_ticket_comments').where('ticket_id', 'in', tickets).execute();
      await db.deleteFrom('local_ticket_attachments').where('ticket_id', 'in', tickets).execute();
      const localTickets = await db.deleteFrom('local_tickets').where('fault_id', 'in', ids).executeTakeFirst();
      // What was written back to monitoring about them (src/writeback).
      await db.deleteFrom('writeback_commands').where('fault_id', 'in', ids).execute();
      await db.deleteFrom('writebacks').where('fault_id', 'in', ids).execute();
      const outbox = await db.deleteFrom('outbox').where('fault_id', 'in', ids).executeTakeFirst();
      const alerts = await db.deleteFrom('alerts').where('fault_id', 'in', ids).executeTakeFirst();
      const faults = await db.deleteFrom('faults').where('id', 'in', ids).executeTakeFirst();
      return {
        faults: Number(faults.numDeletedRows),
        alerts: Number(alerts.numDeletedRows),
        outbox: Number(outbox.numDeletedRows),
        localTickets: Number(localTickets.numDeletedRows),
      };
    },
    async purgeLoose(before, limit) {
      // Delivered digest mails (they belong to no fault). Ticket changes already heard keep their own
      // window (14 days, the inbound store's forget()), whatever the retention.
      const digestIds = (
        await db.selectFrom('outbox').select('id').where('fault_id', 'is', null).where('state', '=', 'done').where('updated_at', '<', before).limit(limit).execute()
      ).map((r) => r.id);
      const outbox = digestIds.length ? Number((await db.deleteFrom('outbox').where('id', 'in', digestIds).executeTakeFirst()).numDeletedRows) : 0;
      return outbox;
    },
  };
}
