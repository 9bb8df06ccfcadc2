// Optimizer state files (saveState/loadState, encodeState/decodeState) and in-place stepping (inPlace):
// for every hand-designed optimizer and the learned ones, a run saved at step k, loaded into a fresh
// optimizer and continued is bit for bit the uninterrupted run; mismatches are one clear error; the
// in-place form equals the functional update and writes the caller's own arrays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyFromSeed } from '../../src/engine/random.js';
import { getBackend } from '../../src/engine/select.js';
import type { Params } from '../../src/engine/tensor.js';
import { learned } from '../../src/learned/registry.js';
import { inPlace } from '../../src/optimizers/in-place.js';
import type { Optimizer } from '../../src/optimizers/optimizer.js';
import { getOptimizer } from '../../src/optimizers/registry.js';
import { decodeState, encodeState, loadState, saveState, StateFileError } from '../../src/optimizers/state-file.js';

const DIR = mkdtempSync(join(tmpdir(), 'lopt-state-'));
const NUM_STEPS = 12;
const SAVE_AT = 5;

const SHAPES: Record<string, number[]> = { 'layer/w': [6, 5], 'layer/b': [5], out: [5, 3] };

function initialParams(): Params {
  const out: Params = {};
  let s = 7;
  for (const [name, shape] of Object.entries(SHAPES)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = (s / 2 ** 32 - 0.5) * 2;
    }
    out[name] = { shape: [...shape], data };
  }
  return out;
}

/** Gradients of 0.5·Σ(p − target)² plus a step-dependent wobble, from the current parameters; and the loss. */
function gradsAt(params: Params, step: number): { grads: Params; loss: number } {
  const grads: Params = {};
  let loss = 0;
  for (const name of Object.keys(params).sort()) {
    const p = params[name].data;
    const g = new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const d = p[i] - 0.3 * Math.sin(i + name.length);
      loss += 0.5 * d * d;
      g[i] = d + 0.2 * Math.sin(13 * step + 7 * i);
    }
    grads[name] = { shape: [...params[name].shape], data: g };
  }
  return { grads, loss };
}

function steps<S>(opt: Optimizer<S>, state: S, from: number, to: number): S {
  for (let step = from; step < to; step++) {
    const { grads, loss } = gradsAt(opt.getParams(state), step);
    state = opt.update(state, grads, { loss });
  }
  return state;
}

