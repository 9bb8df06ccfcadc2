import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../../src/engine/backend.js';
import { referenceBackend } from '../../src/engine/reference.js';
import type { Params } from '../../src/engine/tensor.js';
import { adafactor, adafactorLayout, type AdafactorHparams } from '../../src/optimizers/adafactor.js';
import { assertClose, backendTest, CTX, INIT, t, values } from './helpers.js';

// ---- an independent float64 AdaFactor (optax scale_by_factored_rms + clip_by_block_rms + lr +
// scale_by_param_block_rms), written over N-d index arithmetic ----------------------------------

interface RefSlot { shape: number[]; factored: null | { d0: number; d1: number; vr: number[]; vc: number[] }; v: number[] }

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** d0 = largest dim (last index on ties), d1 = largest of the rest (last index on ties). */
function largestTwo(shape: number[]): [number, number] {
  let d0 = 0;
  for (let i = 0; i < shape.length; i++) if (shape[i] >= shape[d0]) d0 = i;
  let d1 = d0 === 0 ? 1 : 0;
  for (let i = 0; i < shape.length; i++) if (i !== d0 && shape[i] >= shape[d1]) d1 = i;
  return [d1, d0];
}

/** Flat index into `shape` with the axes in `drop` removed, from full coordinates. */
function flatWithout(coords: number[], shape: number[], drop: number[]): number {
  let idx = 0;
  for (let ax = 0; ax < shape.length; ax++) if (!drop.includes(ax)) idx = idx * shape[ax] + coords[ax];
  return idx;
}

function coordsOf(i: number, shape: number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let ax = shape.length - 1; ax >= 0; ax--) {
    c[ax] = i % shape[ax];
    i = Math.floor(i / shape[ax]);
  }
  return c;
}

function refInit(shape: number[], minDim: number): RefSlot {
  if (shape.length >= 2) {
    const [d1, d0] = largestTwo(shape);
    if (shape[d1] >= minDim) {
      const rowShape = shape.filter((_, i) => i !== d0);
      const colShape = shape.filter((_, i) => i !== d1);
      return { shape, factored: { d0, d1, vr: Array(prod(rowShape)).fill(0), vc: Array(prod(colShape)).fill(0) }, v: [] };
    }
  }
  return { shape, factored: null, v: Array(prod(shape)).fill(0) };
}

/** One AdaFactor step on one tensor; returns the new parameters (p is the pre-update value). */
function refStep(slot: RefSlot, p: number[], g: number[], step: number, hp: AdafactorHparams): number[] {
  const beta = 1 - (step + 1) ** -hp.decayRate;
  const n = p.length;
  const u = new Array<number>(n);
  const f = slot.factored;
  if (f === null) {
    for (let i = 0; i < n; i++) {
      slot.v[i] = beta * slot.v[i] + (1 - beta) * (g[i] * g[i] + hp.epsilon);
      u[i] = g[i] / Math.sqrt(slot.v[i]);
    }
  } else {
    const { shape } = slot;
    const rowSum = Array(f.vr.length).fill(0);
    const colSum = Array(f.vc.length).fill(0);
    const coords = Array.from({ length: n }, (_, i) => coordsOf(i, shape));
    for (let i = 0; i < n; i++) {
      const gsq = g[i] * g[i] + hp.epsilon;
      rowSum[flatWithout(coords[i], shape, [f.d0])] += gsq;
      colSum[flatWithout(coords[i], shape, [f.d1])] += gsq;
    }
    for (let j = 0; j < f.vr.length; j++) f.vr[j] = beta * f.vr[j] + (1 - beta) * (rowSum[j] / shape[f.d0]);
    for (let j = 0; j < f.vc.length; j++) f.vc[j] = beta * f.vc[j] + (1 - beta) * (colSum[j] / shape[f.d1]);
    // Mean of v_row over its d1 axis: indexed by the coordinates without d0 and d1.
    const meanSum = Array(prod(shape.filter((_, ax) => ax !== f.d0 && ax !== f.d1))).fill(0);
    const rowShape = shape.filter((_, ax) => ax !== f.d0);
    const rowD1 = f.d1 > f.d0 ? f.d1 - 1 : f.d1;
    for (let j = 0; j < f.vr.length; j++) {
      meanSum[flatWithout(coordsOf(j, rowShape), rowShape, [rowD1])] += f.vr[j];
    }
    for (let i = 0; i < n; i++) {
      const r = flatWithout(coords[i], shape, [f.d0]);
      const c = flatWithout(coords[i], shape, [f.d1]);
      const mean = meanSum[flatWithout(coords[i], shape, [f.d0, f.d1])] / shape[f.d1];
      const rowFactor = (f.vr[r] / mean) ** -0.5;
      const colFactor = f.vc[c] ** -0.5;
      u[i] = g[i] * rowFactor * colFactor;
    }
  }
  let sumSq = 0;
  for (const x of u) sumSq += x * x;
  const clipDenom = hp.clippingThreshold > 0 ? Math.max(1, Math.sqrt(sumSq / n) / hp.clippingThreshold) : 1;
  let pSq = 0;
  for (const x of p) pSq += x * x;
  const scale = hp.multiplyByParameterScale ? Math.max(Math.sqrt(pSq / n), 1e-3) : 1;
  return p.map((pi, i) => pi - hp.learningRate * scale * (u[i] / clipDenom));
}

