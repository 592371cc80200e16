import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

/**
 * Finds the server binaries the tests need, installing Debian's packages when they are missing and
 * we run as root; otherwise fails with one line saying what to install.
 */
export function postgresBinDir(): string {
  const found = findPostgres();
  if (found) return found;
  installOrExplain(['postgresql'], 'Postgres 15+ server binaries (apt-get install postgresql), or set TEST_DATABASE_URL');
  const again = findPostgres();
  if (!again) throw new Error('postgresql was installed but no initdb was found under /usr/lib/postgresql');
  return again;
}

export function redisServerPath(): string {
  const found = which('redis-server');
  if (found) return found;
  installOrExplain(['redis-server'], 'redis-server (apt-get install redis-server), or set TEST_REDIS_URL');
  const again = which('redis-server');
  if (!again) throw new Error('redis-server was installed but is not on PATH');
  return again;
}

function findPostgres(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && Number(v) >= 15 && existsSync(`${root}/${v}/bin/initdb`))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? `${root}/${versions[0]}/bin` : null;
}

function which(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    if (dir && existsSync(`${dir}/${command}`)) return `${dir}/${command}`;
  }
  return null;
}

function installOrExplain(packages: string[], what: string): void {
  if (process.getuid?.() !== 0) throw new Error(`Tests need ${what}; run as root to let the test setup install it.`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'ignore', env });
}
