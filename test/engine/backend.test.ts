// One kernel suite, run against every backend:
// - reference  vs. a straightforward float64 computation written here (the oracle of the oracle);
// - native     vs. the reference backend;
// - each other SIMD path of the native backend vs. its default path, bit for bit.
// Then native-only checks: argument validation, aliasing rules, BLAS threads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { Backend, BackendInfo, FactoredDims } from '../../src/engine/backend.js';
import { getBackend } from '../../src/engine/select.js';
import { loadNativeBackend, nativeSimdPaths, setNativeBlasThreads } from '../../src/engine/native.js';

// ---- deterministic inputs -------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** Float32Array of n values in [lo, hi); a few exact zeros mixed in. */
  f32(n: number, lo = -1, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() < 0.03 ? 0 : this.uniform(lo, hi);
    return out;
  }
  positive(n: number, lo = 1e-3, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }
}

/** Every length 0..67 (every tail of every vector width), then a few larger ones. */
const LENGTHS = [...Array.from({ length: 68 }, (_, i) => i), 128, 130, 1000, 4099];
const DIMS = [1, 2, 3, 7, 17, 33, 65, 130];

// ---- the float64 oracle ---------------------------------------------------------------------------

function unflatten(i: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return index;
}

function flatten(index: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + index[d];
  return i;
}

