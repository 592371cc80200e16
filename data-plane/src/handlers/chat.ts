import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { costOf, formatCredits, GatewayError, type UsageEvent } from '@tollgate/shared';
import { authenticate } from '../auth/authenticate.ts';
import { readBody } from '../http/body.ts';
import { Reply, type Headers } from '../http/reply.ts';
import { newRequestId } from '../http/request-id.ts';
import { estimateInputTokens, estimateTextTokens } from '../metering/estimate.ts';
import type { ReportedUsage } from '../providers/adapter.ts';
import { adapterFor } from '../providers/registry.ts';
import { resolveRoute } from '../routing/resolve.ts';
import type { GatewayContext } from './context.ts';
import { parseChatRequest } from './chat-request.ts';
import { forward } from './forward.ts';

/** Output tokens reserved when the client sets no cap. */
const DEFAULT_RESERVED_OUTPUT_TOKENS = 4096;
/** A hold outlives any request; past it the hold is released even if its data plane died. */
const HOLD_LIFETIME_MS = 15 * 60_000;

/** POST /v1/chat/completions. Headers are read here, synchronously, before anything awaits. */
export function handleChatCompletions(ctx: GatewayContext, res: HttpResponse, req: HttpRequest): void {
  const startedAt = Date.now();
  const authorization = req.getHeader('authorization');
  const reply = new Reply(res);
  const requestId = newRequestId();
  const body = readBody(res, reply, ctx.maxBodyBytes);
  const headers: Headers = [['x-request-id', requestId]];
  // Tracked from the first moment, so a shutdown also waits for requests still authenticating or
  // reserving (they may yet reserve money and so owe a settlement).
  ctx.inFlight.add(reply);
  run(ctx, reply, { startedAt, authorization, requestId, body })
    .catch((error: unknown) => {
      if (!(error instanceof GatewayError)) ctx.logger.error('chat completion failed', { requestId, error });
      reply.sendError(error instanceof GatewayError ? error : new GatewayError('internal_error', 'Internal error.'), headers);
    })
    .finally(() => ctx.inFlight.delete(reply));
}

interface Incoming {
  startedAt: number;
  authorization: string;
  requestId: string;
  body: Promise<Buffer>;
}

async function run(ctx: GatewayContext, reply: Reply, incoming: Incoming): Promise<void> {
  const { startedAt, requestId } = incoming;
  const key = await authenticate(incoming.authorization, ctx.keys, startedAt);
  const request = parseChatRequest(await incoming.body);
  const route = resolveRoute(request.model, key, ctx.routes);
  const { channel, target } = route.candidates[0]!;
  const price = route.model.price;
  const inputEstimate = estimateInputTokens(request.messages);

  const reserved = await ctx.store.reserve({
    orgId: key.orgId,
    requestId,
    amount: costOf({ inputTokens: inputEstimate, outputTokens: request.maxTokens ?? DEFAULT_RESERVED_OUTPUT_TOKENS }, price),
    nowMs: startedAt,
    deadlineMs: startedAt + HOLD_LIFETIME_MS,
  });
  if (!reserved.ok) {
    // Request ids are random, so a duplicate is our bug, not the customer's balance.
    if (reserved.reason === 'duplicate_request') throw new GatewayError('internal_error', 'Internal error.');
    throw new GatewayError('insufficient_balance', 'Insufficient balance for this request. Add credits to continue.');
  }

  // From here on the request holds money: every path below ends in exactly one settlement.
  const usageOf = (reported: ReportedUsage | null, text: string, billable: boolean) =>
    reported
      ? { usage: reported, source: 'reported' as const }
      : // Nothing reported: estimate. A failed upstream call, or one never made, costs nothing.
        { usage: billable ? { inputTokens: inputEstimate, outputTokens: estimateTextTokens(text) } : { inputTokens: 0, outputTokens: 0 }, source: 'estimated' as const };
  let event: UsageEvent = {
    v: 1, requestId, orgId: key.orgId, keyId: key.id, model: route.model.route.name, tier: route.tier,
    channelId: channel.record.id, upstreamModel: target.upstreamModel, stream: request.stream,
    inputTokens: 0, outputTokens: 0, usageSource: 'estimated', cost: '0', startedAt, latencyMs: 0,
    status: 'upstream_error', httpStatus: 500,
  };
  try {
    const adapter = adapterFor(channel.record.protocol);
    const outcome = await forward(
      {
        pool: ctx.pools.get(channel.origin),
        request: adapter.buildRequest({
          body: request.body, upstreamModel: target.upstreamModel, apiKey: channel.apiKey, basePath: channel.basePath, stream: request.stream,
        }),
        adapter,
        reply,
        headers: [
          ['x-request-id', requestId],
          ['x-tollgate-tier', route.tier],
          ['x-tollgate-provider', channel.record.name],
        ],
        wantsUsage: request.wantsUsage,
        headersTimeoutMs: ctx.upstreamHeadersTimeoutMs,
        costHeader: (usage, text) => formatCredits(costOf(usageOf(usage, text, true).usage, price)),
      },
      request.stream,
    );
    const { usage, source } = usageOf(outcome.usage, outcome.text, outcome.billable);
    event = {
      ...event, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, usageSource: source,
      cost: costOf(usage, price).toString(), status: outcome.status, httpStatus: outcome.httpStatus,
    };
  } finally {
    const settled = { ...event, latencyMs: Date.now() - startedAt };
    ctx.settlements.settle(settled);
    ctx.logger.debug('request finished', { usageEvent: settled });
  }
}
