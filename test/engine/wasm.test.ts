// The wasm backend in Node, beyond the shared kernel suite (test/engine/backend.test.ts runs that):
// - its optimizer kernels are the native addon's C code, so they give the native baseline ("scalar")
//   path's very bits: the same sources, no fused multiply-adds, the same summation orders;
// - selection by name, $LOPT_BACKEND and the CLI's --backend wasm;
// - argument checks, exact aliasing, and arrays larger than the module's memory (which then grows);
// - arrays that live in the module's memory (Backend.allocate over a shared memory) and the loader.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Backend, FactoredDims } from '../../src/engine/backend.js';
import { getBackend, parseBackendChoice } from '../../src/engine/select.js';
import { loadNativeBackend } from '../../src/engine/native.js';
import type { MlpLoptNet, MlpLoptTensor } from '../../src/engine/mlp-lopt.js';
import { wasmBackend } from '../../src/engine/wasm.js';
import { findMemoryImport, kernelModuleSetups } from '../../src/engine/wasm-memory.js';
import { WASM_KERNELS_FILE } from '../../src/engine/wasm-node.js';
import { inPlace } from '../../src/optimizers/in-place.js';
import { getOptimizer } from '../../src/optimizers/registry.js';
import { mulberry32 } from '../fixtures/prng.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const wasm = (): Backend => getBackend('wasm');
const scalar = (): Backend => loadNativeBackend({ simd: 'scalar' });

function f32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/** Runs `call` on copies of `inputs` with both backends; every array and the result must be equal bit for bit. */
function sameBits(what: string, inputs: Float32Array[], call: (b: Backend, x: Float32Array[]) => number | void): void {
  const a = inputs.map((x) => x.slice());
  const b = inputs.map((x) => x.slice());
  const got = call(wasm(), a);
  const want = call(scalar(), b);
  assert.ok(Object.is(got, want), `${what}: result ${got} ≠ ${want}`);
  a.forEach((x, i) => assert.deepEqual(new Uint32Array(x.buffer), new Uint32Array(b[i].buffer), `${what}: array ${i} differs`));
}

