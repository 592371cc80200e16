import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { installMasterKeyFiles, loadMasterKeyRing } from '@tollgate/shared';
import { readConfig, type Config } from '../config.ts';
import { controlSocketPath, createAdminViaSocket, rotateMasterKeyViaSocket } from '../control-socket.ts';
import { openDatabase, type Database } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { ForbiddenError, ValidationError } from '../errors.ts';
import { createPlatformAdmin, type CreatedAdmin } from '../services/admins.ts';
import { rewrapAllSecrets } from '../services/master-key-rotation.ts';
import { principalFromToken, Access } from '../auth/principal.ts';
import { dataDirExists, locateDataDir } from './locate.ts';
import { graphqlClient } from './graphql-client.ts';
import { reconcileCommand } from './reconcile.ts';

const HELP = `Usage: tollgate <command> [options]
(from the repository: npx tollgate <command>; elsewhere: npm run tollgate -- <command>)

Commands:
  admin create --email <email> [--token <operator token>]
                             create the first platform operator and print a management token, once.
                             Once an operator exists, another needs --token of an existing operator.
  token create --name <name> [--org <id or slug>] [--role <role>] [--expires-in-days <n>]
  token list                 your management tokens (prefix, last 4, scope, last use)
  token revoke <id>
  apply -f <file> [--dry-run] [--confirm]
                             create or update what a tollgate.yaml describes; --dry-run prints the diff
  export                     print the current configuration as YAML, credentials masked
  reconcile [--repair] [--json]
                             compare the state store's balances and spend counters with the ledger
                             and report drift (exit code 1 while any remains); --repair rebuilds
                             what drifted from the ledger, then checks again
  rotate-master-key          re-wrap every stored credential under a new master key (see the README)
  migrate                    apply pending database migrations and exit

The token, apply, export and reconcile commands call the GraphQL API: TOLLGATE_URL (default
http://CONTROL_PLANE_HOST:CONTROL_PLANE_PORT) with TOLLGATE_TOKEN or --token.
Database: DATABASE_URL, else the PGlite of the data directory (TOLLGATE_DATA_DIR, else a running
Tollgate's, else ./.tollgate); a running embedded Tollgate is asked over its control socket.
`;

class UsageError extends Error {}

const say = (text: string): void => void process.stderr.write(`tollgate: ${text}\n`);

async function withDatabase<T>(config: Config, dataDir: string, work: (database: Database) => Promise<T>): Promise<T> {
  if (!config.databaseUrl && !dataDirExists(dataDir)) {
    throw new UsageError(`there is no Tollgate data directory at ${dataDir}: start Tollgate first (npm start), or set TOLLGATE_DATA_DIR or DATABASE_URL`);
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir });
  try {
    await migrate(database);
    return await work(database);
  } finally {
    await database.close();
  }
}

async function adminCreate(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, token: { type: 'string' } }, strict: true });
  if (!values.email) throw new UsageError('admin create needs --email <email>');
  const config = readConfig();
  const token = values.token ?? process.env.TOLLGATE_TOKEN ?? null;
  let admin: CreatedAdmin;
  if (config.databaseUrl) {
    admin = await withDatabase(config, config.dataDir, async (database) => {
      let authorizedBy: string | null = null;
      if (token) {
        const principal = await principalFromToken(database.db, token);
        if (!principal || !new Access(database.db, principal).isOperator) throw new ForbiddenError('--token is not a platform operator\'s valid management token');
        authorizedBy = principal.user.id;
      }
      return createPlatformAdmin(database.db, values.email!, { authorizedBy });
    });
  } else {
    const located = await locateDataDir(config);
    say(`using ${located.why}`);
    admin = located.running
      ? await createAdminViaSocket(controlSocketPath(located.dataDir), values.email, token)
      : await withDatabase(config, located.dataDir, (database) => createPlatformAdmin(database.db, values.email!));
  }
  process.stdout.write(
    `Platform operator ${admin.email} is ready. Its management token, shown only this once:\n\n${admin.token}\n\n` +
      `Use it as a bearer token for the GraphQL API, e.g.\n` +
      `  curl http://${config.controlPlaneHost}:${config.controlPlanePort}/graphql -H "authorization: Bearer <token>" -H 'content-type: application/json' -d '{"query":"{ viewer { email } }"}'\n`,
  );
}

