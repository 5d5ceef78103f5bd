import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { AlertTable, Database, FaultTable, OutboxTable, TicketTable } from './schema';

export type FaultRow = Selectable<FaultTable>;
export type AlertRow = Selectable<AlertTable>;
export type NewAlertRow = Insertable<AlertTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;
export type LocalTicketRow = Selectable<TicketTable>;

/** SQLite limits bound parameters per statement; stay well under it. */
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Bound parameters one statement may carry (SQLite's limit is 32,766; PostgreSQL's 65,535). */
const MAX_PARAMETERS = 30_000;

/**
 * Writes whole rows that exist, by id, in as few statements as the parameter
 * limit allows (an upsert whose conflict target is the id updates every other
 * column): a batch changing 100 faults costs one statement, not 100.
 */
async function writeWholeRows<T extends { id: string | number }>(db: Kysely<Database>, table: 'faults' | 'alerts', rows: readonly T[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] as object).filter((c) => c !== 'id');
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / (columns.length + 1)));
  const set = Object.fromEntries(columns.map((c) => [c, sql.ref(`excluded.${c}`)]));
  // The row types differ by table; the statement is the same shape for both.
  const loose = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  for (let i = 0; i < rows.length; i += perStatement) {
    await loose
      .insertInto(table)
      .values(rows.slice(i, i + perStatement) as unknown as Array<Record<string, unknown>>)
      .onConflict((oc) => oc.column('id').doUpdateSet(set))
      .execute();
  }
}

/**
 * Queries over one executor: the root connection or a transaction. With
 * `locking` (PostgreSQL, where replicas share the database) the faults a batch
 * reads are locked until it commits, in id order, so two replicas never change
 * one fault at once.
 */
