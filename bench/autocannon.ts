import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { LoadOptions, LoadResult } from './load.ts';

/**
 * The load generator when wrk is not installed: autocannon, in this process (one thread; the
 * `threads` option is wrk's). Its figures are not comparable with wrk's: it is slower at generating
 * load and shares the bench's event loop, so the report names the generator it used.
 *
 * The metering check needs the exact number of requests answered, and a run cut at a deadline
 * leaves requests in flight that the server may still answer and bill. So each run sends a fixed
 * number of requests (`amount`) and waits for every answer: a short first round measures the rate,
 * the next one sends what fills the rest of the window at that rate.
 */
export async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const body = options.body.startsWith('@') ? readFileSync(options.body.slice(1), 'utf8') : options.body;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const latenciesMs: number[] = [];
  const totals = { sent: 0, answered200: 0, errors: 0, timeouts: 0 };

  const before = await Promise.all(options.cpu.map((source) => source.read()));
  const started = performance.now();
  let amount = options.connections * 20;
  for (;;) {
    const roundStarted = performance.now();
    const round = await oneRound(options, headers, body, amount, latenciesMs);
    totals.sent += amount;
    totals.answered200 += round.answered200;
    totals.errors += round.errors;
    totals.timeouts += round.timeouts;
    const left = options.windowMs - (performance.now() - started);
    if (left < 250) break;
    const rate = amount / Math.max(1, performance.now() - roundStarted);
    amount = Math.max(options.connections, Math.round(rate * left));
  }
  const elapsedMs = performance.now() - started;
  const after = await Promise.all(options.cpu.map((source) => source.read()));

  const cpuUsPerRequest: Record<string, number> = {};
  options.cpu.forEach((source, i) => {
    cpuUsPerRequest[source.label] = totals.answered200 > 0 ? (after[i]! - before[i]!) / totals.answered200 : Number.NaN;
  });
  latenciesMs.sort((a, b) => a - b);
  const at = (q: number): number => Math.round((latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))] ?? Number.NaN) * 1000);
  const mean = latenciesMs.length > 0 ? (latenciesMs.reduce((t, v) => t + v, 0) / latenciesMs.length) * 1000 : Number.NaN;
  return {
    connections: options.connections,
    windowS: elapsedMs / 1000,
    answered200: totals.answered200,
    failed: totals.sent - totals.answered200,
    requestsPerSecond: totals.answered200 / (elapsedMs / 1000),
    latencyUs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1), mean },
    socketErrors: { connect: 0, read: totals.errors, write: 0, timeout: totals.timeouts },
    cpuUsPerRequest,
  };
}

let current: autocannon.Instance | null = null;

/** Stops a run in progress (on Ctrl-C). */
export function stopAutocannon(): void {
  current?.stop();
}

/** Sends exactly `amount` requests over the connections and resolves once each has its answer or error. */
function oneRound(options: LoadOptions, headers: Record<string, string>, body: string, amount: number, latenciesMs: number[]): Promise<{ answered200: number; errors: number; timeouts: number }> {
  return new Promise((resolve, reject) => {
    let answered200 = 0;
    const instance = autocannon(
      { url: `${options.origin}/v1/chat/completions`, method: 'POST', headers, body, connections: options.connections, amount, timeout: 30 },
      (error, result) => {
        current = null;
        if (error) reject(error);
        else resolve({ answered200, errors: result.errors - result.timeouts, timeouts: result.timeouts });
      },
    );
    current = instance;
    // Latency of the answered requests, as wrk's percentiles are in practice (nothing else fails here).
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) {
        answered200++;
        latenciesMs.push(responseTimeMs);
      }
    });
  });
}
