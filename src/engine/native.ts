// The native backend: a thin wrapper over the C addon build/Release/lopt_native.node (native/src/),
// which runs the fused loops with AVX-512, AVX2+FMA or baseline x86-64 code and gemm with OpenBLAS.
// Arrays are passed straight through; the addon checks types, lengths and overlaps and throws a
// TypeError or RangeError instead of reading out of bounds.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Backend, BackendInfo, ConvGeometry } from './backend.js';
import { packMlpLoptLayout } from './mlp-lopt.js';

/** Instruction sets the addon's fused loops are compiled for, best first. */
export type NativeSimdPath = 'avx512' | 'avx2' | 'scalar';

export interface NativeBackendOptions {
  /**
   * Instruction set for the fused loops; default $LOPT_NATIVE_SIMD, else the best this CPU supports.
   * The paths agree to float rounding (bit for bit except where AVX2/AVX-512 fuse a multiply-add the
   * scalar path rounds twice, as in small_fc_lopt's register path); choosing one is for testing and
   * benchmarking.
   */
  simd?: NativeSimdPath;
}

/** The kernels as the addon exports them: factored dims are five separate numbers. */
interface NativeKernels {
  gemm: Backend['gemm'];
  fill: Backend['fill'];
  axpy: Backend['axpy'];
  scale: Backend['scale'];
  sumSquares: Backend['sumSquares'];
  clip: Backend['clip'];
  addRowVector: Backend['addRowVector'];
  sumRows: Backend['sumRows'];
  reluForward: Backend['reluForward'];
  reluBackward: Backend['reluBackward'];
  softmaxCrossEntropy: Backend['softmaxCrossEntropy'];
  gatherRowsU8: Backend['gatherRowsU8'];
  im2col(
    x: Float32Array, batch: number, height: number, width: number, channels: number, kernelSize: number,
    stride: number, padTop: number, padLeft: number, outHeight: number, outWidth: number, cols: Float32Array,
  ): void;
  col2im(
    cols: Float32Array, batch: number, height: number, width: number, channels: number, kernelSize: number,
    stride: number, padTop: number, padLeft: number, outHeight: number, outWidth: number, dx: Float32Array,
  ): void;
  /** The conv2d kernels take the geometry packed as [batch, …, outWidth, outChannels] (packConv). */
  conv2dWorkspaceSize(geometry: Int32Array): number;
  conv2dForward(x: Float32Array, geometry: Int32Array, w: Float32Array, bias: Float32Array, y: Float32Array, workspace: Float32Array): void;
  conv2dBackwardInput(dy: Float32Array, geometry: Int32Array, w: Float32Array, dx: Float32Array, workspace: Float32Array): void;
  conv2dBackwardFilter(x: Float32Array, dy: Float32Array, geometry: Int32Array, dw: Float32Array, workspace: Float32Array): void;
  spatialMean: Backend['spatialMean'];
  spatialMeanBackward: Backend['spatialMeanBackward'];
  sigmoid: Backend['sigmoid'];
  tanh: Backend['tanh'];
  sigmoidMse: Backend['sigmoidMse'];
  gatherRows: Backend['gatherRows'];
  scatterAddRows: Backend['scatterAddRows'];
  swapLeadingAxes: Backend['swapLeadingAxes'];
  lstmCellForward: Backend['lstmCellForward'];
  lstmCellBackward: Backend['lstmCellBackward'];
  batchNormForward: Backend['batchNormForward'];
  batchNormBackward: Backend['batchNormBackward'];
  layerNormForward: Backend['layerNormForward'];
  layerNormBackward: Backend['layerNormBackward'];
  /** Geometry packed as for conv2d, with outChannels = channels. */
  maxPoolForward(x: Float32Array, geometry: Int32Array, y: Float32Array, argmax: Int32Array): void;
  maxPoolBackward: Backend['maxPoolBackward'];
  add: Backend['add'];
  geluForward: Backend['geluForward'];
  geluBackward: Backend['geluBackward'];
  causalSoftmax: Backend['causalSoftmax'];
  causalSoftmaxBackward: Backend['causalSoftmaxBackward'];
  sgdStep: Backend['sgdStep'];
  sgdmStep: Backend['sgdmStep'];
  adamStep: Backend['adamStep'];
  nadamwStep: Backend['nadamwStep'];
  rmsScale: Backend['rmsScale'];
  factoredMoments(
    g: Float32Array, pre: number, na: number, mid: number, nb: number, post: number,
    decay: number, eps: number, vWithoutA: Float32Array, vWithoutB: Float32Array,
  ): void;
  scaleByFactors(
    g: Float32Array, pre: number, na: number, mid: number, nb: number, post: number,
    fWithoutA: Float32Array, fWithoutB: Float32Array, u: Float32Array,
  ): number;
  // The learned-optimizer kernels take the tensor's layout packed (packMlpLoptLayout).
  mlpLoptAccumulate(
    p: Float32Array, g: Float32Array, acc: Float32Array, decays: Float32Array, layout: Int32Array,
    stats: Float32Array, moments: Float64Array,
  ): void;
  mlpLoptApply(
    p: Float32Array, g: Float32Array, acc: Float32Array, layout: Int32Array, stats: Float32Array,
    sizes: Int32Array, params: Float32Array, scales: Float32Array, inputs: Float32Array,
    expMult: number, stepMult: number, extraSums: Float64Array,
  ): void;
  nnAdamStep: Backend['nnAdamStep'];
}

