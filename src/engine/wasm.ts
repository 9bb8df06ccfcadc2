// The wasm backend: the native addon's optimizer kernels and a blocked SIMD gemm, compiled to
// WebAssembly (wasm/lopt_kernels.wasm, built from native/src and wasm/src by scripts/build-wasm.mjs),
// so that lopt runs at near-native speed where the addon cannot load: in a browser (lopt/browser), or
// in Node with --backend wasm. The fused optimizer updates (sgd to adafactor, the per-parameter MLP
// kernels of small_fc_lopt and the feature_mlp_lopt family, nn_adam's step), the elementwise kernels
// the optimizers use (axpy, scale, sumSquares, clip) and gemm run in the module; every other Backend
// method is the reference backend's. Where the module's memory is shared (wasm-memory.ts), `allocate`
// gives arrays in that memory, which kernels use without copies. No Node API is used here: the caller
// brings the instance (wasm-node.ts in Node, src/browser/init.ts in a browser).
import type { Backend, BackendInfo, FactoredDims } from './backend.js';
import { factoredSizes, mlpLoptFeatureCount, mlpLoptLayoutOf, packMlpLoptLayout, type MlpLoptNet, type MlpLoptTensor } from './mlp-lopt.js';
import { referenceBackend } from './reference.js';
import { WasmHeap, type HeapExports } from './wasm-heap.js';
import type { WasmKernels } from './wasm-memory.js';

type Ptr = number;

/** The module's exports (wasm/src/lopt_wasm.c): sizes are element counts, pointers byte addresses. */
export interface WasmKernelExports extends HeapExports {
  gemm(transA: number, transB: number, m: number, n: number, k: number, alpha: number, a: Ptr, b: Ptr, beta: number, c: Ptr): void;
  axpy(n: number, alpha: number, x: Ptr, y: Ptr): void;
  scale(n: number, alpha: number, x: Ptr): void;
  sum_squares(n: number, x: Ptr): number;
  clip(n: number, x: Ptr, lo: number, hi: number, out: Ptr): void;
  sgd_step(n: number, p: Ptr, g: Ptr, lr: number): void;
  sgdm_step(n: number, p: Ptr, m: Ptr, g: Ptr, lr: number, momentum: number, nesterov: number): void;
  adam_step(n: number, p: Ptr, m: Ptr, v: Ptr, g: Ptr, lr: number, beta1: number, beta2: number, eps: number, bc1: number, bc2: number): void;
  nadamw_step(n: number, p: Ptr, m: Ptr, v: Ptr, g: Ptr, lrT: number, beta1: number, beta2: number, eps: number, l2: number, adamwDecay: number, nesterov: number): void;
  rms_scale(n: number, v: Ptr, g: Ptr, decay: number, eps: number, u: Ptr): number;
  factored_moments(g: Ptr, dims: Ptr, decay: number, eps: number, vWithoutA: Ptr, vWithoutB: Ptr): number;
  scale_by_factors(g: Ptr, dims: Ptr, fWithoutA: Ptr, fWithoutB: Ptr, u: Ptr): number;
  mlp_accumulate(n: number, p: Ptr, g: Ptr, acc: Ptr, decays: Ptr, layout: Ptr, stats: Ptr, moments: Ptr, wantSums: number): number;
  mlp_apply(n: number, p: Ptr, g: Ptr, acc: Ptr, layout: Ptr, stats: Ptr, layers: number, sizes: Ptr, params: Ptr,
    scales: Ptr, inputs: Ptr, expMult: number, stepMult: number, extraSums: Ptr): number;
  nn_adam_step(n: number, p: Ptr, m: Ptr, v: Ptr, g: Ptr, lr: number, beta1: number, beta2: number, eps: number, stats: Ptr): void;
}

/** A size argument: an integer in [0, 2^31), else a RangeError naming it. */
function size(fn: string, name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 0 && value <= 0x7fffffff)) {
    throw new RangeError(`${fn}: ${name} must be an integer in [0, 2^31), got ${value}`);
  }
  return value;
}

