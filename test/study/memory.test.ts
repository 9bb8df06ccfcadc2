import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openResultsDb } from '../../src/study/db.js';
import { float32Bytes, measureInChild, runMemory } from '../../src/study/memory.js';
import { handDesignedSpec, learnedSpec } from '../../src/study/optimizer-spec.js';

test('float32Bytes: each memory range once, views of one buffer as their union, other arrays ignored', () => {
  const a = new Float32Array(10);
  const buffer = new Float32Array(100);
  const head = buffer.subarray(0, 60);
  const tail = buffer.subarray(40, 80);
  const far = buffer.subarray(90, 95);
  assert.equal(float32Bytes([a, a, { x: a, y: [a] }]), 40);
  assert.equal(float32Bytes([{ head, tail, far }]), (80 + 5) * 4);
  assert.equal(float32Bytes([new Map([['k', a]]), new Float64Array(50), new Int32Array(3), 7, null]), 40);
  const cyclic: Record<string, unknown> = { a };
  cyclic.self = cyclic;
  assert.equal(float32Bytes([cyclic]), 40);
});

test('memory child: exact state bytes, engine bytes = params + state + gradients, peak RSS of training', async () => {
  const request = (spec: ReturnType<typeof handDesignedSpec>) => ({
    task: 'fmnist-mlp', taskOpts: { width: 32 }, spec, steps: 3, seed: 0, backend: 'auto' as const,
  });
  const sgd = await measureInChild(request(handDesignedSpec('sgd')));
  const adam = await measureInChild(request(handDesignedSpec('adam')));
  const p = 784 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10;
  assert.equal(sgd.paramCount, p);
  assert.equal(sgd.stateBytes, 0);
  assert.equal(adam.stateBytes, 8 * p);
  assert.equal(sgd.engineBytes, 4 * p * 2, 'parameters and gradients');
  assert.equal(adam.engineBytes, 4 * p * 4, 'parameters, m, v and gradients');
  for (const r of [sgd, adam]) {
    assert.equal(r.peakScope, 'training');
    assert.ok(r.peakRssBytes > 20 * 2 ** 20 && r.peakRssBytes < 4 * 2 ** 30, `peak RSS ${r.peakRssBytes}`);
  }
  await assert.rejects(measureInChild({ ...request(handDesignedSpec('sgd')), task: 'no-such-task' }), /memory measurement of no-such-task\/sgd failed: unknown task/);
});

test('runMemory: SGD as the baseline, one row per optimizer with its ratio; a rerun measures nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-memory-'));
  const db = openResultsDb(join(dir, 'lopt.db'));
  try {
    const specs = [handDesignedSpec('adam'), learnedSpec('small_fc_lopt')];
    const options = { steps: 2, repeats: 1, backend: 'auto' as const, concurrency: 2, where: { backend: 'native', machine: '{}' } };
    const first = await runMemory(db, ['fmnist-mlp'], specs, options);
    assert.deepEqual(first, { measured: 3, remaining: 0 });
    const rows = db.memory('fmnist-mlp');
    assert.deepEqual(rows.map((r) => r.label), ['adam', 'sgd', 'small_fc_lopt']);
    const sgd = rows.find((r) => r.label === 'sgd')!;
    assert.equal(sgd.peak_rss_ratio, 1);
    for (const r of rows) {
      assert.equal(r.param_count, 118282);
      assert.equal(r.sgd_peak_rss_bytes, sgd.peak_rss_bytes);
      assert.equal(r.peak_rss_ratio, r.peak_rss_bytes / sgd.peak_rss_bytes);
      assert.equal(r.state_bytes_per_param, r.state_bytes / r.param_count);
      assert.ok(r.engine_bytes >= r.state_bytes + 2 * 4 * r.param_count);
    }
    assert.equal(rows.find((r) => r.label === 'adam')!.state_bytes_per_param, 8);
    // small_fc_lopt: 4 floats per element of a matrix + 3·(rows + cols), 7 per element of a vector.
    const matrices = [[784, 128], [128, 128], [128, 10]];
    const vectors = 128 + 128 + 10;
    const expected = 4 * matrices.reduce((s, [r, c]) => s + 4 * r * c + 3 * (r + c), 0) + 4 * 7 * vectors;
    assert.ok(Math.abs(rows.find((r) => r.label === 'small_fc_lopt')!.state_bytes - expected) <= 4 * 3 * 4, 'small_fc_lopt state as docs/specification.md §10 counts it (plus a few scalars)');
    assert.deepEqual(await runMemory(db, ['fmnist-mlp'], specs, options), { measured: 0, remaining: 0 });
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