/** Plain float64 loops, written independently of the reference (states still round to float32). */
const float64Oracle: Backend = {
  name: 'reference',
  info: (): BackendInfo => ({ name: 'reference', simd: 'js', blas: 'float64 oracle', blasThreads: 1 }),
  gemm(transA, transB, m, n, k, alpha, a, b, beta, c) {
    const opA = new Float64Array(m * k);
    const opB = new Float64Array(k * n);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) opA[i * k + p] = transA ? a[p * m + i] : a[i * k + p];
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) opB[p * n + j] = transB ? b[j * k + p] : b[p * n + j];
    const result = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        const aip = opA[i * k + p];
        for (let j = 0; j < n; j++) result[i * n + j] += aip * opB[p * n + j];
      }
    }
    for (let i = 0; i < m * n; i++) c[i] = alpha * result[i] + (beta === 0 ? 0 : beta * c[i]);
  },
  fill(x, value) {
    for (let i = 0; i < x.length; i++) x[i] = value;
  },
  axpy(alpha, x, y) {
    for (let i = 0; i < y.length; i++) y[i] = y[i] + alpha * x[i];
  },
  scale(alpha, x) {
    for (let i = 0; i < x.length; i++) x[i] = alpha * x[i];
  },
  sumSquares(x) {
    return x.reduce((s, v) => s + v * v, 0);
  },
  clip(x, lo, hi, out) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      out[i] = Number.isNaN(v) ? NaN : v < lo ? lo : v > hi ? hi : v;
    }
  },
  addRowVector(y, bias, rows, cols) {
    for (let i = 0; i < rows * cols; i++) y[i] = y[i] + bias[i % cols];
  },
  sumRows(x, rows, cols, out, accumulate) {
    const sums = new Float64Array(cols);
    for (let i = 0; i < rows * cols; i++) sums[i % cols] += x[i];
    for (let c = 0; c < cols; c++) out[c] = (accumulate ? out[c] : 0) + sums[c];
  },
  reluForward(x, y) {
    for (let i = 0; i < x.length; i++) y[i] = Math.max(x[i], 0) || 0;
  },
  reluBackward(y, dy, dx) {
    for (let i = 0; i < y.length; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
  },
  softmaxCrossEntropy(logits, labels, rows, cols, dlogits) {
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      const row = Array.from(logits.subarray(r * cols, (r + 1) * cols));
      const top = Math.max(...row);
      const lse = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
      loss -= row[labels[r]] - lse;
      if (dlogits) {
        for (let c = 0; c < cols; c++) dlogits[r * cols + c] = (Math.exp(row[c] - lse) - (c === labels[r] ? 1 : 0)) / rows;
      }
    }
    return loss / rows;
  },
  gatherRowsU8(src, rowLength, indices, scale, out) {
    for (let i = 0; i < indices.length * rowLength; i++) {
      const row = Math.floor(i / rowLength);
      out[i] = scale * src[indices[row] * rowLength + (i % rowLength)];
    }
  },
  sgdStep(p, g, lr) {
    for (let i = 0; i < p.length; i++) p[i] = p[i] - lr * g[i];
  },
  sgdmStep(p, m, g, lr, momentum, nesterov) {
    for (let i = 0; i < p.length; i++) {
      const trace = Math.fround(g[i] + momentum * m[i]);
      m[i] = trace;
      const update = nesterov ? g[i] + momentum * trace : trace;
      p[i] = p[i] - lr * update;
    }
  },
  adamStep(p, m, v, g, lr, beta1, beta2, eps, bc1, bc2) {
    for (let i = 0; i < p.length; i++) {
      const mi = Math.fround(beta1 * m[i] + (1 - beta1) * g[i]);
      const vi = Math.fround(beta2 * v[i] + (1 - beta2) * g[i] ** 2);
      m[i] = mi;
      v[i] = vi;
      const mHat = mi / bc1;
      const vHat = vi / bc2;
      p[i] = p[i] - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  },
  nadamwStep(p, m, v, g, lrT, beta1, beta2, eps, l2, adamwDecay, nesterov) {
    for (let i = 0; i < p.length; i++) {
      const old = p[i];
      const grad = g[i] - l2 * old;
      const mi = Math.fround(beta1 * m[i] + (1 - beta1) * grad);
      const vi = Math.fround(beta2 * v[i] + (1 - beta2) * grad ** 2);
      m[i] = mi;
      v[i] = vi;
      const direction = nesterov ? beta1 * mi + (1 - beta1) * grad : mi;
      p[i] = old - lrT * (direction / (Math.sqrt(vi) + eps) + adamwDecay * old);
    }
  },
  rmsScale(v, g, decay, eps, u) {
    let sum = 0;
    for (let i = 0; i < g.length; i++) {
      const gi = g[i];
      const vi = Math.fround(decay * v[i] + (1 - decay) * (gi * gi + eps));
      v[i] = vi;
      const ui = Math.fround(gi / Math.sqrt(vi));
      u[i] = ui;
      sum += ui * ui;
    }
    return sum;
  },
  factoredMoments(g, dims, decay, eps, vWithoutA, vWithoutB) {
    // Output-centric: each moment is a mean over one axis of the full index space.
    const [pre, na, mid, nb, post] = dims;
    const shapeA = [pre, mid, nb, post];
    for (let o = 0; o < vWithoutA.length; o++) {
      const [p0, im, ib, q] = unflatten(o, shapeA);
      let sum = 0;
      for (let ia = 0; ia < na; ia++) sum += g[flatten([p0, ia, im, ib, q], dims)] ** 2 + eps;
      vWithoutA[o] = decay * vWithoutA[o] + (1 - decay) * (sum / na);
    }
    const shapeB = [pre, na, mid, post];
    for (let o = 0; o < vWithoutB.length; o++) {
      const [p0, ia, im, q] = unflatten(o, shapeB);
      let sum = 0;
      for (let ib = 0; ib < nb; ib++) sum += g[flatten([p0, ia, im, ib, q], dims)] ** 2 + eps;
      vWithoutB[o] = decay * vWithoutB[o] + (1 - decay) * (sum / nb);
    }
  },
  scaleByFactors(g, dims, fWithoutA, fWithoutB, u) {
    const [pre, na, mid, nb, post] = dims;
    let sum = 0;
    for (let i = 0; i < pre * na * mid * nb * post; i++) {
      const [p0, ia, im, ib, q] = unflatten(i, dims);
      const value = Math.fround(g[i] * fWithoutA[flatten([p0, im, ib, q], [pre, mid, nb, post])]
        * fWithoutB[flatten([p0, ia, im, q], [pre, na, mid, post])]);
      u[i] = value;
      sum += value * value;
    }
    return sum;
  },
};

// ---- comparing runs -------------------------------------------------------------------------------

interface Outcome {
  arrays: Record<string, Float32Array>;
  value?: number;
}

interface Tolerance {
  /** Relative to each expected element. */
  rtol: number;
  /** Absolute, as a fraction of the largest expected magnitude in the array. */
  atolScale: number;
  /** Relative tolerance on the returned number (reductions). */
  valueRtol: number;
  /** Bit-for-bit equality instead. */
  exact?: boolean;
}

function closeArrays(actual: Float32Array, expected: Float32Array, tol: Tolerance, what: string, perElement?: Float64Array): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let peak = 0;
  for (const v of expected) if (Number.isFinite(v)) peak = Math.max(peak, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (tol.exact) {
      if (!Object.is(a, e)) assert.fail(`${what}[${i}]: ${a} !== ${e} (bitwise)`);
      continue;
    }
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) assert.fail(`${what}[${i}]: ${a}, expected ${e}`);
      continue;
    }
    const allowed = perElement ? perElement[i] : tol.rtol * Math.abs(e) + tol.atolScale * peak;
    if (!(Math.abs(a - e) <= allowed)) {
      assert.fail(`${what}[${i}]: ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${allowed})`);
    }
  }
}

