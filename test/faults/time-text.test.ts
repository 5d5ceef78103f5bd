import { agoText, dueText, formatTime, roughDuration } from '../../src/faults';

const T = Date.parse('2026-11-24T12:00:00.000Z');

test('absolute times are UTC to the second', () => {
  expect(formatTime(Date.parse('2026-11-24T12:09:09.456Z'))).toBe('2026-11-24 12:09:09 UTC');
});

test.each([
  [0, '0s'],
  [45_000, '45s'],
  [60_000, '1m'],
  [77 * 60_000 + 59_000, '1h 17m'],
  [2 * 3_600_000, '2h'],
  [2 * 86_400_000 + 3 * 3_600_000 + 5 * 60_000, '2d 3h'],
  [-5 * 60_000, '5m'],
])('a span of %d ms reads %s', (ms, text) => {
  expect(roughDuration(ms)).toBe(text);
});

test('relative times are told from the given now', () => {
  expect(dueText(T + 77 * 60_000, T)).toBe('in 1h 17m');
  expect(dueText(T - 5 * 60_000, T)).toBe('overdue by 5m');
  expect(dueText(T, T)).toBe('overdue by 0s');
  expect(agoText(T - 30_000, T)).toBe('just now');
  expect(agoText(T - 3 * 3_600_000 - 5 * 60_000, T)).toBe('3h 5m ago');
});
