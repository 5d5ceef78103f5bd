import type { WritebackStore } from '../types';
import { insertReturningId, upsert, type Db, type SqlOptions } from './common';

export function sqlWritebackStore(db: Db, options: SqlOptions): WritebackStore {
  return {
    get: (faultId, system) => db.selectFrom('writebacks').selectAll().where('fault_id', '=', faultId).where('system', '=', system).executeTakeFirst(),
    listByFault: (faultId) => db.selectFrom('writebacks').selectAll().where('fault_id', '=', faultId).orderBy('system').execute(),
    async put(row) {
      const rest = { ref: row.ref, active: row.active, active_until: row.active_until, updated_at: row.updated_at };
      await upsert(db, options, 'writebacks', { ...row }, ['fault_id', 'system'], rest);
    },
    async renewalsDue(system, before, limit) {
      const rows = await db
        .selectFrom('writebacks as w')
        .innerJoin('faults as f', 'f.id', 'w.fault_id')
        .select('w.fault_id')
        .where('w.system', '=', system)
        .where('w.active', '=', 1)
        .where('w.active_until', '<', before)
        .where('f.current', '=', 1)
        .where('f.state', '!=', 'resolved')
        .where('f.acknowledged_at', 'is not', null)
        .where('f.human_closed_at', 'is', null)
        .orderBy('w.active_until')
        .limit(limit)
        .execute();
      return rows.map((r) => r.fault_id);
    },
    queueCommand: (row) => insertReturningId(db, options, 'writeback_commands', { ...row, fetched_at: null, done_at: null }),
    async fetchCommands(system, limit, now) {
      const rows = await db.selectFrom('writeback_commands').selectAll().where('system', '=', system).where('done_at', 'is', null).orderBy('id').limit(limit).execute();
      if (rows.length > 0) {
        await db
          .updateTable('writeback_commands')
          .set({ fetched_at: now })
          .where('id', 'in', rows.map((r) => r.id))
          .execute();
      }
      return rows.map((r) => ({ ...r, id: Number(r.id), fetched_at: now }));
    },
    async completeCommand(system, id, now) {
      const r = await db.updateTable('writeback_commands').set({ done_at: now }).where('system', '=', system).where('id', '=', id).where('done_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) return 'confirmed';
      const known = await db.selectFrom('writeback_commands').select('id').where('system', '=', system).where('id', '=', id).executeTakeFirst();
      return known ? 'already' : 'unknown';
    },
    async commandBacklog(system) {
      const r = await db
        .selectFrom('writeback_commands')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
        .where('system', '=', system)
        .where('done_at', 'is', null)
        .executeTakeFirst();
      return { waiting: Number(r?.n ?? 0), oldestCreatedAt: r?.oldest === null || r?.oldest === undefined ? null : Number(r.oldest) };
    },
  };
}
