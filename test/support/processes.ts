import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

/**
 * The node flags `npm run start:data-plane` runs the built data plane with; package.json is the one
 * place they are written, and tests and the bench start it the same way.
 */
export function dataPlaneNodeFlags(): string[] {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const run = /\bnode((?: --[\w-]+(?:=\S+)?)*) data-plane\/dist\/main\.mjs/.exec(scripts['start:data-plane'] ?? '');
  if (!run) throw new Error('package.json: start:data-plane does not run node data-plane/dist/main.mjs');
  return run[1]!.trim().split(' ').filter((flag) => flag.length > 0);
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