async function tokenCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { name: { type: 'string' }, org: { type: 'string' }, role: { type: 'string' }, 'expires-in-days': { type: 'string' }, token: { type: 'string' } },
    strict: true,
  });
  const api = graphqlClient(readConfig(), values.token);
  if (sub === 'create') {
    if (!values.name) throw new UsageError('token create needs --name <name>');
    let orgId: string | null = null;
    if (values.org) {
      const data = await api.request<{ org: { id: string } | null }>(`query($v: String) { org(slug: $v) { id } }`, { v: values.org }).catch(() => ({ org: null }));
      orgId = data.org?.id ?? values.org;
    }
    const days = values['expires-in-days'] ? Number(values['expires-in-days']) : null;
    if (days !== null && (!Number.isInteger(days) || days < 1)) throw new UsageError('--expires-in-days must be a whole number of days');
    const created = await api.mutate('createManagementToken', 'CreateManagementTokenInput', 'secret token { id prefix last4 orgId role expiresAt }', {
      name: values.name, ...(orgId ? { orgId } : {}), ...(values.role ? { role: values.role } : {}),
      ...(days ? { expiresAt: new Date(Date.now() + days * 86_400_000).toISOString() } : {}),
    });
    process.stdout.write(`Token ${created.token.id} (${created.token.orgId ? `org ${created.token.orgId}, ${created.token.role}` : 'platform'}), shown only this once:\n\n${created.secret}\n`);
  } else if (sub === 'list') {
    const data = await api.request<{ managementTokens: { edges: { node: Record<string, string | null> }[] } }>(
      `{ managementTokens(first: 100) { edges { node { id name prefix last4 orgId role lastUsedAt expiresAt } } } }`,
    );
    for (const { node: t } of data.managementTokens.edges) {
      process.stdout.write(`${t.id}  ${t.prefix}…${t.last4}  ${t.name}  ${t.orgId ? `org ${t.orgId} ${t.role}` : 'platform'}  last used ${t.lastUsedAt ?? 'never'}  expires ${t.expiresAt ?? 'never'}\n`);
    }
  } else if (sub === 'revoke') {
    if (positionals.length !== 1) throw new UsageError('token revoke needs the token id');
    const revoked = await api.mutate('revokeManagementToken', 'RevokeManagementTokenInput', 'id revokedAt', { id: positionals[0] });
    process.stdout.write(`revoked ${revoked.id}\n`);
  } else {
    throw new UsageError(`unknown token command: ${sub ?? ''}`);
  }
}

async function applyCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean' }, confirm: { type: 'boolean' }, token: { type: 'string' } }, strict: true });
  if (!values.file) throw new UsageError('apply needs -f <file>');
  const document = readFileSync(values.file === '-' ? 0 : values.file, 'utf8');
  const api = graphqlClient(readConfig(), values.token);
  const result = await api.mutate('applyConfig', 'ApplyConfigInput', 'dryRun changes { action kind name fields } createdKeys { org name secret }', {
    document, dryRun: values['dry-run'] ?? false, confirm: values.confirm ?? false,
  });
  const changes = result.changes as { action: string; kind: string; name: string; fields: string[] }[];
  for (const c of changes) process.stdout.write(`${c.action === 'create' ? '+' : '~'} ${c.kind} ${c.name}${c.fields.length ? ` (${c.fields.join(', ')})` : ''}\n`);
  process.stdout.write(changes.length === 0 ? 'no changes\n' : `${changes.length} change(s)${result.dryRun ? ' (dry run: nothing was changed)' : ' applied'}\n`);
  for (const k of result.createdKeys as { org: string; name: string; secret: string }[]) {
    process.stdout.write(`key ${k.org}/${k.name}, shown only this once: ${k.secret}\n`);
  }
}

