// The data root: --data-dir, else $LOPT_DATA_DIR, else ~/.cache/lopt/data; one folder per data set.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveDataRoot(dataDir?: string): string {
  if (dataDir) return resolve(dataDir);
  if (process.env.LOPT_DATA_DIR) return resolve(process.env.LOPT_DATA_DIR);
  return join(homedir(), '.cache', 'lopt', 'data');
}
