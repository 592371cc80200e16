import { parseArgs } from 'node:util';
import { readConfig } from '../config.ts';
import { graphqlClient } from './graphql-client.ts';

/**
 * `tollgate reconcile [--repair] [--json]` over the GraphQL API (the reconcile query and the
 * repairStore mutation): drifting orgs as a table (org, ledger, store, expected, drift), drifting
 * counters below it, and a last line `drift: <n> orgs, <m> counters`.
 */
const REPORT_FIELDS = `orgsChecked countersChecked unconsumedEvents repaired deadLetters { count cost }
  orgs { orgId orgSlug ledger balanceRow store held unconsumed undebited deadLettered expectedStore drift rowDrift }
  counters { orgId keyId counter expected actual }`;

interface Report {
  orgsChecked: number;
  countersChecked: number;
  unconsumedEvents: number;
  repaired: boolean;
  deadLetters: { count: number; cost: string };
  orgs: { orgId: string; orgSlug: string | null; ledger: string; store: string | null; expectedStore: string; drift: string; rowDrift: string }[];
  counters: { orgId: string; keyId: string; counter: string; expected: string; actual: string }[];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

function describeReport(report: Report): string {
  let out = '';
  if (report.orgs.length > 0) {
    out += table([
      ['ORG', 'LEDGER', 'STORE', 'EXPECTED', 'DRIFT'],
      ...report.orgs.map((o) => [
        o.orgSlug ?? o.orgId, o.ledger, o.store ?? 'none', o.expectedStore,
        `${o.drift}${o.rowDrift !== '0' ? ` (balance row off by ${o.rowDrift})` : ''}`,
      ]),
    ]);
  }
  if (report.counters.length > 0) {
    out += table([['ORG', 'KEY', 'COUNTER', 'EXPECTED', 'ACTUAL'], ...report.counters.map((c) => [c.orgId, c.keyId, c.counter, c.expected, c.actual])]);
  }
  return out;
}

/** `tollgate reconcile`: exit code 1 while drift remains (after a repair, in the check that follows it). */
export async function reconcileCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { repair: { type: 'boolean' }, json: { type: 'boolean' }, token: { type: 'string' } }, strict: true });
  const api = graphqlClient(readConfig(), values.token);
  let repair: Report | null = null;
  if (values.repair) {
    const data = await api.request<{ repairStore: { __typename: string; message?: string; data?: Report } }>(
      `mutation { repairStore { __typename ... on Error { message } ... on MutationRepairStoreSuccess { data { ${REPORT_FIELDS} } } } }`,
    );
    if (!data.repairStore.data) throw new Error(`${data.repairStore.__typename}: ${data.repairStore.message ?? ''}`);
    repair = data.repairStore.data;
  }
  const { reconcile: report } = await api.request<{ reconcile: Report }>(`{ reconcile { ${REPORT_FIELDS} } }`);
  const drifting = report.orgs.length > 0 || report.counters.length > 0;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ repair, report }, null, 2)}\n`);
    return drifting ? 1 : 0;
  }
  if (repair) {
    process.stdout.write(`repaired ${repair.orgs.length} org(s) and ${repair.counters.length} counter(s) from the ledger\n${describeReport(repair)}`);
    if (repair.orgs.length + repair.counters.length > 0) process.stdout.write('checking again:\n');
  }
  const dead = report.deadLetters;
  process.stdout.write(
    `checked ${report.orgsChecked} org(s) and ${report.countersChecked} spend counter(s); ${report.unconsumedEvents} usage event(s) not consumed yet; ` +
      `${dead.count} unresolved dead letter(s)${dead.count > 0 ? ` (${dead.cost} credits; see usageDeadLetters)` : ''}\n`,
  );
  process.stdout.write(describeReport(report));
  process.stdout.write(`drift: ${report.orgs.length} orgs, ${report.counters.length} counters\n`);
  return drifting ? 1 : 0;
}
