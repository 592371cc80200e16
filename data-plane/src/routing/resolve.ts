import { adapterFor, GatewayError, isProviderId, isTier, parsePrice, providerInfo, type KeyRecord, type Lane, type LaneTarget, type PlanRecord, type Tier } from '@tollgate/shared';
import { byokBaseUrl, type ByokCredentials } from './byok.ts';
import type { Candidate } from './candidate.ts';
import { offerFor, type LiveModel, type RouteTableHolder } from './route-table.ts';

/** Where one lane of a request may go. */
export interface RoutePlan {
  tier: Tier;
  lane: Lane | null;
  model: LiveModel;
  /** Eligible candidates, best priority first; the dispatcher draws the order within a priority. */
  candidates: Candidate[];
  /** A plan's fallback lane, tried when every candidate of this one failed. */
  fallback: RoutePlan | null;
}

export interface Resolution {
  primary: RoutePlan;
  /** `auto`: where to continue once the premium fair-use allowance is spent (null: 402 plan_limit). */
  continuation: RoutePlan | null;
  /** The org's plan, when the request is an `auto` one. */
  plan: PlanRecord | null;
}

export interface RouteContext {
  key: KeyRecord;
  routes: RouteTableHolder;
  byok: ByokCredentials;
  /** `x-byok-provider`: forces the provider of a byok request. */
  byokProvider: string | null;
}

/** Model names are echoed in errors, cut so a hostile one cannot bloat the answer. */
export function echo(name: string): string {
  return name.length > 200 ? `${name.slice(0, 200)}…` : name;
}

function checkTier(tier: Tier, key: KeyRecord): void {
  if (key.allowedTiers !== null && !key.allowedTiers.includes(tier)) {
    throw new GatewayError('tier_not_allowed', `This API key may not use the ${tier} tier.`, 'model');
  }
}

/**
 * `[tier/]model`, or `auto[:premium|:economy]`, to the candidates a request may use. Tier rules
 * (DESIGN.md, "Routing model"): `cheap` the operator's pooled channels; `resale` the operator's
 * managed channels, never a pooled one; `byok` only the calling org's own credentials. No prefix:
 * the org's default tier.
 */
export async function resolveRoute(requested: string, ctx: RouteContext): Promise<Resolution> {
  if (requested === 'auto' || requested === 'auto:premium' || requested === 'auto:economy') return resolveAuto(requested, ctx);
  const slash = requested.indexOf('/');
  const prefix = slash === -1 ? '' : requested.slice(0, slash);
  const explicit = isTier(prefix);
  const tier: Tier = explicit ? prefix : ctx.key.defaultTier;
  const name = explicit ? requested.slice(slash + 1) : requested;
  return { primary: await resolveTier(name, tier, null, ctx, requested), continuation: null, plan: null };
}

async function resolveTier(name: string, tier: Tier, lane: Lane | null, ctx: RouteContext, requested: string): Promise<RoutePlan> {
  checkTier(tier, ctx.key);
  const model = ctx.routes.model(name);
  if (!model) throw new GatewayError('model_not_found', `The model "${echo(requested)}" does not exist.`, 'model');
  const candidates = tier === 'byok' ? await byokCandidates(model, ctx) : offerFor(model, ctx.key.orgId).candidates[tier];
  if (candidates.length === 0) {
    throw new GatewayError('model_not_allowed', `The model "${echo(name)}" is not available on the ${tier} tier.`, 'model');
  }
  return { tier, lane, model, candidates, fallback: null };
}

/**
 * The org's own credentials for the providers this model maps to, in the model's order; with
 * `x-byok-provider`, only that provider. Never the operator's channels, never another org's.
 */
