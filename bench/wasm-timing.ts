// The timing routine of bench/wasm.ts, shared by Node and the browser page: bench/wasm.ts calls it
// in Node and also injects its source into headless Chromium (Function.prototype.toString), so both
// measure the very same way. It imports nothing and reads nothing from outside its arguments.
import type { Optimizer, Params } from 'lopt';

export interface TimingCase {
  optimizer: string;
  backend: string;
}

export interface TimingOptions {
  /** Parameter names and shapes (the model's). */
  shapes: [string, number[]][];
  rounds: number;
  /** Milliseconds of updates per case per round (at least one update). */
  roundMs: number;
  /** Milliseconds of warm-up updates per case (WebAssembly reaches its optimizing compiler meanwhile). */
  warmupMs: number;
}

/**
 * Median ms of one update per case, from interleaved rounds: every case runs its share of updates each
 * round (about roundMs of them), so that other load on the machine slows them alike. Parameters and gradients are fixed,
 * deterministic values; `make` builds a case's optimizer.
 */
export function timeUpdates(
  make: (optimizer: string, backend: string) => Optimizer<unknown>, cases: TimingCase[], options: TimingOptions,
): number[] {
  const tree = (scale: number, phase: number): Params => {
    const out: Params = {};
    options.shapes.forEach(([name, shape], t) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = scale * Math.sin(0.7 * i + 1.3 * t + phase);
      out[name] = { shape, data };
    });
    return out;
  };
  const params = tree(0.05, 0);
  const grads = tree(0.01, 2);
  const runs = cases.map((c) => {
    const optimizer = make(c.optimizer, c.backend);
    return { optimizer, state: optimizer.init(params, { numSteps: 1000 }), times: [] as number[], estimate: 1 };
  });
  const step = (run: (typeof runs)[number]): number => {
    const started = performance.now();
    run.state = run.optimizer.update(run.state, grads, { loss: 1 });
    return performance.now() - started;
  };
  for (const run of runs) {
    const times: number[] = [];
    for (let spent = 0; spent < options.warmupMs || times.length < 3;) spent += times[times.push(step(run)) - 1];
    run.estimate = times.slice(-3).reduce((a, b) => a + b) / 3;
  }
  // Each sample is one round's batch of updates, timed as a whole: a browser's clock may be as coarse as
  // 0.1 ms (Chromium's without cross-origin isolation), too coarse for one Adam update.
  for (let round = 0; round < options.rounds; round++) {
    for (const run of runs) {
      const count = Math.max(1, Math.round(options.roundMs / run.estimate));
      const started = performance.now();
      for (let i = 0; i < count; i++) run.state = run.optimizer.update(run.state, grads, { loss: 1 });
      run.times.push((performance.now() - started) / count);
    }
  }
  return runs.map((run) => {
    const sorted = run.times.slice().sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  });
}
