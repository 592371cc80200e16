import { GatewayError, isTier, type KeyRecord, type RouteTarget, type Tier } from '@tollgate/shared';
import type { LiveChannel, LiveModel, RouteTableHolder } from './route-table.ts';

export interface Candidate {
  channel: LiveChannel;
  target: RouteTarget;
}

export interface Route {
  model: LiveModel;
  tier: Tier;
  /** Eligible targets, best first. The skeleton calls the first; fallback walks the list. */
  candidates: Candidate[];
}

/**
 * `[tier/]model` to an ordered list of eligible targets. A tier prefix restricts targets to that
 * tier's channels (resale never reaches pooled channels, byok never the operator's); no prefix
 * means the org's default tier.
 */
export function resolveRoute(requested: string, key: KeyRecord, routes: RouteTableHolder): Route {
  const slash = requested.indexOf('/');
  const prefix = slash === -1 ? '' : requested.slice(0, slash);
  const explicit = isTier(prefix);
  const tier: Tier = explicit ? prefix : key.defaultTier;
  const name = explicit ? requested.slice(slash + 1) : requested;
  const model = routes.model(name);
  if (!model) throw new GatewayError('model_not_found', `The model "${requested}" does not exist.`, 'model');
  const candidates: Candidate[] = [];
  for (const target of model.route.targets) {
    const channel = routes.channel(target.channelId);
    if (channel && channel.record.tier === tier) candidates.push({ channel, target });
  }
  if (candidates.length === 0) {
    throw new GatewayError('model_not_allowed', `The model "${name}" is not available on the ${tier} tier.`, 'model');
  }
  candidates.sort((a, b) => a.target.priority - b.target.priority);
  return { model, tier, candidates };
}
