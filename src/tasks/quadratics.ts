// Quadratic tasks and task families (LO tasks/quadratics.py): tiny, data-free problems for fast
// tests of optimizers and meta-training.
import { normal, split, type Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';
import { noDataSplits, noiseSplits, type NoiseBatch } from './no-data.js';
import type { LossAndGrad, Task, TaskDatasets } from './task.js';

type QuadraticLoss = 'sum' | 'log';

/** Σ (x − target)², or its log; x is one vector named "x". */
class VectorQuadraticTask implements Task<NoiseBatch> {
  readonly batchSize = 1;
  readonly paramCount: number;
  readonly flopsPerStep: number;
  private readonly grads: Params;

  constructor(
    readonly name: string,
    private readonly dim: number,
    private readonly target: Float32Array | null,
    private readonly kind: QuadraticLoss,
    readonly datasets: TaskDatasets<NoiseBatch>,
    readonly normalizer: (loss: number) => number,
  ) {
    this.paramCount = dim;
    this.flopsPerStep = 4 * dim;
    this.grads = { x: { shape: [dim], data: new Float32Array(dim) } };
  }

  init(key: Key): Params {
    return { x: { shape: [this.dim], data: normal(key, this.dim) } };
  }

  loss(params: Params, batch: NoiseBatch): number {
    return this.evaluate(params, batch, null);
  }

  lossAndGrad(params: Params, batch: NoiseBatch): LossAndGrad {
    const loss = this.evaluate(params, batch, this.grads.x.data);
    return { loss, grads: this.grads };
  }

  private evaluate(params: Params, batch: NoiseBatch, grad: Float32Array | null): number {
    const x = params.x.data;
    let sumSq = 0;
    for (let i = 0; i < this.dim; i++) {
      const diff = x[i] - (this.target ? this.target[i] : 0);
      sumSq += diff * diff;
    }
    // d/dx Σ d² = 2d; d/dx log Σ d² = 2d / Σ d².
    const scale = this.kind === 'log' ? 2 / sumSq : 2;
    if (grad) for (let i = 0; i < this.dim; i++) grad[i] = scale * (x[i] - (this.target ? this.target[i] : 0));
    return (this.kind === 'log' ? Math.log(sumSq) : sumSq) + batch.noise;
  }
}

/** Σ (a + b)² over two vectors "a" and "b" of 10 (LO SumQuadraticTask). */
class SumQuadraticTask implements Task<NoiseBatch> {
  readonly name = 'sum-quadratic';
  readonly batchSize = 1;
  readonly paramCount = 20;
  readonly flopsPerStep = 60;
  readonly datasets = noDataSplits();
  private readonly grads: Params = {
    a: { shape: [10], data: new Float32Array(10) },
    b: { shape: [10], data: new Float32Array(10) },
  };

  init(key: Key): Params {
    const [ka, kb] = split(key);
    return { a: { shape: [10], data: normal(ka, 10) }, b: { shape: [10], data: normal(kb, 10) } };
  }

  loss(params: Params): number {
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += (params.a.data[i] + params.b.data[i]) ** 2;
    return sum;
  }

  lossAndGrad(params: Params): LossAndGrad {
    for (let i = 0; i < 10; i++) {
      const g = 2 * (params.a.data[i] + params.b.data[i]);
      this.grads.a.data[i] = g;
      this.grads.b.data[i] = g;
    }
    return { loss: this.loss(params), grads: this.grads };
  }

  normalizer(loss: number): number {
    return loss;
  }
}

const identity = (loss: number) => loss;

/** LO QuadraticTask: Σ x², x ~ N(0, I) of `dim` (default 10). */
export function quadraticTask(dim = 10): Task<NoiseBatch> {
  return new VectorQuadraticTask('quadratic', dim, null, 'sum', noDataSplits(), identity);
}

/** LO LogQuadraticTask: log Σ x². */
export function logQuadraticTask(dim = 10): Task<NoiseBatch> {
  return new VectorQuadraticTask('log-quadratic', dim, null, 'log', noDataSplits(), identity);
}

export function sumQuadraticTask(): Task<NoiseBatch> {
  return new SumQuadraticTask();
}

/** A family of tasks: sample(key) draws task parameters, taskFn builds the task they define. */
export interface TaskFamily<P, B> {
  readonly name: string;
  sample(key: Key): P;
  taskFn(taskParams: P): Task<B>;
}

/**
 * LO FixedDimQuadraticFamily: targets t ~ N(0, I) of `dim`; task loss Σ (t − x)². With
 * `noise: true`, LO FixedDimQuadraticFamilyData: plus one N(0, 1) scalar per batch, normaliser clip
 * to [0, 1000].
 */
export function quadraticFamily(dim = 10, { noise = false } = {}): TaskFamily<Float32Array, NoiseBatch> {
  const name = noise ? 'quadratic-family-noise' : 'quadratic-family';
  const datasets = noise ? noiseSplits() : noDataSplits();
  const normalizer = noise ? (loss: number) => (Number.isFinite(loss) ? Math.min(Math.max(loss, 0), 1000) : 1000) : identity;
  return {
    name,
    sample: (key) => normal(key, dim),
    taskFn: (target) => new VectorQuadraticTask(name, dim, target, 'sum', datasets, normalizer),
  };
}
