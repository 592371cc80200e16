import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import {
  formatCredits,
  GatewayError,
  usage as usageOf,
  type AttemptRecord,
  type KeyRecord,
} from '@tollgate/shared';
import { authenticate } from './auth/authenticate.ts';
import type { GatewayContext } from './context.ts';
import { Abort } from './dispatch/abort.ts';
import { affinityKeyOf } from './dispatch/affinity.ts';
import { UpstreamCall } from './dispatch/call.ts';
import { dispatch } from './dispatch/dispatcher.ts';
import { readBody } from './http/body.ts';
import { clientAddress } from './http/client-ip.ts';
import { asGatewayError } from './http/errors.ts';
import { Reply, type Headers } from './http/reply.ts';
import { clientRequestId, newRequestId } from './http/request-id.ts';
import { admit, type Admitted } from './metering/admission.ts';
import { checkAddress, checkModel, modelAllowed } from './metering/limits.ts';
import { orphanEvent, usageEvent } from './metering/usage-event.ts';
import { Meter } from './metering/meter.ts';
import { freePricing, itemPricing, tokenPricing, type Pricing } from './metering/pricing.ts';
import type { Operation, RequestShape } from './operations/operation.ts';
import type { RelayOutcome } from './relay/outcome.ts';
import { relayStream } from './relay/stream.ts';
import { relayWhole } from './relay/whole.ts';
import type { Candidate } from './routing/candidate.ts';
import { resolveRoute, type Resolution, type RoutePlan } from './routing/resolve.ts';

/** An endpoint is an operation; the pipeline is the same for all (DESIGN.md, "Data plane pipeline"). */
export type Endpoint = Operation<unknown, unknown>;

interface Incoming {
  startedAt: number;
  /** The client's address (after trusted proxies), for IP allowlists. */
  address: string;
  requestId: string;
  clientRequestId: string | null;
  authorization: string;
  sessionId: string | null;
  byokProvider: string | null;
}

/**
 * Every /v1 call: authenticate → parse → route → admit → dispatch → relay → settle. The uWS request
 * object dies at the first await, so every header is read here, synchronously, first.
 */
export function handle(ctx: GatewayContext, endpoint: Endpoint, res: HttpResponse, req: HttpRequest): void {
  const requestId = newRequestId();
  const clientId = clientRequestId(req.getHeader('x-request-id'));
  const incoming: Incoming = {
    startedAt: Date.now(),
    address: clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'), ctx.trustedProxies),
    requestId,
    clientRequestId: clientId,
    // Anthropic SDK clients send their key as `x-api-key`; every endpoint takes either.
    authorization: req.getHeader('authorization') || apiKeyHeader(req.getHeader('x-api-key')),
    sessionId: req.getHeader('x-session-id') || null,
    byokProvider: req.getHeader('x-byok-provider') || null,
  };
  const reply = new Reply(res);
  const body = readBody(res, reply, ctx.maxBodyBytes, req.getHeader('content-length'));
  const headers: Headers = [['x-request-id', clientId ?? requestId]];
  // Tracked from the first moment, so a shutdown also waits for requests still authenticating or
  // reserving (they may yet reserve money and so owe a settlement).
  ctx.inFlight.add(reply);
  run(ctx, endpoint, reply, incoming, body)
    .catch((error: unknown) => {
      const answer = asGatewayError(error);
      if (answer.code === 'internal_error') ctx.logger.error('request failed', { requestId, endpoint: endpoint.name, error });
      else if (answer.code === 'unavailable') ctx.logger.warn('state store unavailable', { requestId, error });
      reply.sendError(answer, headers, endpoint.codec.renderError(answer));
    })
    .finally(() => ctx.inFlight.delete(reply));
}

/**
 * Up to admission. It hands the request on without awaiting it, so that this frame (which holds the
 * client's body bytes) ends at admission instead of living as long as an answer streams.
 */
