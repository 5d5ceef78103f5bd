import type { AlertRow, AlertStore } from '../types';
import { chunks, writeWholeRows, type Db, type SqlOptions } from './common';
import { inList } from './sqlite-rows';

export function sqlAlertStore(db: Db, options: SqlOptions): AlertStore {
  return {
    async findInCurrentFaults(idents) {
      const out: AlertRow[] = [];
      for (const part of chunks(idents)) {
        if (options.rows) {
          const text = `select "alerts".* from "alerts" inner join "faults" on "faults"."id" = "alerts"."fault_id" where "faults"."current" = 1 and "alerts"."ident" in (${inList(part.length)})`;
          out.push(...(options.rows.all(text, part) as unknown as AlertRow[]));
          continue;
        }
        out.push(
          ...(await db
            .selectFrom('alerts')
            .innerJoin('faults', 'faults.id', 'alerts.fault_id')
            .selectAll('alerts')
            .where('faults.current', '=', 1)
            .where('alerts.ident', 'in', part)
            .execute()),
        );
      }
      return out;
    },
    async findInFaults(faultIds, idents) {
      if (faultIds.length === 0 || idents.length === 0) return [];
      const wanted = new Set(faultIds);
      const out: AlertRow[] = [];
      for (const part of chunks(idents)) {
        const rows = await db.selectFrom('alerts').selectAll().where('ident', 'in', part).execute();
        for (const row of rows) if (wanted.has(row.fault_id)) out.push(row);
      }
      return out;
    },
    async staleFaults(cutoff, sources) {
      if (sources.length === 0) return [];
      const rows = await db
        .selectFrom('alerts')
        .innerJoin('faults', 'faults.id', 'alerts.fault_id')
        .select(['alerts.fault_id', (eb) => eb.fn.max('alerts.last_received_at').as('last')])
        .select((eb) => eb.fn.sum<number>(eb.case().when('alerts.source', 'in', [...sources]).then(0).else(1).end()).as('others'))
        .where('faults.current', '=', 1)
        .where('faults.state', '!=', 'resolved')
        .where('alerts.status', '=', 'firing')
        .groupBy('alerts.fault_id')
        .execute();
      return rows.filter((r) => Number(r.others) === 0 && Number(r.last) < cutoff).map((r) => r.fault_id);
    },
    firingOf: (faultId) => db.selectFrom('alerts').selectAll().where('fault_id', '=', faultId).where('status', '=', 'firing').execute(),
    async insert(rows) {
      if (options.rows) {
        const ids = options.rows.insert('alerts', rows);
        rows.forEach((row, i) => (row.id = ids[i]));
        return;
      }
      // Ten columns a row: keep each statement under SQLite's parameter limit.
      for (let i = 0; i < rows.length; i += 90) {
        const part = rows.slice(i, i + 90);
        const values = part.map(({ id: _id, ...row }) => row);
        // MySQL has no RETURNING: read the new ids back by the rows' unique (fault, ident), in this transaction.
        const ids =
          options.dialect === 'mysql'
            ? await db
                .insertInto('alerts')
                .values(values)
                .execute()
                .then(() => db.selectFrom('alerts').select(['id', 'fault_id', 'ident']).where('ident', 'in', [...new Set(part.map((r) => r.ident))]).execute())
            : await db.insertInto('alerts').values(values).returning(['id', 'fault_id', 'ident']).execute();
        // Neither database promises RETURNING in VALUES order: match rows by their unique (fault, ident).
        const byKey = new Map(ids.map((r) => [`${r.fault_id}|${r.ident}`, Number(r.id)]));
        for (const row of part) row.id = byKey.get(`${row.fault_id}|${row.ident}`);
      }
    },
    updateMany: (rows, was) => writeWholeRows(db, options, 'alerts', rows, false, was),
    async touch(ids, at) {
      for (const part of chunks(ids)) {
        await db.updateTable('alerts').set({ last_received_at: at }).where('id', 'in', part).execute();
      }
    },
    listByFault: (faultId, limit = 10_000) => db.selectFrom('alerts').selectAll().where('fault_id', '=', faultId).orderBy('id').limit(limit).execute(),
  };
}
