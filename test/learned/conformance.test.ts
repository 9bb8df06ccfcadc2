// Conformance of every registered learned optimizer (`learned.names`: a new one is covered without
// editing this file) on both backends, in the spirit of LO's smoketest_learned_optimizer
// (learned_optimizers/test_utils.py → optimizers/test_utils.py: init θ, opt_fn(θ), init, two updates,
// the state keeps its structure, shapes and dtypes). Checked here, on a tree with a rank-0 tensor, a
// [1] tensor, a vector, a matrix and a [37, 129] matrix (long enough for the vectorised paths):
//
// 1. init(key) gives exactly `thetaShapes`; optFn(θ).init and several updates run; getParams has the
//    parameters' names and shapes, finite values, every tensor moved; the state keeps its structure
//    (every typed array at the same path with the same type and length, LO's struct/shape check); the
//    params given to init and the gradients given to update are never mutated.
// 2. stateBytes(params) = 4 × the floats the state holds in its accumulators (definition below),
//    after init and after updates; the definition is itself checked: every array it calls scratch can
//    be filled with NaN before an update without changing anything the update produces.
// 3. The buffer-reuse contract of src/optimizers/optimizer.ts: update may mutate the given state and
//    return it (the old state is then dead); the returned state feeds the next update; the state is
//    plain data: a structuredClone continues bit-identically, also under a fresh optFn(θ) (a restored
//    checkpoint), and updating the clone leaves the original untouched.
// 4. NaN gradients: nothing documents a NaN rule for the learned optimizers (docs/specification.md
//    §9–§15 has none; LO's smoketest does not feed NaN either). What holds for all of them, and is
//    asserted: an update with one NaN gradient element does not throw, and within that step the NaN
//    stays in its own tensor: every other tensor gets bit for bit the step it gets when that element is
//    finite (every feature is normalised per tensor, and the per-tensor LSTMs' rows are independent).
// 4b. Interleaving: two states of one optFn(θ), on different trees (different tensor counts), stepped
//    A, B, A, B … agree bit for bit with each stepped alone on a fresh optFn(θ): nothing a run needs
//    lives in the optFn closure (the per-tensor LSTMs' state and scratch are in the state).
// 5. Determinism: two fresh instances with the same key, θ and gradients agree bit for bit on one
//    backend; native and reference agree to float rounding (rtol 1e-4) after several steps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed } from '../../src/engine/random.js';
import type { Params } from '../../src/engine/tensor.js';
import { learned } from '../../src/learned/registry.js';
import type { Optimizer } from '../../src/optimizers/optimizer.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { assertAllClose, cloneTree, randomGrads, randomParams } from './helpers.js';

const SHAPES: Record<string, number[]> = {
  'a/rank0': [],
  'b/one': [1],
  'c/vector': [7],
  'd/matrix': [5, 6],
  'e/large': [37, 129],
};
const NAMES = Object.keys(SHAPES);
const NUM_STEPS = 50;
const LOSS = (step: number) => ({ loss: 2 / (1 + step) });

/**
 * Arrays of a state that are not state, by the key that holds them (each is checked by the NaN-fill
 * test below: its contents before an update do not matter):
 * - `g`: the kernel's view of the current gradient (set at every update);
 * - `moments`, `scales`: per-tensor feature sums and scales, rewritten by every accumulate pass;
 * - `clipped`: rnn_fc_lopt's clipped gradients, rewritten from the gradient every step;
 * - `lstmInputs`: rnn_fc_lopt's and nn_adam's last LSTM inputs, rewritten every step (kept for inspection);
 * - `xh`, `gates`, `tanhC`: the per-tensor LSTM step's scratch (`lstmScratch`), rewritten every step.
 * `decays` (the kernels' decay constants) are configuration, not accumulators: not counted, and checked
 * to be constant across updates (the feature-MLP optimizers re-point them at θ's decays every update;
 * rnn_fc_lopt's fixed decays live in the state, so their contents do matter).
 * Besides these, the parameters themselves (the arrays getParams returns, also aliased by the kernels)
 * and the gradients last passed in are not state. `factored.stats` holds v_row | v_col (state) then
 * the row and column factors (written from v_row and v_col by every accumulate pass): half counts.
 * Every other typed array is state, its element count the number of floats (Float64 hyperparameters
 * count as floats too: stateBytes is "accumulator floats × 4").
 */
