import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

/** How an npm script of package.json starts its process: environment, node flags, entry, arguments. */
export interface Launch {
  env: Record<string, string>;
  nodeArgs: string[];
  entry: string;
  args: string[];
}

const LAUNCH = /^((?:[A-Z_][A-Z0-9_]*=\S+ )*)node((?: --[\w-]+(?:=\S+)?)*) (\S+\.mjs)((?: \S+)*)$/;

/**
 * The launch of `npm start`, `npm run start:control-plane` or `npm run start:data-plane`: the part
 * after the build, `[NAME=value ...] node [--flag ...] entry [arg ...]`. package.json is the one
 * place these are written; tests and the bench start the built processes exactly so.
 */
export function launchOf(script: 'start' | 'start:control-plane' | 'start:data-plane'): Launch {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const command = (scripts[script] ?? '').split('&&').at(-1)!.trim();
  const match = LAUNCH.exec(command);
  if (!match) throw new Error(`package.json: ${script} does not end in "[NAME=value ...] node [--flag ...] entry.mjs [arg ...]": ${command}`);
  const words = (text: string): string[] => text.trim().split(' ').filter((word) => word.length > 0);
  return {
    env: Object.fromEntries(words(match[1]!).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
    nodeArgs: words(match[2]!),
    entry: match[3]!,
    args: words(match[4]!),
  };
}

/** Starts a built process as its npm script does; `env` is added to (and may override) the script's. */
export function startLaunch(launch: Launch, env: Record<string, string>, extraNodeArgs: string[] = []): RunningProcess {
  return startNodeProcess(launch.entry, launch.args, { ...launch.env, ...env }, [...launch.nodeArgs, ...extraNodeArgs]);
}

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Every line the process wrote to stdout or stderr so far. */
  readonly output: string[];
  waitForOutput(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts an entry point of this repo: TypeScript the way `npm start` does (node --import tsx), a
 * built bundle (`.mjs`) with plain node, as `npm run start:data-plane` does.
 */
export function startNodeProcess(entry: string, args: string[], env: Record<string, string>, nodeArgs: string[] = []): RunningProcess {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (stream: NodeJS.ReadableStream): void => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      output.push(...lines);
      for (const wake of waiters) wake();
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);
  child.on('exit', () => {
    for (const wake of waiters) wake();
  });

  return {
    child,
    output,
    waitForOutput(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const line = output.find(predicate);
          if (line !== undefined) {
            finish();
            resolve(line);
            return true;
          }
          if (child.exitCode !== null) {
            finish();
            reject(new Error(`process ${entry} exited (${child.exitCode}) before the expected output:\n${output.slice(-20).join('\n')}`));
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out waiting for output from ${entry}:\n${output.slice(-20).join('\n')}`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        const wake = (): void => void check();
        if (!check()) waiters.add(wake);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => (clearTimeout(timer), resolve()));
        child.kill('SIGTERM');
      });
    },
  };
}

/** Runs a command to completion and returns its output; rejects on a non-zero exit. */
export function runCommand(command: string, args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stdout}\n${stderr}`)),
    );
  });
}

/** Polls until `read` returns a value other than undefined/null. */
export async function eventually<T>(read: () => Promise<T | null | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
