import { ManualClock } from '../../src/clock';
import { SentCreates } from '../../src/tickets/sent-creates';

test('a create request is sent again as it was until it is forgotten or too old to resend', () => {
  const clock = new ManualClock(0);
  const sent = new SentCreates(clock, 50 * 60_000);
  sent.remember('op-1', { key: 'k1', body: '{"ticket":{}}' });
  clock.advance(10 * 60_000);
  sent.remember('op-2', { key: 'k2', body: '{}' });
  expect(sent.get('op-1')).toEqual({ key: 'k1', body: '{"ticket":{}}' });
  // The upload tokens it names would be dead soon: op-1 is built anew.
  clock.advance(40 * 60_000);
  expect(sent.get('op-1')).toBeUndefined();
  expect(sent.get('op-2')).toEqual({ key: 'k2', body: '{}' });
  sent.forget('op-2');
  expect(sent.get('op-2')).toBeUndefined();
});

test('at most max requests are kept, the oldest go first', () => {
  const sent = new SentCreates(new ManualClock(0), 60_000, 2);
  sent.remember('a', { key: 'a', body: 'a' });
  sent.remember('b', { key: 'b', body: 'b' });
  sent.remember('c', { key: 'c', body: 'c' });
  expect([sent.get('a'), sent.get('b')?.key, sent.get('c')?.key]).toEqual([undefined, 'b', 'c']);
  expect(sent.size).toBe(2);
});