/** The first `length` elements of a, which must have at least that many (else a RangeError). */
function head<T extends Float32Array | Float64Array>(fn: string, name: string, a: T, length: number): T {
  if (a.length < length) throw new RangeError(`${fn}: ${name} has ${a.length} elements, needs ${length}`);
  return (a.length === length ? a : a.subarray(0, length)) as T;
}

/** a, which must have exactly `length` elements (else a RangeError). */
function exact<T extends Float32Array>(fn: string, name: string, a: T, length: number): T {
  if (a.length !== length) throw new RangeError(`${fn}: ${name} has ${a.length} elements, expected ${length}`);
  return a;
}

/**
 * Elements per piece of an elementwise kernel: the pieces of its arrays (4 × 32 KiB for Adam) stay in
 * the L2 cache between being copied in, updated and copied back, so that the copies cost little more
 * than the update's own memory traffic (copying whole tensors tripled it).
 */
const PIECE = 8192;

/** The error of a learned-optimizer kernel's status (0 is success). */
function checkStatus(fn: string, status: number): void {
  if (status === -1) throw new RangeError(`${fn}: out of WebAssembly memory for the scratch buffers`);
  if (status !== 0) throw new RangeError(`${fn}: the packed layout pairs momenta with accumulators of another count`);
}

/** The wasm backend over an instance of wasm/lopt_kernels.wasm (wasm-memory.ts instantiates it). */
export function wasmBackend({ instance, memory, shared }: WasmKernels): Backend {
  const k = instance.exports as unknown as WasmKernelExports;
  const heap = new WasmHeap(k, memory, shared);
  // Packed layouts and dims are built per call into one buffer each: calls are synchronous.
  const layout = new Int32Array(9);
  const dims32 = new Int32Array(5);
  const packDims = (fn: string, dims: FactoredDims): { dims: Int32Array; n: number } => {
    let n = 1;
    for (let d = 0; d < 5; d++) n *= (dims32[d] = size(fn, `dims[${d}]`, dims[d]));
    return { dims: dims32, n };
  };

  /**
   * Runs an elementwise kernel over the first n elements of `arrays` piece by piece (PIECE elements);
   * the first `outputs` arrays are copied back. Elementwise: the same bits as one call over all n.
   */
  const inPieces = (n: number, arrays: Float32Array[], outputs: number, run: (count: number, at: Ptr[]) => void): void => {
    for (let start = 0; start < n; start += PIECE) {
      const end = Math.min(n, start + PIECE);
      const pieces = arrays.map((a) => a.subarray(start, end));
      const at = heap.stage(pieces);
      run(end - start, at);
      for (let i = 0; i < outputs; i++) heap.unstage(at[i], pieces[i]);
    }
  };

  const backend: Backend = {
    ...referenceBackend,
    name: 'wasm',
    info(): BackendInfo {
      return { name: 'wasm', simd: 'wasm-simd128', blas: 'lopt blocked SIMD gemm (WebAssembly)', blasThreads: 1 };
    },
    allocate(length) {
      return heap.allocate(size('allocate', 'length', length));
    },
    gemm(transA, transB, m, n, kk, alpha, a, b, beta, c) {
      for (const [name, v] of [['m', m], ['n', n], ['k', kk]] as const) size('gemm', name, v);
      const [pa, pb, pc] = beta === 0
        ? heap.stage([head('gemm', 'a', a, m * kk), head('gemm', 'b', b, kk * n)], [head('gemm', 'c', c, m * n)])
        : heap.stage([head('gemm', 'a', a, m * kk), head('gemm', 'b', b, kk * n), head('gemm', 'c', c, m * n)]);
      k.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, kk, alpha, pa, pb, beta, pc);
      heap.unstage(pc, c.subarray(0, m * n));
    },
    axpy(alpha, x, y) {
      inPieces(y.length, [y, head('axpy', 'x', x, y.length)], 1, (n, [py, px]) => k.axpy(n, alpha, px, py));
    },
    scale(alpha, x) {
      inPieces(x.length, [x], 1, (n, [px]) => k.scale(n, alpha, px));
    },
    sumSquares(x) {
      const [px] = heap.stage([x]);
      return k.sum_squares(x.length, px);
    },
    clip(x, lo, hi, out) {
      inPieces(x.length, [head('clip', 'out', out, x.length), x], 1, (n, [po, px]) => k.clip(n, px, lo, hi, po));
    },
    sgdStep(p, g, lr) {
      inPieces(p.length, [p, head('sgdStep', 'g', g, p.length)], 1, (n, [pp, pg]) => k.sgd_step(n, pp, pg, lr));
    },
    sgdmStep(p, m, g, lr, momentum, nesterov) {
      const n = p.length;
      inPieces(n, [p, head('sgdmStep', 'm', m, n), head('sgdmStep', 'g', g, n)], 2,
        (count, [pp, pm, pg]) => k.sgdm_step(count, pp, pm, pg, lr, momentum, nesterov ? 1 : 0));
    },
    adamStep(p, m, v, g, lr, beta1, beta2, eps, bc1, bc2) {
      const n = p.length;
      inPieces(n, [p, head('adamStep', 'm', m, n), head('adamStep', 'v', v, n), head('adamStep', 'g', g, n)], 3,
        (count, [pp, pm, pv, pg]) => k.adam_step(count, pp, pm, pv, pg, lr, beta1, beta2, eps, bc1, bc2));
    },
    nadamwStep(p, m, v, g, lrT, beta1, beta2, eps, l2, adamwDecay, nesterov) {
      const n = p.length;
      inPieces(n, [p, head('nadamwStep', 'm', m, n), head('nadamwStep', 'v', v, n), head('nadamwStep', 'g', g, n)], 3,
        (count, [pp, pm, pv, pg]) => k.nadamw_step(count, pp, pm, pv, pg, lrT, beta1, beta2, eps, l2, adamwDecay, nesterov ? 1 : 0));
    },
    rmsScale(v, g, decay, eps, u) {
      const n = g.length;
      const out = head('rmsScale', 'u', u, n);
      const [pv, pg, pu] = heap.stage([head('rmsScale', 'v', v, n), g], [out]);
      const sum = k.rms_scale(n, pv, pg, decay, eps, pu);
      unstageAll([[pv, v], [pu, u]], n);
      return sum;
    },
    factoredMoments(g, dims, decay, eps, vWithoutA, vWithoutB) {
      const fn = 'factoredMoments';
      const { dims: packed, n } = packDims(fn, dims);
      const [pre, na, mid, nb, post] = dims;
      const va = head(fn, 'vWithoutA', vWithoutA, pre * mid * nb * post);
      const vb = head(fn, 'vWithoutB', vWithoutB, pre * na * mid * post);
      const [pg, pd, pa, pb] = heap.stage([head(fn, 'g', g, n), packed, va, vb]);
      checkStatus(fn, k.factored_moments(pg, pd, decay, eps, pa, pb));
      heap.unstage(pa, va);
      heap.unstage(pb, vb);
    },
    scaleByFactors(g, dims, fWithoutA, fWithoutB, u) {
      const fn = 'scaleByFactors';
      const { dims: packed, n } = packDims(fn, dims);
      const [pre, na, mid, nb, post] = dims;
      const out = head(fn, 'u', u, n);
      const [pg, pd, pa, pb, pu] = heap.stage(
        [head(fn, 'g', g, n), packed, head(fn, 'fWithoutA', fWithoutA, pre * mid * nb * post), head(fn, 'fWithoutB', fWithoutB, pre * na * mid * post)],
        [out],
      );
      const sum = k.scale_by_factors(pg, pd, pa, pb, pu);
      heap.unstage(pu, out);
      return sum;
    },
    mlpLoptAccumulate(t, moments) {
      const fn = 'mlpLoptAccumulate';
      const { n, features, acc, stats } = tensorArrays(fn, t);
      const wantSums = moments.length >= 2 * features;
      const sums = head(fn, 'moments', moments, (wantSums ? 2 : 1) * features);
      const decays = exact(fn, 'decays', t.decays, t.nm + t.nr + t.na);
      const [pp, pg, pa, pd, pl, ps, pm] = heap.stage([t.p, t.g, acc, decays, packMlpLoptLayout(t, false, layout), stats], [sums]);
      checkStatus(fn, k.mlp_accumulate(n, pp, pg, pa, pd, pl, ps, pm, wantSums ? 1 : 0));
      heap.unstage(pa, acc);
      heap.unstage(ps, stats);
      heap.unstage(pm, sums);
    },
    mlpLoptApply(t, net, extraSums) {
      const fn = 'mlpLoptApply';
      const { n, features, acc, stats } = tensorArrays(fn, t);
      const extras = checkNet(fn, net, features);
      const sums = extras > 0 ? head(fn, 'extraSums', extraSums ?? new Float64Array(0), extras) : new Float64Array(0);
      const [pp, pg, pa, pl, ps, pz, pw, pc, pi, pe] = heap.stage(
        [t.p, t.g, acc, packMlpLoptLayout(t, net.path === 'gemm', layout), stats, net.sizes, net.params, net.scales, net.inputs],
        [sums],
      );
      checkStatus(fn, k.mlp_apply(n, pp, pg, pa, pl, ps, net.sizes.length - 1, pz, pw, pc, pi, net.expMult, net.stepMult, pe));
      heap.unstage(pp, t.p);
      heap.unstage(pe, sums);
    },
    nnAdamStep(p, m, v, g, lr, beta1, beta2, eps, stats) {
      const fn = 'nnAdamStep';
      const n = p.length;
      const out = head(fn, 'stats', stats, 9);
      const [pp, pm, pv, pg, ps] = heap.stage([p, exact(fn, 'm', m, n), exact(fn, 'v', v, n), exact(fn, 'g', g, n)], [out]);
      k.nn_adam_step(n, pp, pm, pv, pg, lr, beta1, beta2, eps, ps);
      unstageAll([[pp, p], [pm, m], [pv, v]], n);
      heap.unstage(ps, out);
    },
  };

  /** Copies the first n elements of each staged array back. */
  function unstageAll(pairs: [Ptr, Float32Array][], n: number): void {
    for (const [address, a] of pairs) heap.unstage(address, a.length === n ? a : a.subarray(0, n));
  }

  return Object.freeze(backend);
}

