/**
 * Rate limits count per wall-clock minute. A test that sends requests and expects the second to
 * be refused must not straddle a minute boundary, or the second lands in a fresh window: call this
 * first, and it waits (at most `marginMs`) until at least `marginMs` of the minute are left.
 */
export async function awayFromMinuteEdge(marginMs = 10_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}
