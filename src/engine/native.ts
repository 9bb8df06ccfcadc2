// The native backend: a thin wrapper over the C addon build/Release/lopt_native.node (native/src/),
// which runs the fused loops with AVX-512, AVX2+FMA or baseline x86-64 code and gemm with OpenBLAS.
// Arrays are passed straight through; the addon checks types, lengths and overlaps and throws a
// TypeError or RangeError instead of reading out of bounds.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Backend, BackendInfo } from './backend.js';

/** Instruction sets the addon's fused loops are compiled for, best first. */
export type NativeSimdPath = 'avx512' | 'avx2' | 'scalar';

export interface NativeBackendOptions {
  /**
   * Instruction set for the fused loops; default $LOPT_NATIVE_SIMD, else the best this CPU supports.
   * Every path computes bit-identical results; choosing one is for testing and benchmarking.
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
}

interface NativeBinding {
  paths: Partial<Record<NativeSimdPath, NativeKernels>>;
  info(): { simd: NativeSimdPath; simdPaths: NativeSimdPath[]; blas: string; blasCore: string; blasThreads: number };
  setBlasThreads(threads: number): void;
}

const ADDON = 'build/Release/lopt_native.node';
let binding: NativeBinding | undefined;

function loadBinding(): NativeBinding {
  if (binding) return binding;
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

/** The native backend; throws an Error with a short reason when the addon cannot load. */
export function loadNativeBackend(options: NativeBackendOptions = {}): Backend {
  const addon = loadBinding();
  const fromEnv = process.env.LOPT_NATIVE_SIMD;
  const simd = options.simd ?? (fromEnv ? (fromEnv as NativeSimdPath) : addon.info().simd);
  const k = Object.hasOwn(addon.paths, simd) ? addon.paths[simd] : undefined;
  if (!k) {
    throw new Error(`SIMD path "${simd}" is not available on this CPU (available: ${addon.info().simdPaths.join(', ')})`);
  }
  const backend: Backend = {
    name: 'native',
    info(): BackendInfo {
      const info = addon.info();
      return { name: 'native', simd, blas: `${info.blas} (core ${info.blasCore})`, blasThreads: info.blasThreads };
    },
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
    sgdStep: k.sgdStep,
    sgdmStep: k.sgdmStep,
    adamStep: k.adamStep,
    nadamwStep: k.nadamwStep,
    rmsScale: k.rmsScale,
    factoredMoments: (g, dims, decay, eps, vWithoutA, vWithoutB) =>
      k.factoredMoments(g, dims[0], dims[1], dims[2], dims[3], dims[4], decay, eps, vWithoutA, vWithoutB),
    scaleByFactors: (g, dims, fWithoutA, fWithoutB, u) =>
      k.scaleByFactors(g, dims[0], dims[1], dims[2], dims[3], dims[4], fWithoutA, fWithoutB, u),
  };
  return Object.freeze(backend);
}