async function run<Req, Res>(ctx: GatewayContext, endpoint: Operation<Req, Res>, reply: Reply, incoming: Incoming, body: Promise<Buffer>): Promise<void> {
  const { startedAt, requestId } = incoming;
  const key = await authenticate(incoming.authorization, ctx.keys, startedAt);
  checkAddress(key, incoming.address);
  const request = endpoint.codec.parse(await body);
  const shape = endpoint.shape(request);
  const inputEstimate = endpoint.estimateInput(request);
  const pricing: Pricing<Res> =
    endpoint.pricing === undefined ? tokenPricing(shape, inputEstimate) : endpoint.pricing === 'free' ? freePricing() : itemPricing(endpoint.pricing, request);
  // Before admission: a request no target can price is refused without holding anything.
  const resolution = pricing.narrow(allowedLanes(key, await resolveRoute(shape.model, { key, routes: ctx.routes, byok: ctx.byok, byokProvider: incoming.byokProvider })));
  const admitted = await admit(ctx.store, {
    outage: ctx.outage,
    buffered: ctx.settlements.pending,
    maxBuffered: ctx.settlements.maxBuffered,
    key,
    requestId,
    instance: ctx.lease.id,
    orphan: (lane, hold) =>
      orphanEvent({ requestId, clientRequestId: incoming.clientRequestId, key, endpoint: endpoint.name, stream: shape.stream, plan: lane, hold, startedAt }, pricing.orphan(lane, hold)),
    abandon: (lane, hold) =>
      ctx.settlements.settle({
        event: usageEvent({
          requestId, clientRequestId: incoming.clientRequestId, key, endpoint: endpoint.name, stream: shape.stream, plan: lane, candidate: null,
          usage: usageOf({}), usageSource: 'estimated', cost: 0n, providerCost: 0n, hold, overHold: false, attempts: [], startedAt, latencyMs: Date.now() - startedAt,
          status: 'upstream_error', httpStatus: 503, errorCode: 'unavailable',
        }),
        consumption: [],
      }),
    resolution,
    inputEstimate,
    price: (lane) => pricing.hold(lane),
    nowMs: startedAt,
    // The backstop: a hold outlives its request's deadline. A data plane that dies mid-request is
    // found by its lease within seconds, and its requests settled (metering/instances.ts).
    deadlineMs: startedAt + ctx.requestTimeoutMs + 60_000,
  });
  // From here on the request holds money: every path below ends in exactly one settlement.
  return serveAdmitted(ctx, endpoint, reply, incoming, key, request, shape, admitted, inputEstimate, pricing);
}

