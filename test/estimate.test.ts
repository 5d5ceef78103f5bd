import { dueAt, repairTimeHours } from '../src/estimate';

describe('repair time RT = a·ln(1 + b·FS)', () => {
  test('a=1, b=0.5, FS=5 gives ln(3.5) = 1.25 h (the seed quotes 2.19 h, which the formula does not give)', () => {
    // 2.19 h is ln(9): it would need b·FS = 8 (e.g. b = 1.6 at FS 5). We follow the formula.
    expect(repairTimeHours({ a: 1, b: 0.5 }, 5)).toBeCloseTo(1.2528, 4);
    expect(repairTimeHours({ a: 1, b: 1.6 }, 5)).toBeCloseTo(2.1972, 4);
  });

  test('grows with FS and scales with a', () => {
    expect(repairTimeHours({ a: 1, b: 0.5 }, 8)).toBeGreaterThan(repairTimeHours({ a: 1, b: 0.5 }, 5));
    expect(repairTimeHours({ a: 3, b: 0.5 }, 5)).toBeCloseTo(3 * Math.log(3.5), 10);
    expect(repairTimeHours({ a: 2, b: 0.25 }, 10)).toBeCloseTo(2 * Math.log(3.5), 10);
  });

  test('due time is opened + RT', () => {
    const opened = Date.parse('2026-11-24T10:00:00Z');
    // ln(3.5) h = 1 h 15 min 9.947 s
    expect(new Date(dueAt(opened, repairTimeHours({ a: 1, b: 0.5 }, 5))).toISOString()).toBe('2026-11-24T11:15:09.947Z');
  });
});
