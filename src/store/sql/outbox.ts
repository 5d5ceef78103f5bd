import { sql } from 'kysely';
import type { MailStore, OutboxRow, OutboxStore } from '../types';
import { chunks, countAside, insertReturningId, type Db, type SqlOptions } from './common';
import { inList } from './sqlite-rows';

/** States in which an operation still holds its line: the next one of the line waits for it. */
const HOLDS_LINE = ['pending', 'running', 'parked'];

export function sqlOutboxStore(db: Db, options: SqlOptions): OutboxStore {
  const { locking } = options;
  /** Due operations of a system that no older operation of their line (and system) is waiting before. */
  const firstInLine = (now: number, system: string, on: Db = db) =>
    on
      .selectFrom('outbox as o')
      .where('o.system', '=', system)
      .where('o.state', '=', 'pending')
      // The unary plus keeps SQLite from reading the due ones by (state, next_attempt_at) and sorting
      // them all by id: with a backlog of 50,000 that took 200 ms a claim; walking outbox_line
      // (system, state, id) in id order stops at the first `limit` that qualify (0.1 ms).
      .where(sql<boolean>`+${sql.ref('o.next_attempt_at')} <= ${now}`)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('outbox as e')
              .select('e.id')
              .whereRef('e.line', '=', 'o.line')
              .whereRef('e.system', '=', 'o.system')
              .whereRef('e.id', '<', 'o.id')
              .where('e.state', 'in', HOLDS_LINE),
          ),
        ),
      )
      .orderBy('o.id');
  /**
   * MySQL has neither UPDATE … RETURNING nor an UPDATE that reads its own
   * table in a subquery: lock the due rows (skipping those another replica
   * holds), mark them, and read them back, in one transaction.
   */
  const claimDueMysql = async (now: number, limit: number, system: string, leaseUntil: number) => {
    const claim = async (trx: Db) => {
      const due = await firstInLine(now, system, trx).select('o.id').limit(limit).forUpdate().skipLocked().execute();
      const ids = due.map((r) => r.id);
      if (ids.length === 0) return [];
      // By primary key only: these rows are locked by us and still pending. A condition on state
      // could make InnoDB walk the state index and wait for rows an ingest transaction holds,
      // while that transaction waits for ours (a deadlock seen under bench/ingest.mjs --store mariadb).
      await trx
        .updateTable('outbox')
        .set({ state: 'running', claimed_until: leaseUntil, attempts: sql`attempts + 1`, updated_at: now })
        .where('id', 'in', ids)
        .execute();
      return trx.selectFrom('outbox').selectAll().where('id', 'in', ids).orderBy('id').execute();
    };
    return db.isTransaction ? claim(db) : db.transaction().execute(claim);
  };
  return {
    insert: (row) => insertReturningId(db, options, 'outbox', row),
    async insertMany(rows) {
      if (options.rows) {
        options.rows.insert('outbox', rows);
        return;
      }
      // Twelve columns a row: keep each statement under SQLite's parameter limit.
      for (let i = 0; i < rows.length; i += 2_000) await db.insertInto('outbox').values(rows.slice(i, i + 2_000)).execute();
    },
    async pendingOfFaults(faultIds) {
      const out: OutboxRow[] = [];
      for (const part of chunks(faultIds)) {
        if (options.rows) {
          const text = `select * from "outbox" where "fault_id" in (${inList(part.length)}) and "state" = 'pending' order by "id"`;
          out.push(...(options.rows.all(text, part) as unknown as OutboxRow[]));
          continue;
        }
        out.push(...(await db.selectFrom('outbox').selectAll().where('fault_id', 'in', part).where('state', '=', 'pending').orderBy('id').execute()));
      }
      return out;
    },
    async replacePayload(id, payload, now) {
      if (options.rows) {
        options.rows.run(`update "outbox" set "payload" = ?, "updated_at" = ? where "id" = ? and "state" = 'pending'`, [payload, now, id]);
        return;
      }
      await db
        .updateTable('outbox')
        .set({ payload, updated_at: now })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .execute();
    },
    async delete(id) {
      await db.deleteFrom('outbox').where('id', '=', id).where('state', '=', 'pending').execute();
    },
    due: (now, limit, system) => firstInLine(now, system).selectAll().limit(limit).execute(),
    async claimDue(now, limit, system, leaseUntil) {
      if (options.dialect === 'mysql') return claimDueMysql(now, limit, system, leaseUntil);
      if (!locking) {
        // One writer (SQLite): choose, then claim by id. In one statement SQLite's planner read every
        // pending row by state to match the ids (10–30 ms a claim with a backlog of 50,000; now 0.2 ms).
        const ids = (await firstInLine(now, system).select('o.id').limit(limit).execute()).map((r) => r.id);
        if (ids.length === 0) return [];
        return db
          .updateTable('outbox')
          .set({ state: 'running', claimed_until: leaseUntil, attempts: sql`attempts + 1`, updated_at: now })
          .where('id', 'in', ids)
          // Unary plus: not through the (state, …) index, which SQLite would scan for every pending row.
          .where(sql`+${sql.ref('state')}`, '=', 'pending')
          .returningAll()
          .execute()
          .then((rows) => rows.sort((a, b) => a.id - b.id));
      }
      // Chosen once, in a materialized CTE: as a plain IN subquery PostgreSQL may run the LIMIT
      // query again per row and claim more than `limit` (seen in test/store/contract.test.ts).
      return db
        .with(
          (cte) => cte('due').materialized(),
          () =>
            firstInLine(now, system)
              .select('o.id')
              .limit(limit)
              .$if(locking, (q) => q.forUpdate().skipLocked()),
        )
        .updateTable('outbox')
        .set({ state: 'running', claimed_until: leaseUntil, attempts: sql`attempts + 1`, updated_at: now })
        .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
        .where('state', '=', 'pending')
        .returningAll()
        .execute();
    },
    async claim(id, now, leaseUntil) {
      const r = await db
        .updateTable('outbox')
        .set({ state: 'running', claimed_until: leaseUntil, attempts: sql`attempts + 1`, updated_at: now })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async complete(id, now) {
      await db.updateTable('outbox').set({ state: 'done', claimed_until: null, last_error: null, updated_at: now }).where('id', '=', id).execute();
    },
    async retryLater(id, nextAttemptAt, error, now) {
      await db
        .updateTable('outbox')
        .set({ state: 'pending', claimed_until: null, next_attempt_at: nextAttemptAt, last_error: error, updated_at: now })
        .where('id', '=', id)
        .execute();
    },
    async park(id, error, now) {
      await db.updateTable('outbox').set({ state: 'parked', claimed_until: null, last_error: error, updated_at: now }).where('id', '=', id).execute();
    },
    async releaseExpiredClaims(now) {
      if (options.dialect === 'mysql') {
        // Found first, then released by primary key: an UPDATE walking the state index locks index
        // entries before rows, and a worker completing one of them locks the row first (a deadlock
        // seen under bench/ingest.mjs --store mariadb). The UPDATE checks the conditions again.
        const expired = await db.selectFrom('outbox').select('id').where('state', '=', 'running').where('claimed_until', '<', now).execute();
        if (expired.length === 0) return 0;
        const r = await db
          .updateTable('outbox')
          .set({ state: 'pending', claimed_until: null, updated_at: now })
          .where('id', 'in', expired.map((e) => e.id))
          .where('state', '=', 'running')
          .where('claimed_until', '<', now)
          .executeTakeFirst();
        return Number(r.numUpdatedRows);
      }
      const r = await db
        .updateTable('outbox')
        .set({ state: 'pending', claimed_until: null, updated_at: now })
        .where('state', '=', 'running')
        .where('claimed_until', '<', now)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async statsBySystem() {
      const rows = await countAside(
        db
          .selectFrom('outbox')
          .select([
            'system',
            (eb) => eb.fn.countAll<number>().as('depth'),
            // sum(case …), not count(*) FILTER: MySQL has no FILTER clause.
            (eb) => eb.fn.sum<number>(eb.case().when('state', '=', 'parked').then(1).else(0).end()).as('parked'),
            (eb) => eb.fn.min('created_at').as('oldest'),
          ])
          .where('state', 'in', HOLDS_LINE)
          .groupBy('system'),
        options,
      );
      return rows.map((r) => ({ system: r.system, depth: Number(r.depth), parked: Number(r.parked), oldestCreatedAt: r.oldest === null ? null : Number(r.oldest) }));
    },
    listByFault: (faultId) => db.selectFrom('outbox').selectAll().where('fault_id', '=', faultId).orderBy('id').execute(),
    list(filter) {
      let q = db.selectFrom('outbox').selectAll();
      if (filter.state) q = q.where('state', '=', filter.state);
      if (filter.system) q = q.where('system', '=', filter.system);
      return q.orderBy('id').limit(filter.limit).offset(filter.offset).execute();
    },
    async retryParked(now, which) {
      let q = db.updateTable('outbox').set({ state: 'pending', next_attempt_at: now, updated_at: now }).where('state', '=', 'parked');
      if (which.ids) q = q.where('id', 'in', which.ids.length ? [...which.ids] : [-1]);
      if (which.faultId) q = q.where('fault_id', '=', which.faultId);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
  };
}

export function sqlMailStore(db: Db): MailStore {
  return {
    recent: (kinds, since) =>
      db.selectFrom('outbox').selectAll().where('system', '=', 'email').where('kind', 'in', [...kinds]).where('created_at', '>=', since).orderBy('id').execute(),
  };
}
