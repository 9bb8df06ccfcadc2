// A meta-training run checkpointed by an earlier lopt resumes with this one and continues exactly as
// the earlier lopt continues it. The fixture test/fixtures/meta-run-9a9d859/ was written by commit
// 9a9d859 (before estimators became objects and optimizer state became declared):
//   lopt meta-train --lopt small_fc_lopt --task quadratic --estimator pes --trunc-length 5 --inner-steps 20
//     --num-tasks 2 --outer-steps 4 --seed 3 --checkpoint-every 2 --workers 1 --backend reference --out DIR
// (the reference backend gives the same bits on every CPU), and expected-theta-after-6 is that
// commit's own θ after `--outer-steps 6 --resume` from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/meta-run-9a9d859/', import.meta.url));
const ARGS = ['meta-train', '--lopt', 'small_fc_lopt', '--task', 'quadratic', '--estimator', 'pes', '--trunc-length', '5',
  '--inner-steps', '20', '--num-tasks', '2', '--seed', '3', '--checkpoint-every', '2', '--workers', '1', '--backend', 'reference'];

/** The tensor bytes of a safetensors file (its header also holds paths and times, which differ). */
function tensorBytes(path: string): Buffer {
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  return bytes.subarray(8 + headerLength);
}

/** The outer-update rows of metrics.jsonl (evaluation rows have no metaLoss). */
const metricRows = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')
  .map((line) => JSON.parse(line) as { outerStep: number; metaLoss?: number; gradNorm: number })
  .filter((row) => row.metaLoss !== undefined);

test('a run checkpointed by lopt 9a9d859 resumes here and reaches that version\'s θ bit for bit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-old-run-'));
  try {
    cpSync(FIXTURE, dir, { recursive: true });
    const before = metricRows(dir);
    assert.deepEqual(before.map((row) => row.outerStep), [0, 1, 2, 3]);
    const resumed = spawnSync(process.execPath, [CLI, ...ARGS, '--outer-steps', '6', '--resume', '--out', dir], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const after = metricRows(dir);
    assert.deepEqual(after.map((row) => row.outerStep), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(after.slice(0, 4), before, 'the earlier rows are kept as they were');
    assert.ok(after.slice(4).every((row) => Number.isFinite(row.metaLoss!) && row.gradNorm > 0));
    assert.ok(tensorBytes(join(dir, 'theta-latest')).equals(tensorBytes(join(FIXTURE, 'expected-theta-after-6'))),
      'θ after resuming differs from what lopt 9a9d859 reaches from the same checkpoint');
    assert.ok(!tensorBytes(join(dir, 'theta-latest')).equals(tensorBytes(join(FIXTURE, 'theta-latest'))), 'θ moved');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
