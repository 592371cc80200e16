import {
  adapterFor,
  channelCredentialAad,
  decodeCredential,
  openSecret,
  parsePrice,
  type Logger,
  type ModelRoute,
  type PlanRecord,
  type Price,
  type RouteTable,
  type StateStore,
} from '@tollgate/shared';
import { ModelList } from './model-list.ts';
import { offersOf, type Offer, type OpenChannel } from './offers.ts';

/**
 * A model as the data plane serves it, worked out once per table: its offer to every org (prices
 * and candidates per operator tier), the offers of orgs with their own markup, and BYOK list prices.
 */
export interface LiveModel extends Offer {
  route: ModelRoute;
  /** Orgs whose markup overrides the model's, by org id: their whole offer. */
  orgOffers: ReadonlyMap<string, Offer>;
  /** The BYOK targets' list prices, by provider. */
  byokPrices: Map<string, Price>;
}

/** What an org is offered: its own markup's offer where it has one, else everyone's. */
export function offerFor(model: LiveModel, orgId: string): Offer {
  return model.orgOffers.get(orgId) ?? model;
}

/**
 * The route table as the data plane uses it: loaded from the store at start and on every
 * announcement, with channel credentials opened once per load (never per request), candidates
 * precomputed per (model, tier) and the /v1/models answers prepared once per version.
 */
export class RouteTableHolder {
  private table: RouteTable | null = null;
  /** By name, and by alias: a request for an alias is served (and billed) as its model. */
  private models = new Map<string, LiveModel>();
  private plans = new Map<string, PlanRecord>();
  private list = new ModelList([]);
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  loaded = false;

  constructor(
    private readonly store: StateStore,
    /** The current master key first, then earlier ones still accepted during a rotation. */
    private readonly masterKey: Buffer | readonly Buffer[],
    private readonly logger: Logger,
  ) {}

  get version(): number {
    return this.table?.version ?? -1;
  }

  get byokFeeBps(): number {
    return this.table?.byokFeeBps ?? 500;
  }

  model(name: string): LiveModel | undefined {
    return this.models.get(name);
  }

  plan(id: string): PlanRecord | undefined {
    return this.plans.get(id);
  }

  get modelList(): ModelList {
    return this.list;
  }

  /** Reloads from the store; concurrent calls coalesce into at most one more load. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        const table = await this.store.getRouteTable((what, error) => this.logger.error('route table entry skipped: malformed', { what, error }));
        if (table && table.version >= this.version) this.install(table);
        this.loaded = true;
      } while (this.reloadAgain);
    })().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private install(table: RouteTable): void {
    const channels = new Map<string, OpenChannel>();
    for (const record of Object.values(table.channels)) {
      if (!record.enabled) continue;
      const adapter = adapterFor(record.protocol);
      if (!adapter) {
        this.logger.warn('channel skipped: its protocol has no adapter yet', { channelId: record.id, protocol: record.protocol });
        continue;
      }
      try {
        const url = new URL(record.baseUrl);
        channels.set(record.id, {
          record,
          open: {
            breakerId: record.id,
            channelId: record.id,
            byokCredentialId: null,
            provider: record.provider,
            adapter,
            timeouts: record.timeouts,
            allowPrivateNetwork: record.allowPrivateNetwork,
            retries: record.retries,
            maxConcurrency: record.maxConcurrency,
            feeBps: null,
            origin: url.origin,
            basePath: url.pathname.replace(/\/+$/, ''),
            credential: decodeCredential(openSecret(this.masterKey, record.credentialSealed, channelCredentialAad(record.id))),
          },
        });
      } catch (error) {
        // One unusable channel (wrong master key, bad URL) must not take the others down.
        this.logger.error('channel skipped: cannot open its credential or parse its URL', { channelId: record.id, error });
      }
    }

    const models = new Map<string, LiveModel>();
    for (const route of Object.values(table.models)) {
      try {
        const { offer, orgOffers } = offersOf(route, channels, this.logger);
        const byokPrices = new Map(route.byok.map((b) => [b.provider, parsePrice(b.listPrice)]));
        models.set(route.name, { route, ...offer, orgOffers, byokPrices });
      } catch (error) {
        // Unpriced means unbillable: such a model is not served rather than served for free.
        this.logger.error('model skipped: a price is not an amount of nanocredits', { model: route.name, error });
      }
    }
    const served = [...models.values()];
    for (const model of served) {
      for (const alias of model.route.aliases ?? []) {
        // The control plane keeps names and aliases unique; should a table break that, names win
        // and the first alias stays, so a public name never switches model between loads.
        if (models.has(alias)) {
          this.logger.error('alias skipped: another model already has this name', { model: model.route.name, alias });
          continue;
        }
        models.set(alias, model);
      }
    }

    this.table = table;
    this.models = models;
    this.plans = new Map(Object.entries(table.plans));
    this.list = new ModelList(served);
  }
}