async function exportCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { token: { type: 'string' } }, strict: true });
  const data = await graphqlClient(readConfig(), values.token).request<{ exportConfig: string }>(`{ exportConfig }`);
  process.stdout.write(data.exportConfig);
}

async function rotateMasterKey(): Promise<void> {
  const config = readConfig();
  if (config.databaseUrl) {
    // Postgres: the ring comes from TOLLGATE_MASTER_KEY (new) and TOLLGATE_MASTER_KEY_PREVIOUS (old).
    const ring = loadMasterKeyRing({ env: config.masterKeyEnv, previousEnv: config.masterKeyPreviousEnv, dataDir: config.dataDir, create: false });
    const report = await withDatabase(config, config.dataDir, (database) => rewrapAllSecrets(database.db, ring));
    process.stdout.write(`re-wrapped ${report.channels} channel and ${report.byokCredentials} BYOK credential(s) under master key ${ring.ids[0]}; running control planes publish them within seconds\n`);
    if (report.unreadable.length > 0) throw new ValidationError(`no key of the ring opens: ${report.unreadable.join(', ')}`);
    return;
  }
  const located = await locateDataDir(config);
  say(`using ${located.why}`);
  if (located.running) {
    const { newKeyId } = await rotateMasterKeyViaSocket(controlSocketPath(located.dataDir));
    process.stdout.write(`installed master key ${newKeyId} (the old one is kept in master.key.previous). Restart Tollgate to finish: it re-wraps every credential at start.\n`);
    return;
  }
  if (config.masterKeyEnv) throw new UsageError('TOLLGATE_MASTER_KEY is set: put the new key there and the old one in TOLLGATE_MASTER_KEY_PREVIOUS, then run this again with DATABASE_URL, or start Tollgate');
  const report = await withDatabase(config, located.dataDir, async (database) => {
    const ring = installMasterKeyFiles(located.dataDir, loadMasterKeyRing({ env: undefined, dataDir: located.dataDir, create: false }), randomBytes(32));
    return { ...(await rewrapAllSecrets(database.db, ring)), id: ring.ids[0] };
  });
  process.stdout.write(`installed master key ${report.id} and re-wrapped ${report.channels} channel and ${report.byokCredentials} BYOK credential(s); back up ${located.dataDir}/master.key\n`);
}

async function migrateOnly(): Promise<void> {
  const config = readConfig();
  let dataDir = config.dataDir;
  if (!config.databaseUrl) {
    const located = await locateDataDir(config);
    say(`using ${located.why}`);
    if (located.running) throw new UsageError(`Tollgate is running on ${located.dataDir}; it applied the migrations at start`);
    dataDir = located.dataDir;
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir });
  try {
    const result = await migrate(database);
    process.stdout.write(`applied ${result.applied} migration(s); database is up to date\n`);
  } finally {
    await database.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  process.umask(0o077);
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(HELP);
      return command ? 0 : 1;
    }
    if (command === 'admin' && rest[0] === 'create') await adminCreate(rest.slice(1));
    else if (command === 'token') await tokenCommand(rest);
    else if (command === 'apply') await applyCommand(rest);
    else if (command === 'export') await exportCommand(rest);
    else if (command === 'reconcile') return await reconcileCommand(rest);
    else if (command === 'rotate-master-key' && rest.length === 0) await rotateMasterKey();
    else if (command === 'migrate' && rest.length === 0) await migrateOnly();
    else throw new UsageError(`unknown command: ${argv.join(' ')}`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ValidationError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tollgate: ${(error as Error).message}\n\n${HELP}`);
      return 2;
    }
    process.stderr.write(`tollgate: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await run(process.argv.slice(2));