/** n, F and the accumulator arrays of a learned-optimizer tensor, their lengths checked. */
function tensorArrays(fn: string, t: MlpLoptTensor): { n: number; features: number; acc: Float32Array; stats: Float32Array } {
  const n = t.p.length;
  const features = mlpLoptFeatureCount(mlpLoptLayoutOf(t)); // throws on a pairing of unequal counts
  exact(fn, 'g', t.g, n);
  const acc = exact(fn, 'acc', t.acc, (t.nm + t.nr + (t.factored ? 0 : t.na)) * n);
  if (!t.factored) return { n, features, acc, stats: new Float32Array(0) };
  const dims = t.factored.dims;
  if (dims.reduce((a, b) => a * b, 1) !== n) throw new RangeError(`${fn}: factored dims [${dims}] do not hold ${n} elements`);
  if (t.na === 0) throw new RangeError(`${fn}: a factored tensor needs AdaFactor decays`);
  const { sizeRow, sizeCol } = factoredSizes(t.factored);
  return { n, features, acc, stats: exact(fn, 'stats', t.factored.stats, 2 * t.na * (sizeRow + sizeCol)) };
}

/** Checks the net's widths against the features and its parameter count; returns the extra outputs. */
function checkNet(fn: string, net: MlpLoptNet, features: number): number {
  const sizes = net.sizes;
  if (sizes.length < 2) throw new RangeError(`${fn}: the net needs at least one layer`);
  if (sizes[0] !== features + net.inputs.length) {
    throw new RangeError(`${fn}: the net takes ${sizes[0]} inputs, but there are ${features} features and ${net.inputs.length} per-tensor inputs`);
  }
  let params = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    if (!(sizes[l + 1] >= 1)) throw new RangeError(`${fn}: sizes[${l + 1}] = ${sizes[l + 1]} is not a layer width`);
    params += sizes[l] * sizes[l + 1] + sizes[l + 1];
  }
  exact(fn, 'scales', net.scales, features);
  exact(fn, 'params', net.params, params);
  const outputs = sizes[sizes.length - 1];
  if (outputs < 2) throw new RangeError(`${fn}: the net needs at least 2 outputs (direction and magnitude)`);
  return outputs - 2;
}