const SCRATCH_KEYS = new Set(['g', 'moments', 'scales', 'clipped', 'lstmInputs', 'xh', 'gates', 'tanhC']);
const CONSTANT_KEYS = new Set(['decays']);

type View = Float32Array | Float64Array | Int32Array | Uint8Array;
interface Leaf {
  path: string;
  array: View;
  kind: 'param' | 'grad' | 'scratch' | 'constant' | 'state' | 'stats';
}

function isView(x: unknown): x is View {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** Every distinct typed array reachable from the state, classified (first path found, in key order). */
function leaves(opt: Optimizer<unknown>, state: unknown, grads: Params | null): Leaf[] {
  const params = new Set<unknown>(Object.values(opt.getParams(state)).map((t) => t.data));
  const gradArrays = new Set<unknown>(grads ? Object.values(grads).map((t) => t.data) : []);
  const seen = new Set<unknown>();
  const out: Leaf[] = [];
  const walk = (x: unknown, path: string, key: string, parentKey: string): void => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    if (isView(x)) {
      const kind = params.has(x) ? 'param'
        : gradArrays.has(x) ? 'grad'
          : SCRATCH_KEYS.has(key) ? 'scratch'
            : CONSTANT_KEYS.has(key) ? 'constant'
            : key === 'stats' && parentKey === 'factored' ? 'stats'
              : 'state';
      out.push({ path, array: x, kind });
      return;
    }
    const entries = Array.isArray(x) ? x.map((v, i) => [String(i), v] as const) : Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]] as const);
    for (const [k, v] of entries) walk(v, `${path}/${k}`, Array.isArray(x) ? key : k, Array.isArray(x) ? parentKey : key);
  };
  walk(state, '', '', '');
  return out;
}

function heldStateBytes(opt: Optimizer<unknown>, state: unknown, grads: Params | null): number {
  let floats = 0;
  for (const leaf of leaves(opt, state, grads)) {
    if (leaf.kind === 'state') floats += leaf.array.length;
    if (leaf.kind === 'stats') floats += leaf.array.length / 2;
  }
  return 4 * floats;
}

/** The state's structure: path, array type and length of every typed array (LO's struct/shape check). */
function structure(opt: Optimizer<unknown>, state: unknown): string[] {
  return leaves(opt, state, null).filter((l) => l.kind !== 'grad' && l.path.split('/').pop() !== 'g')
    .map((l) => `${l.path}:${l.array.constructor.name}[${l.array.length}]`);
}

function bits(a: View): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function sameBits(a: View, b: View): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(bits(a), bits(b)) === 0;
}