function assertBitEqual(a: Params, b: Params, what: string): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${what}: names`);
  for (const name of Object.keys(a)) {
    const x = new Uint32Array(a[name].data.buffer, a[name].data.byteOffset, a[name].data.length);
    const y = new Uint32Array(b[name].data.buffer, b[name].data.byteOffset, b[name].data.length);
    assert.deepEqual(Array.from(x), Array.from(y), `${what}: "${name}" differs`);
  }
}

/** Fresh optimizers by a label: every call builds a new instance with the same settings. */
const backend = getBackend();
const HAND: Record<string, () => Optimizer<unknown>> = {
  sgd: () => getOptimizer('sgd', { learningRate: 0.05 }, { backend }),
  sgdm: () => getOptimizer('sgdm', { learningRate: 0.05, momentum: 0.8 }, { backend }),
  'sgdm nesterov': () => getOptimizer('sgdm', { learningRate: 0.05, nesterov: true }, { backend }),
  adam: () => getOptimizer('adam', { learningRate: 0.01 }, { backend }),
  'adam gradClip': () => getOptimizer('adam', { learningRate: 0.01, gradClip: 0.5 }, { backend }),
  nadamw: () => getOptimizer('nadamw', {}, { backend }),
  adafactor: () => getOptimizer('adafactor', { minDimSizeToFactor: 2 }, { backend }),
};
const THETAS = new Map<string, Params>();
function learnedOptimizer(name: string, options: Record<string, unknown> = {}): () => Optimizer<unknown> {
  return () => {
    const lo = learned.get(name, options, { backend });
    const key = `${name}${JSON.stringify(options)}`;
    if (!THETAS.has(key)) THETAS.set(key, lo.init(keyFromSeed(3)));
    return lo.optFn(THETAS.get(key)!);
  };
}
const LEARNED: Record<string, () => Optimizer<unknown>> = {
  small_fc_lopt: learnedOptimizer('small_fc_lopt'),
  feature_mlp_lopt: learnedOptimizer('feature_mlp_lopt'),
  fc_lopt: learnedOptimizer('fc_lopt'),
  rnn_fc_lopt: learnedOptimizer('rnn_fc_lopt'),
  nn_adam: learnedOptimizer('nn_adam'),
  learnable_lr_sgd: learnedOptimizer('learnable_lr_sgd'),
};
const ALL = { ...HAND, ...LEARNED };

for (const [label, make] of Object.entries(ALL)) {
  test(`${label}: saved at step ${SAVE_AT}, loaded into a fresh optimizer and continued = the uninterrupted run, bit for bit`, () => {
    const straightOpt = make();
    const straight = steps(straightOpt, straightOpt.init(initialParams(), { numSteps: NUM_STEPS }), 0, NUM_STEPS);

    const first = make();
    const partial = steps(first, first.init(initialParams(), { numSteps: NUM_STEPS }), 0, SAVE_AT);
    const file = join(DIR, `${label.replace(/\W/g, '_')}.safetensors`);
    saveState(file, first, partial, { note: 'test', numSteps: NUM_STEPS });

    const second = make();
    const loaded = loadState(file, second, { params: initialParams() });
    assert.equal(loaded.step, SAVE_AT);
    assert.equal(loaded.numSteps, NUM_STEPS);
    assert.deepEqual(loaded.params, SHAPES);
    assert.equal(loaded.meta.note, 'test');
    assertBitEqual(second.getParams(loaded.state), first.getParams(partial), `${label} loaded parameters`);
    const resumed = steps(second, loaded.state, SAVE_AT, NUM_STEPS);
    assertBitEqual(second.getParams(resumed), straightOpt.getParams(straight), label);

    // The byte form is the file's.
    const bytes = encodeState(first, partial, { note: 'test' });
    const decoded = decodeState(bytes, make());
    assert.equal(decoded.step, SAVE_AT);
  });
}

test('the state file is safetensors with the manifest (format, optimizer, settings, step, params)', () => {
  const opt = HAND.adam();
  const state = steps(opt, opt.init(initialParams(), { numSteps: NUM_STEPS }), 0, 3);
  const bytes = encodeState(opt, state);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0);
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8'));
  const meta = header.__metadata__;
  assert.equal(meta.format, 'lopt-optimizer-state');
  assert.equal(meta.format_version, '1');
  assert.equal(meta.optimizer, 'adam');
  assert.equal(JSON.parse(meta.settings).hparams.learningRate, 0.01);
  assert.equal(meta.step, '3');
  assert.deepEqual(JSON.parse(meta.params), { 'layer/b': [5], 'layer/w': [6, 5], out: [5, 3] });
  assert.deepEqual(header['m/layer/w/data'].shape, [30]);
  assert.equal(header['m/layer/w/data'].dtype, 'F32');
  assert.equal(header['params/out/data'].dtype, 'F32');
  assert.equal(header['step:num'].dtype, 'I32');
  for (const value of Object.values(meta)) assert.equal(typeof value, 'string');
});

function throwsOne(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: Error) => {
    assert.ok(error instanceof StateFileError, `${error.name}: ${error.message}`);
    assert.ok(!error.message.includes('\n'), 'one line');
    assert.match(error.message, pattern);
    return true;
  });
}

test('loading into another optimizer, other settings, other parameter shapes or another θ is one clear error', () => {
  const adam = HAND.adam();
  const file = join(DIR, 'adam-mismatch.safetensors');
  saveState(file, adam, steps(adam, adam.init(initialParams(), { numSteps: NUM_STEPS }), 0, 2));
  throwsOne(() => loadState(file, HAND.sgdm()), /adam-mismatch\.safetensors holds the state of optimizer adam, not sgdm/);
  throwsOne(() => loadState(file, getOptimizer('adam', { learningRate: 0.02 })), /with learningRate=0\.01; this optimizer has learningRate=0\.02/);
  throwsOne(() => loadState(file, getOptimizer('adam', { learningRate: 0.01, beta2: 0.99 })), /beta2=0\.999; this optimizer has beta2=0\.99/);
  const other = initialParams();
  other.out = { shape: [3, 5], data: new Float32Array(15) };
  throwsOne(() => loadState(file, HAND.adam(), { params: other }), /parameter "out" has shape \[5, 3\] in the file, \[3, 5\] here/);
  delete other.out;
  throwsOne(() => loadState(file, HAND.adam(), { params: other }), /parameter names differ \(saved only: out\)/);

  // Learned: other θ, other options.
  const lo = learned.get('small_fc_lopt', {}, { backend });
  const opt = lo.optFn(lo.init(keyFromSeed(1)));
  const lfile = join(DIR, 'small-mismatch.safetensors');
  saveState(lfile, opt, steps(opt, opt.init(initialParams(), { numSteps: NUM_STEPS }), 0, 2));
  throwsOne(() => loadState(lfile, lo.optFn(lo.init(keyFromSeed(2)))), /theta_sha256=\w+; this optimizer has theta_sha256=\w+/);
  const wide = learned.get('small_fc_lopt', { hidden: 8 }, { backend });
  throwsOne(() => loadState(lfile, wide.optFn(wide.init(keyFromSeed(1)))), /hidden=4; this optimizer has hidden=8/);
  // The same optimizer and θ loads.
  assert.equal(loadState(lfile, lo.optFn(lo.init(keyFromSeed(1)))).step, 2);

  // Not a state file, corrupt data.
  const weights = join(DIR, 'weights.safetensors');
  learned.save(weights, lo, lo.init(keyFromSeed(1)));
  throwsOne(() => loadState(weights, opt), /is not a lopt optimizer state file .*"lopt-learned-optimizer" file/);
  const bytes = readFileSync(file);
  bytes[bytes.length - 1] ^= 1;
  const corrupt = join(DIR, 'corrupt.safetensors');
  writeFileSync(corrupt, bytes);
  throwsOne(() => loadState(corrupt, HAND.adam()), /checksum/);
  throwsOne(() => loadState(join(DIR, 'missing.safetensors'), HAND.adam()), /cannot read optimizer state file .*ENOENT/);
});

for (const [label, make] of Object.entries(ALL)) {
  test(`${label}: inPlace steps the caller's own arrays and equals the functional update`, () => {
    const functional = make();
    const expected = steps(functional, functional.init(initialParams(), { numSteps: NUM_STEPS }), 0, NUM_STEPS);

    const opt = make();
    const params = initialParams();
    const arrays = Object.fromEntries(Object.entries(params).map(([name, t]) => [name, t.data]));
    const stepper = inPlace(opt, params, { numSteps: NUM_STEPS });
    assert.equal(stepper.sharesParams, true, `${label} keeps the parameters by reference`);
    for (let step = 0; step < NUM_STEPS; step++) {
      const { grads, loss } = gradsAt(params, step);
      stepper.step(grads, { loss });
      for (const name of Object.keys(arrays)) {
        assert.equal(params[name].data, arrays[name], 'the same Float32Array objects');
        assert.equal(opt.getParams(stepper.state)[name].data, arrays[name], 'the state holds the caller arrays');
      }
    }
    assert.equal(stepper.sharesParams, true);
    assertBitEqual(params, functional.getParams(expected), `${label} in place`);
  });
}

