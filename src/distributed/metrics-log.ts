// A role's metrics.jsonl: one JSON object per line, appended synchronously so the file's length
// at a checkpoint marks exactly the rows that checkpoint covers (a resumed learner cuts back to it).
import { appendFileSync, existsSync, mkdirSync, statSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

export class MetricsLog {
  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
  }

  /** Starts an empty file (atomically: a crash leaves the old file or an empty one). */
  reset(): void {
    writeFileAtomic(this.file, '');
  }

  append(...rows: object[]): void {
    if (rows.length === 0) return;
    appendFileSync(this.file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  /** The file's length in bytes (0 when missing). */
  bytes(): number {
    return existsSync(this.file) ? statSync(this.file).size : 0;
  }

  /** Drops everything written after the first `bytes` bytes (rows redone after a resume). */
  truncate(bytes: number): void {
    if (!existsSync(this.file)) writeFileAtomic(this.file, '');
    else if (statSync(this.file).size > bytes) truncateSync(this.file, bytes);
  }
}
