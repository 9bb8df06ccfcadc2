// Weight files: round trip, the manifest, and one clear error for each way a file can be wrong.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyFromSeed } from '../../src/engine/random.js';
import { learned } from '../../src/learned/registry.js';
import { decodeWeights, encodeWeights, loadWeights, saveWeights, thetaFor, WeightsError } from '../../src/learned/weights.js';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'lopt-weights-'));
}

describe('learned-optimizer weight files', () => {
  it('round-trip θ, the options and the provenance, and are safetensors files', () => {
    const lo = learned.get('small_fc_lopt');
    const theta = lo.init(keyFromSeed(3));
    const file = join(dir(), 'w.safetensors');
    saveWeights(file, lo, theta, { task: 'fmnist-mlp', outerSteps: 1200, evalLoss: 0.42, estimator: { kind: 'pes', sigma: 0.01 }, command: 'lopt meta-train' });
    const back = loadWeights(file);
    assert.equal(back.optimizer, 'small_fc_lopt');
    assert.deepEqual(back.options, { hidden: 4, depth: 2, path: 'auto', stepWarmup: 0, stepBoost: 1, stepBoostSteps: 0, stepFanInRef: 0, stepFanInPower: 1 });
    assert.deepEqual(Object.keys(back.theta).sort(), Object.keys(theta).sort());
    for (const name of Object.keys(theta)) {
      assert.deepEqual(back.theta[name].shape, theta[name].shape);
      assert.deepEqual(back.theta[name].data, theta[name].data);
    }
    assert.equal(back.provenance.task, 'fmnist-mlp');
    assert.equal(back.provenance.outerSteps, 1200);
    assert.deepEqual(back.provenance.estimator, { kind: 'pes', sigma: 0.01 });
    assert.match(String(back.provenance.date), /^\d{4}-\d\d-\d\dT/);
    // safetensors layout: u64 header length, JSON header (8-byte aligned) with dtype/shape/offsets.
    const bytes = readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    // Data in name order: adafactor_decays, momentum_decays, nn/b0, nn/b1, nn/b2, nn/w0, nn/w1, nn/w2, rms_decays.
    assert.deepEqual(header.adafactor_decays, { dtype: 'F32', shape: [3], data_offsets: [0, 12] });
    assert.deepEqual(header['nn/w0'], { dtype: 'F32', shape: [39, 4], data_offsets: [12 + 12 + 16 + 16 + 8, 12 + 12 + 16 + 16 + 8 + 624] });
    assert.deepEqual(header.rms_decays.data_offsets, [784, 788]);
    assert.equal(header.__metadata__.format, 'lopt-learned-optimizer');
    assert.equal(header.__metadata__.format_version, '1');
    assert.equal(header.__metadata__.param_count, '197');
    assert.equal(bytes.length, 8 + n + 197 * 4);
    // Saving is atomic: no temporary files are left behind.
    assert.deepEqual(readdirSync(join(file, '..')), ['w.safetensors']);
  });

  it('learned.load builds the optimizer from the file and checks the options that shape θ', () => {
    const lo = learned.get('feature_mlp_lopt', { features: 'adafact_m_mul', hidden: 8 });
    const file = join(dir(), 'f.safetensors');
    learned.save(file, lo, lo.init(keyFromSeed(1)));
    const loaded = learned.load(file);
    assert.equal(loaded.optimizer.name, 'feature_mlp_lopt');
    assert.deepEqual(loaded.optimizer.options, { features: 'adafact_m_mul', hidden: 8, depth: 2, path: 'auto' });
    assert.equal(learned.load(file, { options: { path: 'gemm' } }).optimizer.options.path, 'gemm');
    assert.throws(() => learned.load(file, { options: { hidden: 4 } }), (e: Error) => e instanceof WeightsError && /hidden=8, not hidden=4/.test(e.message) && !e.message.includes('\n'));
  });

  it('a file of another optimizer, another width, a wrong shape, truncated or corrupt gives one clear error', () => {
    const small = learned.get('small_fc_lopt');
    const bytes = encodeWeights(small, small.init(keyFromSeed(2)));
    const decoded = decodeWeights(bytes, 'x.safetensors');
    const cases: [() => unknown, RegExp][] = [
      [() => thetaFor(learned.get('fc_lopt'), decoded, 'x.safetensors'), /x\.safetensors holds weights for small_fc_lopt, not fc_lopt/],
      [() => thetaFor(learned.get('small_fc_lopt', { hidden: 8 }), decoded, 'x.safetensors'), /hidden=4, not hidden=8/],
      [() => decodeWeights(bytes.subarray(0, bytes.length - 5), 'x.safetensors'), /is truncated: θ needs 788 bytes of data, the file has 783/],
      [() => decodeWeights(bytes.subarray(0, 100), 'x.safetensors'), /is truncated: its header needs/],
      [() => decodeWeights(bytes.subarray(0, 4), 'x.safetensors'), /not a lopt weights file/],
      [() => decodeWeights(new TextEncoder().encode('{"hello": 1}   '), 'x.safetensors'), /not a lopt weights file|truncated/],
      [() => {
        const copy = bytes.slice();
        copy[copy.length - 3] ^= 0xff;
        return decodeWeights(copy, 'x.safetensors');
      }, /checksum/],
      [() => {
        const text = Buffer.from(bytes).toString('latin1').replace('"format_version":"1"', '"format_version":"9"');
        return decodeWeights(Buffer.from(text, 'latin1'), 'x.safetensors');
      }, /format version 9; this lopt reads version 1/],
      [() => {
        const text = Buffer.from(bytes).toString('latin1').replace('"shape":[39,4]', '"shape":[4,39]');
        return thetaFor(small, decodeWeights(Buffer.from(text, 'latin1'), 'x.safetensors'), 'x.safetensors');
      }, /"nn\/w0" has shape \[4, 39\], expected \[39, 4\]/],
      [() => loadWeights('/nonexistent/w.safetensors'), /cannot read weights file \/nonexistent\/w\.safetensors \(ENOENT\)/],
    ];
    for (const [fn, pattern] of cases) {
      assert.throws(fn, (e: Error) => {
        assert.ok(e instanceof WeightsError, `${e.name}: ${e.message}`);
        assert.match(e.message, pattern);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
  });

  it('encodeWeights refuses θ that does not fit the optimizer', () => {
    const lo = learned.get('small_fc_lopt');
    const theta = lo.init(keyFromSeed(0));
    delete theta['nn/b2'];
    assert.throws(() => encodeWeights(lo, theta), /missing nn\/b2/);
    const file = join(dir(), 'bad.safetensors');
    writeFileSync(file, 'not a weights file at all');
    assert.throws(() => learned.load(file), /bad\.safetensors is not a lopt weights file/);
  });
});
