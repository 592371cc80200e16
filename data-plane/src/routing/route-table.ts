import {
  open,
  parseNanos,
  sealedKeyAssociatedData,
  type ChannelRecord,
  type Logger,
  type ModelRoute,
  type PriceRecord,
  type RouteTable,
  type StateStore,
  type TokenPrice,
} from '@tollgate/shared';

/** A channel ready to call: its record, the opened upstream key, and where to send requests. */
export interface LiveChannel {
  record: ChannelRecord;
  apiKey: string;
  /** `scheme://host:port`, the key of the undici pool. */
  origin: string;
  /** The base URL's path without a trailing slash, e.g. `/v1`. */
  basePath: string;
}

export interface LiveModel {
  route: ModelRoute;
  price: TokenPrice;
}

/**
 * The route table as the data plane uses it: loaded from the store at start and on every
 * announcement, with channel keys opened once per load (never per request) and the /v1/models
 * answer prepared once per version.
 */
export class RouteTableHolder {
  private table: RouteTable | null = null;
  private channels = new Map<string, LiveChannel>();
  private models = new Map<string, LiveModel>();
  private modelList = '{"object":"list","data":[]}';
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  loaded = false;

  constructor(
    private readonly store: StateStore,
    private readonly masterKey: Buffer,
    private readonly logger: Logger,
  ) {}

  get version(): number {
    return this.table?.version ?? -1;
  }

  model(name: string): LiveModel | undefined {
    return this.models.get(name);
  }

  channel(id: string): LiveChannel | undefined {
    return this.channels.get(id);
  }

  /** The OpenAI `GET /v1/models` body for this version of the table. */
  get modelListBody(): string {
    return this.modelList;
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
        const table = await this.store.getRouteTable();
        if (table && table.version >= this.version) this.install(table);
        this.loaded = true;
      } while (this.reloadAgain);
    })().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private install(table: RouteTable): void {
    const channels = new Map<string, LiveChannel>();
    for (const record of Object.values(table.channels)) {
      try {
        const url = new URL(record.baseUrl);
        channels.set(record.id, {
          record,
          apiKey: open(this.masterKey, record.apiKeySealed, sealedKeyAssociatedData(record.id)),
          origin: url.origin,
          basePath: url.pathname.replace(/\/+$/, ''),
        });
      } catch (error) {
        // One unusable channel (wrong master key, bad URL) must not take the others down.
        this.logger.error('channel skipped: cannot open its key or parse its URL', { channelId: record.id, error });
      }
    }
    const models = new Map<string, LiveModel>();
    const listed: { id: string; object: 'model'; created: number; owned_by: string }[] = [];
    for (const route of Object.values(table.models)) {
      const price = parsePrice(route.price);
      if (!price) {
        // Unpriced means unbillable: such a model is not served rather than served for free.
        this.logger.error('model skipped: its price is not an amount of nanocredits', { model: route.name });
        continue;
      }
      models.set(route.name, { route, price });
      const tiers = new Set(route.targets.map((t) => channels.get(t.channelId)?.record.tier).filter((t) => t !== undefined));
      if (tiers.size === 0) continue;
      const created = Math.floor(route.createdAt / 1000);
      listed.push({ id: route.name, object: 'model', created, owned_by: 'tollgate' });
      for (const tier of tiers) listed.push({ id: `${tier}/${route.name}`, object: 'model', created, owned_by: 'tollgate' });
    }
    this.table = table;
    this.channels = channels;
    this.models = models;
    this.modelList = JSON.stringify({ object: 'list', data: listed });
  }
}

/** Prices travel as decimal strings of nanocredits; anything else (negative, fractional, garbage) is refused. */
function parsePrice(record: PriceRecord): TokenPrice | null {
  try {
    const price = { inputPerMillion: parseNanos(record.inputPerMillion), outputPerMillion: parseNanos(record.outputPerMillion) };
    return price.inputPerMillion < 0n || price.outputPerMillion < 0n ? null : price;
  } catch {
    return null;
  }
}