function assertSameParams(actual: Params, expected: Params, what: string): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${what}: names`);
  for (const name of Object.keys(expected)) {
    assert.deepEqual(actual[name].shape, expected[name].shape, `${what}: ${name} shape`);
    assert.ok(sameBits(actual[name].data, expected[name].data), `${what}: ${name} differs`);
  }
}

/** Params and every state array (not scratch) of two states agree bit for bit. */
function assertSameState(opt: Optimizer<unknown>, a: unknown, b: unknown, what: string): void {
  assertSameParams(opt.getParams(a), opt.getParams(b), what);
  const la = leaves(opt, a, null).filter((l) => l.kind === 'state' || l.kind === 'stats');
  const lb = leaves(opt, b, null).filter((l) => l.kind === 'state' || l.kind === 'stats');
  assert.deepEqual(la.map((l) => l.path), lb.map((l) => l.path), `${what}: state paths`);
  la.forEach((l, i) => {
    const x = l.kind === 'stats' ? l.array.subarray(0, l.array.length / 2) : l.array;
    const y = l.kind === 'stats' ? lb[i].array.subarray(0, lb[i].array.length / 2) : lb[i].array;
    assert.ok(sameBits(x, y), `${what}: state ${l.path} differs`);
  });
}

const gradsAt = (step: number): Params => randomGrads(SHAPES, 11, step);

/** Every registered optimizer with its default options, plus `path: gemm` where there is a path option. */
function variants(): { label: string; name: string; options: Record<string, unknown> }[] {
  const out: { label: string; name: string; options: Record<string, unknown> }[] = [];
  for (const name of learned.names) {
    out.push({ label: name, name, options: {} });
    const path = learned.options(name).find((spec) => spec.name === 'path');
    if (path && path.kind === 'choice' && path.choices.includes('gemm')) out.push({ label: `${name} path=gemm`, name, options: { path: 'gemm' } });
  }
  return out;
}

function build(name: string, options: Record<string, unknown>, backend: (typeof BACKEND_NAMES)[number], seed = 3) {
  const lo = learned.get(name, options, { backend: backendNamed(backend) });
  const theta = lo.init(keyFromSeed(seed));
  return { lo, theta, opt: lo.optFn(theta) as Optimizer<unknown> };
}

function run(opt: Optimizer<unknown>, state: unknown, from: number, steps: number): unknown {
  let s = state;
  for (let k = from; k < from + steps; k++) s = opt.update(s, gradsAt(k), LOSS(k));
  return s;
}

const P0 = randomParams(SHAPES, 5);
/** A second, smaller tree (fewer tensors) for the interleaving check. */
const SHAPES_B: Record<string, number[]> = { 'a/rank0': [], 'c/vector': [7], 'e/large': [37, 129] };
const PB = randomParams(SHAPES_B, 17);
const gradsBAt = (step: number): Params => randomGrads(SHAPES_B, 19, step);
const LOSS_B = (step: number) => ({ loss: 3 / (2 + step) });

describe('learned optimizer conformance', () => {
  it('covers every registered learned optimizer', () => {
    assert.ok(learned.names.length >= 6);
    assert.deepEqual(variants().filter((v) => !v.options.path).map((v) => v.name), [...learned.names]);
  });

  for (const { label, name, options } of variants()) {
    for (const backend of BACKEND_NAMES) {
      describe(`${label} (${backend})`, () => {
        it('θ has exactly thetaShapes; init and updates give finite, moved parameters of the same names and shapes; inputs untouched', () => {
          const { lo, theta, opt } = build(name, options, backend);
          assert.deepEqual(Object.keys(theta).sort(), Object.keys(lo.thetaShapes).sort());
          let count = 0;
          for (const [n, shape] of Object.entries(lo.thetaShapes)) {
            assert.deepEqual(theta[n].shape, [...shape], `θ ${n} shape`);
            assert.ok(theta[n].data instanceof Float32Array, `θ ${n} is float32`);
            assert.equal(theta[n].data.length, shape.reduce((a, b) => a * b, 1), `θ ${n} size`);
            assert.ok(theta[n].data.every(Number.isFinite), `θ ${n} finite`);
            count += theta[n].data.length;
          }
          assert.equal(count, lo.paramCount, 'paramCount');
          const given = cloneTree(P0);
          let state = opt.init(given, { numSteps: NUM_STEPS, key: keyFromSeed(9) });
          const initial = structure(opt, state);
          assertSameParams(opt.getParams(state), P0, 'getParams after init');
          for (let k = 0; k < 4; k++) {
            const g = gradsAt(k);
            const gCopy = cloneTree(g);
            state = opt.update(state, g, LOSS(k));
            assertSameParams(g, gCopy, `gradients after update ${k}`);
            assertSameParams(given, P0, `params given to init after update ${k}`);
            assert.deepEqual(structure(opt, state), initial, `state structure after update ${k}`);
            const p = opt.getParams(state);
            assert.deepEqual(Object.keys(p).sort(), NAMES.slice().sort());
            for (const n of NAMES) {
              assert.deepEqual(p[n].shape, SHAPES[n], `${n} shape`);
              assert.ok(p[n].data instanceof Float32Array, `${n} is float32`);
              assert.ok(p[n].data.every(Number.isFinite), `${n} finite after update ${k}`);
            }
          }
          const p = opt.getParams(state);
          for (const n of NAMES) assert.ok(p[n].data.some((x, i) => x !== P0[n].data[i]), `${n} moved`);
        });

        it('stateBytes equals 4 × the accumulator floats the state holds; scratch is really scratch', () => {
          const { opt } = build(name, options, backend);
          let state = opt.init(cloneTree(P0), { numSteps: NUM_STEPS });
          assert.equal(heldStateBytes(opt, state, null), opt.stateBytes(P0), 'after init');
          const constants = (s: unknown) => leaves(opt, s, null).filter((l) => l.kind === 'constant').map((l) => `${l.path}=${Array.from(l.array).join(',')}`);
          const atInit = constants(state);
          state = run(opt, state, 0, 3);
          assert.deepEqual(constants(state), atInit, 'constants (decays) unchanged by updates');
          assert.equal(heldStateBytes(opt, state, gradsAt(2)), opt.stateBytes(P0), 'after 3 updates');
          // Every scratch array (and the factor half of factored.stats) filled with NaN: the next
          // update gives bit for bit the same parameters and state.
          const control = opt.update(structuredClone(state), gradsAt(3), LOSS(3));
          const dirty = structuredClone(state);
          let filled = 0;
          for (const leaf of leaves(opt, dirty, null)) {
            if (!(leaf.array instanceof Float32Array || leaf.array instanceof Float64Array)) continue;
            if (leaf.kind === 'scratch') { leaf.array.fill(NaN); filled++; }
            if (leaf.kind === 'stats') { leaf.array.subarray(leaf.array.length / 2).fill(NaN); filled++; }
          }
          assertSameState(opt, opt.update(dirty, gradsAt(3), LOSS(3)), control, `after an update from NaN-filled scratch (${filled} arrays)`);
          // And every array counted as state carries over: NaN in it shows in the next update.
          const paths = leaves(opt, state, null).filter((l) => l.kind === 'state' || l.kind === 'stats').map((l) => l.path);
          for (const path of paths) {
            const s = structuredClone(state);
            const leaf = leaves(opt, s, null).find((l) => l.path === path)!;
            (leaf.kind === 'stats' ? leaf.array.subarray(0, leaf.array.length / 2) : leaf.array).fill(NaN);
            assert.throws(() => assertSameState(opt, opt.update(s, gradsAt(3), LOSS(3)), control, path), assert.AssertionError, `state ${path} has no effect`);
          }
        });

        it('buffer reuse: the returned state feeds the next update; a structuredClone continues bit-identically and independently', () => {
          const { lo, theta, opt } = build(name, options, backend);
          let state = opt.init(cloneTree(P0), { numSteps: NUM_STEPS });
          for (let k = 0; k < 3; k++) {
            const next = opt.update(state, gradsAt(k), LOSS(k));
            assert.ok(next !== null && typeof next === 'object', 'update returns a state object');
            state = next; // the old one may share (be) the new one's buffers: it is not used again
          }
          const snapshot = structuredClone(state);
          const snapshot2 = structuredClone(state);
          // The clone first: if it shared buffers with the original, the original would change.
          const fromClone = run(opt, snapshot, 3, 3);
          const fromOriginal = run(opt, state, 3, 3);
          assertSameState(opt, fromClone, fromOriginal, 'clone vs original');
          // A restored checkpoint: a fresh optFn(θ) (θ also cloned) continuing a clone.
          const fresh = lo.optFn(structuredClone(theta)) as Optimizer<unknown>;
          assertSameState(opt, run(fresh, snapshot2, 3, 3), fromOriginal, 'fresh optFn from a clone');
        });

        it('two states of one optFn(θ) stepped interleaved agree bit for bit with each stepped alone', () => {
          const { lo, theta, opt } = build(name, options, backend);
          const steps = 5;
          let a = opt.init(cloneTree(P0), { numSteps: NUM_STEPS });
          let b = opt.init(cloneTree(PB), { numSteps: NUM_STEPS });
          let a2 = opt.init(cloneTree(P0), { numSteps: NUM_STEPS });
          for (let k = 0; k < steps; k++) {
            a = opt.update(a, gradsAt(k), LOSS(k));
            b = opt.update(b, gradsBAt(k), LOSS_B(k));
            // Two states on the same tree too (same tensor count: shared scratch would not be resized).
            a2 = opt.update(a2, gradsAt(k + 1), LOSS(k + 1));
          }
          const aloneA = lo.optFn(structuredClone(theta)) as Optimizer<unknown>;
          const aloneB = lo.optFn(structuredClone(theta)) as Optimizer<unknown>;
          const aloneA2 = lo.optFn(structuredClone(theta)) as Optimizer<unknown>;
          let ra = aloneA.init(cloneTree(P0), { numSteps: NUM_STEPS });
          let rb = aloneB.init(cloneTree(PB), { numSteps: NUM_STEPS });
          let ra2 = aloneA2.init(cloneTree(P0), { numSteps: NUM_STEPS });
          for (let k = 0; k < steps; k++) ra = aloneA.update(ra, gradsAt(k), LOSS(k));
          for (let k = 0; k < steps; k++) rb = aloneB.update(rb, gradsBAt(k), LOSS_B(k));
          for (let k = 0; k < steps; k++) ra2 = aloneA2.update(ra2, gradsAt(k + 1), LOSS(k + 1));
          assertSameState(opt, a, ra, 'interleaved A vs alone');
          assertSameState(opt, b, rb, 'interleaved B vs alone');
          assertSameState(opt, a2, ra2, 'interleaved A2 vs alone');
        });

        it('a NaN gradient element does not throw and stays in its own tensor within the step', () => {
          const { opt } = build(name, options, backend);
          const state = run(opt, opt.init(cloneTree(P0), { numSteps: NUM_STEPS }), 0, 2);
          const control = opt.update(structuredClone(state), gradsAt(2), LOSS(2));
          for (const target of ['d/matrix', 'e/large']) {
            const g = gradsAt(2);
            g[target].data[3] = NaN;
            const gCopy = cloneTree(g);
            let after: unknown;
            assert.doesNotThrow(() => { after = opt.update(structuredClone(state), g, LOSS(2)); });
            assertSameParams(g, gCopy, 'gradients with NaN after update');
            const p = opt.getParams(after);
            const c = opt.getParams(control);
            for (const n of NAMES) {
              assert.deepEqual(p[n].shape, SHAPES[n]);
              if (n !== target) assert.ok(sameBits(p[n].data, c[n].data), `NaN in ${target}: ${n} changed`);
            }
          }
        });

        it('is deterministic: fresh instances with the same key, θ and gradients agree bit for bit', () => {
          const a = build(name, options, backend, 21);
          const b = build(name, options, backend, 21);
          assertSameParams(a.theta, b.theta, 'θ from the same key');
          const sa = run(a.opt, a.opt.init(cloneTree(P0), { numSteps: NUM_STEPS }), 0, 4);
          const sb = run(b.opt, b.opt.init(cloneTree(P0), { numSteps: NUM_STEPS }), 0, 4);
          assertSameState(a.opt, sa, sb, 'two runs');
        });
      });
    }

    it(`${label}: native agrees with reference to float rounding`, () => {
      const ref = build(name, options, 'reference');
      const nat = learned.get(name, options, { backend: backendNamed('native') }).optFn(ref.theta) as Optimizer<unknown>;
      let sr = ref.opt.init(cloneTree(P0), { numSteps: NUM_STEPS });
      let sn = nat.init(cloneTree(P0), { numSteps: NUM_STEPS });
      for (let k = 0; k < 4; k++) {
        sr = ref.opt.update(sr, gradsAt(k), LOSS(k));
        sn = nat.update(sn, gradsAt(k), LOSS(k));
        const pr = ref.opt.getParams(sr);
        const pn = nat.getParams(sn);
        for (const n of NAMES) {
          assertAllClose(pn[n].data, pr[n].data, `step ${k} ${n}`, 1e-4, 1e-6);
          const dr = Float64Array.from(pr[n].data, (x, i) => x - P0[n].data[i]);
          const dn = Float64Array.from(pn[n].data, (x, i) => x - P0[n].data[i]);
          assertAllClose(dn, dr, `step ${k} ${n} change from p0`, 1e-3, 1e-3);
        }
      }
    });
  }
});
