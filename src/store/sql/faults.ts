import type { FaultRow, FaultStore } from '../types';
import { chunks, countAside, writeWholeRows, type Db, type SqlOptions } from './common';
import { inList } from './sqlite-rows';

export function sqlFaultStore(db: Db, options: SqlOptions): FaultStore {
  const { locking } = options;
  return {
    locksRows: locking,
    async findCurrent(idents) {
      const out: FaultRow[] = [];
      for (const part of chunks(idents)) {
        if (options.rows) {
          out.push(...(options.rows.all(`select * from "faults" where "current" = 1 and "ident" in (${inList(part.length)}) order by "id"`, part) as unknown as FaultRow[]));
          continue;
        }
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
    async getMany(ids) {
      const out: FaultRow[] = [];
      for (const part of chunks(ids)) {
        if (options.rows) {
          out.push(...(options.rows.all(`select * from "faults" where "id" in (${inList(part.length)}) order by "id"`, part) as unknown as FaultRow[]));
          continue;
        }
        out.push(...(await db.selectFrom('faults').selectAll().where('id', 'in', part).orderBy('id').$if(locking, (q) => q.forUpdate()).execute()));
      }
      return out;
    },
    get: (id) => db.selectFrom('faults').selectAll().where('id', '=', id).executeTakeFirst(),
    insertMany: (rows) => writeWholeRows(db, options, 'faults', rows, true),
    updateMany: (rows, was) => writeWholeRows(db, options, 'faults', rows, false, was),
    async setTicket(id, ticket) {
      await db.updateTable('faults').set(ticket).where('id', '=', id).execute();
    },
    async list(filter) {
      const urgency = filter.order === 'urgency';
      // The page's ids first, then their rows: sorting ids alone keeps a deep page cheap (the rows
      // of the faults skipped are never sorted). A derived table, not IN (…LIMIT), which MySQL refuses.
      const page = db
        .selectFrom('faults')
        .select('id')
        .$if(!!filter.state, (q) => q.where('state', '=', filter.state!))
        .$if(!!filter.states, (q) => q.where('state', 'in', filter.states!.length ? filter.states! : ['']))
        .$if(!!filter.category, (q) => q.where('category', '=', filter.category!))
        .$if(!!filter.tier, (q) => q.where('tier', '=', filter.tier!))
        .$if(filter.acknowledged !== undefined, (q) => q.where('acknowledged_at', filter.acknowledged ? 'is not' : 'is', null))
        .$if(urgency, (q) => q.orderBy((eb) => eb.case().when('state', '=', 'resolved').then(1).else(0).end()).orderBy('severity', 'desc'))
        .orderBy('opened_at', 'desc')
        .orderBy('id')
        .limit(filter.limit)
        .offset(filter.offset);
      return db
        .selectFrom('faults')
        .innerJoin(page.as('page'), 'page.id', 'faults.id')
        .selectAll('faults')
        .$if(urgency, (q) => q.orderBy((eb) => eb.case().when('faults.state', '=', 'resolved').then(1).else(0).end()).orderBy('faults.severity', 'desc'))
        .orderBy('faults.opened_at', 'desc')
        .orderBy('faults.id')
        .execute();
    },
    listCurrentInState: (state) => db.selectFrom('faults').selectAll().where('current', '=', 1).where('state', '=', state).execute(),
    resolvedSince: (since) =>
      db
        .selectFrom('faults')
        .select(['category', 'severity', 'opened_at', 'resolved_at'])
        .where('state', '=', 'resolved')
        .where('stale', '=', 0)
        .where('resolved_at', '>=', since)
        .execute(),
    overdueNotFlagged: (now) =>
      db
        .selectFrom('faults')
        .selectAll()
        .where('current', '=', 1)
        .where('state', '!=', 'resolved')
        .where('due_at', '<', now)
        .where('at_risk_at', 'is', null)
        .execute(),
    async countOverdue(now) {
      const [r] = await countAside(
        db
          .selectFrom('faults')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('current', '=', 1)
          .where('state', '!=', 'resolved')
          .where('due_at', '<', now),
        options,
      );
      return Number(r?.n ?? 0);
    },
    findByTicket: (system, ticketId) =>
      db.selectFrom('faults').selectAll().where('ticket_system', '=', system).where('ticket_id', '=', ticketId).executeTakeFirst(),
    async countByState() {
      const rows = await countAside(
        db
          .selectFrom('faults')
          .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
          .where('current', '=', 1)
          .groupBy('state'),
        options,
      );
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
    async countByTier() {
      const rows = await countAside(
        db
          .selectFrom('faults')
          .select(['tier', (eb) => eb.fn.countAll<number>().as('n')])
          .where('current', '=', 1)
          .where('state', '!=', 'resolved')
          .where('tier', 'is not', null)
          .groupBy('tier'),
        options,
      );
      return rows.map((r) => ({ tier: r.tier as string, n: Number(r.n) }));
    },
    async countByCategoryAndState() {
      const rows = await countAside(
        db
          .selectFrom('faults')
          .select(['category', 'state', (eb) => eb.fn.countAll<number>().as('n')])
          .where('current', '=', 1)
          .groupBy(['category', 'state']),
        options,
      );
      return rows.map((r) => ({ category: r.category, state: r.state, n: Number(r.n) }));
    },
  };
}