test('inPlace continues a loaded state in the caller arrays, bit for bit', () => {
  for (const make of [HAND.nadamw, LEARNED.small_fc_lopt]) {
    const straightOpt = make();
    const straight = steps(straightOpt, straightOpt.init(initialParams(), { numSteps: NUM_STEPS }), 0, NUM_STEPS);
    const first = make();
    const params = initialParams();
    const a = inPlace(first, params, { numSteps: NUM_STEPS });
    for (let step = 0; step < SAVE_AT; step++) a.step(gradsAt(params, step).grads, { loss: gradsAt(params, step).loss });
    const bytes = encodeState(first, a.state);

    const second = make();
    const mine = initialParams(); // values are replaced by the saved ones
    const arrays = Object.values(mine).map((t) => t.data);
    const b = inPlace(second, mine, { numSteps: NUM_STEPS, state: decodeState(bytes, second, { params: mine }).state });
    for (let step = SAVE_AT; step < NUM_STEPS; step++) {
      const { grads, loss } = gradsAt(mine, step);
      b.step(grads, { loss });
    }
    assert.deepEqual(Object.values(mine).map((t) => t.data), arrays);
    assert.equal(b.sharesParams, true);
    assertBitEqual(mine, straightOpt.getParams(straight), `${second.name} resumed in place`);
  }
});

test('inPlace falls back to copying back for an optimizer that returns new arrays', () => {
  // A toy optimizer whose update allocates new parameter arrays each step.
  const copying: Optimizer<{ params: Params }> = {
    name: 'copying',
    init: (params) => ({ params: Object.fromEntries(Object.entries(params).map(([n, t]) => [n, { shape: [...t.shape], data: t.data.slice() }])) }),
    update: (state, grads) => ({
      params: Object.fromEntries(Object.entries(state.params).map(([n, t]) => [n, { shape: t.shape, data: t.data.map((v, i) => v - 0.1 * grads[n].data[i]) }])),
    }),
    getParams: (state) => state.params,
    stateBytes: () => 0,
  };
  const params = initialParams();
  const w = params['layer/w'].data;
  const stepper = inPlace(copying, params, { numSteps: 3 });
  const before = w[0];
  const { grads } = gradsAt(params, 0);
  stepper.step(grads);
  assert.equal(params['layer/w'].data, w);
  assert.equal(stepper.sharesParams, false);
  assert.equal(w[0], Math.fround(before - 0.1 * grads['layer/w'].data[0]));
});

test('inPlace of rnn_fc_lopt asks for the loss', () => {
  const params = initialParams();
  const stepper = inPlace(LEARNED.rnn_fc_lopt(), params, { numSteps: 3 });
  assert.throws(() => stepper.step(gradsAt(params, 0).grads), /rnn_fc_lopt reads the training loss: call step\(grads, \{ loss \}\)/);
});
