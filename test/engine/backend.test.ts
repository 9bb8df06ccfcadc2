// One kernel suite, run against every backend:
// - reference  vs. a straightforward float64 computation written here (the oracle of the oracle);
// - native     vs. the reference backend;
// - wasm       vs. the reference backend;
// - each other SIMD path of the native backend vs. its default path, bit for bit.
// Then native-only checks: argument validation, aliasing rules, BLAS threads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { Backend, BackendInfo, ConvGeometry, FactoredDims } from '../../src/engine/backend.js';
import { getBackend } from '../../src/engine/select.js';
import { loadNativeBackend, nativeSimdPaths, setNativeBlasThreads } from '../../src/engine/native.js';
import { mlpLoptFeatureCount, type MlpLoptNet, type MlpLoptTensor } from '../../src/engine/mlp-lopt.js';
import { oracleMlpLoptAccumulate, oracleMlpLoptApply, oracleNnAdamStep } from '../fixtures/mlp-lopt-oracle.js';
import { layerKernelsOracle } from '../fixtures/layer-kernels-oracle.js';
import { flatten, unflatten } from '../fixtures/indices.js';
import { mulberry32 } from '../fixtures/prng.js';

// ---- deterministic inputs -------------------------------------------------------------------------


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

/** The oracle's im2col (through its padded image) into a Float64Array: [rows, window]. */
function oraclePatches(x: Float32Array, g: ConvGeometry): { rows: number; window: number; cols: Float64Array } {
  const window = g.kernelSize ** 2 * g.channels;
  const rows = g.batch * g.outHeight * g.outWidth;
  const patches = new Float32Array(rows * window);
  float64Oracle.im2col(x, g, patches); // copies: exact in float32
  return { rows, window, cols: Float64Array.from(patches) };
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
  // ---- layer kernels: written output-centric (or through a padded image), unlike the reference ----
  im2col(x, g, cols) {
    // Through an explicitly zero-padded image: cols reads padded[b, oh·stride + kh, ow·stride + kw, c].
    const { batch, height, width, channels, kernelSize: k, stride, padTop, padLeft, outHeight, outWidth } = g;
    const ph = Math.max(padTop + height, (outHeight - 1) * stride + k);
    const pw = Math.max(padLeft + width, (outWidth - 1) * stride + k);
    const padded = new Float64Array(batch * ph * pw * channels);
    for (let i = 0; i < batch * height * width * channels; i++) {
      const [b, ih, iw, c] = unflatten(i, [batch, height, width, channels]);
      padded[flatten([b, ih + padTop, iw + padLeft, c], [batch, ph, pw, channels])] = x[i];
    }
    const colShape = [batch, outHeight, outWidth, k, k, channels];
    for (let i = 0; i < batch * outHeight * outWidth * k * k * channels; i++) {
      const [b, oh, ow, kh, kw, c] = unflatten(i, colShape);
      cols[i] = padded[flatten([b, oh * stride + kh, ow * stride + kw, c], [batch, ph, pw, channels])];
    }
  },
  col2im(cols, g, dx) {
    // For each input element: the sum of every column entry that read it.
    const { batch, height, width, channels, kernelSize: k, stride, padTop, padLeft, outHeight, outWidth } = g;
    const colShape = [batch, outHeight, outWidth, k, k, channels];
    for (let i = 0; i < batch * height * width * channels; i++) {
      const [b, ih, iw, c] = unflatten(i, [batch, height, width, channels]);
      let sum = 0;
      for (let kh = 0; kh < k; kh++) {
        const th = ih + padTop - kh;
        if (th < 0 || th % stride !== 0 || th / stride >= outHeight) continue;
        for (let kw = 0; kw < k; kw++) {
          const tw = iw + padLeft - kw;
          if (tw < 0 || tw % stride !== 0 || tw / stride >= outWidth) continue;
          sum += cols[flatten([b, th / stride, tw / stride, kh, kw, c], colShape)];
        }
      }
      dx[i] = sum;
    }
  },
  // Convolutions through the oracle's own im2col and col2im, with every product summed in double.
  conv2dWorkspaceSize: () => 0,
  conv2dForward(x, w, bias, g, outChannels, y) {
    const { rows, window, cols } = oraclePatches(x, g);
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < outChannels; o++) {
        let sum = bias[o];
        for (let p = 0; p < window; p++) sum += cols[r * window + p] * w[p * outChannels + o];
        y[r * outChannels + o] = sum;
      }
  },
  conv2dBackwardInput(dy, w, g, outChannels, dx) {
    const window = g.kernelSize ** 2 * g.channels;
    const rows = g.batch * g.outHeight * g.outWidth;
    const dcols = new Float64Array(rows * window);
    for (let r = 0; r < rows; r++)
      for (let p = 0; p < window; p++) {
        let sum = 0;
        for (let o = 0; o < outChannels; o++) sum += dy[r * outChannels + o] * w[p * outChannels + o];
        dcols[r * window + p] = sum;
      }
    // col2im reads its columns by index and sums in double: it takes the Float64Array as well.
    float64Oracle.col2im(dcols as unknown as Float32Array, g, dx);
  },
  conv2dBackwardFilter(x, dy, g, outChannels, dw) {
    const { rows, window, cols } = oraclePatches(x, g);
    for (let p = 0; p < window; p++)
      for (let o = 0; o < outChannels; o++) {
        let sum = 0;
        for (let r = 0; r < rows; r++) sum += cols[r * window + p] * dy[r * outChannels + o];
        dw[p * outChannels + o] = sum;
      }
  },
  spatialMean(x, batch, positions, channels, out) {
    for (let o = 0; o < batch * channels; o++) {
      let sum = 0;
      for (let p = 0; p < positions; p++) sum += x[flatten([Math.floor(o / channels), p, o % channels], [batch, positions, channels])];
      out[o] = sum / positions;
    }
  },
  spatialMeanBackward(dy, batch, positions, channels, dx) {
    for (let i = 0; i < batch * positions * channels; i++) {
      const [b, , c] = unflatten(i, [batch, positions, channels]);
      dx[i] = dy[b * channels + c] / positions;
    }
  },
  sigmoid(x, y) {
    for (let i = 0; i < x.length; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
  },
  tanh(x, y) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      y[i] = Math.abs(v) > 20 ? Math.sign(v) : Math.expm1(2 * v) / (Math.expm1(2 * v) + 2);
    }
  },
  sigmoidMse(logits, target, dlogits) {
    const n = logits.length;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const s = 1 / (1 + Math.exp(-logits[i]));
      loss += (target[i] - s) ** 2;
      if (dlogits) dlogits[i] = (-2 * (target[i] - s) * s * (1 - s)) / n;
    }
    return loss / n;
  },
  gatherRows(table, rowLength, indices, out) {
    for (let i = 0; i < indices.length * rowLength; i++) out[i] = table[indices[Math.floor(i / rowLength)] * rowLength + (i % rowLength)];
  },
  scatterAddRows(src, rowLength, indices, table) {
    for (let t = 0; t * rowLength < table.length; t++) {
      for (let j = 0; j < rowLength; j++) {
        let sum = 0;
        for (let i = 0; i < indices.length; i++) if (indices[i] === t) sum += src[i * rowLength + j];
        table[t * rowLength + j] = table[t * rowLength + j] + sum;
      }
    }
  },
  swapLeadingAxes(x, d0, d1, inner, out) {
    for (let o = 0; o < d0 * d1 * inner; o++) {
      const [j, i, k] = unflatten(o, [d1, d0, inner]);
      out[o] = x[flatten([i, j, k], [d0, d1, inner])];
    }
  },
  lstmCellForward(gates, cPrev, rows, hidden, c, h, tanhC) {
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    for (let s = 0; s < rows * hidden; s++) {
      const [r, j] = unflatten(s, [rows, hidden]);
      const at = (gate: number): number => flatten([r, gate, j], [rows, 4, hidden]);
      const i = sig(gates[at(0)]);
      const g = Math.tanh(gates[at(1)]);
      const f = sig(gates[at(2)] + 1);
      const o = sig(gates[at(3)]);
      const cNew = Math.fround(f * cPrev[s] + i * g); // the state is stored in float32
      [gates[at(0)], gates[at(1)], gates[at(2)], gates[at(3)]] = [i, g, f, o];
      c[s] = cNew;
      tanhC[s] = Math.tanh(cNew);
      h[s] = o * Math.tanh(cNew);
    }
  },
  lstmCellBackward(act, cPrev, tanhC, dh, dc, rows, hidden, dGates) {
    // Chain rule: dσ(z)/dz = σ(1 − σ), dtanh(z)/dz = 1 − tanh².
    for (let s = 0; s < rows * hidden; s++) {
      const [r, j] = unflatten(s, [rows, hidden]);
      const at = (gate: number): number => flatten([r, gate, j], [rows, 4, hidden]);
      const [i, g, f, o] = [act[at(0)], act[at(1)], act[at(2)], act[at(3)]];
      const dcNew = dc[s] + dh[s] * o * (1 - tanhC[s] ** 2);
      dGates[at(0)] = dcNew * g * (i - i * i);
      dGates[at(1)] = dcNew * i * (1 - g ** 2);
      dGates[at(2)] = dcNew * cPrev[s] * (f - f * f);
      dGates[at(3)] = dh[s] * tanhC[s] * (o - o * o);
      dc[s] = dcNew * f;
    }
  },
  // Normalization, pooling, GELU and attention kernels: written independently in test/fixtures/layer-kernels-oracle.ts.
  ...layerKernelsOracle,
  // Learned-optimizer kernels: written independently in test/fixtures/mlp-lopt-oracle.ts.
  mlpLoptAccumulate: oracleMlpLoptAccumulate,
  mlpLoptApply: oracleMlpLoptApply,
  nnAdamStep: oracleNnAdamStep,
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

    // ---- layer kernels ----------------------------------------------------------------------------

    it('im2col and col2im: SAME and odd paddings, strides, kernel sizes, tiny and CIFAR-like shapes', () => {
      const [s, o] = pair();
      const rng = new Rng(15);
      const geometries: ConvGeometry[] = [];
      const add = (batch: number, height: number, width: number, channels: number, kernelSize: number, stride: number,
        padTop: number, padLeft: number, padBottom: number, padRight: number): void => {
        const outHeight = Math.max(0, Math.floor((height + padTop + padBottom - kernelSize) / stride) + 1);
        const outWidth = Math.max(0, Math.floor((width + padLeft + padRight - kernelSize) / stride) + 1);
        geometries.push({ batch, height, width, channels, kernelSize, stride, padTop, padLeft, outHeight, outWidth });
      };
      // TensorFlow SAME: out = ceil(in/stride), total = max((out − 1)·stride + k − in, 0), floor(total/2) before.
      const same = (batch: number, height: number, width: number, channels: number, k: number, stride: number): void => {
        const pads = (size: number): [number, number] => {
          const total = Math.max((Math.ceil(size / stride) - 1) * stride + k - size, 0);
          return [Math.floor(total / 2), total - Math.floor(total / 2)];
        };
        const [top, bottom] = pads(height);
        const [left, right] = pads(width);
        add(batch, height, width, channels, k, stride, top, left, bottom, right);
      };
      same(2, 32, 32, 3, 3, 2); // CIFAR conv 1: no padding before, one row and column after
      same(1, 16, 16, 32, 3, 1); // CIFAR convs 2 and 3
      same(1, 5, 4, 2, 3, 2);
      same(3, 1, 1, 1, 3, 1);
      same(1, 7, 3, 5, 5, 3);
      same(2, 6, 6, 3, 2, 1);
      same(1, 4, 4, 1, 1, 1);
      same(0, 3, 3, 2, 3, 1);
      same(1, 3, 3, 0, 3, 1);
      add(1, 3, 4, 2, 3, 1, 2, 0, 2, 1); // whole kernel rows in the padding
      add(1, 2, 2, 3, 3, 1, 0, 0, 0, 0); // kernel larger than the image: no output
      for (let i = 0; i < 6; i++) {
        const k = 1 + rng.int(4);
        add(1 + rng.int(2), 1 + rng.int(9), 1 + rng.int(9), rng.pick([1, 2, 3, 5, 17]), k, 1 + rng.int(3),
          rng.int(k), rng.int(k), rng.int(k), rng.int(k));
      }
      for (const g of geometries) {
        const what = `${JSON.stringify(g)}`;
        const xLength = g.batch * g.height * g.width * g.channels;
        const colsLength = g.batch * g.outHeight * g.outWidth * g.kernelSize ** 2 * g.channels;
        agree(s, o, tol, `im2col ${what}`, { x: rng.f32(xLength), cols: rng.f32(colsLength) }, (b, v) => b.im2col(v.x, g, v.cols));
        const cols = rng.f32(colsLength);
        // Each dx element is a float sum of at most kernelSize² entries: relative to their Σ|entry|.
        const magnitude = new Float32Array(xLength);
        float64Oracle.col2im(cols.map(Math.abs), g, magnitude);
        const bound = Float64Array.from(magnitude, (v) => 1e-6 * v + 1e-30);
        agree(s, o, tol, `col2im ${what}`, { cols, dx: rng.f32(xLength) }, (b, v) => b.col2im(v.cols, g, v.dx), { dx: bound });
      }
    });

    it('conv2d forward, input and filter gradients: Winograd (3x3 stride 1) and im2col geometries, odd sizes', () => {
      const [s, o] = pair();
      const rng = new Rng(21);
      const cases: [ConvGeometry, number][] = [];
      const add = (batch: number, height: number, width: number, channels: number, outChannels: number, kernelSize: number,
        stride: number, padTop: number, padLeft: number, padBottom: number, padRight: number): void => {
        const outHeight = Math.max(0, Math.floor((height + padTop + padBottom - kernelSize) / stride) + 1);
        const outWidth = Math.max(0, Math.floor((width + padLeft + padRight - kernelSize) / stride) + 1);
        cases.push([{ batch, height, width, channels, kernelSize, stride, padTop, padLeft, outHeight, outWidth }, outChannels]);
      };
      // 3x3 stride 1 (native: Winograd): SAME, odd sizes (partial 2x2 tiles), channels across the padding
      // to 16, valid (no padding), full (padding 2), uneven padding, a CIFAR-like layer, empty edges.
      add(2, 5, 7, 3, 5, 3, 1, 1, 1, 1, 1);
      add(1, 16, 16, 32, 64, 3, 1, 1, 1, 1, 1);
      add(3, 8, 8, 17, 33, 3, 1, 1, 1, 1, 1);
      add(1, 6, 9, 4, 2, 3, 1, 0, 0, 0, 0);
      add(1, 4, 3, 2, 3, 3, 1, 2, 2, 2, 2);
      add(2, 5, 6, 3, 4, 3, 1, 2, 0, 1, 2);
      add(1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1);
      add(2, 3, 3, 16, 16, 3, 1, 1, 1, 1, 1);
      add(0, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1);
      add(1, 4, 4, 0, 3, 3, 1, 1, 1, 1, 1);
      add(1, 4, 4, 2, 0, 3, 1, 1, 1, 1, 1);
      // Everything else (native: im2col + gemm by chunks of images): strided (CIFAR conv 1), other kernels,
      // padding wider than the Winograd path takes, enough images for several chunks.
      add(2, 32, 32, 3, 8, 3, 2, 0, 0, 1, 1);
      add(3, 7, 5, 2, 3, 3, 2, 1, 1, 1, 1);
      add(1, 7, 3, 5, 2, 5, 3, 2, 2, 2, 2);
      add(2, 6, 6, 3, 4, 2, 1, 0, 0, 1, 1);
      add(1, 4, 4, 3, 2, 1, 1, 0, 0, 0, 0);
      add(1, 3, 4, 2, 2, 3, 1, 3, 0, 3, 1);
      add(70, 8, 8, 2, 3, 3, 2, 0, 0, 1, 1);
      add(0, 4, 4, 2, 3, 3, 2, 0, 0, 1, 1);
      add(1, 4, 4, 0, 3, 3, 2, 0, 0, 1, 1);
      for (let i = 0; i < 4; i++) {
        const k = 1 + rng.int(4);
        add(1 + rng.int(2), 1 + rng.int(9), 1 + rng.int(9), rng.pick([1, 2, 3, 5, 17]), rng.pick([1, 2, 3, 7, 20]), k, 1 + rng.int(3),
          rng.int(k), rng.int(k), rng.int(k), rng.int(k));
      }
      for (const [g, co] of cases) {
        const what = `${JSON.stringify(g)} outChannels=${co}`;
        const xLength = g.batch * g.height * g.width * g.channels;
        const yLength = g.batch * g.outHeight * g.outWidth * co;
        const wLength = g.kernelSize ** 2 * g.channels * co;
        const x = rng.f32(xLength);
        const w = rng.f32(wLength);
        const bias = rng.f32(co);
        const dy = rng.f32(yLength);
        const scratch = (b: Backend): Float32Array => new Float32Array(b.conv2dWorkspaceSize(g, co)).fill(NaN);
        // Per element: 2e-7·(4 + sqrt(terms)) times the largest Σ|term| among its neighbours (native errors
        // measured at most a few % of this). Winograd computes 2x2 outputs of one channel together, and the
        // kernel gradient's 3x3 taps of one channel pair together: an element's error follows the
        // magnitudes of its tile, not only its own terms.
        const abs = (a: Float32Array): Float32Array => a.map(Math.abs);
        const bound = (magnitude: Float32Array, shape: number[], spatial: number, terms: number): Float64Array => {
          const [d0, h, wd, c] = shape;
          return Float64Array.from(magnitude, (_, i) => {
            const [b, r, q, ch] = unflatten(i, shape);
            let peak = 0;
            for (let dr = -spatial; dr <= spatial; dr++)
              for (let dq = -spatial; dq <= spatial; dq++) {
                const rr = r + dr;
                const qq = q + dq;
                if (rr >= 0 && rr < h && qq >= 0 && qq < wd) peak = Math.max(peak, magnitude[flatten([b, rr, qq, ch], [d0, h, wd, c])]);
              }
            return 2e-7 * (4 + Math.sqrt(terms)) * peak + 1e-30;
          });
        };
        const yMagnitude = new Float32Array(yLength);
        float64Oracle.conv2dForward(abs(x), abs(w), abs(bias), g, co, yMagnitude, new Float32Array(0));
        agree(s, o, tol, `conv2dForward ${what}`, { x, w, bias, y: rng.f32(yLength) },
          (b, v) => b.conv2dForward(v.x, v.w, v.bias, g, co, v.y, scratch(b)),
          { y: bound(yMagnitude, [g.batch, g.outHeight, g.outWidth, co], 1, g.kernelSize ** 2 * g.channels) });
        const dxMagnitude = new Float32Array(xLength);
        float64Oracle.conv2dBackwardInput(abs(dy), abs(w), g, co, dxMagnitude, new Float32Array(0));
        agree(s, o, tol, `conv2dBackwardInput ${what}`, { dy, w, dx: rng.f32(xLength) },
          (b, v) => b.conv2dBackwardInput(v.dy, v.w, g, co, v.dx, scratch(b)),
          { dx: bound(dxMagnitude, [g.batch, g.height, g.width, g.channels], 1, g.kernelSize ** 2 * co) });
        const dwMagnitude = new Float32Array(wLength);
        float64Oracle.conv2dBackwardFilter(abs(x), abs(dy), g, co, dwMagnitude, new Float32Array(0));
        agree(s, o, tol, `conv2dBackwardFilter ${what}`, { x, dy, dw: rng.f32(wLength) },
          (b, v) => b.conv2dBackwardFilter(v.x, v.dy, g, co, v.dw, scratch(b)),
          { dw: bound(dwMagnitude, [1, g.kernelSize, g.kernelSize, g.channels * co], g.kernelSize, g.batch * g.outHeight * g.outWidth) });
      }
    });

    it('spatialMean and spatialMeanBackward over odd shapes', () => {
      const [s, o] = pair();
      const rng = new Rng(16);
      const shapes: [number, number, number][] = [[1, 1, 1], [2, 64, 10], [3, 7, 67], [1, 256, 300], [0, 4, 3], [2, 5, 0], [16, 64, 64]];
      for (let i = 0; i < 4; i++) shapes.push([1 + rng.int(3), rng.pick(DIMS), rng.pick(DIMS)]);
      for (const [batch, positions, channels] of shapes) {
        const what = `[${batch}, ${positions}, ${channels}]`;
        agree(s, o, tol, `spatialMean ${what}`, { x: rng.f32(batch * positions * channels, -5, 5), out: rng.f32(batch * channels) },
          (b, v) => b.spatialMean(v.x, batch, positions, channels, v.out));
        agree(s, o, tol, `spatialMeanBackward ${what}`, { dy: rng.f32(batch * channels), dx: rng.f32(batch * positions * channels) },
          (b, v) => b.spatialMeanBackward(v.dy, batch, positions, channels, v.dx));
      }
    });

    it('sigmoid and tanh over every length, wide ranges and extremes, in place', () => {
      const [s, o] = pair();
      const rng = new Rng(17);
      const extremes = [0, -0, 1e-30, -1e-30, 1e-4, -1e-4, 0.3, 0.55, 0.625, -0.625, 0.62500006, 5, 9.01, 15, -15, 20,
        44, 87, -87, 87.5, -87.5, 88, 88.5, 89, -89, -103, -104, 200, -200, Infinity, -Infinity, NaN];
      const inputs = LENGTHS.map((n) => rng.f32(n, -12, 12));
      inputs.push(Float32Array.from(extremes), rng.f32(4099, -100, 100), rng.f32(1000, -1, 1));
      for (const x of inputs) {
        const n = x.length;
        agree(s, o, tol, `sigmoid n=${n}`, { x, y: rng.f32(n) }, (b, v) => b.sigmoid(v.x, v.y));
        agree(s, o, tol, `sigmoid in place n=${n}`, { x }, (b, v) => b.sigmoid(v.x, v.x));
        agree(s, o, tol, `tanh n=${n}`, { x, y: rng.f32(n) }, (b, v) => b.tanh(v.x, v.y));
        agree(s, o, tol, `tanh in place n=${n}`, { x }, (b, v) => b.tanh(v.x, v.x));
      }
    });

    it('sigmoidMse over every length, with and without dlogits, in place', () => {
      const [s, o] = pair();
      const rng = new Rng(18);
      // The loss sums float residuals (native) in double: held to the elementwise tolerance.
      const loss: Tolerance = { ...tol, valueRtol: Math.min(tol.valueRtol, 1e-5) };
      for (const n of LENGTHS) {
        const logits = rng.f32(n, -8, 8);
        if (n > 10) [logits[3], logits[7]] = [40, -40];
        const target = rng.positive(n, 0, 1);
        agree(s, o, loss, `sigmoidMse n=${n}`, { logits, target, dlogits: rng.f32(n) },
          (b, v) => b.sigmoidMse(v.logits, v.target, v.dlogits));
        agree(s, o, loss, `sigmoidMse no dlogits n=${n}`, { logits, target }, (b, v) => b.sigmoidMse(v.logits, v.target, null));
        agree(s, o, loss, `sigmoidMse in place n=${n}`, { logits, target }, (b, v) => b.sigmoidMse(v.logits, v.target, v.logits));
      }
    });

    it('gatherRows and scatterAddRows with repeated indices', () => {
      const [s, o] = pair();
      const rng = new Rng(19);
      const tableRows = 9;
      for (const rowLength of [0, 1, 3, 17, 64, 67]) {
        for (const count of [0, 1, 5, 40]) {
          const indices = Int32Array.from({ length: count }, () => rng.int(tableRows));
          const what = `rowLength=${rowLength} count=${count}`;
          agree(s, o, tol, `gatherRows ${what}`, { table: rng.f32(tableRows * rowLength), out: rng.f32(count * rowLength) },
            (b, v) => b.gatherRows(v.table, rowLength, indices, v.out));
          const src = rng.f32(count * rowLength);
          const table = rng.f32(tableRows * rowLength);
          // Repeated rows are float sums: relative to Σ|terms|.
          const bound = Float64Array.from(table, (v) => Math.abs(v));
          for (let i = 0; i < count * rowLength; i++) bound[indices[Math.floor(i / rowLength)] * rowLength + (i % rowLength)] += Math.abs(src[i]);
          for (let i = 0; i < bound.length; i++) bound[i] = 1e-6 * bound[i] + 1e-30;
          agree(s, o, tol, `scatterAddRows ${what}`, { src, table }, (b, v) => b.scatterAddRows(v.src, rowLength, indices, v.table), { table: bound });
        }
      }
    });

    it('swapLeadingAxes over odd shapes', () => {
      const [s, o] = pair();
      const rng = new Rng(20);
      const shapes: [number, number, number][] = [[1, 1, 1], [2, 3, 4], [32, 16, 64], [3, 0, 2], [7, 5, 1], [5, 7, 67], [4, 3, 0]];
      for (const [d0, d1, inner] of shapes) {
        agree(s, o, tol, `swapLeadingAxes [${d0}, ${d1}, ${inner}]`, { x: rng.f32(d0 * d1 * inner), out: rng.f32(d0 * d1 * inner) },
          (b, v) => b.swapLeadingAxes(v.x, d0, d1, inner, v.out));
      }
    });

    it('lstmCellForward and lstmCellBackward: odd rows and widths, c in place', () => {
      const [s, o] = pair();
      const rng = new Rng(21);
      const shapes: [number, number][] = [[1, 1], [1, 2], [3, 5], [2, 16], [7, 17], [4, 67], [32, 128], [0, 3]];
      for (const [rows, hidden] of shapes) {
        const n = rows * hidden;
        const what = `rows=${rows} hidden=${hidden}`;
        const gates = rng.f32(4 * n, -4, 4);
        const cPrev = rng.f32(n, -3, 3);
        agree(s, o, tol, `lstmCellForward ${what}`, { gates, cPrev, c: rng.f32(n), h: rng.f32(n), tanhC: rng.f32(n) },
          (b, v) => b.lstmCellForward(v.gates, v.cPrev, rows, hidden, v.c, v.h, v.tanhC));
        agree(s, o, tol, `lstmCellForward c in place ${what}`, { gates, c: cPrev, h: rng.f32(n), tanhC: rng.f32(n) },
          (b, v) => b.lstmCellForward(v.gates, v.c, rows, hidden, v.c, v.h, v.tanhC));
        // Backward from the saved values of a real forward step.
        const act = gates.slice();
        const tanhC = new Float32Array(n);
        float64Oracle.lstmCellForward(act, cPrev, rows, hidden, new Float32Array(n), new Float32Array(n), tanhC);
        agree(s, o, tol, `lstmCellBackward ${what}`,
          { act, cPrev, tanhC, dh: rng.f32(n), dc: rng.f32(n), dGates: rng.f32(4 * n) },
          (b, v) => b.lstmCellBackward(v.act, v.cPrev, v.tanhC, v.dh, v.dc, rows, hidden, v.dGates));
      }
    });

    it('batchNormForward (training and evaluation) and batchNormBackward, dx in place', () => {
      const [s, o] = pair();
      const rng = new Rng(40);
      const shapes: [number, number][] = [[1, 1], [2, 3], [7, 17], [64, 67], [130, 300], [5, 0], [0, 4], [33, 256]];
      for (const [rows, channels] of shapes) {
        const n = rows * channels;
        const what = `rows=${rows} channels=${channels}`;
        const x = rng.f32(n, -3, 2);
        const gamma = rng.f32(channels, 0.5, 2);
        const beta = rng.f32(channels);
        agree(s, o, tol, `batchNormForward training ${what}`, { x, gamma, beta, mean: rng.f32(channels), invStd: rng.f32(channels), y: rng.f32(n) },
          (b, v) => b.batchNormForward(v.x, rows, channels, v.gamma, v.beta, 1e-5, true, v.mean, v.invStd, v.y));
        agree(s, o, tol, `batchNormForward evaluation in place ${what}`, { y: x, gamma, beta, mean: rng.f32(channels), invStd: rng.positive(channels, 0.5, 2) },
          (b, v) => b.batchNormForward(v.y, rows, channels, v.gamma, v.beta, 1e-5, false, v.mean, v.invStd, v.y));
        const mean = new Float32Array(channels);
        const invStd = new Float32Array(channels);
        float64Oracle.batchNormForward(x, rows, channels, gamma, beta, 1e-5, true, mean, invStd, new Float32Array(n));
        const dy = rng.f32(n);
        agree(s, o, tol, `batchNormBackward ${what}`, { x, dy, gamma, mean, invStd, dx: rng.f32(n), dgamma: rng.f32(channels), dbeta: rng.f32(channels) },
          (b, v) => b.batchNormBackward(v.x, v.dy, rows, channels, v.gamma, v.mean, v.invStd, v.dx, v.dgamma, v.dbeta));
        agree(s, o, tol, `batchNormBackward dx = dy ${what}`, { x, dx: dy, gamma, mean, invStd, dgamma: rng.f32(channels), dbeta: rng.f32(channels) },
          (b, v) => b.batchNormBackward(v.x, v.dx, rows, channels, v.gamma, v.mean, v.invStd, v.dx, v.dgamma, v.dbeta));
      }
    });

    it('layerNormForward and layerNormBackward, in place', () => {
      const [s, o] = pair();
      const rng = new Rng(41);
      // (Not 2 features: the output is then ±1 whatever x, and dx is rounding noise around 0.)
      const shapes: [number, number][] = [[1, 1], [3, 3], [5, 17], [7, 64], [2, 768], [0, 5], [4, 0], [33, 130]];
      for (const [rows, features] of shapes) {
        const n = rows * features;
        const what = `rows=${rows} features=${features}`;
        const x = rng.f32(n, -2, 3);
        const gamma = rng.f32(features, 0.5, 2);
        const beta = rng.f32(features);
        agree(s, o, tol, `layerNormForward ${what}`, { x, gamma, beta, mean: rng.f32(rows), invStd: rng.f32(rows), y: rng.f32(n) },
          (b, v) => b.layerNormForward(v.x, rows, features, v.gamma, v.beta, 1e-5, v.mean, v.invStd, v.y));
        agree(s, o, tol, `layerNormForward in place ${what}`, { y: x, gamma, beta, mean: rng.f32(rows), invStd: rng.f32(rows) },
          (b, v) => b.layerNormForward(v.y, rows, features, v.gamma, v.beta, 1e-5, v.mean, v.invStd, v.y));
        const mean = new Float32Array(rows);
        const invStd = new Float32Array(rows);
        float64Oracle.layerNormForward(x, rows, features, gamma, beta, 1e-5, mean, invStd, new Float32Array(n));
        const dy = rng.f32(n);
        agree(s, o, tol, `layerNormBackward ${what}`, { x, dy, gamma, mean, invStd, dx: rng.f32(n), dgamma: rng.f32(features), dbeta: rng.f32(features) },
          (b, v) => b.layerNormBackward(v.x, v.dy, rows, features, v.gamma, v.mean, v.invStd, v.dx, v.dgamma, v.dbeta));
        agree(s, o, tol, `layerNormBackward dx = dy ${what}`, { x, dx: dy, gamma, mean, invStd, dgamma: rng.f32(features), dbeta: rng.f32(features) },
          (b, v) => b.layerNormBackward(v.x, v.dx, rows, features, v.gamma, v.mean, v.invStd, v.dx, v.dgamma, v.dbeta));
      }
    });

    it('maxPoolForward and maxPoolBackward: SAME windows, ties, strides, overlapping windows', () => {
      const [s, o] = pair();
      const rng = new Rng(42);
      // [batch, height, width, channels, kernel, stride, padTop, padLeft, outHeight, outWidth]
      const cases: number[][] = [
        [1, 1, 1, 1, 3, 2, 1, 1, 1, 1], [2, 8, 8, 3, 3, 2, 0, 0, 4, 4], [1, 7, 5, 17, 3, 2, 1, 1, 4, 3],
        [2, 4, 4, 2, 2, 2, 0, 0, 2, 2], [1, 6, 6, 64, 3, 1, 1, 1, 6, 6], [3, 5, 5, 1, 3, 2, 1, 1, 3, 3],
      ];
      for (const [batch, height, width, channels, kernelSize, stride, padTop, padLeft, outHeight, outWidth] of cases) {
        const g: ConvGeometry = { batch, height, width, channels, kernelSize, stride, padTop, padLeft, outHeight, outWidth };
        const what = `[${batch}, ${height}, ${width}, ${channels}] k${kernelSize} s${stride}`;
        // Values on a coarse grid so that windows hold ties (the first maximum wins).
        const x = Float32Array.from(rng.f32(batch * height * width * channels, -2, 2), (v) => Math.round(v * 2) / 2);
        const outputs = batch * outHeight * outWidth * channels;
        const argmax = { s: new Int32Array(outputs), o: new Int32Array(outputs) };
        agree(s, o, tol, `maxPoolForward ${what}`, { x, y: rng.f32(outputs) },
          (b, v) => b.maxPoolForward(v.x, g, v.y, b === s ? argmax.s : argmax.o));
        assert.deepEqual(argmax.s, argmax.o, `maxPoolForward ${what}: argmax`);
        agree(s, o, tol, `maxPoolBackward ${what}`, { dy: rng.f32(outputs), dx: rng.f32(x.length) },
          (b, v) => b.maxPoolBackward(v.dy, argmax.o, v.dx));
      }
    });

    it('add, geluForward and geluBackward over every tail, in place', () => {
      const [s, o] = pair();
      const rng = new Rng(43);
      for (const n of LENGTHS) {
        const a = rng.f32(n, -6, 6);
        const b2 = rng.f32(n, -6, 6);
        agree(s, o, tol, `add n=${n}`, { a, b: b2, out: rng.f32(n) }, (b, v) => b.add(v.a, v.b, v.out));
        agree(s, o, tol, `add out = a n=${n}`, { a, b: b2 }, (b, v) => b.add(v.a, v.b, v.a));
        agree(s, o, tol, `geluForward n=${n}`, { x: a, y: rng.f32(n) }, (b, v) => b.geluForward(v.x, v.y));
        agree(s, o, tol, `geluForward in place n=${n}`, { y: a }, (b, v) => b.geluForward(v.y, v.y));
        agree(s, o, tol, `geluBackward n=${n}`, { x: a, dy: b2, dx: rng.f32(n) }, (b, v) => b.geluBackward(v.x, v.dy, v.dx));
        agree(s, o, tol, `geluBackward dx = dy n=${n}`, { x: a, dx: b2 }, (b, v) => b.geluBackward(v.x, v.dx, v.dx));
      }
    });

    it('causalSoftmax and causalSoftmaxBackward: odd lengths, several heads, in place', () => {
      const [s, o] = pair();
      const rng = new Rng(44);
      const shapes: [number, number][] = [[1, 1], [1, 2], [2, 5], [3, 17], [2, 64], [1, 67], [0, 4], [4, 0]];
      for (const [heads, length] of shapes) {
        const n = heads * length * length;
        const what = `heads=${heads} length=${length}`;
        const scale = 1 / Math.sqrt(1 + rng.int(64));
        const x = rng.f32(n, -8, 8);
        agree(s, o, tol, `causalSoftmax ${what}`, { x, y: rng.f32(n) }, (b, v) => b.causalSoftmax(v.x, heads, length, scale, v.y));
        agree(s, o, tol, `causalSoftmax in place ${what}`, { y: x }, (b, v) => b.causalSoftmax(v.y, heads, length, scale, v.y));
        const y = new Float32Array(n);
        float64Oracle.causalSoftmax(x, heads, length, scale, y);
        const dy = rng.f32(n);
        agree(s, o, tol, `causalSoftmaxBackward ${what}`, { y, dy, dx: rng.f32(n) },
          (b, v) => b.causalSoftmaxBackward(v.y, v.dy, heads, length, scale, v.dx));
        agree(s, o, tol, `causalSoftmaxBackward dx = dy ${what}`, { y, dx: dy },
          (b, v) => b.causalSoftmaxBackward(v.y, v.dx, heads, length, scale, v.dx));
      }
    });

    it('mlpLoptAccumulate and mlpLoptApply: feature layouts, factored 5-D views, both MLP paths, extra outputs', () => {
      const [s, o] = pair();
      const rng = new Rng(31);
      // Outside the bitwise rule: small_fc_lopt's register loops fuse multiply-adds (FMA) on AVX2 and AVX-512
      // (the same fused operations on both), so the baseline path, on either side ($LOPT_NATIVE_SIMD may make
      // it the default), agrees with them to rounding.
      const baseline = s.info().simd === 'scalar' || o.info().simd === 'scalar';
      const mine: Tolerance = tol.exact && baseline ? { rtol: 1e-5, atolScale: 1e-6, valueRtol: 1e-5 } : tol;
      // [nm, nr, na, logAbsP, m·rsqrt(v), m·factors]: small_fc_lopt, fc_lopt, rnn_fc_lopt, union, broadcast pairings.
      const layouts: [number, number, number, boolean, boolean, boolean][] = [
        [3, 1, 3, false, true, true], [6, 0, 0, false, false, false], [5, 5, 0, true, true, false], [2, 2, 2, false, true, true],
        [1, 3, 0, false, true, false], [3, 0, 1, false, false, true], [0, 0, 0, false, false, false], [0, 2, 3, true, false, false],
      ];
      // Factored views [pre, na, mid, nb, post] with rowIsA, or null for an unfactored tensor of n elements.
      const views: [FactoredDims | null, boolean, number][] = [
        [null, false, 1], [null, false, 37], [[1, 7, 1, 5, 1], true, 35], [[1, 5, 1, 7, 1], false, 35], [[1, 9, 1, 40, 1], true, 360],
        [[2, 3, 1, 4, 3], true, 72], [[1, 4, 3, 4, 1], false, 48], [[3, 4, 1, 6, 1], true, 72], [[1, 33, 1, 10, 1], true, 330],
        [[2, 16, 1, 32, 1], true, 1024],
      ];
      let count = 0;
      for (const [nm, nr, na, logAbsP, mTimesRsqrtV, mTimesFactors] of layouts) {
        for (const [dims, rowIsA, n] of views) {
          if (dims && na === 0) continue;
          if (count++ % 2 === 1 && n > 100) continue; // keep the suite quick: every layout meets small and large views
          const factored = dims !== null;
          const [pre, va, mid, vb, post] = dims ?? [0, 0, 0, 0, 0];
          const sizeA = pre * mid * vb * post;
          const sizeB = pre * va * mid * post;
          const perElement = nm + nr + (factored ? 0 : na);
          const acc = new Float32Array(perElement * n);
          acc.set(rng.f32(nm * n, -0.5, 0.5));
          acc.set(rng.positive((perElement - nm) * n, 0, 0.3), nm * n);
          const decays = Float32Array.from({ length: nm + nr + na }, () => rng.uniform(0.1, 0.999));
          const stats = factored ? rng.positive(2 * na * (sizeA + sizeB), 1e-4, 0.5) : new Float32Array(0);
          const tensor = (x: Record<string, Float32Array>): MlpLoptTensor => ({
            p: x.p, g: x.g, nm, nr, na, acc: x.acc, decays, logAbsP, mTimesRsqrtV, mTimesFactors,
            factored: factored ? { dims: dims!, rowIsA, stats: x.stats } : null,
          });
          const F = mlpLoptFeatureCount({ nm, nr, na, logAbsP, mTimesRsqrtV, mTimesFactors });
          const what = `[${nm}, ${nr}, ${na}${logAbsP ? ', log|p|' : ''}${mTimesRsqrtV ? ', m·r' : ''}${mTimesFactors ? ', m·f' : ''}] ${dims ? `[${dims}] rowIsA=${rowIsA}` : `n=${n}`}`;
          const p = rng.f32(n, -1e-3, 1e-3);
          const g = rng.f32(n, -1, 1);
          agree(s, o, { ...mine, valueRtol: mine.exact ? 0 : 1e-5 }, `mlpLoptAccumulate ${what}`,
            { p, g, acc, stats, moments: new Float32Array(2 * F) },
            (b, x) => {
              const moments = new Float64Array(2 * F);
              b.mlpLoptAccumulate(tensor(x), moments);
              x.moments.set(moments);
            });
          // Apply on accumulators as one accumulate pass leaves them (factors included); p in [−1, 1] as for
          // the other optimizer steps (the MLP's float32 sums cancel: compare p, not the step alone).
          const after = { p: rng.f32(n, -1, 1), g, acc: acc.slice(), stats: stats.slice() };
          float64Oracle.mlpLoptAccumulate(tensor(after), new Float64Array(F));
          for (const [widths, path] of [[[F + 3, 4, 4, 2], 'elementwise'], [[F + 3, 4, 4, 2], 'gemm'], [[F + 3, 6, 5], 'elementwise'], [[F + 3, 3], 'gemm']] as const) {
            let total = 0;
            for (let l = 0; l + 1 < widths.length; l++) total += widths[l] * widths[l + 1] + widths[l + 1];
            const net: MlpLoptNet = {
              sizes: Int32Array.from(widths), params: rng.f32(total, -0.6, 0.6), scales: rng.positive(F, 0.2, 3),
              inputs: rng.f32(3, -1, 1), expMult: 0.1, stepMult: 0.01, path,
            };
            const extras = widths[widths.length - 1] - 2;
            agree(s, o, mine, `mlpLoptApply ${what} sizes [${widths}] ${path}`,
              { p: after.p, g, acc: after.acc, stats: after.stats, extra: new Float32Array(3) },
              (b, x) => {
                const sums = new Float64Array(3);
                b.mlpLoptApply(tensor(x), net, extras > 0 ? sums : null);
                x.extra.set(sums);
              });
          }
        }
      }
    });

    it('nnAdamStep over every length, with gradients beyond the ±1000 clip', () => {
      const [s, o] = pair();
      const rng = new Rng(32);
      for (const n of LENGTHS) {
        const g = rng.f32(n, -2, 2);
        if (n > 3) g[3] = 5000;
        if (n > 4) g[4] = -3000;
        const [lr, beta1, beta2, eps] = [rng.uniform(1e-4, 1e-2), rng.uniform(0.5, 0.99), rng.uniform(0.9, 0.9999), rng.pick([1e-8, 0.3])];
        agree(s, o, { ...tol, valueRtol: tol.exact ? 0 : 1e-5 }, `nnAdamStep n=${n}`,
          { p: rng.f32(n), m: rng.f32(n, -0.1, 0.1), v: rng.positive(n, 0, 0.01), g, stats: new Float32Array(9) },
          (b, x) => {
            const stats = new Float64Array(9);
            b.nnAdamStep(x.p, x.m, x.v, x.g, lr, beta1, beta2, eps, stats);
            x.stats.set(stats);
          });
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
// The WebAssembly build of the kernels (src/engine/wasm.ts): its own kernels and gemm against the
// reference, the methods it delegates to the reference trivially so.
kernelSuite('wasm backend vs reference', () => getBackend('wasm'), reference, elementwise);

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

describe('native backend only: layer kernels', () => {
  const f = (n: number): Float32Array => new Float32Array(n);

  it('normalization, pooling, GELU and softmax kernels: lengths, index ranges and the allowed aliases', () => {
    const b = native();
    // BatchNorm over [4, 3], LayerNorm over [3, 4]: statistics per channel / per row.
    b.batchNormForward(f(12), 4, 3, f(3), f(3), 1e-5, true, f(3), f(3), f(12));
    assert.throws(() => b.batchNormForward(f(11), 4, 3, f(3), f(3), 1e-5, true, f(3), f(3), f(12)), RangeError);
    assert.throws(() => b.batchNormForward(f(12), 4, 3, f(3), f(3), 1e-5, true, f(2), f(3), f(12)), /mean/);
    const x = f(12);
    b.batchNormForward(x, 4, 3, f(3), f(3), 1e-5, false, f(3), f(3), x); // y = x: allowed
    const stats = f(6);
    assert.throws(() => b.batchNormForward(f(12), 4, 3, f(3), f(3), 1e-5, true, stats.subarray(0, 3), stats.subarray(2), f(12)), /overlap/);
    b.layerNormForward(f(12), 3, 4, f(4), f(4), 1e-5, f(3), f(3), f(12));
    assert.throws(() => b.layerNormForward(f(12), 3, 4, f(4), f(4), 1e-5, f(2), f(3), f(12)), /mean/);
    const dy = f(12);
    b.batchNormBackward(f(12), dy, 4, 3, f(3), f(3), f(3), dy, f(3), f(3)); // dx = dy: allowed
    assert.throws(() => b.batchNormBackward(f(12), f(12), 4, 3, f(3), f(3), f(3), f(12), f(2), f(3)), /dgamma/);
    assert.throws(() => b.layerNormBackward(x, f(12), 3, 4, f(4), f(3), f(3), x, f(4), f(4)), /overlap/);
    // Max pooling: the geometry's channels, the argmax buffer and its indices.
    const g: ConvGeometry = { batch: 1, height: 4, width: 4, channels: 2, kernelSize: 3, stride: 2, padTop: 0, padLeft: 0, outHeight: 2, outWidth: 2 };
    const argmax = new Int32Array(8);
    b.maxPoolForward(f(32), g, f(8), argmax);
    assert.throws(() => b.maxPoolForward(f(32), g, f(8), new Int32Array(7)), /argmax/);
    assert.throws(() => b.maxPoolForward(f(31), g, f(8), argmax), RangeError);
    b.maxPoolBackward(f(8), argmax, f(32));
    assert.throws(() => b.maxPoolBackward(f(8), Int32Array.from([0, 1, 2, 3, 4, 5, 6, 32]), f(32)), /argmax\[7\] = 32/);
    // Elementwise: add may write over either input, GELU's backward over dy but not x.
    const a = f(5);
    b.add(a, f(5), a);
    assert.throws(() => b.add(f(5), f(4), f(5)), RangeError);
    const shifted = f(6);
    assert.throws(() => b.add(shifted.subarray(0, 5), f(5), shifted.subarray(1)), /overlap/);
    b.geluBackward(f(5), a, a);
    assert.throws(() => b.geluBackward(a, f(5), a), /overlap/);
    // Causal softmax: [heads, length, length] blocks, in place allowed.
    const scores = f(2 * 3 * 3);
    b.causalSoftmax(scores, 2, 3, 0.5, scores);
    assert.deepEqual([...scores.subarray(0, 3)], [1, 0, 0]);
    assert.throws(() => b.causalSoftmax(f(17), 2, 3, 0.5, f(18)), RangeError);
    assert.throws(() => b.causalSoftmaxBackward(scores, f(18), 2, 3, 0.5, scores), /overlap/);
  });
  // x has 2·4·4·3 = 96 elements, cols 2·4·4 rows of 3·3·3 = 864.
  const geometry: ConvGeometry = { batch: 2, height: 4, width: 4, channels: 3, kernelSize: 3, stride: 1, padTop: 1, padLeft: 1, outHeight: 4, outWidth: 4 };

  it('conv2d kernels: check every buffer, the geometry, the workspace size and overlaps', () => {
    const b = native();
    // Two output channels: x 96, w 3·3·3·2 = 54, bias 2, y 2·4·4·2 = 64.
    const ws = b.conv2dWorkspaceSize(geometry, 2);
    assert.ok(Number.isInteger(ws) && ws > 0, `workspace ${ws}`);
    const strided = { ...geometry, stride: 2, outHeight: 2, outWidth: 2, padTop: 0, padLeft: 0 };
    assert.ok(b.conv2dWorkspaceSize(strided, 2) >= 2 * 2 * 2 * 27, 'im2col path: one chunk of columns');
    b.conv2dForward(f(96), f(54), f(2), geometry, 2, f(64), f(ws));
    b.conv2dBackwardInput(f(64), f(54), geometry, 2, f(96), f(ws));
    b.conv2dBackwardFilter(f(96), f(64), geometry, 2, f(54), f(ws));
    assert.throws(() => b.conv2dForward(f(95), f(54), f(2), geometry, 2, f(64), f(ws)), RangeError);
    assert.throws(() => b.conv2dForward(f(96), f(53), f(2), geometry, 2, f(64), f(ws)), RangeError);
    assert.throws(() => b.conv2dForward(f(96), f(54), f(1), geometry, 2, f(64), f(ws)), RangeError);
    assert.throws(() => b.conv2dForward(f(96), f(54), f(2), geometry, 2, f(63), f(ws)), RangeError);
    assert.throws(() => b.conv2dForward(f(96), f(54), f(2), geometry, 2, f(64), f(ws - 1)), /workspace/);
    assert.throws(() => b.conv2dBackwardInput(f(63), f(54), geometry, 2, f(96), f(ws)), RangeError);
    assert.throws(() => b.conv2dBackwardInput(f(64), f(54), geometry, 2, f(95), f(ws)), RangeError);
    assert.throws(() => b.conv2dBackwardInput(f(64), f(54), geometry, 2, f(96), f(ws - 1)), /workspace/);
    assert.throws(() => b.conv2dBackwardFilter(f(96), f(63), geometry, 2, f(54), f(ws)), RangeError);
    assert.throws(() => b.conv2dBackwardFilter(f(96), f(64), geometry, 2, f(53), f(ws)), RangeError);
    assert.throws(() => b.conv2dBackwardFilter(f(96), f(64), geometry, 2, f(54), f(ws - 1)), /workspace/);
    assert.throws(() => b.conv2dWorkspaceSize({ ...geometry, kernelSize: 0 }, 2), RangeError);
    assert.throws(() => b.conv2dWorkspaceSize({ ...geometry, stride: 0 }, 2), RangeError);
    assert.throws(() => b.conv2dWorkspaceSize({ ...geometry, padTop: -1 }, 2), RangeError);
    assert.throws(() => b.conv2dWorkspaceSize({ ...geometry, outWidth: 2.5 }, 2), RangeError);
    assert.throws(() => b.conv2dWorkspaceSize(geometry, -2), RangeError);
    assert.throws(() => b.conv2dForward([1, 2] as unknown as Float32Array, f(54), f(2), geometry, 2, f(64), f(ws)), TypeError);
    // Outputs and the workspace overlap nothing else.
    const buffer = f(96 + 64 + ws + 64);
    const x = buffer.subarray(0, 96);
    assert.throws(() => b.conv2dForward(x, f(54), f(2), geometry, 2, buffer.subarray(90, 154), f(ws)), RangeError);
    assert.throws(() => b.conv2dForward(x, f(54), f(2), geometry, 2, f(64), buffer.subarray(95, 95 + ws)), RangeError);
    assert.throws(() => b.conv2dBackwardInput(buffer.subarray(0, 64), f(54), geometry, 2, buffer.subarray(60, 156), f(ws)), RangeError);
    assert.throws(() => b.conv2dBackwardFilter(x, f(64), geometry, 2, buffer.subarray(90, 144), f(ws)), RangeError);
    assert.throws(() => b.conv2dBackwardFilter(x, f(64), geometry, 2, f(54), x), RangeError);
  });

  it('rejects buffers that are too short and bad sizes', () => {
    const b = native();
    assert.throws(() => b.im2col(f(95), geometry, f(864)), RangeError);
    assert.throws(() => b.im2col(f(96), geometry, f(863)), RangeError);
    assert.throws(() => b.col2im(f(863), geometry, f(96)), RangeError);
    assert.throws(() => b.col2im(f(864), geometry, f(95)), RangeError);
    assert.throws(() => b.im2col(f(96), { ...geometry, kernelSize: 0 }, f(864)), RangeError);
    assert.throws(() => b.im2col(f(96), { ...geometry, stride: 0 }, f(864)), RangeError);
    assert.throws(() => b.im2col(f(96), { ...geometry, padTop: -1 }, f(864)), RangeError);
    assert.throws(() => b.col2im(f(864), { ...geometry, outWidth: 2.5 }, f(96)), RangeError);
    assert.throws(() => b.spatialMean(f(23), 2, 4, 3, f(6)), RangeError);
    assert.throws(() => b.spatialMean(f(24), 2, 4, 3, f(5)), RangeError);
    assert.throws(() => b.spatialMeanBackward(f(5), 2, 4, 3, f(24)), RangeError);
    assert.throws(() => b.spatialMeanBackward(f(6), 2, 4, 3, f(23)), RangeError);
    assert.throws(() => b.sigmoid(f(4), f(3)), RangeError);
    assert.throws(() => b.tanh(f(4), f(3)), RangeError);
    assert.throws(() => b.sigmoidMse(f(4), f(3), null), RangeError);
    assert.throws(() => b.sigmoidMse(f(4), f(4), f(3)), RangeError);
    assert.throws(() => b.gatherRows(f(12), 4, Int32Array.of(0, 2), f(7)), RangeError);
    assert.throws(() => b.scatterAddRows(f(7), 4, Int32Array.of(0, 2), f(12)), RangeError);
    assert.throws(() => b.swapLeadingAxes(f(23), 2, 3, 4, f(24)), RangeError);
    assert.throws(() => b.swapLeadingAxes(f(24), 2, 3, 4, f(23)), RangeError);
    assert.throws(() => b.lstmCellForward(f(23), f(6), 2, 3, f(6), f(6), f(6)), RangeError);
    assert.throws(() => b.lstmCellForward(f(24), f(6), 2, 3, f(6), f(5), f(6)), RangeError);
    assert.throws(() => b.lstmCellForward(f(24), f(6), 2, 3, f(6), f(6), f(5)), RangeError);
    assert.throws(() => b.lstmCellBackward(f(24), f(6), f(6), f(6), f(5), 2, 3, f(24)), RangeError);
    assert.throws(() => b.lstmCellBackward(f(24), f(6), f(6), f(6), f(6), 2, 3, f(23)), RangeError);
    assert.throws(() => b.lstmCellBackward(f(24), f(5), f(6), f(6), f(6), 2, 3, f(24)), RangeError);
  });

  it('rejects indices outside the table and wrong array types', () => {
    const b = native();
    assert.throws(() => b.gatherRows(f(12), 4, Int32Array.of(3), f(4)), RangeError);
    assert.throws(() => b.gatherRows(f(12), 4, Int32Array.of(-1), f(4)), RangeError);
    assert.throws(() => b.scatterAddRows(f(4), 4, Int32Array.of(3), f(12)), RangeError);
    assert.throws(() => b.scatterAddRows(f(4), 4, Int32Array.of(-2), f(12)), RangeError);
    assert.throws(() => b.gatherRows(f(12), 4, Float32Array.of(0) as unknown as Int32Array, f(4)), TypeError);
    assert.throws(() => b.sigmoid(new Float64Array(2) as unknown as Float32Array, f(2)), TypeError);
    assert.throws(() => b.im2col([1, 2] as unknown as Float32Array, geometry, f(864)), TypeError);
    assert.throws(() => (b.lstmCellForward as (...args: unknown[]) => void)(f(24), f(6), 2, 3, f(6)), TypeError);
  });

  it('rejects overlapping buffers except the in-place calls the interface allows', () => {
    const b = native();
    const buffer = f(256);
    const x = buffer.subarray(0, 32);
    const shifted = buffer.subarray(1, 33);
    const tiny: ConvGeometry = { batch: 1, height: 2, width: 2, channels: 2, kernelSize: 1, stride: 1, padTop: 0, padLeft: 0, outHeight: 2, outWidth: 2 };
    assert.throws(() => b.im2col(buffer.subarray(0, 8), tiny, buffer.subarray(4, 12)), RangeError);
    assert.throws(() => b.col2im(buffer.subarray(0, 8), tiny, buffer.subarray(4, 12)), RangeError);
    assert.throws(() => b.sigmoid(x, shifted), RangeError);
    assert.throws(() => b.tanh(x, shifted), RangeError);
    assert.throws(() => b.sigmoidMse(x, f(32), shifted), RangeError);
    const target = buffer.subarray(64, 96);
    assert.throws(() => b.sigmoidMse(x, target, target), RangeError);
    assert.throws(() => b.swapLeadingAxes(x, 2, 4, 4, x), RangeError);
    assert.throws(() => b.spatialMean(x, 2, 4, 4, x.subarray(0, 8)), RangeError);
    assert.throws(() => b.scatterAddRows(x.subarray(0, 8), 8, Int32Array.of(0), x), RangeError);
    const gates = buffer.subarray(128, 152);
    const cPrev = buffer.subarray(160, 166);
    assert.throws(() => b.lstmCellForward(gates, cPrev, 2, 3, f(6), cPrev, f(6)), RangeError);
    assert.throws(() => b.lstmCellForward(gates, cPrev, 2, 3, gates.subarray(0, 6), f(6), f(6)), RangeError);
    assert.throws(() => b.lstmCellBackward(gates, f(6), f(6), f(6), f(6), 2, 3, gates), RangeError);
    assert.throws(() => b.lstmCellBackward(gates, f(6), f(6), cPrev, cPrev, 2, 3, f(24)), RangeError);
    // Allowed: the very same array.
    b.sigmoid(x, x);
    b.tanh(x, x);
    b.sigmoidMse(x, f(32), x);
    b.lstmCellForward(gates, cPrev, 2, 3, cPrev, f(6), f(6));
  });

  it('sigmoid and tanh stay within a few ulp of float64 over the whole float range', () => {
    const b = native();
    const n = 400_001;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -100 + (200 * i) / (n - 1);
    const extra = [1e-30, -1e-30, 1e-7, -1e-7, 1e-3, -1e-3, 0.625, -0.625, 0.6250001, -0.6250001];
    const all = Float32Array.from([...x, ...extra]);
    const sig = f(all.length);
    const th = f(all.length);
    b.sigmoid(all, sig);
    b.tanh(all, th);
    const ulpsOff = (actual: number, expected: number): number => {
      const e = Math.fround(expected);
      if (e === 0) return actual === 0 ? 0 : Infinity;
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(e))) - 23);
      return Math.abs(actual - expected) / ulp;
    };
    let worstSigmoid = 0;
    let worstTanh = 0;
    for (let i = 0; i < all.length; i++) {
      const v = all[i];
      const exact = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
      // Below −87 the native exp flushes to zero (the float result would be near or below 1e-38).
      if (v >= -87) worstSigmoid = Math.max(worstSigmoid, ulpsOff(sig[i], exact));
      else assert.ok(sig[i] >= 0 && sig[i] < 2e-38, `sigmoid(${v}) = ${sig[i]}`);
      worstTanh = Math.max(worstTanh, ulpsOff(th[i], Math.tanh(v)));
    }
    assert.ok(worstSigmoid <= 4, `sigmoid: ${worstSigmoid} ulp`);
    assert.ok(worstTanh <= 4, `tanh: ${worstTanh} ulp`);
  });
});