function closeValues(actual: number | undefined, expected: number | undefined, tol: Tolerance, what: string): void {
  if (expected === undefined) {
    assert.equal(actual, undefined, `${what}: returns nothing`);
    return;
  }
  assert.equal(typeof actual, 'number', `${what}: returns a number`);
  const a = actual as number;
  if (tol.exact || Number.isNaN(expected) || !Number.isFinite(expected)) {
    if (!(Object.is(a, expected) || (Number.isNaN(a) && Number.isNaN(expected)))) assert.fail(`${what}: ${a}, expected ${expected}`);
    return;
  }
  const allowed = tol.valueRtol * Math.abs(expected) + 1e-300;
  if (!(Math.abs(a - expected) <= allowed)) assert.fail(`${what}: ${a}, expected ${expected} (|diff| ${Math.abs(a - expected)} > ${allowed})`);
}

function clone(arrays: Record<string, Float32Array>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(arrays)) out[k] = v.slice();
  return out;
}

/** Runs `call` on fresh copies of `inputs` with both backends and compares every array and the result. */
function agree(
  subject: Backend, oracle: Backend, tol: Tolerance, what: string,
  inputs: Record<string, Float32Array>,
  call: (b: Backend, x: Record<string, Float32Array>) => number | void,
  perElement?: Record<string, Float64Array>,
): void {
  const got = clone(inputs);
  const want = clone(inputs);
  const gotValue = call(subject, got);
  const wantValue = call(oracle, want);
  const result: Outcome = { arrays: got, value: gotValue ?? undefined };
  const expected: Outcome = { arrays: want, value: wantValue ?? undefined };
  for (const name of Object.keys(inputs)) {
    closeArrays(result.arrays[name], expected.arrays[name], tol, `${what} ${name}`, tol.exact ? undefined : perElement?.[name]);
  }
  closeValues(result.value, expected.value, tol, what);
}

// ---- the shared suite -----------------------------------------------------------------------------

