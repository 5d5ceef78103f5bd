import type { Clock } from '../clock';
import { notFound } from '../errors';
import type { Logger } from '../log';
import type { Store } from '../store';
import type { TicketSystem } from '../tickets';

export interface SatisfactionSettings {
  windowMs: number;
  /** Zendesk rates good or bad: the scores (1–10) they count as. */
  zendeskScores: { good: number; bad: number };
}

export interface SatisfactionSummary {
  windowHours: number;
  overall: { css: number | null; ratings: number };
  categories: Array<{ category: string; css: number; ratings: number }>;
}


/** Customer satisfaction: ratings of faults' tickets, and CSS = (S1 + … + Sn) / n over a window. */
export class SatisfactionService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Read at each use, so a reload's settings apply at once. */
    private readonly settings: () => SatisfactionSettings,
    private readonly logger: Logger,
  ) {}

  /** A score (1–10) given for a fault through the API, by any system's users. */
  async record(faultId: string, score: number, comment?: string): Promise<void> {
    const fault = await this.store.repos.faults.get(faultId);
    if (!fault) throw notFound(`fault ${faultId}`);
    await this.store.repos.satisfaction.insert({
      fault_id: fault.id,
      category: fault.category,
      score,
      source: 'api',
      external_id: null,
      comment: comment ?? null,
      rated_at: this.clock.now(),
    });
  }

  async summary(): Promise<SatisfactionSummary> {
    const rows = await this.store.repos.satisfaction.summary(this.clock.now() - this.settings().windowMs);
    const total = rows.reduce((acc, r) => ({ sum: acc.sum + r.sum, n: acc.n + r.n }), { sum: 0, n: 0 });
    return {
      windowHours: this.settings().windowMs / 3_600_000,
      overall: { css: total.n > 0 ? round(total.sum / total.n) : null, ratings: total.n },
      categories: rows.map((r) => ({ category: r.category, css: round(r.sum / r.n), ratings: r.n })).sort((a, b) => a.category.localeCompare(b.category)),
    };
  }

  /** Pulls the ratings Zendesk collected for faultdesk's tickets since the last pull. */
  async pullZendesk(system: TicketSystem): Promise<number> {
    if (!system.satisfactionRatings) return 0;
    const since = (await this.store.repos.satisfaction.lastPulled('zendesk')) ?? this.clock.now() - this.settings().windowMs;
    let stored = 0;
    for (const rating of await system.satisfactionRatings(since)) {
      const score = rating.score === 'good' ? this.settings().zendeskScores.good : rating.score === 'bad' ? this.settings().zendeskScores.bad : undefined;
      if (score === undefined) continue; // offered or unoffered: no answer yet
      const fault = await this.store.repos.faults.findByTicket('zendesk', rating.ticketId);
      if (!fault) continue; // not one of ours
      const inserted = await this.store.repos.satisfaction.insert({
        fault_id: fault.id,
        category: fault.category,
        score,
        source: 'zendesk',
        external_id: rating.id,
        comment: rating.comment ?? null,
        rated_at: rating.ratedAt,
      });
      if (inserted) stored += 1;
    }
    if (stored > 0) this.logger.info('satisfaction ratings pulled', { system: 'zendesk', stored });
    return stored;
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
