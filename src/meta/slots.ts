// Running the task slots of all estimators: in this thread, or spread over worker threads
// (workers.ts). Both give identical results: every slot depends only on its own state and keys.
import type { Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';
import { perturb, perturbation } from './estimators.js';
import { buildLopt, buildTaskSource, type MetaProblemSpec } from './problem.js';
import { SlotRunner, type SlotState, type UnrollConfig, type UnrollResult } from './unroll.js';

/** Everything a thread needs to run slots. */
export interface SlotContext {
  problem: MetaProblemSpec;
  unroll: UnrollConfig;
  /** Root of the perturbation keys. */
  root: Key;
  std: number;
}

export interface SlotExecutor {
  /** Runs one truncation of every slot with θ ± ε (perturbation draw `draw`); results in global slot order. */
  run(theta: Float32Array, draw: number, steps: number): Promise<UnrollResult[]>;
  /** Copies of the slots' persistent states, in global slot order. */
  states(): Promise<SlotState[]>;
  close(): Promise<void>;
}

/** θ as a tree from its flattened form (names in lexicographic order). */
export function thetaFromFlat(flat: Float32Array, shapes: Readonly<Record<string, readonly number[]>>): Params {
  const out: Params = {};
  let offset = 0;
  for (const name of Object.keys(shapes).sort()) {
    const shape = [...shapes[name]];
    const size = shape.reduce((a, b) => a * b, 1);
    out[name] = { shape, data: flat.subarray(offset, offset + size) };
    offset += size;
  }
  if (offset !== flat.length) throw new Error(`θ has ${flat.length} values, the optimizer expects ${offset}`);
  return out;
}

/** Runs a subset of slots (global indices `indices`) in the calling thread. */
export class SlotGroup {
  private readonly runners: SlotRunner[];
  private readonly shapes: Readonly<Record<string, readonly number[]>>;

  constructor(private readonly ctx: SlotContext, readonly indices: readonly number[], states: readonly SlotState[]) {
    const lopt = buildLopt(ctx.problem);
    const source = buildTaskSource(ctx.problem);
    source.preload?.();
    this.shapes = lopt.thetaShapes;
    this.runners = states.map((s) => new SlotRunner(s, lopt, source, ctx.unroll));
  }

  run(theta: Float32Array, draw: number, steps: number): UnrollResult[] {
    return this.runners.map((runner, j) => {
      const eps = perturbation(this.ctx.root, draw, this.indices[j], theta.length, this.ctx.std);
      const pos = thetaFromFlat(perturb(theta, eps, 1), this.shapes);
      const neg = thetaFromFlat(perturb(theta, eps, -1), this.shapes);
      return runner.unroll(pos, neg, steps);
    });
  }

  states(): SlotState[] {
    return this.runners.map((r) => structuredClone(r.state));
  }
}

/** All slots in this thread. */
export function localExecutor(ctx: SlotContext, states: readonly SlotState[]): SlotExecutor {
  const group = new SlotGroup(ctx, states.map((_, i) => i), states);
  return {
    run: async (theta, draw, steps) => group.run(theta, draw, steps),
    states: async () => group.states(),
    close: async () => {},
  };
}