describe('wasm backend: the native kernels, bit for bit', () => {
  const n = 1037;
  it('sgd, sgdm, adam, nadamw, rmsScale, nnAdam', () => {
    const [p, m, v, g] = [f32(n, 1), f32(n, 2, -0.1, 0.1), f32(n, 3, 0, 0.01), f32(n, 4, -3, 3)];
    sameBits('sgdStep', [p, g], (b, [x, y]) => b.sgdStep(x, y, 0.01));
    sameBits('sgdmStep', [p, m, g], (b, [x, y, z]) => b.sgdmStep(x, y, z, 0.01, 0.9, true));
    sameBits('adamStep', [p, m, v, g], (b, [x, y, z, w]) => b.adamStep(x, y, z, w, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.01));
    sameBits('nadamwStep', [p, m, v, g], (b, [x, y, z, w]) => b.nadamwStep(x, y, z, w, 1e-3, 0.9, 0.999, 1e-8, 1e-4, 1e-2, true));
    sameBits('rmsScale', [v, g, new Float32Array(n)], (b, [x, y, u]) => b.rmsScale(x, y, 0.99, 1e-30, u));
    sameBits('nnAdamStep', [p, m, v, g], (b, [x, y, z, w]) => {
      const stats = new Float64Array(9);
      b.nnAdamStep(x, y, z, w, 1e-3, 0.9, 0.999, 1e-8, stats);
      return stats.reduce((s, t) => s * 3 + t, 0);
    });
  });

  it('factoredMoments and scaleByFactors', () => {
    const dims: FactoredDims = [2, 17, 3, 5, 2];
    const size = 2 * 17 * 3 * 5 * 2;
    sameBits('factoredMoments', [f32(size, 5), f32(2 * 3 * 5 * 2, 6, 0, 1), f32(2 * 17 * 3 * 2, 7, 0, 1)],
      (b, [g, va, vb]) => b.factoredMoments(g, dims, 0.95, 1e-30, va, vb));
    sameBits('scaleByFactors', [f32(size, 8), f32(60, 9, 0, 2), f32(204, 10, 0, 2), new Float32Array(size)],
      (b, [g, fa, fb, u]) => b.scaleByFactors(g, dims, fa, fb, u));
  });

  it("small_fc_lopt's layout on a factored tensor (its register loops): accumulate, then apply", () => {
    const [rows, cols] = [96, 40];
    const size = rows * cols;
    const tensor = ([p, g, acc, stats]: Float32Array[]): MlpLoptTensor => ({
      p, g, acc, nm: 3, nr: 1, na: 3, decays: Float32Array.of(0.5, 0.9, 0.99, 0.999, 0.9, 0.99, 0.999),
      logAbsP: false, mTimesRsqrtV: true, mTimesFactors: true,
      factored: { dims: [1, rows, 1, cols, 1], rowIsA: true, stats },
    });
    const inputs = [f32(size, 11), f32(size, 12), f32(4 * size, 13, 0, 0.1), f32(2 * 3 * (rows + cols), 14, 0.01, 0.5)];
    sameBits('mlpLoptAccumulate', inputs, (b, x) => {
      const moments = new Float64Array(28);
      b.mlpLoptAccumulate(tensor(x), moments);
      return moments.reduce((s, t) => s * 1.5 + t, 0);
    });
    // The elementwise MLP path (the gemm path's products are the module's gemm, OpenBLAS natively: equal
    // to rounding only, which the shared suite checks).
    const net: MlpLoptNet = {
      sizes: Int32Array.of(39, 4, 4, 2), params: f32(39 * 4 + 4 + 4 * 4 + 4 + 4 * 2 + 2, 15, -0.5, 0.5),
      scales: f32(28, 16, 0.5, 2), inputs: f32(11, 17), expMult: 0.001, stepMult: 0.001, path: 'elementwise',
    };
    sameBits('mlpLoptApply', inputs, (b, x) => b.mlpLoptApply(tensor(x), net, null));
  });
});

describe('wasm backend: selection and arguments', () => {
  it('is chosen by name, by $LOPT_BACKEND and by --backend wasm', () => {
    assert.equal(wasm().name, 'wasm');
    assert.equal(wasm().info().simd, 'wasm-simd128');
    assert.equal(parseBackendChoice('wasm'), 'wasm');
    assert.throws(() => parseBackendChoice('wasmx'), /use native, wasm, reference or auto/);
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [CLI, 'train', '--task', 'quadratic', '--optimizer', 'adam', '--steps', '5', '--json', ...args],
        { encoding: 'utf8', env: { ...process.env, ...env } });
    for (const child of [run(['--backend', 'wasm']), run([], { LOPT_BACKEND: 'wasm' })]) {
      assert.equal(child.status, 0, child.stderr);
      assert.match(child.stdout, /"backend":\s*"wasm"/);
    }
  });

  it('rejects short arrays and bad sizes with a RangeError naming them', () => {
    const b = wasm();
    assert.throws(() => b.adamStep(f32(4, 1), f32(4, 2), f32(3, 3), f32(4, 4), 1, 0.9, 0.999, 1e-8, 1, 1), /adamStep: v has 3 elements, needs 4/);
    assert.throws(() => b.gemm(false, false, 2, 3, 4, 1, f32(7, 1), f32(12, 2), 0, new Float32Array(6)), /gemm: a has 7 elements, needs 8/);
    assert.throws(() => b.gemm(false, false, -1, 1, 1, 1, f32(1, 1), f32(1, 2), 0, new Float32Array(1)), /gemm: m must be an integer/);
    assert.throws(() => b.factoredMoments(f32(24, 1), [1, 2, 3, 4, 1], 0.9, 1e-30, new Float32Array(11), new Float32Array(6)), /vWithoutA has 11/);
  });

  it('clip and rmsScale in place; arrays longer than the module memory grow it', () => {
    const b = wasm();
    const x = f32(100, 3, -2, 2);
    const want = x.map((v) => Math.min(Math.max(v, -1), 1));
    b.clip(x, -1, 1, x);
    assert.deepEqual(x, want);
    // 4 × 48 MiB: the module's memory grows during staging, which detaches its old views.
    const n = 12 << 20;
    const [p, m, v, g] = [f32(n, 4), f32(n, 5), f32(n, 6, 0, 1), f32(n, 7)];
    const expected = p.slice(-5);
    for (let i = 0; i < 5; i++) {
      const k = n - 5 + i;
      const mk = Math.fround(Math.fround(0.9 * m[k]) + Math.fround(Math.fround(0.1) * g[k]));
      expected[i] = p[k] - 0.1 * mk / (Math.sqrt(v[k] * 0.999 + 0.001 * g[k] * g[k]) + 1e-8);
    }
    b.adamStep(p, m, v, g, 0.1, 0.9, 0.999, 1e-8, 1, 1);
    for (let i = 0; i < 5; i++) assert.ok(Math.abs(p[n - 5 + i] - expected[i]) < 1e-5, `p[${n - 5 + i}] = ${p[n - 5 + i]}, expected ${expected[i]}`);
  });
});