const DEFAULTS: AdafactorHparams = {
  learningRate: 0.01, decayRate: 0.8, epsilon: 1e-30, minDimSizeToFactor: 128, clippingThreshold: 1,
  multiplyByParameterScale: true, gradClip: 0,
};

/**
 * Runs `steps` updates of the implementation and of the reference on the tensors `shapes`, comparing
 * parameters and accumulators after every step. Gradient scales vary across rows and steps.
 */
function compare(
  backend: Backend, shapes: Record<string, number[]>, hp: AdafactorHparams,
  gradScales: number[], rtol = 2e-6, zeroInit: string[] = [],
): void {
  const params: Params = {};
  let seed = 1;
  for (const [name, shape] of Object.entries(shapes)) {
    const n = prod(shape);
    params[name] = t(shape, zeroInit.includes(name) ? Array(n).fill(0) : values(n, seed++, 0.5));
  }
  const opt = adafactor(hp, { backend });
  let state = opt.init(params, INIT);
  const ref: Record<string, { slot: RefSlot; p: number[] }> = {};
  for (const name of Object.keys(params)) {
    ref[name] = { slot: refInit(params[name].shape, hp.minDimSizeToFactor), p: Array.from(params[name].data) };
  }
  gradScales.forEach((scale, step) => {
    const grads: Params = {};
    for (const [name, shape] of Object.entries(shapes)) {
      const n = prod(shape);
      const raw = values(n, 100 * (step + 1) + seed++, scale);
      // Make some rows/columns much larger than others so the factors matter.
      const g = raw.map((x, i) => Math.fround(x * (1 + (i % 7)) * (1 + 3 * (Math.floor(i / 13) % 3))));
      grads[name] = t(shape, g);
    }
    state = opt.update(state, grads, CTX);
    for (const name of Object.keys(params)) {
      const r = ref[name];
      r.p = refStep(r.slot, r.p, Array.from(grads[name].data), step, hp);
      assertClose(state.params[name].data, r.p, `step ${step + 1} ${name} params`, rtol);
      if (r.slot.factored) {
        assert.deepEqual(state.vRow[name].shape, shapes[name].filter((_, ax) => ax !== r.slot.factored!.d0), `${name} v_row shape`);
        assert.deepEqual(state.vCol[name].shape, shapes[name].filter((_, ax) => ax !== r.slot.factored!.d1), `${name} v_col shape`);
        assertClose(state.vRow[name].data, r.slot.factored.vr, `step ${step + 1} ${name} v_row`, rtol, 0);
        assertClose(state.vCol[name].data, r.slot.factored.vc, `step ${step + 1} ${name} v_col`, rtol, 0);
        assert.equal(state.v[name], undefined);
      } else {
        assertClose(state.v[name].data, r.slot.v, `step ${step + 1} ${name} v`, rtol, 0);
        assert.equal(state.vRow[name], undefined);
      }
    }
  });
}

// ---- tests --------------------------------------------------------------------------------------

