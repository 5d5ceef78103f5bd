import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { Store } from '../store';
import { fitRepairTime, type FitBounds, type RepairTimeFit } from './fit';
import type { RepairTimeModel } from './repair-time';

export interface EstimateSettings {
  minSamples: number;
  windowMs: number;
  bounds: FitBounds;
}

export interface StoredFit extends RepairTimeFit {
  category: string;
  fittedAt: number;
}

/**
 * The fitted repair-time models, one per category, kept in memory for new
 * faults and refreshed by the fitting job. A category without a fit uses the
 * a and b of its rule.
 */
export class RepairTimeEstimates {
  private fits = new Map<string, StoredFit>();

  constructor(
    private readonly store: Store,
    /** Read at each fit, so a reload's settings apply to the next one. */
    private readonly settings: () => EstimateSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async load(): Promise<void> {
    const rows = await this.store.repos.fits.latest();
    this.fits = new Map(rows.map((r) => [r.category, { category: r.category, a: r.a, b: r.b, samples: r.samples, rmseHours: r.rmse_hours, fittedAt: r.fitted_at }]));
  }

  /** The fitted model of a category, if it has one. */
  readonly model = (category: string): RepairTimeModel | undefined => this.fits.get(category);

  all(): StoredFit[] {
    return [...this.fits.values()];
  }

  /**
   * Fits every category with enough resolved faults in the window, stores each
   * fit and uses it from now on; faults already open keep their estimates.
   */
  async refit(configuredB: (category: string) => number | undefined): Promise<StoredFit[]> {
    const now = this.clock.now();
    const settings = this.settings();
    const resolved = await this.store.repos.faults.resolvedSince(now - settings.windowMs);
    const byCategory = new Map<string, Array<{ fs: number; hours: number }>>();
    for (const f of resolved) {
      if (f.resolved_at === null) continue;
      const list = byCategory.get(f.category) ?? [];
      list.push({ fs: f.severity, hours: (f.resolved_at - f.opened_at) / 3_600_000 });
      byCategory.set(f.category, list);
    }
    const made: StoredFit[] = [];
    for (const [category, samples] of byCategory) {
      if (samples.length < settings.minSamples) continue;
      const fit = fitRepairTime(samples, settings.bounds, configuredB(category) ?? 0.5);
      if (!fit) continue;
      const stored = { ...fit, category, fittedAt: now };
      await this.store.repos.fits.insert({ category, a: fit.a, b: fit.b, samples: fit.samples, rmse_hours: fit.rmseHours, fitted_at: now });
      this.fits.set(category, stored);
      made.push(stored);
      this.logger.info('repair time fitted', { category, a: fit.a, b: fit.b, samples: fit.samples, rmseHours: fit.rmseHours });
    }
    return made;
  }
}