interface NativeBinding {
  paths: Partial<Record<NativeSimdPath, NativeKernels>>;
  info(): { simd: NativeSimdPath; simdPaths: NativeSimdPath[]; blas: string; blasCore: string; blasThreads: number; threads: number };
  setBlasThreads(threads: number): void;
  setThreads(threads: number): void;
  threads(): number;
}

const ADDON = 'build/Release/lopt_native.node';
const EMPTY_F32 = new Float32Array(0);
const EMPTY_F64 = new Float64Array(0);
let binding: NativeBinding | undefined;

/** Whether /proc/cpuinfo shows an Intel CPU with AVX-512 F, CD, BW, DQ and VL (Skylake-X and later). */
function intelAvx512(): boolean {
  let text: string;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return false;
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/));
  return /^vendor_id\s*:\s*GenuineIntel/m.test(text)
    && ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f));
}

/**
 * OpenBLAS picks its kernels from the CPU model when it loads, and an OpenBLAS older than the CPU
 * falls back to a generic SSE3 core: Debian 12's 0.3.21 does so on Sapphire Rapids ("Prescott"), and
 * runs our MLP GEMMs at 15 instead of 67 GFLOP/s. So, before the addon (and OpenBLAS) loads, name the
 * core from the instruction sets where OPENBLAS_CORETYPE is not set: SkylakeX on an Intel CPU with
 * AVX-512 (the sgemm kernels of every later Intel core). $LOPT_BLAS_CORE overrides: a core name, or
 * `auto` to leave the choice to OpenBLAS.
 */
export function chooseBlasCore(env: NodeJS.ProcessEnv = process.env, isIntelAvx512: () => boolean = intelAvx512): string | null {
  if (env.OPENBLAS_CORETYPE) return null;
  const wanted = env.LOPT_BLAS_CORE;
  if (wanted === 'auto') return null;
  const core = wanted || (isIntelAvx512() ? 'SkylakeX' : null);
  if (core) env.OPENBLAS_CORETYPE = core;
  return core;
}

function loadBinding(): NativeBinding {
  if (binding) return binding;
  chooseBlasCore();
  // This file runs as dist/src/engine/native.js: the package root is three levels up.
  // $LOPT_NATIVE_ADDON points at another build of the addon (or, in tests, at a missing one).
  const root = new URL('../../../', import.meta.url);
  const file = process.env.LOPT_NATIVE_ADDON || fileURLToPath(new URL(ADDON, root));
  if (!existsSync(file)) throw new Error(`${file} not found (addon not built)`);
  try {
    binding = createRequire(import.meta.url)(file) as NativeBinding;
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new Error(`${file} failed to load (${reason})`);
  }
  return binding;
}

/** Instruction sets this CPU can run, best first (loads the addon; throws if it cannot). */
export function nativeSimdPaths(): NativeSimdPath[] {
  return loadBinding().info().simdPaths;
}

/** Threads OpenBLAS uses for gemm, process-wide (the addon starts it at 1). */
export function setNativeBlasThreads(threads: number): void {
  loadBinding().setBlasThreads(threads);
}

/**
 * Threads of this thread's native kernels (the addon's pool: fused optimizer updates and Winograd
 * convolutions cut into parts) and of OpenBLAS (process-wide). The addon starts at 1 in every thread;
 * results are the same bits for a given count, and 1 is the unthreaded kernels.
 */
export function setNativeThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  loadBinding().setThreads(threads);
}

/**
 * For a worker thread that runs one of many tasks at once (meta-training, study and evaluator workers):
 * its kernels stay on one thread, since the cores go to the workers. A no-op when the addon cannot load
 * (the worker then runs the reference backend, which has no threads).
 */
export function keepWorkerSingleThreaded(): void {
  try {
    loadBinding().setThreads(1);
  } catch {
    // no addon: nothing runs threaded
  }
}

