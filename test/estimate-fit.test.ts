import { fitRepairTime, repairTimeHours } from '../src/estimate';

/** A deterministic pseudo-random source, so the test is the same on every run. */
function lcg(seed: number) {
  let x = seed;
  return () => (x = (x * 1664525 + 1013904223) % 4294967296) / 4294967296;
}

function gaussian(rand: () => number) {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

const bounds = { a: [0.05, 500], b: [0.01, 10] } as const;

describe('fitting RT = a·ln(1 + b·FS) to real durations', () => {
  test.each([
    [1, 0.5],
    [2.5, 0.2],
    [0.7, 3],
    [4, 1.2],
  ])('recovers a=%s, b=%s from 300 noisy faults', (a, b) => {
    const rand = lcg(Math.round(a * 1000 + b * 10));
    const samples = Array.from({ length: 300 }, () => {
      const fs = 1 + Math.floor(rand() * 10);
      // Multiplicative noise of about ±10 %: repairs vary, but not wildly.
      return { fs, hours: repairTimeHours({ a, b }, fs) * Math.max(0.1, 1 + 0.1 * gaussian(rand)) };
    });
    const fit = fitRepairTime(samples, bounds, 0.5)!;
    // a and b trade off against each other, so the predictions are the measure that matters most.
    for (const fs of [1, 5, 10]) {
      expect(repairTimeHours(fit, fs)).toBeCloseTo(repairTimeHours({ a, b }, fs), 0);
      expect(Math.abs(repairTimeHours(fit, fs) / repairTimeHours({ a, b }, fs) - 1)).toBeLessThan(0.05);
    }
    expect(Math.abs(fit.b / b - 1)).toBeLessThan(0.35);
    expect(Math.abs(fit.a / a - 1)).toBeLessThan(0.35);
    expect(fit.samples).toBe(300);
    expect(fit.rmseHours).toBeLessThan(0.2 * repairTimeHours({ a, b }, 10));
  });

  test('exact data gives the exact model', () => {
    const samples = [1, 2, 3, 5, 8, 10].map((fs) => ({ fs, hours: repairTimeHours({ a: 1, b: 0.5 }, fs) }));
    const fit = fitRepairTime(samples, bounds, 0.1)!;
    expect(fit.a).toBeCloseTo(1, 4);
    expect(fit.b).toBeCloseTo(0.5, 4);
    expect(fit.rmseHours).toBeLessThan(1e-6);
  });

  test('with one distinct FS, b stays as configured and a is fitted', () => {
    const fit = fitRepairTime([{ fs: 5, hours: 2 }, { fs: 5, hours: 4 }], bounds, 0.5)!;
    expect(fit.b).toBe(0.5);
    expect(repairTimeHours(fit, 5)).toBeCloseTo(3, 6);
  });

  test('bounds hold, whatever the data', () => {
    const fit = fitRepairTime([{ fs: 1, hours: 10_000 }, { fs: 10, hours: 10_000 }], bounds, 0.5)!;
    expect(fit.a).toBeLessThanOrEqual(500);
    expect(fit.b).toBeLessThanOrEqual(10);
    expect(fitRepairTime([], bounds, 0.5)).toBeUndefined();
  });
});
