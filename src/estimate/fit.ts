import type { RepairTimeModel } from './repair-time';

export interface RepairSample {
  fs: number;
  hours: number;
}

export interface FitBounds {
  a: readonly [number, number];
  b: readonly [number, number];
}

export interface RepairTimeFit extends RepairTimeModel {
  samples: number;
  /** Root-mean-square error of the fitted model over the samples, in hours. */
  rmseHours: number;
}

const clamp = (x: number, [lo, hi]: readonly [number, number]) => Math.min(hi, Math.max(lo, x));

/**
 * Least-squares fit of RT = a·ln(1 + b·FS) to real repair durations, within
 * bounds. For a given b the best a has a closed form, so the search is over b
 * alone: a log-spaced grid, then a golden-section refinement around the best
 * point. With one distinct FS, b cannot be told from a: b stays as configured
 * and only a is fitted.
 */
export function fitRepairTime(samples: readonly RepairSample[], bounds: FitBounds, configuredB: number): RepairTimeFit | undefined {
  const usable = samples.filter((s) => Number.isFinite(s.hours) && s.hours >= 0 && s.fs >= 1);
  if (usable.length === 0) return undefined;
  const sse = (b: number) => {
    let gy = 0;
    let gg = 0;
    for (const s of usable) {
      const g = Math.log(1 + b * s.fs);
      gy += g * s.hours;
      gg += g * g;
    }
    const a = clamp(gg > 0 ? gy / gg : bounds.a[0], bounds.a);
    let err = 0;
    for (const s of usable) err += (a * Math.log(1 + b * s.fs) - s.hours) ** 2;
    return { a, err };
  };
  let b: number;
  if (new Set(usable.map((s) => s.fs)).size < 2) {
    b = clamp(configuredB, bounds.b);
  } else {
    const [lo, hi] = [Math.log(bounds.b[0]), Math.log(bounds.b[1])];
    const steps = 200;
    let best = lo;
    let bestErr = Infinity;
    for (let i = 0; i <= steps; i++) {
      const x = lo + ((hi - lo) * i) / steps;
      const { err } = sse(Math.exp(x));
      if (err < bestErr) [best, bestErr] = [x, err];
    }
    // Golden-section search between the grid neighbours of the best point.
    let left = Math.max(lo, best - (hi - lo) / steps);
    let right = Math.min(hi, best + (hi - lo) / steps);
    const phi = (Math.sqrt(5) - 1) / 2;
    for (let i = 0; i < 60; i++) {
      const x1 = right - phi * (right - left);
      const x2 = left + phi * (right - left);
      if (sse(Math.exp(x1)).err < sse(Math.exp(x2)).err) right = x2;
      else left = x1;
    }
    b = Math.exp((left + right) / 2);
  }
  const { a, err } = sse(b);
  return { a, b, samples: usable.length, rmseHours: Math.sqrt(err / usable.length) };
}
