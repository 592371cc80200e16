import { parseArgs } from 'node:util';
import { readConfig } from '../config.ts';
import { controlSocketPath, createAdminViaSocket, socketAnswers } from '../control-socket.ts';
import { openDatabase } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { ValidationError } from '../errors.ts';
import { createPlatformAdmin, type CreatedAdmin } from '../services/admins.ts';

const HELP = `Usage: tollgate <command> [options]

Commands:
  admin create --email <email>   create a platform admin (or reuse the user with this email) and
                                 print a new management token, once
  migrate                        apply pending database migrations and exit

Environment: DATABASE_URL (Postgres; else PGlite under TOLLGATE_DATA_DIR, default ./.tollgate)
`;

class UsageError extends Error {}

async function adminCreate(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' } }, strict: true });
  if (!values.email) throw new UsageError('admin create needs --email <email>');
  const config = readConfig();
  let admin: CreatedAdmin;
  const socket = controlSocketPath(config.dataDir);
  if (!config.databaseUrl && (await socketAnswers(socket))) {
    // A running embedded control plane holds the PGlite directory; ask it.
    admin = await createAdminViaSocket(socket, values.email);
  } else {
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      await migrate(database);
      admin = await createPlatformAdmin(database.db, values.email);
    } finally {
      await database.close();
    }
  }
  process.stdout.write(
    `Platform admin ${admin.email} is ready. Its management token, shown only this once:\n\n${admin.token}\n\n` +
      `Use it as a bearer token for the GraphQL API, e.g.\n` +
      `  curl http://${config.host}:${config.controlPlanePort}/graphql -H "authorization: Bearer <token>" -H 'content-type: application/json' -d '{"query":"{ viewer { email } }"}'\n`,
  );
}

async function migrateOnly(): Promise<void> {
  const config = readConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrate(database);
  } finally {
    await database.close();
  }
  process.stdout.write('database is up to date\n');
}

export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(HELP);
      return command ? 0 : 1;
    }
    if (command === 'admin' && rest[0] === 'create') await adminCreate(rest.slice(1));
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