/** The native backend; throws an Error with a short reason when the addon cannot load. */
export function loadNativeBackend(options: NativeBackendOptions = {}): Backend {
  const addon = loadBinding();
  const fromEnv = process.env.LOPT_NATIVE_SIMD;
  const simd = options.simd ?? (fromEnv ? (fromEnv as NativeSimdPath) : addon.info().simd);
  const k = Object.hasOwn(addon.paths, simd) ? addon.paths[simd] : undefined;
  if (!k) {
    throw new Error(`SIMD path "${simd}" is not available on this CPU (available: ${addon.info().simdPaths.join(', ')})`);
  }
  // Packed layouts are built per call into one buffer: calls are synchronous, so it is never shared.
  const layout = new Int32Array(9);
  const conv = new Int32Array(11);
  // A geometry number that is not an integer in [0, 2^31) packs as −1, which the addon rejects.
  const convInt = (v: number): number => (Number.isInteger(v) && v >= 0 && v <= 0x7fffffff ? v : -1);
  const packConv = (g: ConvGeometry, outChannels: number): Int32Array => {
    conv[0] = convInt(g.batch); conv[1] = convInt(g.height); conv[2] = convInt(g.width); conv[3] = convInt(g.channels);
    conv[4] = convInt(g.kernelSize); conv[5] = convInt(g.stride); conv[6] = convInt(g.padTop); conv[7] = convInt(g.padLeft);
    conv[8] = convInt(g.outHeight); conv[9] = convInt(g.outWidth); conv[10] = convInt(outChannels);
    return conv;
  };
  const backend: Backend = {
    name: 'native',
    info(): BackendInfo {
      const info = addon.info();
      return { name: 'native', simd, blas: `${info.blas} (core ${info.blasCore})`, blasThreads: info.blasThreads, threads: info.threads };
    },
    setThreads: setNativeThreads,
    threads: () => addon.threads(),
    gemm: k.gemm,
    fill: k.fill,
    axpy: k.axpy,
    scale: k.scale,
    sumSquares: k.sumSquares,
    clip: k.clip,
    addRowVector: k.addRowVector,
    sumRows: k.sumRows,
    reluForward: k.reluForward,
    reluBackward: k.reluBackward,
    softmaxCrossEntropy: k.softmaxCrossEntropy,
    gatherRowsU8: k.gatherRowsU8,
    im2col: (x, g, cols) => k.im2col(x, g.batch, g.height, g.width, g.channels, g.kernelSize, g.stride,
      g.padTop, g.padLeft, g.outHeight, g.outWidth, cols),
    col2im: (cols, g, dx) => k.col2im(cols, g.batch, g.height, g.width, g.channels, g.kernelSize, g.stride,
      g.padTop, g.padLeft, g.outHeight, g.outWidth, dx),
    conv2dWorkspaceSize: (g, outChannels) => k.conv2dWorkspaceSize(packConv(g, outChannels)),
    conv2dForward: (x, w, bias, g, outChannels, y, workspace) =>
      k.conv2dForward(x, packConv(g, outChannels), w, bias, y, workspace),
    conv2dBackwardInput: (dy, w, g, outChannels, dx, workspace) =>
      k.conv2dBackwardInput(dy, packConv(g, outChannels), w, dx, workspace),
    conv2dBackwardFilter: (x, dy, g, outChannels, dw, workspace) =>
      k.conv2dBackwardFilter(x, dy, packConv(g, outChannels), dw, workspace),
    spatialMean: k.spatialMean,
    spatialMeanBackward: k.spatialMeanBackward,
    sigmoid: k.sigmoid,
    tanh: k.tanh,
    sigmoidMse: k.sigmoidMse,
    gatherRows: k.gatherRows,
    scatterAddRows: k.scatterAddRows,
    swapLeadingAxes: k.swapLeadingAxes,
    lstmCellForward: k.lstmCellForward,
    lstmCellBackward: k.lstmCellBackward,
    batchNormForward: k.batchNormForward,
    batchNormBackward: k.batchNormBackward,
    layerNormForward: k.layerNormForward,
    layerNormBackward: k.layerNormBackward,
    maxPoolForward: (x, g, y, argmax) => k.maxPoolForward(x, packConv(g, g.channels), y, argmax),
    maxPoolBackward: k.maxPoolBackward,
    add: k.add,
    geluForward: k.geluForward,
    geluBackward: k.geluBackward,
    causalSoftmax: k.causalSoftmax,
    causalSoftmaxBackward: k.causalSoftmaxBackward,
    sgdStep: k.sgdStep,
    sgdmStep: k.sgdmStep,
    adamStep: k.adamStep,
    nadamwStep: k.nadamwStep,
    rmsScale: k.rmsScale,
    factoredMoments: (g, dims, decay, eps, vWithoutA, vWithoutB) =>
      k.factoredMoments(g, dims[0], dims[1], dims[2], dims[3], dims[4], decay, eps, vWithoutA, vWithoutB),
    scaleByFactors: (g, dims, fWithoutA, fWithoutB, u) =>
      k.scaleByFactors(g, dims[0], dims[1], dims[2], dims[3], dims[4], fWithoutA, fWithoutB, u),
    mlpLoptAccumulate: (t, moments) =>
      k.mlpLoptAccumulate(t.p, t.g, t.acc, t.decays, packMlpLoptLayout(t, false, layout), t.factored?.stats ?? EMPTY_F32, moments),
    mlpLoptApply: (t, net, extraSums) =>
      k.mlpLoptApply(t.p, t.g, t.acc, packMlpLoptLayout(t, net.path === 'gemm', layout), t.factored?.stats ?? EMPTY_F32,
        net.sizes, net.params, net.scales, net.inputs, net.expMult, net.stepMult, extraSums ?? EMPTY_F64),
    nnAdamStep: k.nnAdamStep,
  };
  return Object.freeze(backend);
}
