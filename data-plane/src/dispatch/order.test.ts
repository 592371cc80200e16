import { describe, expect, it } from 'vitest';
import type { Candidate } from '../routing/candidate.ts';
import { orderCandidates } from './order.ts';

const candidate = (key: string, priority: number, weight: number) => ({ key, priority, weight }) as Candidate;

/** A deterministic stream of "random" numbers. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('orderCandidates', () => {
  it('tries lower priorities first, whatever the weights', () => {
    const list = [candidate('a', 0, 1), candidate('b', 1, 100), candidate('c', 2, 100)];
    expect(orderCandidates(list, null, sequence(0.99)).map((c) => c.key)).toEqual(['a', 'b', 'c']);
  });

  it('draws within a priority group in proportion to weight, without replacement', () => {
    const group = [candidate('a', 0, 1), candidate('b', 0, 3)];
    // Total weight 4: a point below 1 picks a, from 1 on picks b.
    expect(orderCandidates(group, null, sequence(0.2)).map((c) => c.key)).toEqual(['a', 'b']);
    expect(orderCandidates(group, null, sequence(0.3)).map((c) => c.key)).toEqual(['b', 'a']);
    // Over an even spread of points, b comes first exactly three times out of four.
    const firsts = [0.05, 0.3, 0.55, 0.8].map((p) => orderCandidates(group, null, sequence(p, 0))[0]!.key);
    expect(firsts).toEqual(['a', 'b', 'b', 'b']);
  });

  it('puts weight-0 targets last in their group, as standbys', () => {
    const group = [candidate('standby', 0, 0), candidate('a', 0, 1), candidate('next', 1, 1)];
    expect(orderCandidates(group, null, sequence(0.5)).map((c) => c.key)).toEqual(['a', 'standby', 'next']);
  });

  it('moves the affinity-preferred target to the front of its priority group, never past a better group', () => {
    const list = [candidate('a', 0, 1), candidate('b', 0, 1), candidate('c', 1, 1), candidate('d', 1, 1)];
    expect(orderCandidates(list, 'b', sequence(0)).map((c) => c.key)).toEqual(['b', 'a', 'c', 'd']);
    expect(orderCandidates(list, 'd', sequence(0)).map((c) => c.key)).toEqual(['a', 'b', 'd', 'c']);
    expect(orderCandidates(list, 'gone', sequence(0)).map((c) => c.key)).toEqual(['a', 'b', 'c', 'd']);
  });
});
