import type { ChannelTimeouts, Price, ProviderAdapter, ProviderId, UpstreamTarget } from '@tollgate/shared';

/**
 * One place a request can be sent: an operator channel's target, or an org's own BYOK credential
 * for a provider. Everything an attempt needs is resolved when the route table (or the credential)
 * loads, never per request.
 */
export interface Candidate {
  /** Stable across table versions: identifies the target for affinity. */
  key: string;
  /** Whose breaker and capacity this call counts against: the channel, or the BYOK credential. */
  breakerId: string;
  channelId: string | null;
  byokCredentialId: string | null;
  provider: ProviderId;
  adapter: ProviderAdapter;
  target: UpstreamTarget;
  priority: number;
  weight: number;
  timeouts: ChannelTimeouts;
  /**
   * Private, loopback, link-local and CGNAT addresses may be reached: an operator channel that
   * allows them, or a BYOK call through the operator's own egress override. Never a customer's URL.
   */
  allowPrivateNetwork: boolean;
  retries: number;
  maxConcurrency: number;
  /** What the customer is charged per token: the tier's sell price, or for BYOK the provider's list price. */
  chargePrice: Price;
  /** For BYOK: the fee in basis points of `chargePrice`; null when `chargePrice` is charged in full. */
  feeBps: number | null;
  /** What the operator pays the provider (zero for BYOK). */
  providerPrice: Price;
}