function kernelSuite(title: string, getSubject: () => Backend, getOracle: () => Backend, tol: Tolerance): void {
  describe(title, () => {
    const pair = (): [Backend, Backend] => [getSubject(), getOracle()];
    // Reductions accumulate in double: much tighter than elementwise float results (unless exact).
    const reduce: Tolerance = { ...tol, valueRtol: Math.min(tol.valueRtol, 1e-9) };

    it('info', () => {
      const [s] = pair();
      const info = s.info();
      assert.equal(info.name, s.name);
      assert.equal(typeof info.simd, 'string');
      assert.equal(typeof info.blas, 'string');
      assert.ok(info.blasThreads >= 1);
    });

    it('gemm: every transpose, alpha/beta, odd shapes; beta = 0 ignores NaN in C', () => {
      const [s, o] = pair();
      const rng = new Rng(1);
      const shapes: [number, number, number][] = [[1, 1, 1], [2, 3, 1], [1, 7, 17], [17, 1, 3], [33, 65, 7], [130, 17, 130], [65, 130, 33]];
      for (let i = 0; i < 8; i++) shapes.push([rng.pick(DIMS), rng.pick(DIMS), rng.pick(DIMS)]);
      for (const [m, n, k] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const [alpha, beta] of [[1, 0], [0.5, 0], [-1.25, 1], [2, 0.3]]) {
              const what = `gemm ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} m=${m} n=${n} k=${k} alpha=${alpha} beta=${beta}`;
              const a = rng.f32(m * k);
              const b = rng.f32(k * n);
              const c = beta === 0 ? new Float32Array(m * n).fill(NaN) : rng.f32(m * n);
              // Per element: |alpha|·(|op(A)|·|op(B)|) + |beta·C|, times 2e-6·sqrt(k).
              const scale = new Float32Array(m * n);
              float64Oracle.gemm(transA, transB, m, n, k, Math.abs(alpha), a.map(Math.abs), b.map(Math.abs), 0, scale);
              const bound = Float64Array.from(scale, (v, i) => 2e-6 * Math.sqrt(k) * (v + Math.abs(beta === 0 ? 0 : beta * c[i])) + 1e-30);
              agree(s, o, tol, what, { a, b, c }, (be, x) => be.gemm(transA, transB, m, n, k, alpha, x.a, x.b, beta, x.c), { c: bound });
              if (beta === 0) {
                const out = c.slice();
                s.gemm(transA, transB, m, n, k, alpha, a, b, beta, out);
                assert.ok(out.every(Number.isFinite), `${what}: NaN in C leaked through beta = 0`);
              }
            }
          }
        }
      }
    });

    it('gemm: empty sizes, k = 0', () => {
      const [s, o] = pair();
      const rng = new Rng(2);
      for (const [m, n, k] of [[0, 3, 4], [3, 0, 4], [0, 0, 0], [3, 4, 0], [1, 1, 0]]) {
        for (const beta of [0, 0.5]) {
          const c = rng.f32(m * n);
          agree(s, o, tol, `gemm m=${m} n=${n} k=${k} beta=${beta}`, { a: rng.f32(m * k), b: rng.f32(k * n), c },
            (be, x) => be.gemm(false, false, m, n, k, 1.5, x.a, x.b, beta, x.c));
        }
      }
    });

    it('fill, scale, axpy, sumSquares over every length', () => {
      const [s, o] = pair();
      const rng = new Rng(3);
      for (const n of LENGTHS) {
        const value = rng.uniform(-3, 3);
        agree(s, o, tol, `fill n=${n}`, { x: rng.f32(n) }, (b, x) => b.fill(x.x, value));
        const alpha = rng.uniform(-2, 2);
        agree(s, o, tol, `scale n=${n}`, { x: rng.f32(n) }, (b, x) => b.scale(alpha, x.x));
        agree(s, o, tol, `axpy n=${n}`, { x: rng.f32(n), y: rng.f32(n) }, (b, x) => b.axpy(alpha, x.x, x.y));
        agree(s, o, tol, `axpy in place n=${n}`, { y: rng.f32(n) }, (b, x) => b.axpy(alpha, x.y, x.y));
        agree(s, o, reduce, `sumSquares n=${n}`, { x: rng.f32(n, -10, 10) }, (b, x) => b.sumSquares(x.x));
      }
    });

    it('clip and ReLU over every length, in place and with NaN', () => {
      const [s, o] = pair();
      const rng = new Rng(4);
      for (const n of LENGTHS) {
        const x = rng.f32(n, -2, 2);
        if (n > 5) x[5] = NaN;
        const lo = rng.uniform(-1, 0);
        const hi = rng.uniform(0, 1);
        agree(s, o, tol, `clip n=${n}`, { x, out: rng.f32(n) }, (b, v) => b.clip(v.x, lo, hi, v.out));
        agree(s, o, tol, `clip in place n=${n}`, { x }, (b, v) => b.clip(v.x, lo, hi, v.x));
        const r = rng.f32(n);
        agree(s, o, tol, `reluForward n=${n}`, { x: r, y: rng.f32(n) }, (b, v) => b.reluForward(v.x, v.y));
        agree(s, o, tol, `reluForward in place n=${n}`, { x: r }, (b, v) => b.reluForward(v.x, v.x));
        const y = r.map((v) => Math.max(v, 0));
        agree(s, o, tol, `reluBackward n=${n}`, { y, dy: rng.f32(n), dx: rng.f32(n) }, (b, v) => b.reluBackward(v.y, v.dy, v.dx));
        agree(s, o, tol, `reluBackward in place n=${n}`, { y, dy: rng.f32(n) }, (b, v) => b.reluBackward(v.y, v.dy, v.dy));
      }
    });

    it('addRowVector and sumRows over odd shapes', () => {
      const [s, o] = pair();
      const rng = new Rng(5);
      const shapes: [number, number][] = [[0, 5], [5, 0], [1, 1], [1, 67], [67, 1], [3, 17], [130, 7], [33, 300], [2, 1000]];
      for (let i = 0; i < 10; i++) shapes.push([rng.pick(DIMS), rng.pick(LENGTHS)]);
      for (const [rows, cols] of shapes) {
        agree(s, o, tol, `addRowVector ${rows}x${cols}`, { y: rng.f32(rows * cols), bias: rng.f32(cols) },
          (b, x) => b.addRowVector(x.y, x.bias, rows, cols));
        for (const accumulate of [false, true]) {
          const x = rng.f32(rows * cols, -5, 5);
          // A column sum is rounded once to float32: relative to the column's Σ|x|.
          const bound = new Float64Array(cols);
          const out = rng.f32(cols);
          for (let i = 0; i < rows * cols; i++) bound[i % cols] += Math.abs(x[i]);
          for (let c = 0; c < cols; c++) bound[c] = 1e-6 * (bound[c] + (accumulate ? Math.abs(out[c]) : 0)) + 1e-30;
          agree(s, o, tol, `sumRows ${rows}x${cols} accumulate=${accumulate}`, { x, out },
            (b, v) => b.sumRows(v.x, rows, cols, v.out, accumulate), { out: bound });
        }
      }
    });

    it('softmaxCrossEntropy: odd shapes, large logits, with and without dlogits, in place', () => {
      const [s, o] = pair();
      const rng = new Rng(6);
      const shapes: [number, number][] = [[1, 1], [1, 2], [3, 10], [7, 3], [17, 67], [128, 10], [33, 1000], [2, 130]];
      for (const [rows, cols] of shapes) {
        for (const spread of [1, 30, 1000]) {
          const logits = rng.f32(rows * cols, -spread, spread);
          const labels = Int32Array.from({ length: rows }, () => rng.int(cols));
          const what = `softmaxCrossEntropy ${rows}x${cols} spread=${spread}`;
          agree(s, o, { ...tol, valueRtol: Math.min(tol.valueRtol, 1e-9) }, what, { logits, dlogits: rng.f32(rows * cols) },
            (b, x) => b.softmaxCrossEntropy(x.logits, labels, rows, cols, x.dlogits));
          agree(s, o, reduce, `${what} no dlogits`, { logits },
            (b, x) => b.softmaxCrossEntropy(x.logits, labels, rows, cols, null));
          agree(s, o, reduce, `${what} in place`, { logits },
            (b, x) => b.softmaxCrossEntropy(x.logits, labels, rows, cols, x.logits));
          const loss = s.softmaxCrossEntropy(logits, labels, rows, cols, null);
          assert.ok(Number.isFinite(loss) && loss >= 0, `${what}: loss ${loss} is finite and non-negative`);
        }
      }
    });

    it('gatherRowsU8', () => {
      const [s, o] = pair();
      const rng = new Rng(7);
      for (const rowLength of [0, 1, 3, 17, 67, 784]) {
        const srcRows = 9;
        const src = Uint8Array.from({ length: srcRows * rowLength }, () => rng.int(256));
        for (const count of [0, 1, 5, 33]) {
          const indices = Int32Array.from({ length: count }, () => rng.int(srcRows));
          agree(s, o, tol, `gatherRowsU8 rowLength=${rowLength} count=${count}`, { out: rng.f32(count * rowLength) },
            (b, x) => b.gatherRowsU8(src, rowLength, indices, 1 / 255, x.out));
        }
      }
    });

    it('sgdStep, sgdmStep over every length', () => {
      const [s, o] = pair();
      const rng = new Rng(8);
      for (const n of LENGTHS) {
        const lr = rng.uniform(0.01, 0.5);
        agree(s, o, tol, `sgdStep n=${n}`, { p: rng.f32(n), g: rng.f32(n) }, (b, x) => b.sgdStep(x.p, x.g, lr));
        for (const nesterov of [false, true]) {
          const momentum = rng.uniform(0.5, 0.99);
          agree(s, o, tol, `sgdmStep n=${n} nesterov=${nesterov}`, { p: rng.f32(n), m: rng.f32(n), g: rng.f32(n) },
            (b, x) => b.sgdmStep(x.p, x.m, x.g, lr, momentum, nesterov));
        }
      }
    });

    it('adamStep over every length, with and without bias correction', () => {
      const [s, o] = pair();
      const rng = new Rng(9);
      for (const n of LENGTHS) {
        for (const t of [0, 1, 7]) {
          const beta1 = 0.9;
          const beta2 = 0.999;
          const bc1 = t === 0 ? 1 : 1 - beta1 ** t;
          const bc2 = t === 0 ? 1 : 1 - beta2 ** t;
          const lr = rng.uniform(0.01, 0.1);
          agree(s, o, tol, `adamStep n=${n} t=${t}`, { p: rng.f32(n), m: rng.f32(n, -0.1, 0.1), v: rng.positive(n, 0, 0.01), g: rng.f32(n) },
            (b, x) => b.adamStep(x.p, x.m, x.v, x.g, lr, beta1, beta2, 1e-8, bc1, bc2));
        }
      }
    });

    it('nadamwStep over every length', () => {
      const [s, o] = pair();
      const rng = new Rng(10);
      for (const n of LENGTHS) {
        for (const nesterov of [false, true]) {
          const [l2, decay] = rng.pick([[0, 0], [1e-2, 0], [0, 1e-1], [1e-3, 1e-2]]);
          const lrT = rng.uniform(0.01, 0.1);
          agree(s, o, tol, `nadamwStep n=${n} nesterov=${nesterov} l2=${l2} decay=${decay}`,
            { p: rng.f32(n), m: rng.f32(n, -0.1, 0.1), v: rng.positive(n, 0, 0.01), g: rng.f32(n) },
            (b, x) => b.nadamwStep(x.p, x.m, x.v, x.g, lrT, 0.9, 0.999, 1e-8, l2, decay, nesterov));
        }
      }
    });

    it('rmsScale over every length, in place', () => {
      const [s, o] = pair();
      const rng = new Rng(11);
      for (const n of LENGTHS) {
        const decay = rng.uniform(0.5, 0.999);
        const eps = rng.pick([1e-30, 1e-3]);
        agree(s, o, { ...tol, valueRtol: Math.min(tol.valueRtol, 1e-5) }, `rmsScale n=${n} eps=${eps}`,
          { v: rng.positive(n, 1e-4, 1), g: rng.f32(n), u: rng.f32(n) },
          (b, x) => b.rmsScale(x.v, x.g, decay, eps, x.u));
        agree(s, o, { ...tol, valueRtol: Math.min(tol.valueRtol, 1e-5) }, `rmsScale in place n=${n} eps=${eps}`,
          { v: rng.positive(n, 1e-4, 1), g: rng.f32(n) },
          (b, x) => b.rmsScale(x.v, x.g, decay, eps, x.g));
      }
    });

    it('factoredMoments and scaleByFactors over 5-D views', () => {
      const [s, o] = pair();
      const rng = new Rng(12);
      const dimsList: FactoredDims[] = [
        [1, 1, 1, 1, 1], [1, 784, 1, 128, 1], [1, 3, 1, 67, 1], [2, 3, 5, 7, 1], [1, 7, 1, 5, 3],
        [3, 2, 4, 5, 17], [1, 17, 3, 1, 2], [2, 1, 1, 1, 33], [0, 3, 2, 4, 1], [1, 2, 2, 3, 0],
      ];
      for (let i = 0; i < 8; i++) {
        dimsList.push([rng.pick([1, 2, 3]), rng.pick([1, 2, 7, 17]), rng.pick([1, 2, 3]), rng.pick([1, 3, 33, 65]), rng.pick([1, 1, 2, 5])]);
      }
      for (const dims of dimsList) {
        const [pre, na, mid, nb, post] = dims;
        const total = pre * na * mid * nb * post;
        const sizeA = pre * mid * nb * post;
        const sizeB = pre * na * mid * post;
        const decay = rng.uniform(0.5, 0.99);
        const eps = rng.pick([1e-30, 1e-2]);
        agree(s, o, tol, `factoredMoments [${dims}] eps=${eps}`,
          { g: rng.f32(total), vA: rng.positive(sizeA), vB: rng.positive(sizeB) },
          (b, x) => b.factoredMoments(x.g, dims, decay, eps, x.vA, x.vB));
        // u is a float product (a few ulp), so Σ u² is held to the elementwise tolerance.
        const sumOfU: Tolerance = { ...tol, valueRtol: Math.min(tol.valueRtol, 1e-5) };
        agree(s, o, sumOfU, `scaleByFactors [${dims}]`,
          { g: rng.f32(total), fA: rng.positive(sizeA, 0.1, 3), fB: rng.positive(sizeB, 0.1, 3), u: rng.f32(total) },
          (b, x) => b.scaleByFactors(x.g, dims, x.fA, x.fB, x.u));
        agree(s, o, sumOfU, `scaleByFactors in place [${dims}]`,
          { g: rng.f32(total), fA: rng.positive(sizeA, 0.1, 3), fB: rng.positive(sizeB, 0.1, 3) },
          (b, x) => b.scaleByFactors(x.g, dims, x.fA, x.fB, x.g));
      }
    });
  });
}

