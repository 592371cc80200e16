import { readdirSync, readFileSync } from 'node:fs';

/**
 * Process figures from /proc: CPU time (user + system, all threads) and resident memory. CPU per
 * request is the figure that carries across machines, so it is read from the kernel, not estimated.
 */
const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux ABI Node supports

/** utime + stime of the whole process, in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1_000_000) / TICKS_PER_SECOND;
}

/** Resident set size in megabytes. */
export function rssMegabytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}

/** Something whose CPU time can be read: a process, or Redis through INFO. */
export interface CpuSource {
  label: string;
  read(): Promise<number>;
}

export function processCpu(label: string, pid: number): CpuSource {
  return { label, read: async () => cpuMicros(pid) };
}

/**
 * A Postgres server's CPU time, found by the port in its URL: the postmaster's and its live
 * backends' own time, plus what exited children left in the postmaster's (cutime, cstime).
 */
export function postgresCpu(label: string, url: string): CpuSource {
  const port = new URL(url).port;
  const fields = (pid: string): string[] => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  return {
    label,
    async read() {
      const pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
      const postmaster = pids.find((pid) => {
        try {
          const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          return argv[0]!.endsWith('/postgres') && argv[argv.indexOf('-p') + 1] === port;
        } catch {
          return false; // exited meanwhile
        }
      });
      if (!postmaster) throw new Error(`no postgres listening on port ${port}`);
      let ticks = 0;
      for (const pid of pids) {
        try {
          const f = fields(pid);
          if (pid === postmaster) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
          else if (f[1] === postmaster) ticks += Number(f[11]) + Number(f[12]);
        } catch {
          // exited meanwhile: its time is in the postmaster's cutime now
        }
      }
      return (ticks * 1_000_000) / TICKS_PER_SECOND;
    },
  };
}

/** Redis's own CPU time (INFO cpu), in microseconds. */
export function redisCpu(label: string, url: string): CpuSource {
  return {
    label,
    async read() {
      const { Redis } = await import('ioredis');
      const redis = new Redis(url);
      try {
        const info = await redis.info('cpu');
        const seconds = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
        return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1_000_000;
      } finally {
        redis.disconnect();
      }
    },
  };
}

/**
 * RSS of an idle Node process, bare and under `--import tsx` (how Tollgate, the floor and the
 * upstream run, with no build step): the part of every RSS figure that is not the code measured.
 */
export async function baselineRss(): Promise<{ node: number; nodeWithTsx: number }> {
  const { spawn } = await import('node:child_process');
  const idle = 'setInterval(() => {}, 1000)';
  const bare = spawn(process.execPath, ['-e', idle], { stdio: 'ignore' });
  const withTsx = spawn(process.execPath, ['--import', 'tsx', '-e', idle], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    return { node: rssMegabytes(bare.pid!), nodeWithTsx: rssMegabytes(withTsx.pid!) };
  } finally {
    bare.kill();
    withTsx.kill();
  }
}