async function serveAdmitted<Req, Res>(
  ctx: GatewayContext,
  endpoint: Operation<Req, Res>,
  reply: Reply,
  incoming: Incoming,
  key: KeyRecord,
  request: Req,
  shape: RequestShape,
  admitted: Admitted,
  inputEstimate: number,
  pricing: Pricing<Res>,
): Promise<void> {
  const { requestId, startedAt } = incoming;
  const plan = admitted.plan;
  const meter = new Meter(() => endpoint.countInput(request), admitted.outputBudget, inputEstimate);
  const controller = new Abort();
  reply.onAbort(() => controller.abort());
  const deadline = setTimeout(() => controller.abort(UpstreamCall.DEADLINE), ctx.requestTimeoutMs);

  let attempts: AttemptRecord[] = [];
  let served: { candidate: Candidate; plan: RoutePlan } | null = null;
  /** The whole answer relayed, for pricing rules that bill what it holds. */
  let answer: Res | null = null;
  let outcome: RelayOutcome = { status: 'upstream_error', httpStatus: 500, billable: false, errorCode: 'internal_error' };
  const headers = (): [string, string][] => {
    const list: [string, string][] = [['x-request-id', incoming.clientRequestId ?? requestId], ['x-tollgate-tier', (served?.plan ?? plan).tier]];
    const lane = (served?.plan ?? plan).lane;
    if (lane !== null) list.push(['x-tollgate-lane', lane]);
    if (served) list.push(['x-tollgate-provider', served.candidate.provider]);
    list.push(['x-tollgate-attempts', String(attempts.length)]);
    if (admitted.fairUseRemaining !== null) list.push(['x-tollgate-fair-use-remaining', String(admitted.fairUseRemaining)]);
    return list;
  };
  /** The usage billed and its cost, never more than the hold. */
  const bill = async (called: boolean) => {
    const candidate = served?.candidate ?? null;
    const priced = await pricing.bill(candidate, meter, called, answer);
    const overHold = priced.cost > admitted.hold;
    return { usage: priced.usage, source: priced.source, cost: overHold ? admitted.hold : priced.cost, providerCost: priced.providerCost, images: priced.images, overHold, candidate };
  };

  try {
    const local = endpoint.answerLocally?.(request, plan) ?? null;
    if (local !== null) {
      // Answered here, by the rules of the lane's first target: no provider is called.
      served = { candidate: plan.candidates[0]!, plan };
      answer = await local;
      const billed = await bill(true);
      outcome = relayWhole({ answer: { response: answer, raw: Buffer.alloc(0) }, codec: endpoint.codec, passthrough: false, reply, context: { requestId, includeUsage: true, model: plan.model.route.name }, headers: headers(), usage: billed.usage, cost: formatCredits(billed.cost) });
      return;
    }
    const affinityKey = plan.candidates.length > 1 ? affinityKeyOf(key.id, incoming.sessionId, endpoint.promptTexts(request)) : null;
    const exchange = endpoint.exchange(request);
    const dispatched = await dispatch(plan, exchange, affinityKey, controller, ctx.dispatch);
    attempts = dispatched.attempts;
    if (!dispatched.ok) {
      if (dispatched.error === null) {
        // The client left. If it left during a call, the upstream had the input: bill its estimate.
        outcome = { status: 'client_aborted', httpStatus: 499, billable: dispatched.abortedDuringCall, errorCode: null };
        if (dispatched.abortedDuringCall) served = { candidate: dispatched.lastCandidate!, plan: dispatched.plan };
        return;
      }
      outcome = { status: 'upstream_error', httpStatus: dispatched.error.status, billable: false, errorCode: dispatched.error.code };
      reply.sendError(dispatched.error, headers(), endpoint.codec.renderError(dispatched.error));
      return;
    }
    const { success, candidate } = dispatched.dispatched;
    served = { candidate, plan: dispatched.dispatched.plan };
    const passthrough = ctx.passthrough && exchange.native(candidate);
    if (success.kind === 'whole') {
      endpoint.meterWhole(meter, success.response);
      answer = success.response;
      const billed = await bill(true);
      outcome = relayWhole({ answer: success, codec: endpoint.codec, passthrough, reply, context: { requestId, includeUsage: true, model: served.plan.model.route.name }, headers: headers(), usage: billed.usage, cost: formatCredits(billed.cost) });
    } else {
      outcome = await relayStream({
        success,
        codec: endpoint.codec,
        renderer: endpoint.codec.newStreamRenderer!({ requestId, includeUsage: shape.includeUsage, model: served.plan.model.route.name }),
        passthrough,
        reply,
        headers: headers(),
        meter,
        maxResponseBytes: ctx.dispatch.limits.maxResponseBytes,
        finalUsage: async () => (await bill(true)).usage,
      });
    }
  } finally {
    clearTimeout(deadline);
    const billed = await bill(outcome.billable);
    const event = usageEvent({
      requestId,
      clientRequestId: incoming.clientRequestId,
      key,
      endpoint: endpoint.name,
      stream: shape.stream,
      plan: served?.plan ?? plan,
      candidate: billed.candidate,
      usage: outcome.billable ? billed.usage : usageOf({}),
      usageSource: billed.source,
      cost: outcome.billable ? billed.cost : 0n,
      providerCost: outcome.billable ? billed.providerCost : 0n,
      images: outcome.billable ? billed.images : null,
      hold: admitted.hold,
      overHold: outcome.billable && billed.overHold,
      attempts,
      startedAt,
      latencyMs: Date.now() - startedAt,
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      errorCode: outcome.errorCode,
    });
    ctx.settlements.settle({ event, consumption: outcome.billable ? admitted.consumption(billed.usage, billed.cost) : [] });
    if (event.overHold) ctx.logger.warn('reported usage priced above the hold; billed at the hold', { requestId, channelId: event.channelId, hold: event.hold });
    ctx.logger.debug('request finished', { usageEvent: event });
  }
}

/**
 * The key's model allowlist over a resolution: the primary lane must be allowed (else 403); a
 * continuation or fallback lane the key may not use is dropped, as if the plan had none.
 */
function allowedLanes(key: KeyRecord, resolution: Resolution): Resolution {
  const { primary } = resolution;
  checkModel(key, primary.tier, primary.model.route.name);
  // The same objects when the key may use every lane (the usual case): no copies per request.
  const withFallback = (plan: RoutePlan): RoutePlan => {
    const fallback = allowed(plan.fallback);
    return fallback === plan.fallback ? plan : { ...plan, fallback };
  };
  const allowed = (plan: RoutePlan | null): RoutePlan | null => {
    if (plan === null) return null;
    if (!modelAllowed(key, plan.tier, plan.model.route.name)) return null;
    return withFallback(plan);
  };
  const narrowedPrimary = withFallback(primary);
  const continuation = allowed(resolution.continuation);
  return narrowedPrimary === primary && continuation === resolution.continuation ? resolution : { ...resolution, primary: narrowedPrimary, continuation };
}

function apiKeyHeader(value: string): string {
  return value ? `Bearer ${value}` : '';
}

