// Benchmark: where cutting a kernel call across threads starts to pay (the glue's thresholds,
// ELEMENTS_PER_PART in native/src/addon.c and CONV_MACS_PER_PART in addon_nn.c). Times Adam's fused
// update over growing sizes and a Winograd convolution (cifar10-conv's middle layer) over growing
// batches on one thread and on every core, alternating, and prints the median µs per call and the
// speedup. The glue cuts a call only where each part keeps at least the threshold's work, so rows below
// it run on one thread either way.
import { getBackend, loptThreadCounts, median, threadsLabel } from './lib.js';

const REPEATS = Number(process.env.LOPT_BENCH_REPEATS ?? 200);
const backend = getBackend('native');

function timeUs(call: () => void, repeats: number): number {
  for (let i = 0; i < 5; i++) call();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = process.hrtime.bigint();
    call();
    times.push(Number(process.hrtime.bigint() - started) / 1e3);
  }
  return median(times);
}

function adamCall(n: number): () => void {
  const p = new Float32Array(n).fill(0.5), m = new Float32Array(n), v = new Float32Array(n), g = new Float32Array(n).fill(0.01);
  return () => backend.adamStep(p, m, v, g, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.01);
}

function convCall(batch: number): () => void {
  const g = { batch, height: 16, width: 16, channels: 64, kernelSize: 3, stride: 1, padTop: 1, padLeft: 1, outHeight: 16, outWidth: 16 };
  const x = new Float32Array(batch * 16 * 16 * 64).fill(0.1), w = new Float32Array(9 * 64 * 64).fill(0.01);
  const y = new Float32Array(x.length), ws = new Float32Array(backend.conv2dWorkspaceSize(g, 64));
  return () => backend.conv2dForward(x, w, new Float32Array(64), g, 64, y, ws);
}

function sweep(title: string, sizes: number[], make: (size: number) => () => void, repeats: number): Record<string, Record<number, number>> {
  const counts = loptThreadCounts();
  process.stdout.write(`${title}\n${'size'.padEnd(12)}${counts.map((t) => `µs ${threadsLabel(t)}`.padEnd(18)).join('')}speedup\n`);
  const out: Record<string, Record<number, number>> = {};
  for (const size of sizes) {
    const call = make(size);
    const us = counts.map((threads) => {
      backend.setThreads?.(threads);
      return timeUs(call, repeats);
    });
    backend.setThreads?.(1);
    out[size] = Object.fromEntries(counts.map((t, i) => [t, us[i]]));
    process.stdout.write(`${String(size).padEnd(12)}${us.map((u) => u.toFixed(1).padEnd(18)).join('')}${(us[0] / us.at(-1)!).toFixed(2)}\n`);
  }
  return out;
}

const adam = sweep('adamStep, elements', [8192, 32768, 65536, 131072, 524288, 2097152], adamCall, REPEATS);
const conv = sweep('Winograd conv2dForward 16x16x64 → 64, batch', [1, 2, 4, 8, 32], convCall, Math.max(10, REPEATS / 10));
process.stdout.write(`${JSON.stringify({ bench: 'threads', adam, conv })}\n`);
