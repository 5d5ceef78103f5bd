import type { FitStore, SatisfactionStore } from '../types';
import { insertIfAbsent, type Db, type SqlOptions } from './common';

export function sqlFitStore(db: Db): FitStore {
  return {
    async insert(row) {
      await db.insertInto('repair_time_fits').values(row).execute();
    },
    async latest() {
      const rows = await db.selectFrom('repair_time_fits').select(['category', 'a', 'b', 'samples', 'rmse_hours', 'fitted_at']).orderBy('fitted_at', 'desc').orderBy('id', 'desc').execute();
      const seen = new Set<string>();
      return rows.filter((r) => !seen.has(r.category) && seen.add(r.category));
    },
  };
}

export function sqlSatisfactionStore(db: Db, options: SqlOptions): SatisfactionStore {
  return {
    insert: (row) => insertIfAbsent(db, options, 'satisfaction', { ...row }, ['source', 'external_id']),
    async summary(since) {
      const rows = await db
        .selectFrom('satisfaction')
        .select(['category', (eb) => eb.fn.sum<number>('score').as('sum'), (eb) => eb.fn.countAll<number>().as('n')])
        .where('rated_at', '>=', since)
        .groupBy('category')
        .execute();
      return rows.map((r) => ({ category: r.category, sum: Number(r.sum), n: Number(r.n) }));
    },
    async lastPulled(source) {
      const r = await db.selectFrom('satisfaction').select((eb) => eb.fn.max('rated_at').as('at')).where('source', '=', source).executeTakeFirst();
      return r?.at === null || r?.at === undefined ? undefined : Number(r.at);
    },
  };
}