async function byokCandidates(model: LiveModel, ctx: RouteContext): Promise<Candidate[]> {
  const forced = ctx.byokProvider;
  if (forced !== null && !isProviderId(forced)) {
    throw new GatewayError('invalid_request', `"x-byok-provider: ${echo(forced)}" is not a provider Tollgate knows.`, 'x-byok-provider');
  }
  const targets = model.route.byok.filter((b) => (forced === null || b.provider === forced) && adapterFor(providerInfo(b.provider).protocol) !== null);
  if (targets.length === 0) {
    const which = forced === null ? '' : ` through ${forced}`;
    throw new GatewayError('model_not_allowed', `The model "${echo(model.route.name)}" is not available on the byok tier${which}.`, 'model');
  }
  const feeBps = ctx.routes.byokFeeBps;
  const out: Candidate[] = [];
  for (const target of targets) {
    const credential = await ctx.byok.get(ctx.key.orgId, target.provider);
    if (!credential) continue;
    const info = providerInfo(target.provider);
    const base = byokBaseUrl(target.provider, credential.credential, ctx.byok.baseUrls);
    if (base === null) continue;
    const url = new URL(base);
    const listPrice = model.byokPrices.get(target.provider) ?? parsePrice(target.listPrice);
    out.push({
      key: `byok:${credential.id}/${target.upstreamModel}`,
      breakerId: `byok:${credential.id}`,
      channelId: null,
      byokCredentialId: credential.id,
      provider: target.provider,
      adapter: adapterFor(info.protocol)!,
      target: { provider: target.provider, origin: url.origin, basePath: url.pathname.replace(/\/+$/, ''), upstreamModel: target.upstreamModel, credential: credential.credential, extraHeaders: {} },
      priority: out.length,
      weight: 1,
      timeouts: { connectMs: 10_000, firstByteMs: 60_000, idleMs: 60_000, totalMs: 600_000 },
      // The customer's own endpoint (an Azure resource) is never on a private network; an
      // operator's override (an egress proxy) is the operator's.
      allowPrivateNetwork: ctx.byok.baseUrls[target.provider] !== undefined,
      retries: 0,
      maxConcurrency: 256,
      chargePrice: listPrice,
      feeBps,
      providerPrice: { input: 0n, cachedInput: 0n, cacheWrite: 0n, output: 0n, reasoning: 0n },
    });
  }
  if (out.length === 0) {
    const providers = targets.map((t) => t.provider).join(', ');
    throw new GatewayError('byok_not_configured', `Your organisation has no BYOK credential for ${providers}; add one to use byok/${echo(model.route.name)}.`, 'model');
  }
  return out;
}

async function resolveLane(target: LaneTarget, lane: Lane, ctx: RouteContext): Promise<RoutePlan> {
  return resolveTier(target.model, target.tier, lane, ctx, target.model);
}

async function resolveAuto(requested: string, ctx: RouteContext): Promise<Resolution> {
  const plan = ctx.key.planId === null ? undefined : ctx.routes.plan(ctx.key.planId);
  if (!plan) throw new GatewayError('model_not_allowed', `"${requested}" routing needs a plan with auto lanes; this organisation has none.`, 'model');
  const fallback = plan.fallbackAllowed && plan.lanes.fallback ? await resolveLane(plan.lanes.fallback, 'fallback', ctx) : null;
  const continuationOf = async (): Promise<RoutePlan | null> => {
    if (!plan.lanes.continuation) return null;
    return { ...(await resolveLane(plan.lanes.continuation, 'continuation', ctx)), fallback };
  };
  if (requested === 'auto:economy') {
    const economy = await continuationOf();
    if (!economy) throw new GatewayError('model_not_allowed', 'This plan has no economy lane.', 'model');
    return { primary: economy, continuation: null, plan };
  }
  const premium = { ...(await resolveLane(plan.lanes.premium, 'premium', ctx)), fallback };
  // `auto:premium` states a preference for premium only: past the allowance it is refused, not downgraded.
  const continuation = requested === 'auto' && plan.continuationAllowed ? await continuationOf() : null;
  return { primary: premium, continuation, plan };
}