// ---- backends -------------------------------------------------------------------------------------

const elementwise: Tolerance = { rtol: 1e-5, atolScale: 1e-6, valueRtol: 1e-5 };
const bitwise: Tolerance = { rtol: 0, atolScale: 0, valueRtol: 0, exact: true };

const reference = (): Backend => getBackend('reference');
const native = (): Backend => getBackend('native');

describe('backend selection', () => {
  it('the reference backend is the reference', () => {
    assert.equal(reference().name, 'reference');
  });
  it('the native backend loads (build it with `node scripts/build-native.mjs`)', () => {
    const backend = native();
    assert.equal(backend.name, 'native');
    const info = backend.info();
    assert.ok(['avx512', 'avx2', 'scalar'].includes(info.simd), `simd ${info.simd}`);
    assert.equal(info.blasThreads, 1, 'BLAS starts single-threaded');
    assert.match(info.blas, /OpenBLAS/);
  });
});

kernelSuite('reference backend vs float64', reference, () => float64Oracle, { ...elementwise, rtol: 1e-6, valueRtol: 1e-9 });
kernelSuite('native backend vs reference', native, reference, elementwise);

// Each instruction set must give the very same bits as the default path (no FMA contraction,
// fixed-order reductions).
let simdPaths: string[] = [];
try {
  simdPaths = nativeSimdPaths();
} catch {
  // Reported by 'the native backend loads' above.
}
const defaultSimd = simdPaths[0];
for (const path of simdPaths.slice(1)) {
  kernelSuite(`native ${path} vs native ${defaultSimd}, bitwise`, () => loadNativeBackend({ simd: path as 'avx2' | 'scalar' }), native, bitwise);
}