export function createRepos(db: Kysely<Database>, options: { locking: boolean } = { locking: false }) {
  const { locking } = options;
  /** Due operations of a system that no older operation of their fault (and system) is waiting before. */
  const firstInLine = (now: number, system: string) =>
    db
      .selectFrom('outbox as o')
      .where('o.system', '=', system)
      .where('o.state', '=', 'pending')
      .where('o.next_attempt_at', '<=', now)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('outbox as e')
              .select('e.id')
              .whereRef('e.fault_id', '=', 'o.fault_id')
              .whereRef('e.system', '=', 'o.system')
              .whereRef('e.id', '<', 'o.id')
              .where('e.state', 'in', ['pending', 'running', 'parked']),
          ),
        ),
      )
      .orderBy('o.id');
  return {
    faults: {
      async findCurrent(idents: readonly string[]): Promise<FaultRow[]> {
        const out: FaultRow[] = [];
        for (const part of chunks(idents)) {
          out.push(
            ...(await db
              .selectFrom('faults')
              .selectAll()
              .where('current', '=', 1)
              .where('ident', 'in', part)
              .orderBy('id')
              .$if(locking, (q) => q.forUpdate())
              .execute()),
          );
        }
        return out;
      },
      async getMany(ids: readonly string[]): Promise<FaultRow[]> {
        const out: FaultRow[] = [];
        for (const part of chunks(ids)) {
          out.push(...(await db.selectFrom('faults').selectAll().where('id', 'in', part).orderBy('id').$if(locking, (q) => q.forUpdate()).execute()));
        }
        return out;
      },
      async get(id: string): Promise<FaultRow | undefined> {
        return db.selectFrom('faults').selectAll().where('id', '=', id).executeTakeFirst();
      },
      async insert(row: FaultRow): Promise<void> {
        await db.insertInto('faults').values(row).execute();
      },
      async update(row: FaultRow): Promise<void> {
        const { id, ...rest } = row;
        await db.updateTable('faults').set(rest).where('id', '=', id).execute();
      },
      /** Writes faults that exist, whole; few statements for many faults. */
      async updateMany(rows: readonly FaultRow[]): Promise<void> {
        await writeWholeRows(db, 'faults', rows);
      },
      async setMailLog(id: string, mailLog: string): Promise<void> {
        await db.updateTable('faults').set({ mail_log: mailLog }).where('id', '=', id).execute();
      },
      async setTicket(
        id: string,
        ticket: { ticket_id?: string | null; ticket_status?: string | null; ticket_url?: string | null; ticket_error?: string | null },
      ): Promise<void> {
        await db.updateTable('faults').set(ticket).where('id', '=', id).execute();
      },
      async list(filter: { state?: string; category?: string; limit: number; offset: number }): Promise<FaultRow[]> {
        let q = db.selectFrom('faults').selectAll();
        if (filter.state) q = q.where('state', '=', filter.state);
        if (filter.category) q = q.where('category', '=', filter.category);
        return q.orderBy('opened_at', 'desc').orderBy('id').limit(filter.limit).offset(filter.offset).execute();
      },
      async listCurrentInState(state: string): Promise<FaultRow[]> {
        return db.selectFrom('faults').selectAll().where('current', '=', 1).where('state', '=', state).execute();
      },
      /** Resolved faults whose durations say how long repairs take (not the ones the stale sweep closed). */
      async resolvedSince(since: number): Promise<Array<{ category: string; severity: number; opened_at: number; resolved_at: number | null }>> {
        return db
          .selectFrom('faults')
          .select(['category', 'severity', 'opened_at', 'resolved_at'])
          .where('state', '=', 'resolved')
          .where('stale', '=', 0)
          .where('resolved_at', '>=', since)
          .execute();
      },
      /** Open faults past their due time that have not been escalated as at risk yet. */
      async overdueNotFlagged(now: number): Promise<FaultRow[]> {
        return db
          .selectFrom('faults')
          .selectAll()
          .where('current', '=', 1)
          .where('state', '!=', 'resolved')
          .where('due_at', '<', now)
          .where('at_risk_at', 'is', null)
          .execute();
      },
      async countOverdue(now: number): Promise<number> {
        const r = await db
          .selectFrom('faults')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('current', '=', 1)
          .where('state', '!=', 'resolved')
          .where('due_at', '<', now)
          .executeTakeFirst();
        return Number(r?.n ?? 0);
      },
      async findByTicket(system: string, ticketId: string): Promise<FaultRow | undefined> {
        return db.selectFrom('faults').selectAll().where('ticket_system', '=', system).where('ticket_id', '=', ticketId).executeTakeFirst();
      },
      async countByState(): Promise<Record<string, number>> {
        const rows = await db
          .selectFrom('faults')
          .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
          .where('current', '=', 1)
          .groupBy('state')
          .execute();
        return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
      },
      async countByCategoryAndState(): Promise<Array<{ category: string; state: string; n: number }>> {
        const rows = await db
          .selectFrom('faults')
          .select(['category', 'state', (eb) => eb.fn.countAll<number>().as('n')])
          .where('current', '=', 1)
          .groupBy(['category', 'state'])
          .execute();
        return rows.map((r) => ({ category: r.category, state: r.state, n: Number(r.n) }));
      },
    },

    alerts: {
      /** Alerts with these idents held by current faults (any state). */
      async findInCurrentFaults(idents: readonly string[]): Promise<AlertRow[]> {
        const out: AlertRow[] = [];
        for (const part of chunks(idents)) {
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
      /**
       * Live faults whose firing alerts all come from `sources` and none of
       * which was received since `cutoff`.
       */
      async staleFaults(cutoff: number, sources: readonly string[]): Promise<string[]> {
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
      async firingOf(faultId: string): Promise<AlertRow[]> {
        return db.selectFrom('alerts').selectAll().where('fault_id', '=', faultId).where('status', '=', 'firing').execute();
      },
      /** Alerts with these idents that belong to these faults. */
      async findInFaults(faultIds: readonly string[], idents: readonly string[]): Promise<AlertRow[]> {
        if (faultIds.length === 0 || idents.length === 0) return [];
        const wanted = new Set(faultIds);
        const out: AlertRow[] = [];
        for (const part of chunks(idents)) {
          const rows = await db.selectFrom('alerts').selectAll().where('ident', 'in', part).execute();
          for (const row of rows) if (wanted.has(row.fault_id)) out.push(row);
        }
        return out;
      },
      /** Inserts the rows and sets the id of each. */
      async insert(rows: ReadonlyArray<NewAlertRow & { id?: number }>): Promise<void> {
        // Ten columns a row: keep each statement under SQLite's parameter limit.
        for (let i = 0; i < rows.length; i += 90) {
          const part = rows.slice(i, i + 90);
          const ids = await db
            .insertInto('alerts')
            .values(part.map(({ id: _id, ...row }) => row))
            .returning(['id', 'fault_id', 'ident'])
            .execute();
          // Neither database promises RETURNING in VALUES order: match rows by their unique (fault, ident).
          const byKey = new Map(ids.map((r) => [`${r.fault_id}|${r.ident}`, Number(r.id)]));
          for (const row of part) row.id = byKey.get(`${row.fault_id}|${row.ident}`);
        }
      },
      /** Writes alerts that exist, whole; few statements for many alerts. */
      async updateMany(rows: readonly AlertRow[]): Promise<void> {
        await writeWholeRows(db, 'alerts', rows);
      },
      async touch(ids: readonly number[], at: number): Promise<void> {
        for (const part of chunks(ids)) {
          await db.updateTable('alerts').set({ last_received_at: at }).where('id', 'in', part).execute();
        }
      },
      async listByFault(faultId: string, limit = 10_000): Promise<AlertRow[]> {
        return db.selectFrom('alerts').selectAll().where('fault_id', '=', faultId).orderBy('id').limit(limit).execute();
      },
    },

    outbox: {
      async insert(row: NewOutboxRow): Promise<number> {
        const r = await db.insertInto('outbox').values(row).returning('id').executeTakeFirstOrThrow();
        return Number(r.id);
      },
      async pendingForFaults(faultIds: readonly string[]): Promise<OutboxRow[]> {
        const out: OutboxRow[] = [];
        for (const part of chunks(faultIds)) {
          out.push(
            ...(await db.selectFrom('outbox').selectAll().where('fault_id', 'in', part).where('state', '=', 'pending').orderBy('id').execute()),
          );
        }
        return out;
      },
      async replacePayload(id: number, payload: string, nextAttemptAt: number, now: number): Promise<void> {
        await db
          .updateTable('outbox')
          .set({ payload, next_attempt_at: nextAttemptAt, updated_at: now })
          .where('id', '=', id)
          .where('state', '=', 'pending')
          .execute();
      },
      async delete(id: number): Promise<void> {
        await db.deleteFrom('outbox').where('id', '=', id).where('state', '=', 'pending').execute();
      },
      /**
       * Due operations that are first in line for their fault: an operation waits
       * while an older one of the same fault and system is pending, in flight or
       * parked (a mail does not wait for a ticket system, nor the other way round).
       */
      async due(now: number, limit: number, system: string): Promise<OutboxRow[]> {
        return firstInLine(now, system).selectAll().limit(limit).execute();
      },
      /**
       * Claims up to `limit` due operations of a system, first in line for their
       * fault, in one statement: rows another replica is claiming are skipped
       * (FOR UPDATE SKIP LOCKED on PostgreSQL), so each goes to one worker.
       */
      async claimDue(now: number, limit: number, system: string, leaseUntil: number): Promise<OutboxRow[]> {
        const due = firstInLine(now, system)
          .select('o.id')
          .limit(limit)
          .$if(locking, (q) => q.forUpdate().skipLocked());
        return db
          .updateTable('outbox')
          .set({ state: 'running', claimed_until: leaseUntil, attempts: sql`attempts + 1`, updated_at: now })
          .where('id', 'in', due)
          .where('state', '=', 'pending')
          .returningAll()
          .execute();
      },
      /** Takes the operation if nobody else has; true when this caller got it. */
      async claim(id: number, now: number, leaseUntil: number): Promise<boolean> {
        const r = await db
          .updateTable('outbox')
          .set({ state: 'running', claimed_until: leaseUntil, attempts: sql`attempts + 1`, updated_at: now })
          .where('id', '=', id)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        return Number(r.numUpdatedRows) === 1;
      },
      async complete(id: number, now: number): Promise<void> {
        await db.updateTable('outbox').set({ state: 'done', claimed_until: null, last_error: null, updated_at: now }).where('id', '=', id).execute();
      },
      async retryLater(id: number, nextAttemptAt: number, error: string, now: number): Promise<void> {
        await db
          .updateTable('outbox')
          .set({ state: 'pending', claimed_until: null, next_attempt_at: nextAttemptAt, last_error: error, updated_at: now })
          .where('id', '=', id)
          .execute();
      },
      async park(id: number, error: string, now: number): Promise<void> {
        await db.updateTable('outbox').set({ state: 'parked', claimed_until: null, last_error: error, updated_at: now }).where('id', '=', id).execute();
      },
      /** Operations whose worker died mid-flight go back in line (their attempt count says they may have been sent). */
      async releaseExpiredClaims(now: number): Promise<number> {
        const r = await db
          .updateTable('outbox')
          .set({ state: 'pending', claimed_until: null, updated_at: now })
          .where('state', '=', 'running')
          .where('claimed_until', '<', now)
          .executeTakeFirst();
        return Number(r.numUpdatedRows);
      },
      async statsBySystem(): Promise<Array<{ system: string; depth: number; parked: number; oldestCreatedAt: number | null }>> {
        const rows = await db
          .selectFrom('outbox')
          .select([
            'system',
            (eb) => eb.fn.countAll<number>().as('depth'),
            (eb) => eb.fn.countAll<number>().filterWhere('state', '=', 'parked').as('parked'),
            (eb) => eb.fn.min('created_at').as('oldest'),
          ])
          .where('state', 'in', ['pending', 'running', 'parked'])
          .groupBy('system')
          .execute();
        return rows.map((r) => ({ system: r.system, depth: Number(r.depth), parked: Number(r.parked), oldestCreatedAt: r.oldest === null ? null : Number(r.oldest) }));
      },
      async listByFault(faultId: string): Promise<OutboxRow[]> {
        return db.selectFrom('outbox').selectAll().where('fault_id', '=', faultId).orderBy('id').execute();
      },
      /** Mail operations of these kinds created since `since`, for digest decisions. */
      async recentMail(kinds: readonly string[], since: number): Promise<OutboxRow[]> {
        return db
          .selectFrom('outbox')
          .selectAll()
          .where('system', '=', 'email')
          .where('kind', 'in', [...kinds])
          .where('created_at', '>=', since)
          .orderBy('id')
          .execute();
      },
      async list(filter: { state?: string; system?: string; limit: number; offset: number }): Promise<OutboxRow[]> {
        let q = db.selectFrom('outbox').selectAll();
        if (filter.state) q = q.where('state', '=', filter.state);
        if (filter.system) q = q.where('system', '=', filter.system);
        return q.orderBy('id').limit(filter.limit).offset(filter.offset).execute();
      },
      /** Puts parked operations back in line (all, or those named); how many. */
      async retryParked(now: number, which: { ids?: readonly number[]; faultId?: string }): Promise<number> {
        let q = db.updateTable('outbox').set({ state: 'pending', next_attempt_at: now, updated_at: now }).where('state', '=', 'parked');
        if (which.ids) q = q.where('id', 'in', which.ids.length ? [...which.ids] : [-1]);
        if (which.faultId) q = q.where('fault_id', '=', which.faultId);
        const r = await q.executeTakeFirst();
        return Number(r.numUpdatedRows);
      },
    },

    fits: {
      async insert(row: { category: string; a: number; b: number; samples: number; rmse_hours: number; fitted_at: number }): Promise<void> {
        await db.insertInto('repair_time_fits').values(row).execute();
      },
      /** The newest fit of each category. */
      async latest(): Promise<Array<{ category: string; a: number; b: number; samples: number; rmse_hours: number; fitted_at: number }>> {
        const rows = await db.selectFrom('repair_time_fits').selectAll().orderBy('fitted_at', 'desc').orderBy('id', 'desc').execute();
        const seen = new Set<string>();
        return rows.filter((r) => !seen.has(r.category) && seen.add(r.category));
      },
    },

    satisfaction: {
      /** Stores a rating; one pulled from a ticket system is stored once (by its own id). */
      async insert(row: { fault_id: string; category: string; score: number; source: string; external_id: string | null; comment: string | null; rated_at: number }): Promise<boolean> {
        const r = await db
          .insertInto('satisfaction')
          .values(row)
          .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
          .executeTakeFirst();
        return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
      },
      async summary(since: number): Promise<Array<{ category: string; sum: number; n: number }>> {
        const rows = await db
          .selectFrom('satisfaction')
          .select(['category', (eb) => eb.fn.sum<number>('score').as('sum'), (eb) => eb.fn.countAll<number>().as('n')])
          .where('rated_at', '>=', since)
          .groupBy('category')
          .execute();
        return rows.map((r) => ({ category: r.category, sum: Number(r.sum), n: Number(r.n) }));
      },
      async lastPulled(source: string): Promise<number | undefined> {
        const r = await db.selectFrom('satisfaction').select((eb) => eb.fn.max('rated_at').as('at')).where('source', '=', source).executeTakeFirst();
        return r?.at === null || r?.at === undefined ? undefined : Number(r.at);
      },
    },

    localTickets: {
      /** The fault's newest ticket that is not closed. */
      async findOpenByFault(faultId: string): Promise<LocalTicketRow | undefined> {
        return db
          .selectFrom('local_tickets')
          .selectAll()
          .where('fault_id', '=', faultId)
          .where('status', '!=', 'closed')
          .orderBy('id', 'desc')
          .executeTakeFirst();
      },
      async get(id: number): Promise<LocalTicketRow | undefined> {
        return db.selectFrom('local_tickets').selectAll().where('id', '=', id).executeTakeFirst();
      },
      async insert(row: Omit<LocalTicketRow, 'id'>): Promise<number> {
        const r = await db.insertInto('local_tickets').values(row).returning('id').executeTakeFirstOrThrow();
        return Number(r.id);
      },
      async update(id: number, set: Partial<Omit<LocalTicketRow, 'id'>>): Promise<void> {
        await db.updateTable('local_tickets').set(set).where('id', '=', id).execute();
      },
      async addComment(ticketId: number, body: string, at: number, opKey: string | null = null): Promise<void> {
        await db.insertInto('local_ticket_comments').values({ ticket_id: ticketId, body, created_at: at, op_key: opKey }).execute();
      },
      async hasComment(opKey: string): Promise<boolean> {
        return (await db.selectFrom('local_ticket_comments').select('id').where('op_key', '=', opKey).executeTakeFirst()) !== undefined;
      },
      async addAttachment(ticketId: number, a: { filename: string; contentType: string; content: string }, at: number): Promise<void> {
        await db
          .insertInto('local_ticket_attachments')
          .values({ ticket_id: ticketId, filename: a.filename, content_type: a.contentType, content: a.content, created_at: at })
          .execute();
      },
      async list(filter: { status?: string; limit: number; offset: number }) {
        let q = db.selectFrom('local_tickets').selectAll();
        if (filter.status) q = q.where('status', '=', filter.status);
        const tickets = await q.orderBy('id', 'desc').limit(filter.limit).offset(filter.offset).execute();
        const ids = tickets.map((t) => t.id);
        const comments = ids.length
          ? await db.selectFrom('local_ticket_comments').selectAll().where('ticket_id', 'in', ids).orderBy('id').execute()
          : [];
        const attachments = ids.length
          ? await db
              .selectFrom('local_ticket_attachments')
              .select(['id', 'ticket_id', 'filename', 'content_type', 'created_at', (eb) => eb.fn('length', ['content']).as('size')])
              .where('ticket_id', 'in', ids)
              .orderBy('id')
              .execute()
          : [];
        return { tickets, comments, attachments };
      },
      async attachment(id: number) {
        return db.selectFrom('local_ticket_attachments').selectAll().where('id', '=', id).executeTakeFirst();
      },
    },
  };
}

export type Repos = ReturnType<typeof createRepos>;
