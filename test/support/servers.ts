import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresBinDir, redisServerPath } from './system-packages.ts';

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => (socket.destroy(), resolve(false)));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill(signal);
  });
}

/** A throwaway Postgres that can also be stopped and started again on its data (a database outage). */
export interface BreakablePostgres extends RunningServer {
  /** Shuts the server down (fast shutdown: clients are disconnected), keeping its data. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
}

/** A throwaway Postgres: initdb into a temp dir, random port, loopback only, no durability. */
export async function startPostgres(): Promise<BreakablePostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'));
  const asRoot = process.getuid?.() === 0;
  // Postgres refuses to run as root; as root we run it as the `postgres` system user, by uid and gid
  // on the child itself (not through runuser, which would not pass our stop signal on to Postgres).
  const owner = asRoot ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) } : {};
  if (asRoot) chownSync(dir, owner.uid!, owner.gid!);
  const data = join(dir, 'data');
  execFileSync(`${bin}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], { stdio: 'ignore', ...owner });
  const port = await freePort();
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(`${bin}/postgres`, [
      '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ], { stdio: 'ignore', ...owner });
    await waitForPort(port, child, 'postgres');
    return child;
  };
  let child = await launch();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async halt() {
      await stopChild(child, 'SIGINT');
    },
    async resume() {
      child = await launch();
    },
    async stop() {
      await stopChild(child, 'SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throwaway redis-server: random port, loopback only, no persistence. */
export async function startRedis(): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(redisServerPath(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitForPort(port, child, 'redis-server');
  return { url: `redis://127.0.0.1:${port}`, stop: () => stopChild(child, 'SIGTERM') };
}

/**
 * A throwaway Redis Cluster of three masters (no replicas) on loopback, for proving that every
 * script keeps its keys in one slot. Nodes keep their cluster config in a temp dir.
 */
export async function startRedisCluster(nodes = 3): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < nodes; i++) {
      const port = await freePort();
      const child = spawn(redisServerPath(), [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000', '--dir', dir,
      ], { stdio: 'ignore' });
      children.push(child);
      await waitForPort(port, child, 'redis-server (cluster node)');
      ports.push(port);
    }
    execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' });
    // The slots are assigned; wait until every node agrees the cluster is up.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const states = ports.map((p) => execFileSync('redis-cli', ['-p', String(p), 'cluster', 'info']).toString());
      if (states.every((info) => info.includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new Error('redis cluster did not reach cluster_state:ok');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await Promise.all(children.map((c) => stopChild(c, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    async stop() {
      await Promise.all(children.map((c) => stopChild(c, 'SIGTERM')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A redis-server a fault test can break on purpose: freeze it (SIGSTOP: connections stay open,
 * nothing answers, as in a network partition), thaw it, or kill it and start an empty one on the
 * same port (a restart that lost its data).
 */
export interface BreakableRedis extends RunningServer {
  port: number;
  freeze(): void;
  thaw(): void;
  restartEmpty(): Promise<void>;
}

export async function startBreakableRedis(): Promise<BreakableRedis> {
  const port = await freePort();
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(redisServerPath(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForPort(port, child, 'redis-server');
    return child;
  };
  let child = await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    async restartEmpty() {
      child.kill('SIGCONT');
      await stopChild(child, 'SIGKILL');
      child = await launch();
    },
    async stop() {
      child.kill('SIGCONT');
      await stopChild(child, 'SIGTERM');
    },
  };
}