describe('native backend only: learned-optimizer kernels reject bad arguments', () => {
  const f = (n: number): Float32Array => new Float32Array(n);
  const tensor = (over: Partial<MlpLoptTensor> = {}): MlpLoptTensor => ({
    p: f(12), g: f(12), nm: 1, nr: 1, na: 1, acc: f(24), decays: f(3), logAbsP: false, mTimesRsqrtV: true, mTimesFactors: true,
    factored: { dims: [1, 3, 1, 4, 1], rowIsA: true, stats: f(2 * (4 + 3)) }, ...over,
  });
  const F = 2 + 1 + 1 + 1 + 1 + 5 + 1;
  const net = (over: Partial<MlpLoptNet> = {}): MlpLoptNet => ({
    sizes: Int32Array.of(F + 2, 3, 2), params: f((F + 2) * 3 + 3 + 3 * 2 + 2), scales: f(F), inputs: f(2),
    expMult: 0.001, stepMult: 0.001, path: 'elementwise', ...over,
  });

  it('accepts well-formed calls', () => {
    const b = native();
    b.mlpLoptAccumulate(tensor(), new Float64Array(2 * F));
    b.mlpLoptAccumulate(tensor(), new Float64Array(F));
    b.mlpLoptApply(tensor(), net(), null);
    b.mlpLoptApply(tensor(), net({ path: 'gemm' }), null);
    b.nnAdamStep(f(5), f(5), f(5), f(5), 1e-3, 0.9, 0.999, 1e-8, new Float64Array(9));
  });

  it('rejects wrong lengths, shapes, pairings and types', () => {
    const b = native();
    const cases: [() => void, RegExp][] = [
      [() => b.mlpLoptAccumulate(tensor({ acc: f(23) }), new Float64Array(2 * F)), /acc has 23 elements, expected 24/],
      [() => b.mlpLoptAccumulate(tensor({ g: f(11) }), new Float64Array(2 * F)), /g has 11 elements, expected 12/],
      [() => b.mlpLoptAccumulate(tensor({ decays: f(2) }), new Float64Array(2 * F)), /decays has 2 elements, expected 3/],
      [() => b.mlpLoptAccumulate(tensor(), new Float64Array(F - 1)), /moments has/],
      [() => b.mlpLoptAccumulate(tensor({ factored: { dims: [1, 3, 1, 5, 1], rowIsA: true, stats: f(16) } }), new Float64Array(2 * F)), /hold 15 elements, p has 12/],
      [() => b.mlpLoptAccumulate(tensor({ factored: { dims: [1, 3, 1, 4, 1], rowIsA: true, stats: f(13) } }), new Float64Array(2 * F)), /stats has 13 elements, expected 14/],
      [() => b.mlpLoptAccumulate(tensor({ nm: 2, nr: 3, acc: f(60), decays: f(6) }), new Float64Array(64)), /counts must be equal or 1/],
      [() => b.mlpLoptAccumulate(tensor({ na: 0, decays: f(2), mTimesFactors: false }), new Float64Array(2 * F)), /factored tensor needs AdaFactor decays/],
      [() => b.mlpLoptApply(tensor(), net({ sizes: Int32Array.of(F + 1, 3, 2) }), null), /takes 13 inputs, but there are 12 features and 2 per-tensor inputs/],
      [() => b.mlpLoptApply(tensor(), net({ params: f(10) }), null), /params has 10 elements/],
      [() => b.mlpLoptApply(tensor(), net({ scales: f(F + 1) }), null), /scales has 13 elements, expected 12/],
      [() => b.mlpLoptApply(tensor(), net({ sizes: Int32Array.of(F + 2, 1), params: f(F + 3) }), null), /at least 2 outputs/],
      [() => b.mlpLoptApply(tensor(), net({ sizes: Int32Array.of(F + 2, 0, 2) }), null), /sizes\[1\] = 0 is not a layer width/],
      [() => b.mlpLoptApply(tensor(), net({ sizes: Int32Array.of(F + 2, 3, 4), params: f((F + 2) * 3 + 3 + 12 + 4) }), null), /extraSums has 0 elements, needs at least 2/],
      [() => b.nnAdamStep(f(5), f(4), f(5), f(5), 1e-3, 0.9, 0.999, 1e-8, new Float64Array(9)), /m has 4 elements, expected 5/],
      [() => b.nnAdamStep(f(5), f(5), f(5), f(5), 1e-3, 0.9, 0.999, 1e-8, new Float64Array(8)), /stats has 8 elements/],
    ];
    for (const [fn, pattern] of cases) assert.throws(fn, (e: Error) => e instanceof RangeError && pattern.test(e.message), String(pattern));
    assert.throws(() => b.mlpLoptAccumulate(tensor(), new Float32Array(2 * F) as unknown as Float64Array), TypeError);
    assert.throws(() => b.nnAdamStep(f(5), f(5), f(5), new Float64Array(5) as unknown as Float32Array, 1e-3, 0.9, 0.999, 1e-8, new Float64Array(9)), TypeError);
  });

  it('rejects outputs that overlap another argument', () => {
    const b = native();
    const buffer = f(64);
    const cases: [() => void, RegExp][] = [
      [() => b.mlpLoptAccumulate(tensor({ p: buffer.subarray(0, 12), acc: buffer.subarray(6, 30) }), new Float64Array(2 * F)), /acc and p must not overlap/],
      [() => b.mlpLoptAccumulate(tensor({ g: buffer.subarray(0, 12), factored: { dims: [1, 3, 1, 4, 1], rowIsA: true, stats: buffer.subarray(4, 18) } }), new Float64Array(2 * F)), /stats and g must not overlap/],
      [() => b.mlpLoptApply(tensor({ p: buffer.subarray(0, 12), g: buffer.subarray(0, 12) }), net(), null), /p and g must not overlap/],
      [() => b.mlpLoptApply(tensor({ p: buffer.subarray(0, 12) }), net({ scales: buffer.subarray(10, 10 + F) }), null), /p and scales must not overlap/],
      [() => b.nnAdamStep(buffer.subarray(0, 5), buffer.subarray(4, 9), f(5), f(5), 1e-3, 0.9, 0.999, 1e-8, new Float64Array(9)), /p and m must not overlap/],
    ];
    for (const [fn, pattern] of cases) assert.throws(fn, (e: Error) => e instanceof RangeError && pattern.test(e.message), String(pattern));
  });
});
