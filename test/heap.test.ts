import { boundHeapGrowth, HEAP_GROWING_PERCENT } from '../src/heap';

describe('the heap growth bound of the daemon', () => {
  test('sets the growing factor when node was started without one', () => {
    const set: string[] = [];
    expect(boundHeapGrowth(['--enable-source-maps'], (flags) => set.push(flags))).toBe(true);
    expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  });

  test.each([['--heap-growing-percent=80'], ['--heap_growing_percent=10'], ['--heap-growing-percent']])('keeps the one node was started with (%s)', (arg) => {
    const set: string[] = [];
    expect(boundHeapGrowth(['--inspect', arg], (flags) => set.push(flags))).toBe(false);
    expect(set).toEqual([]);
  });

  test('a flag that only starts the same way is not mistaken for it', () => {
    const set: string[] = [];
    expect(boundHeapGrowth(['--heap-growing-percentage=5'], (flags) => set.push(flags))).toBe(true);
    expect(set).toHaveLength(1);
  });
});
