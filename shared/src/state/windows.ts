import type { PlanRecord } from '../snapshot.ts';

/**
 * A fair-use window: a calendar day, ISO week or month in UTC. Its id names the counter (so a new
 * window starts from zero without a reset), and the counter expires a day after the window ends.
 */
export function fairUseWindow(window: PlanRecord['window'], nowMs: number): { id: string; ttlSeconds: number } {
  const now = new Date(nowMs);
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  let id: string;
  let end: number;
  if (window === 'day') {
    id = `${y}-${pad(m + 1)}-${pad(d)}`;
    end = Date.UTC(y, m, d + 1);
  } else if (window === 'month') {
    id = `${y}-${pad(m + 1)}`;
    end = Date.UTC(y, m + 1, 1);
  } else {
    // ISO week: weeks start on Monday; the week belongs to the year of its Thursday.
    const weekday = (now.getUTCDay() + 6) % 7;
    const monday = Date.UTC(y, m, d - weekday);
    const thursday = new Date(monday + 3 * 86_400_000);
    const isoYear = thursday.getUTCFullYear();
    const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * 86_400_000)) + 1;
    id = `${isoYear}-W${pad(week)}`;
    end = monday + 7 * 86_400_000;
  }
  return { id, ttlSeconds: Math.ceil((end - nowMs) / 1000) + 86_400 };
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** When the window holding `nowMs` began (epoch ms): usage since then fills its counter. */
export function windowStart(window: PlanRecord['window'], nowMs: number): number {
  const now = new Date(nowMs);
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  if (window === 'day') return Date.UTC(y, m, d);
  if (window === 'month') return Date.UTC(y, m, 1);
  return Date.UTC(y, m, d - ((now.getUTCDay() + 6) % 7));
}