describe('native backend only: argument checks, threads', () => {
  const f = (n: number): Float32Array => new Float32Array(n);

  it('rejects wrong array types', () => {
    const b = native();
    assert.throws(() => b.sumSquares(new Float64Array(4) as unknown as Float32Array), TypeError);
    assert.throws(() => b.axpy(1, [1, 2] as unknown as Float32Array, f(2)), TypeError);
    assert.throws(() => b.softmaxCrossEntropy(f(4), new Float32Array(2) as unknown as Int32Array, 2, 2, null), TypeError);
    assert.throws(() => b.gatherRowsU8(new Int8Array(4) as unknown as Uint8Array, 2, new Int32Array(1), 1, f(2)), TypeError);
    assert.throws(() => b.sgdStep(f(2), f(2), 'x' as unknown as number), TypeError);
    assert.throws(() => (b.fill as (...args: unknown[]) => void)(f(2)), TypeError);
  });

  it('rejects buffers that are too short', () => {
    const b = native();
    assert.throws(() => b.gemm(false, false, 2, 3, 4, 1, f(7), f(12), 0, f(6)), RangeError);
    assert.throws(() => b.gemm(true, true, 2, 3, 4, 1, f(8), f(12), 0, f(5)), RangeError);
    assert.throws(() => b.axpy(1, f(2), f(3)), RangeError);
    assert.throws(() => b.clip(f(3), 0, 1, f(2)), RangeError);
    assert.throws(() => b.addRowVector(f(6), f(2), 2, 3), RangeError);
    assert.throws(() => b.sumRows(f(6), 2, 3, f(2), false), RangeError);
    assert.throws(() => b.reluBackward(f(3), f(3), f(2)), RangeError);
    assert.throws(() => b.softmaxCrossEntropy(f(5), new Int32Array(2), 2, 3, null), RangeError);
    assert.throws(() => b.softmaxCrossEntropy(f(6), new Int32Array(2), 2, 3, f(5)), RangeError);
    assert.throws(() => b.gatherRowsU8(new Uint8Array(8), 4, new Int32Array(2), 1, f(7)), RangeError);
    assert.throws(() => b.adamStep(f(4), f(4), f(3), f(4), 1, 0.9, 0.999, 1e-8, 1, 1), RangeError);
    assert.throws(() => b.nadamwStep(f(4), f(4), f(4), f(3), 1, 0.9, 0.999, 1e-8, 0, 0, false), RangeError);
    assert.throws(() => b.rmsScale(f(3), f(4), 0.9, 1e-30, f(4)), RangeError);
    assert.throws(() => b.factoredMoments(f(24), [1, 2, 3, 4, 1], 0.9, 1e-30, f(11), f(6)), RangeError);
    assert.throws(() => b.factoredMoments(f(24), [1, 2, 3, 4, 1], 0.9, 1e-30, f(13), f(6)), RangeError);
    assert.throws(() => b.scaleByFactors(f(23), [1, 2, 3, 4, 1], f(12), f(6), f(24)), RangeError);
  });

  it('rejects bad sizes, labels and indices', () => {
    const b = native();
    assert.throws(() => b.gemm(false, false, -1, 1, 1, 1, f(1), f(1), 0, f(1)), RangeError);
    assert.throws(() => b.addRowVector(f(6), f(3), 1.5, 3), RangeError);
    assert.throws(() => b.softmaxCrossEntropy(f(6), Int32Array.of(0, 3), 2, 3, null), RangeError);
    assert.throws(() => b.softmaxCrossEntropy(f(6), Int32Array.of(-1, 0), 2, 3, null), RangeError);
    assert.throws(() => b.gatherRowsU8(new Uint8Array(8), 4, Int32Array.of(2), 1, f(4)), RangeError);
    assert.throws(() => b.gatherRowsU8(new Uint8Array(8), 4, Int32Array.of(-1), 1, f(4)), RangeError);
    assert.throws(() => b.factoredMoments(f(4), [1, -2, 1, 2, 1], 0.9, 1e-30, f(2), f(1)), RangeError);
  });

  it('rejects overlapping buffers except the in-place calls the interface allows', () => {
    const b = native();
    const buffer = f(64);
    const x = buffer.subarray(0, 32);
    const shifted = buffer.subarray(1, 33);
    assert.throws(() => b.axpy(1, x, shifted), RangeError);
    assert.throws(() => b.clip(x, 0, 1, shifted), RangeError);
    assert.throws(() => b.sgdStep(x, x, 0.1), RangeError);
    assert.throws(() => b.adamStep(x, shifted, f(32), f(32), 1, 0.9, 0.999, 1e-8, 1, 1), RangeError);
    assert.throws(() => b.gemm(false, false, 4, 4, 4, 1, buffer.subarray(0, 16), f(16), 0, buffer.subarray(8, 24)), RangeError);
    assert.throws(() => b.sumRows(buffer.subarray(0, 16), 4, 4, buffer.subarray(12, 16), false), RangeError);
    assert.throws(() => b.factoredMoments(x, [1, 4, 1, 8, 1], 0.9, 1e-30, buffer.subarray(0, 8), f(4)), RangeError);
    // Allowed: the very same array.
    b.axpy(1, x, x);
    b.clip(x, 0, 1, x);
    b.reluForward(x, x);
    b.reluBackward(x, x, x);
    b.rmsScale(f(32), x, 0.9, 1e-30, x);
    b.scaleByFactors(x, [1, 4, 1, 8, 1], f(8), f(4), x);
    const logits = f(6);
    b.softmaxCrossEntropy(logits, Int32Array.of(0, 1), 2, 3, logits);
    // Non-overlapping views of one buffer are fine.
    b.axpy(1, buffer.subarray(0, 32), buffer.subarray(32, 64));
  });

  it('accepts booleans as numbers and a missing dlogits', () => {
    const b = native();
    const rng = new Rng(13);
    const a = rng.f32(6);
    const bm = rng.f32(6);
    const c1 = f(4);
    const c2 = f(4);
    b.gemm(true, false, 2, 2, 3, 1, a, bm, 0, c1);
    b.gemm(1 as unknown as boolean, 0 as unknown as boolean, 2, 2, 3, 1, a, bm, 0, c2);
    assert.deepEqual(c1, c2);
    const loss = (b.softmaxCrossEntropy as (...args: unknown[]) => number)(f(6), Int32Array.of(0, 1), 2, 3);
    assert.ok(Math.abs(loss - Math.log(3)) < 1e-6);
  });

  it('rejects SIMD paths this CPU lacks or that do not exist', () => {
    assert.throws(() => loadNativeBackend({ simd: 'nonsense' as 'scalar' }), /not available/);
    assert.throws(() => loadNativeBackend({ simd: 'toString' as 'scalar' }), /not available/);
  });

  it('gemm with more BLAS threads gives the same results', () => {
    const b = native();
    const rng = new Rng(14);
    const [m, n, k] = [130, 200, 300];
    const a = rng.f32(m * k);
    const bm = rng.f32(k * n);
    const one = f(m * n);
    b.gemm(false, true, m, n, k, 1, a, bm.slice(0, n * k), 0, one);
    try {
      setNativeBlasThreads(2);
      assert.equal(b.info().blasThreads, 2);
      const two = f(m * n);
      b.gemm(false, true, m, n, k, 1, a, bm.slice(0, n * k), 0, two);
      closeArrays(two, one, { rtol: 1e-5, atolScale: 1e-6, valueRtol: 0 }, 'gemm with 2 threads');
    } finally {
      setNativeBlasThreads(1);
    }
    assert.equal(b.info().blasThreads, 1);
  });

  it('loads and runs in worker threads without resetting the BLAS thread count', async () => {
    const b = native();
    const url = new URL('../../src/engine/native.js', import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then(({ loadNativeBackend }) => {
        const b = loadNativeBackend();
        const g = new Float32Array(12).fill(0.5), va = new Float32Array(4), vb = new Float32Array(3);
        b.factoredMoments(g, [1, 3, 1, 4, 1], 0, 0, va, vb);
        const c = new Float32Array(4);
        b.gemm(false, false, 2, 2, 3, 1, g, g, 0, c);
        parentPort.postMessage({ va: Array.from(va), c: Array.from(c) });
      });`;
    try {
      setNativeBlasThreads(2);
      const results = await Promise.all([0, 1].map(() => new Promise<{ va: number[]; c: number[] }>((resolve, reject) => {
        const worker = new Worker(code, { eval: true, workerData: { url } });
        worker.once('message', (message) => {
          resolve(message);
          void worker.terminate();
        });
        worker.once('error', reject);
      })));
      for (const result of results) {
        assert.deepEqual(result.va, [0.25, 0.25, 0.25, 0.25]);
        assert.deepEqual(result.c, [0.75, 0.75, 0.75, 0.75]);
      }
      assert.equal(b.info().blasThreads, 2);
    } finally {
      setNativeBlasThreads(1);
    }
  });
});
