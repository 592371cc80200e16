import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config.ts';
import { controlSocketPath, socketAnswers } from '../control-socket.ts';

/**
 * Which data directory the CLI uses: TOLLGATE_DATA_DIR when set; else a running Tollgate's, found
 * by its control socket in `.tollgate/` of this directory or any parent, or of the repository the
 * CLI belongs to; else `./.tollgate`. The CLI says which one it uses and why.
 */
export interface Located {
  dataDir: string;
  running: boolean;
  why: string;
}

export async function locateDataDir(config: Config): Promise<Located> {
  if (config.dataDirExplicit) {
    const running = await socketAnswers(controlSocketPath(config.dataDir));
    return { dataDir: config.dataDir, running, why: `TOLLGATE_DATA_DIR=${config.dataDir}${running ? ' (a running Tollgate)' : ' (no Tollgate is running there)'}` };
  }
  const candidates: string[] = [];
  for (let dir = resolve(process.cwd()); ; dir = dirname(dir)) {
    candidates.push(join(dir, '.tollgate'));
    if (dirname(dir) === dir) break;
  }
  candidates.push(join(import.meta.dirname, '..', '..', '..', '.tollgate'));
  for (const dir of candidates) {
    if (await socketAnswers(controlSocketPath(dir))) return { dataDir: dir, running: true, why: `the running Tollgate's data directory ${dir}` };
  }
  return {
    dataDir: config.dataDir,
    running: false,
    why: `${config.dataDir} (no running Tollgate found in .tollgate/ here, in a parent directory or in the repository; set TOLLGATE_DATA_DIR to choose)`,
  };
}

export function dataDirExists(dir: string): boolean {
  return existsSync(join(dir, 'pgdata')) || existsSync(join(dir, 'master.key'));
}
