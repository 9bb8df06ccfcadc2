// The native backend on several threads (native/src/thread_pool.c and the glue that cuts calls into
// parts): element-wise updates and the images of a Winograd convolution give the one-thread bits at any
// thread count; reductions give the same value for the same count and agree with one thread to
// rounding; each worker thread keeps its own count.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { Backend, ConvGeometry, FactoredDims } from '../../src/engine/backend.js';
import { loadNativeBackend, setNativeThreads } from '../../src/engine/native.js';
import { mulberry32 } from '../fixtures/prng.js';

// Above the glue's ELEMENTS_PER_PART (32768) times 3 and not a multiple of 16: every part is used and
// the last one has a ragged end.
const N = 3 * 32768 * 2 + 13;

function random(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Runs `fn` with the native kernels on `threads` threads, then back to 1. */
function withThreads<T>(threads: number, fn: (b: Backend) => T): T {
  const b = loadNativeBackend();
  b.setThreads!(threads);
  try {
    return fn(b);
  } finally {
    b.setThreads!(1);
  }
}

/** The arrays an optimizer update writes, after three updates from the same inputs. */
function updated(threads: number, step: (b: Backend, p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array) => void): Float32Array[] {
  return withThreads(threads, (b) => {
    const p = random(N, 1), m = random(N, 2), v = random(N, 3, 0, 1), g = random(N, 4);
    for (let i = 0; i < 3; i++) step(b, p, m, v, g);
    return [p, m, v];
  });
}

describe('native backend on several threads', () => {
  after(() => setNativeThreads(1));

  it('setThreads sets the kernels\' and BLAS threads, and threads() and info() read them back', () => {
    withThreads(3, (b) => {
      assert.equal(b.threads!(), 3);
      assert.equal(b.info().threads, 3);
      assert.equal(b.info().blasThreads, 3);
    });
    const b = loadNativeBackend();
    assert.equal(b.threads!(), 1);
    assert.equal(b.info().blasThreads, 1);
  });

  it('rejects a thread count that is not a positive integer up to 256', () => {
    const b = loadNativeBackend();
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => b.setThreads!(bad), RangeError);
    assert.throws(() => b.setThreads!(257), /threads must be in \[1, 256\]/);
    assert.equal(b.threads!(), 1);
  });

  const updates: [string, (b: Backend, p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array) => void][] = [
    ['sgdStep', (b, p, _m, _v, g) => b.sgdStep(p, g, 0.1)],
    ['sgdmStep', (b, p, m, _v, g) => b.sgdmStep(p, m, g, 0.1, 0.9, true)],
    ['adamStep', (b, p, m, v, g) => b.adamStep(p, m, v, g, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.01)],
    ['nadamwStep', (b, p, m, v, g) => b.nadamwStep(p, m, v, g, 1e-3, 0.9, 0.999, 1e-8, 1e-4, 1e-2, true)],
  ];
  for (const [name, step] of updates) {
    it(`${name} gives the one-thread bits on 2 and 3 threads`, () => {
      const one = updated(1, step);
      for (const threads of [2, 3]) {
        updated(threads, step).forEach((a, i) => assert.ok(bytesOf(a).equals(bytesOf(one[i])), `${name}, ${threads} threads, array ${i}`));
      }
    });
  }

  it('rmsScale: the one-thread v and u; its sum the same for a thread count and within rounding of one thread\'s', () => {
    const run = (threads: number) => withThreads(threads, (b) => {
      const v = random(N, 5, 0, 1), u = new Float32Array(N);
      return { sum: b.rmsScale(v, random(N, 6), 0.9, 1e-30, u), v, u };
    });
    const one = run(1), two = run(2), again = run(2);
    assert.ok(bytesOf(two.v).equals(bytesOf(one.v)) && bytesOf(two.u).equals(bytesOf(one.u)));
    assert.equal(two.sum, again.sum);
    assert.ok(Math.abs(two.sum - one.sum) <= 1e-12 * one.sum, `${two.sum} vs ${one.sum}`);
  });

  it('scaleByFactors: the one-thread u, cut along the rows; its sum within rounding of one thread\'s', () => {
    const dims: FactoredDims = [1, 600, 1, 400, 1];
    const run = (threads: number) => withThreads(threads, (b) => {
      const u = new Float32Array(600 * 400);
      return { sum: b.scaleByFactors(random(600 * 400, 7), dims, random(400, 8, 0.5, 2), random(600, 9, 0.5, 2), u), u };
    });
    const one = run(1), three = run(3);
    assert.ok(bytesOf(three.u).equals(bytesOf(one.u)));
    assert.equal(three.sum, run(3).sum);
    assert.ok(Math.abs(three.sum - one.sum) <= 1e-12 * one.sum);
  });

  // The cifar10-conv middle layer: 3x3 stride 1 (Winograd), 16x16x32 → 64 channels, batch 8.
  const g: ConvGeometry = { batch: 8, height: 16, width: 16, channels: 32, kernelSize: 3, stride: 1, padTop: 1, padLeft: 1, outHeight: 16, outWidth: 16 };
  const co = 64;
  /** A convolution's output and gradients on `threads` threads, from inputs drawn from `seed` on. */
  const convAt = (geometry: ConvGeometry, outChannels: number, threads: number, seed: number) => withThreads(threads, (b) => {
    const { batch, height, width, channels, kernelSize, outHeight, outWidth } = geometry;
    const x = random(batch * height * width * channels, seed), w = random(kernelSize * kernelSize * channels * outChannels, seed + 1, -0.1, 0.1);
    const dy = random(batch * outHeight * outWidth * outChannels, seed + 2);
    const ws = new Float32Array(b.conv2dWorkspaceSize(geometry, outChannels));
    const y = new Float32Array(dy.length), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
    b.conv2dForward(x, w, random(outChannels, seed + 3), geometry, outChannels, y, ws);
    b.conv2dBackwardInput(dy, w, geometry, outChannels, dx, ws);
    b.conv2dBackwardFilter(x, dy, geometry, outChannels, dw, ws);
    return { y, dx, dw };
  });
  const conv = (threads: number) => convAt(g, co, threads, 10);

  it('a Winograd convolution cut into images: the one-thread output and input gradient, a filter gradient within rounding', () => {
    const one = conv(1), two = conv(2), three = conv(3);
    for (const other of [two, three]) {
      assert.ok(bytesOf(other.y).equals(bytesOf(one.y)), 'forward');
      assert.ok(bytesOf(other.dx).equals(bytesOf(one.dx)), 'input gradient');
      other.dw.forEach((d, i) => assert.ok(Math.abs(d - one.dw[i]) <= 1e-4 * (1 + Math.abs(one.dw[i])), `dw[${i}] ${d} vs ${one.dw[i]}`));
    }
    assert.ok(bytesOf(conv(3).dw).equals(bytesOf(three.dw)), 'the filter gradient is the same for the same thread count');
  });

  it('reluForward and reluBackward give the one-thread bits on 2 and 3 threads', () => {
    const run = (threads: number) => withThreads(threads, (b) => {
      const x = random(N, 14), y = new Float32Array(N), dx = new Float32Array(N);
      b.reluForward(x, y);
      b.reluBackward(y, random(N, 15), dx);
      return [y, dx];
    });
    const one = run(1);
    assert.ok(one[0].some((v) => v === 0) && one[0].some((v) => v > 0));
    for (const threads of [2, 3]) run(threads).forEach((a, i) => assert.ok(bytesOf(a).equals(bytesOf(one[i])), `${threads} threads, array ${i}`));
  });

  it('sumRows cut into rows: the same for a thread count, within rounding of one thread, accumulating or not', () => {
    const rows = 2 * 32768 / 64 * 3 + 5, cols = 64;
    const x = random(rows * cols, 16);
    const run = (threads: number, accumulate: boolean) => withThreads(threads, (b) => {
      const out = accumulate ? random(cols, 17) : new Float32Array(cols).fill(Number.NaN);
      b.sumRows(x, rows, cols, out, accumulate);
      return out;
    });
    for (const accumulate of [false, true]) {
      const one = run(1, accumulate), three = run(3, accumulate);
      assert.ok(bytesOf(run(3, accumulate)).equals(bytesOf(three)));
      const start = accumulate ? random(cols, 17) : new Float32Array(cols);
      three.forEach((v, j) => {
        let exact = start[j];
        for (let r = 0; r < rows; r++) exact += x[r * cols + j];
        assert.ok(Math.abs(v - one[j]) <= 1e-4 * (1 + Math.abs(one[j])) && Math.abs(v - exact) <= 1e-3, `column ${j}: ${v} vs ${one[j]} (exact ${exact})`);
      });
    }
  });

  it('spatialMean and its gradient cut into images give the one-thread bits', () => {
    const batch = 24, positions = 64, channels = 64;
    const run = (threads: number) => withThreads(threads, (b) => {
      const means = new Float32Array(batch * channels), dx = new Float32Array(batch * positions * channels);
      b.spatialMean(random(batch * positions * channels, 18), batch, positions, channels, means);
      b.spatialMeanBackward(random(batch * channels, 19), batch, positions, channels, dx);
      return [means, dx];
    });
    const one = run(1);
    for (const threads of [2, 3]) run(threads).forEach((a, i) => assert.ok(bytesOf(a).equals(bytesOf(one[i])), `${threads} threads, array ${i}`));
  });

  it('an im2col convolution (cifar10-conv\'s first layer: 3x3 stride 2) cut into images agrees with one thread', () => {
    const gs: ConvGeometry = { batch: 48, height: 32, width: 32, channels: 3, kernelSize: 3, stride: 2, padTop: 0, padLeft: 0, outHeight: 16, outWidth: 16 };
    const cs = 32;
    const run = (threads: number) => convAt(gs, cs, threads, 20);
    const one = run(1);
    for (const threads of [2, 3]) {
      const other = run(threads);
      for (const key of ['y', 'dx', 'dw'] as const) {
        other[key].forEach((d, i) => assert.ok(Math.abs(d - one[key][i]) <= 1e-4 * (1 + Math.abs(one[key][i])), `${key}[${i}] ${d} vs ${one[key][i]}, ${threads} threads`));
      }
    }
    // BLAS gets its threads back after the call.
    withThreads(2, (b) => {
      b.conv2dForward(random(48 * 32 * 32 * 3, 20), random(9 * 3 * cs, 21), new Float32Array(cs), gs, cs, new Float32Array(48 * 16 * 16 * cs), new Float32Array(b.conv2dWorkspaceSize(gs, cs)));
      assert.equal(b.info().blasThreads, 2);
    });
  });

  it('a worker thread keeps one thread while the main thread runs several', async () => {
    setNativeThreads(2);
    const source = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(new URL('../../src/engine/native.js', import.meta.url).href)}).then((m) => {
        m.keepWorkerSingleThreaded();
        parentPort.postMessage(m.loadNativeBackend().threads());
      });`;
    const threads = await new Promise((resolve, reject) => {
      const worker = new Worker(source, { eval: true });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(threads, 1);
    assert.equal(loadNativeBackend().threads!(), 2);
    setNativeThreads(1);
  });
});
