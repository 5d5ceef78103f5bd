import { newFaultId } from '../../src/faults/fault-id';

test('fault ids are version-7 UUIDs that sort in the order they were drawn', () => {
  const ids = [1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000].map((t) => newFaultId(t));
  for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect([...ids].sort()).toEqual(ids);
  expect(ids[0]!.slice(0, 13).replace('-', '')).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
  expect(new Set(Array.from({ length: 1000 }, () => newFaultId(1)))).toHaveProperty('size', 1000);
});
