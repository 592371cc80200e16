import type { Candidate } from '../routing/candidate.ts';

/**
 * The order in which to try candidates: priority groups, lowest first; within a group a weighted
 * random draw without replacement (each pick proportional to weight among those left), weight 0
 * last (a standby). An affinity-preferred candidate goes first within its group: it holds the
 * session's prompt cache, so it replaces the random draw, but never the operator's priorities (a
 * session that fell back to a lower group returns to the primary once it is healthy).
 */
export function orderCandidates(candidates: readonly Candidate[], preferredKey: string | null, random: () => number = Math.random): Candidate[] {
  const ordered: Candidate[] = [];
  let start = 0;
  while (start < candidates.length) {
    let end = start + 1;
    while (end < candidates.length && candidates[end]!.priority === candidates[start]!.priority) end++;
    ordered.push(...weightedDraw(candidates.slice(start, end), random));
    start = end;
  }
  if (preferredKey !== null) {
    const i = ordered.findIndex((c) => c.key === preferredKey);
    if (i > 0) {
      const [preferred] = ordered.splice(i, 1);
      const groupStart = ordered.findIndex((c) => c.priority === preferred!.priority);
      ordered.splice(groupStart === -1 ? i : groupStart, 0, preferred!);
    }
  }
  return ordered;
}

function weightedDraw(group: Candidate[], random: () => number): Candidate[] {
  if (group.length === 1) return group;
  const left = group.filter((c) => c.weight > 0);
  const standby = group.filter((c) => c.weight <= 0);
  const out: Candidate[] = [];
  while (left.length > 0) {
    let total = 0;
    for (const c of left) total += c.weight;
    let point = random() * total;
    let pick = left.length - 1;
    for (let i = 0; i < left.length; i++) {
      point -= left[i]!.weight;
      if (point < 0) {
        pick = i;
        break;
      }
    }
    out.push(...left.splice(pick, 1));
  }
  return out.concat(standby);
}