describe('wasm backend: arrays in the module memory (Backend.allocate)', () => {
  it('loads over a shared memory in Node, and also over an unshared one, with the same bits', () => {
    const bytes = new Uint8Array(readFileSync(WASM_KERNELS_FILE));
    const found = findMemoryImport(bytes);
    assert.ok(found && found.initial > 0 && found.maximum === 65536, `memory import ${JSON.stringify(found)}`);
    const setups = kernelModuleSetups(bytes);
    assert.deepEqual(setups.map((s) => s.shared), [true, false]);
    assert.equal(bytes[found.flagsAt] & 2, 0, 'the committed module imports an unshared memory');
    const unshared = instantiateUnshared(bytes);
    assert.equal(unshared.allocate!(8).buffer instanceof SharedArrayBuffer, false, 'unshared: plain arrays');
    const n = 1037;
    const inputs = [f32(n, 1), f32(n, 2, -0.1, 0.1), f32(n, 3, 0, 0.01), f32(n, 4, -3, 3)];
    const [a, b] = [inputs.map((x) => x.slice()), inputs.map((x) => x.slice())];
    unshared.adamStep(a[0], a[1], a[2], a[3], 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.01);
    scalar().adamStep(b[0], b[1], b[2], b[3], 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.01);
    a.forEach((x, i) => assert.deepEqual(x, b[i]));
  });

  it('kernels update resident arrays in place, mixed with plain ones and subarrays, as native does', () => {
    const b = wasm();
    const n = 20000; // more than one piece of the elementwise kernels
    const resident = (x: Float32Array): Float32Array => {
      const r = b.allocate!(x.length);
      assert.ok(r.buffer instanceof SharedArrayBuffer && r.every((v) => v === 0), 'a zeroed array in the shared memory');
      r.set(x);
      return r;
    };
    const inputs = [f32(n, 21), f32(n, 22, -0.1, 0.1), f32(n, 23, 0, 0.01), f32(n, 24, -3, 3)];
    const [p, m, v] = inputs.slice(0, 3).map(resident);
    const g = inputs[3].slice();
    const want = inputs.map((x) => x.slice());
    b.adamStep(p, m, v, g, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.01);
    scalar().adamStep(want[0], want[1], want[2], want[3], 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.01);
    assert.deepEqual([p, m, v, g], want);
    // A subarray of a resident array is resident too; an output that is plain is copied back.
    const out = new Float32Array(100);
    b.clip(p.subarray(50, 150), -1e-3, 1e-3, out);
    assert.deepEqual(out, want[0].subarray(50, 150).map((x) => Math.min(Math.max(x, -1e-3), 1e-3)));
    b.clip(p.subarray(50, 150), -1e-3, 1e-3, p.subarray(50, 150));
    assert.deepEqual(p.subarray(50, 150), out);
  });

  it('resident arrays survive the growth of the memory', () => {
    const b = wasm();
    const kept = b.allocate!(1000);
    kept.set(f32(1000, 31));
    const before = kept.slice();
    // Staging 4 × 32 MiB grows the memory; the kept array still views its values and kernels still find it.
    const big = 8 << 20;
    b.sgdStep(f32(big, 32), f32(big, 33), 0.5);
    b.scale(2, kept);
    assert.equal(kept.length, 1000);
    assert.deepEqual(kept, before.map((x) => Math.fround(2 * x)));
  });

  it('optimizers keep their parameters and state there, and give the same trajectory as native', () => {
    for (const name of ['adam', 'nadamw', 'sgdm', 'adafactor'] as const) {
      const params = { w: { shape: [30, 20], data: f32(600, 41) }, b: { shape: [20], data: f32(20, 42) } };
      const onWasm = getOptimizer(name, {}, { backend: wasm() });
      const onNative = getOptimizer(name, {}, { backend: scalar() });
      let s = onWasm.init(params, { numSteps: 10 });
      let t = onNative.init(params, { numSteps: 10 });
      assert.ok(onWasm.getParams(s).w.data.buffer instanceof SharedArrayBuffer, `${name}: parameters in the module memory`);
      assert.ok(params.w.data.buffer instanceof ArrayBuffer && !(params.w.data.buffer instanceof SharedArrayBuffer), 'the caller keeps its own');
      for (let step = 0; step < 5; step++) {
        const grads = { w: { shape: [30, 20], data: f32(600, 50 + step) }, b: { shape: [20], data: f32(20, 60 + step) } };
        s = onWasm.update(s, grads, { loss: 1 });
        t = onNative.update(t, grads, { loss: 1 });
      }
      assert.deepEqual(onWasm.getParams(s).w.data, onNative.getParams(t).w.data, name);
    }
  });

  it("inPlace steps the caller's arrays (copied back, since the state shares the module's buffer)", () => {
    const run = (backend: Backend) => {
      const params = { w: { shape: [40], data: f32(40, 71) } };
      const stepper = inPlace(getOptimizer('adam', { learningRate: 0.1 }, { backend }), params, { numSteps: 3 });
      for (let step = 0; step < 3; step++) stepper.step({ w: { shape: [40], data: f32(40, 72 + step) } }, { loss: 1 });
      return { values: params.w.data, shares: stepper.sharesParams };
    };
    const [onWasm, onNative] = [run(wasm()), run(scalar())];
    assert.equal(onWasm.shares, false);
    assert.deepEqual(onWasm.values, onNative.values);
  });

  it('frees a resident array once it is collected', () => {
    // 300 arrays of 16 MiB, one alive at a time: 4.7 GiB in all, more than wasm32's 4 GiB.
    const script = `
      const { getBackend } = await import(${JSON.stringify(new URL('../../src/engine/select.js', import.meta.url).href)});
      const b = getBackend('wasm');
      for (let i = 0; i < 300; i++) {
        const a = b.allocate(4 << 20);
        a[a.length - 1] = i;
        globalThis.gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      console.log('done');`;
    const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /done/);
  });
});

/** The backend over the module with an unshared memory (where an engine cannot share one). */
function instantiateUnshared(bytes: Uint8Array): Backend {
  const setup = kernelModuleSetups(bytes).find((s) => !s.shared)!;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(setup.bytes as Uint8Array<ArrayBuffer>), { env: { memory: setup.memory } });
  return wasmBackend({ instance, memory: setup.memory, shared: false });
}
