import { runCommand } from '../test/support/processes.ts';

/**
 * Configures a running Tollgate for the benchmark exactly as an operator would: `tollgate admin
 * create` for a management token, then GraphQL over HTTP (an org, a provider channel pointing at the
 * fake upstream, priced models, credits, a customer key). Every use of the CLI and the GraphQL API
 * by the benchmark lives in this file, so a change to that API is fixed here and nowhere else;
 * the returned tenant also reads back the balance and usage records for the metering check.
 */
export interface SetupOptions {
  /** The control plane's origin, e.g. http://127.0.0.1:4000. */
  controlOrigin: string;
  /** Environment for the CLI: DATABASE_URL, or TOLLGATE_DATA_DIR of a running embedded Tollgate. */
  cliEnv: Record<string, string>;
  /** The fake upstream's base URL including /v1. */
  upstreamBaseUrl: string;
  /** Public model names; each is served by the upstream model of the same name. */
  models: string[];
  /** Whole credits to give the org. */
  credits: number;
}

export interface BenchUsageRecord {
  requestId: string;
  cost: bigint;
  httpStatus: number;
  status: string;
}

export interface BenchTenant {
  orgId: string;
  orgName: string;
  /** The customer API key's secret. */
  apiKey: string;
  /** Nanocredits credited at setup. */
  credited: bigint;
  /** The org's balance in nanocredits, as the API reports it. */
  balance(): Promise<bigint>;
  /** All of the org's usage records, read page by page. */
  usageRecords(): Promise<BenchUsageRecord[]>;
}

// Credits per million tokens; odd sell prices, so that rounding each request up to the nanocredit matters.
const COST = { input: '0.1', output: '0.5' };
const SELL = { input: '0.123456789', output: '0.987654321' };
/** Above the benchmark's 2,000 open streams: a channel refuses requests past its concurrency. */
const CHANNEL_CONCURRENCY = 100_000;
const PAGE = 100;

/** "12.5" or "-0.000000001" credits to nanocredits, exactly. */
function nanocredits(credits: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d{1,9}))?$/.exec(credits);
  if (!match) throw new Error(`not a credits amount: ${credits}`);
  const value = BigInt(match[2]!) * 1_000_000_000n + BigInt((match[3] ?? '').padEnd(9, '0'));
  return match[1] ? -value : value;
}

export async function setUpTollgate(options: SetupOptions): Promise<BenchTenant> {
  const { stdout } = await runCommand('npx', ['--no-install', 'tollgate', 'admin', 'create', '--email', 'bench@example.com'], options.cliEnv);
  const token = /tgm_[0-9A-Za-z]+/.exec(stdout)?.[0];
  if (!token) throw new Error(`tollgate admin create printed no token:\n${stdout}`);

  const gql = async (query: string, variables: Record<string, unknown>): Promise<Record<string, any>> => {
    const response = await fetch(`${options.controlOrigin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const result = (await response.json()) as { data?: Record<string, any>; errors?: { message: string }[] };
    if (result.errors?.length || !result.data) throw new Error(`GraphQL error: ${JSON.stringify(result.errors ?? result)}`);
    return result.data;
  };
  const mutate = async (field: string, inputType: string, selection: string, input: Record<string, unknown>): Promise<any> => {
    const success = `Mutation${field[0]!.toUpperCase()}${field.slice(1)}Success`;
    const data = await gql(
      `mutation($input: ${inputType}!) { ${field}(input: $input) { __typename ... on Error { message } ... on ${success} { data { ${selection} } } } }`,
      { input },
    );
    const payload = data[field];
    if (payload.__typename !== success) throw new Error(`${field} failed: ${payload.__typename}: ${payload.message}`);
    return payload.data;
  };

  // Two generations of the API: channels with one price per model (createProviderChannel), and
  // channels per provider with prices per tier and priced targets (createChannel). Introspection is
  // off in production, so the newer mutation is tried and the older used when it is unknown.
  const orgName = `bench-${Date.now()}`;
  const org = await mutate('createOrg', 'CreateOrgInput', 'id', { name: orgName });
  const channelInput = { name: 'bench-upstream', baseUrl: options.upstreamBaseUrl, tier: 'resale' };
  let perTier = true;
  let channel: { id: string };
  const createChannel = (extra: Record<string, unknown>) =>
    mutate('createChannel', 'CreateChannelInput', 'id', { ...channelInput, provider: 'custom', credential: 'sk-bench-upstream-key', maxConcurrency: CHANNEL_CONCURRENCY, ...extra });
  try {
    // The fake upstream listens on this host: a private address, reachable only when the channel
    // allows it (control planes before that flag reach it without).
    channel = await createChannel({ allowPrivateNetwork: true }).catch((error: Error) => {
      if (/allowPrivateNetwork/.test(error.message)) return createChannel({});
      throw error;
    });
  } catch (error) {
    if (!/Cannot query field \\?"createChannel\\?"|Unknown type \\?"CreateChannelInput/.test((error as Error).message)) throw error;
    perTier = false;
    channel = await mutate('createProviderChannel', 'CreateProviderChannelInput', 'id', { ...channelInput, apiKey: 'sk-bench-upstream-key' });
  }
  for (const name of options.models) {
    await mutate(
      'createModel',
      'CreateModelInput',
      'id',
      perTier
        ? { name, prices: [{ tier: 'resale', price: SELL }], targets: [{ channelId: channel.id, upstreamModel: name, cost: COST }] }
        : {
            name, channelId: channel.id, upstreamModel: name,
            price: { inputCostPerMillion: COST.input, outputCostPerMillion: COST.output, inputPricePerMillion: SELL.input, outputPricePerMillion: SELL.output },
          },
    );
  }
  const credit = await mutate('creditOrg', 'CreditOrgInput', 'amount', {
    orgId: org.id, amount: String(options.credits), reason: 'benchmark credit', idempotencyKey: `${orgName}-credit`,
  });
  const key = await mutate('createApiKey', 'CreateApiKeyInput', 'secret', { orgId: org.id, name: 'bench' });

  return {
    orgId: org.id,
    orgName,
    apiKey: key.secret,
    credited: nanocredits(credit.amount),
    async balance() {
      const data = await gql('query($id: ID!) { org(id: $id) { balance } }', { id: org.id });
      return nanocredits(data.org.balance);
    },
    async usageRecords() {
      const records: BenchUsageRecord[] = [];
      for (let after: string | null = null; ; ) {
        const data = await gql(
          `query($id: ID!, $first: Int!, $after: String) { org(id: $id) { usageRecords(first: $first, after: $after) {
            pageInfo { hasNextPage endCursor } edges { node { requestId costNanocredits httpStatus status } } } } }`,
          { id: org.id, first: PAGE, after },
        );
        const page = data.org.usageRecords;
        for (const { node } of page.edges) {
          records.push({ requestId: node.requestId, cost: BigInt(node.costNanocredits), httpStatus: node.httpStatus, status: node.status });
        }
        if (!page.pageInfo.hasNextPage) return records;
        after = page.pageInfo.endCursor;
      }
    },
  };
}