test('factoring plan follows optax _factored_dims (stable argsort; ties: later axis is d0)', () => {
  assert.equal(adafactorLayout([200], 128), null);
  assert.equal(adafactorLayout([], 128), null);
  assert.equal(adafactorLayout([127, 4096], 128), null, 'second-largest dim below 128');
  assert.deepEqual(adafactorLayout([128, 200], 128), { d0: 1, d1: 0, dims: [1, 128, 1, 200, 1], rowWithoutA: false });
  assert.deepEqual(adafactorLayout([130, 128], 128), { d0: 0, d1: 1, dims: [1, 130, 1, 128, 1], rowWithoutA: true });
  assert.deepEqual(adafactorLayout([128, 128], 128), { d0: 1, d1: 0, dims: [1, 128, 1, 128, 1], rowWithoutA: false });
  assert.deepEqual(adafactorLayout([128, 3, 128], 128), { d0: 2, d1: 0, dims: [1, 128, 3, 128, 1], rowWithoutA: false });
  assert.deepEqual(adafactorLayout([3, 3, 32, 64], 32), { d0: 3, d1: 2, dims: [9, 32, 1, 64, 1], rowWithoutA: false });
  assert.deepEqual(adafactorLayout([200, 150, 2], 128), { d0: 0, d1: 1, dims: [1, 200, 1, 150, 2], rowWithoutA: true });
});

backendTest('adafactor, unfactored tensors (matrix, vector, scalar, zero-initialised): three steps', (backend) => {
  // Step 1 gives |u| ≈ 1 (rms ≈ 1, no clip); step 3's much larger gradients trigger the rms clip.
  compare(backend, { w: [4, 6], b: [5], s: [], z: [3] }, DEFAULTS, [0.1, 0.3, 10], 2e-6, ['z']);
});

backendTest('adafactor, factored [128, 200] (v_row = mean over axis 1, the larger dim)', (backend) => {
  compare(backend, { w: [128, 200] }, DEFAULTS, [0.1, 1, 10]);
});

backendTest('adafactor, factored [130, 128] (d0 = 0 comes before d1 = 1)', (backend) => {
  compare(backend, { w: [130, 128] }, DEFAULTS, [0.1, 1, 10]);
});

backendTest('adafactor, factored rank 3 with a tie [128, 3, 128]', (backend) => {
  compare(backend, { w: [128, 3, 128] }, DEFAULTS, [0.1, 1, 10]);
});

backendTest('adafactor, factored [200, 150, 2] and a conv kernel [3, 3, 32, 64] (minDimSizeToFactor 32)', (backend) => {
  compare(backend, { a: [200, 150, 2], k: [3, 3, 32, 64], b: [64] }, { ...DEFAULTS, minDimSizeToFactor: 32, learningRate: 0.1 }, [0.1, 1, 10]);
});

backendTest('adafactor without clipping and without parameter scale, other decay and lr', (backend) => {
  const hp = { ...DEFAULTS, clippingThreshold: 0, multiplyByParameterScale: false, decayRate: 0.5, learningRate: 0.003 };
  compare(backend, { w: [128, 130], b: [7] }, hp, [1, 5, 0.2]);
});

backendTest('adafactor: tighter clipping threshold', (backend) => {
  compare(backend, { w: [128, 129], b: [7] }, { ...DEFAULTS, clippingThreshold: 0.5 }, [1, 2, 3]);
});

backendTest('adafactor stateBytes: factored (|v_row| + |v_col|)·4, others 4 per element', (backend) => {
  const opt = adafactor({}, { backend });
  const params: Params = {
    w: t([128, 200], Array(128 * 200).fill(0)),
    b: t([200], Array(200).fill(0)),
    k: t([3, 3, 32, 64], Array(3 * 3 * 32 * 64).fill(0)),
    e: t([128, 3, 128], Array(128 * 3 * 128).fill(0)),
  };
  assert.equal(opt.stateBytes(params), 4 * ((128 + 200) + 200 + 3 * 3 * 32 * 64 + (128 * 3 + 3 * 128)));
  const state = opt.init(params, INIT);
  let floats = 0;
  for (const tree of [state.v, state.vRow, state.vCol]) for (const name of Object.keys(tree)) floats += tree[name].data.length;
  assert.equal(4 * floats, opt.stateBytes(params));
  const small = adafactor({ minDimSizeToFactor: 32 }, { backend });
  assert.equal(small.stateBytes({ k: params.k }), 4 * (3 * 3 * 32 + 3 * 3 * 64));
});

test('adafactor defaults', () => {
  const hp = adafactor({}, { backend: referenceBackend }).hparams;
  assert.deepEqual({ ...hp }, DEFAULTS);
});
