// Imitation initialisation, an idea beyond the paper (issue 14's recipe ablation): before PES, fit the
// MLP of a per-parameter learned optimizer (small_fc_lopt, the feature_mlp_lopt family) so that its
// step imitates a tuned hand-designed optimizer (NAdamW) on recorded training trajectories.
//
// Why: PES at truncation 20 sees a 2,000-step run 20 steps at a time, and the learned step of
// small_fc_lopt came out without the late-training decay that a tuned NAdamW schedule has (the
// step-schedule probe gained 0.01 from a decay alone). A regression onto NAdamW's steps, with the
// same features and time features the learned optimizer sees, writes that schedule into θ directly.
//
// 1. `recordImitation`: runs the task with both optimizers fed the same gradients; one of them (the
//    leader) moves the parameters, the other is reset to them before every step. At sampled steps and
//    elements it records the MLP's input row (features, time features, exactly as the kernel builds
//    them; mlpLoptNetInputs) and the teacher's step there. Following the student instead of the
//    teacher (DAgger) records the states the student itself visits.
// 2. `fitImitation`: Adam on the MLP weights of θ (the decay offsets stay: they shape the features)
//    minimising Σ(student step − teacher step)² / Σ teacher step², in float64.
import type { Backend } from '../engine/backend.js';
import { mlpLoptNetInputs } from '../engine/mlp-lopt-reference.js';
import type { MlpLoptNet, MlpLoptTensor } from '../engine/mlp-lopt.js';
import { foldIn, keyFromSeed, randomBits, split, type Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { Task } from '../tasks/task.js';
import { EXP_MULT, STEP_MULT } from './per-param-mlp.js';
import { nnLayerNames } from './small-fc-lopt.js';

export interface ImitationRecording {
  /** Width of one input row: features + per-tensor inputs. */
  width: number;
  /** Recorded samples. */
  count: number;
  /** count × width MLP input rows. */
  inputs: Float64Array;
  /** The teacher's step (p before − p after) of each sample. */
  targets: Float64Array;
  /** Per-sample weights of the squared error (default 1 each); see mergeRecordings' `balance`. */
  weights?: Float64Array;
}

export interface RecordOptions<B> {
  task: Task<B>;
  /** Builds the student on the given backend (the recorder wraps one to see the kernel's inputs). */
  student: (backend: Backend) => Optimizer<any>;
  teacher: () => Optimizer<any>;
  /** The backend the student's kernels run on. */
  backend: Backend;
  /** Length of each run (schedules and time features span it). */
  steps: number;
  /** One run per seed (initialisation and data order as `train` with that seed). */
  seeds: readonly number[];
  /** Record every K-th step (default 4). */
  every?: number;
  /**
   * Also record every one of the first N steps (default 0): a run's first steps decide whether it
   * trains at all (a warmup, for example), and one in K of them is too few to fit it.
   */
  denseSteps?: number;
  /** Elements sampled per parameter tensor per recorded step (default 64). */
  perTensor?: number;
  /** Which optimizer moves the parameters (default 'teacher'). */
  follow?: 'teacher' | 'student';
}

/** A backend that, while armed, records the MLP input rows of chosen elements before each apply. */
function recordingBackend(base: Backend, onApply: (t: MlpLoptTensor, net: MlpLoptNet) => void): Backend {
  // The backend object is frozen: inherit from it and shadow the one kernel.
  const apply = (t: MlpLoptTensor, net: MlpLoptNet, extra: Float64Array | null) => {
    onApply(t, net);
    base.mlpLoptApply(t, net, extra);
  };
  return Object.create(base, { mlpLoptApply: { value: apply } }) as Backend;
}

function copyInto(from: Params, to: Params): void {
  for (const name of Object.keys(from)) to[name].data.set(from[name].data);
}

function cloneGrads(grads: Params): Params {
  const out: Params = {};
  for (const name of Object.keys(grads)) out[name] = { shape: grads[name].shape, data: grads[name].data.slice() };
  return out;
}

/** `count` distinct-enough element indices in [0, n) (with replacement; n is large). */
function sampleIndices(key: Key, n: number, count: number): Int32Array {
  const bits = randomBits(key, count);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = bits[i] % n;
  return out;
}

export function recordImitation<B>(o: RecordOptions<B>): ImitationRecording {
  const every = o.every ?? 4;
  const denseSteps = o.denseSteps ?? 0;
  const perTensor = o.perTensor ?? 64;
  const rows: Float64Array[] = [];
  const targets: number[] = [];
  let width = 0;
  // Armed per recorded step: which elements of which parameter array to record, and their rows.
  let wanted: Map<Float32Array, Int32Array> | null = null;
  const stepRows = new Map<Float32Array, Float64Array>();
  const backend = recordingBackend(o.backend, (t, net) => {
    const indices = wanted?.get(t.p);
    if (!indices) return;
    width = net.scales.length + net.inputs.length;
    const out = new Float64Array(indices.length * width);
    mlpLoptNetInputs(t, net, indices, out);
    stepRows.set(t.p, out);
  });
  const student = o.student(backend);
  for (const seed of o.seeds) {
    const teacher = o.teacher();
    const [initKey, dataKey, , sampleKey] = split(keyFromSeed(seed), 4);
    const batches = o.task.datasets.train.stream(dataKey);
    const initial = o.task.init(initKey);
    let s = student.init(initial, { numSteps: o.steps });
    let t = teacher.init(initial, { numSteps: o.steps });
    for (let step = 0; step < o.steps; step++) {
      const leader = o.follow === 'student' ? student.getParams(s) : teacher.getParams(t);
      copyInto(leader, o.follow === 'student' ? teacher.getParams(t) : student.getParams(s));
      const { grads } = o.task.lossAndGrad(leader, batches.next());
      const record = step % every === 0 || step < denseSteps;
      const studentParams = student.getParams(s);
      const names = Object.keys(studentParams).filter((name) => studentParams[name].data.length > 0);
      const picks = new Map<string, Int32Array>();
      const before = new Map<string, Float64Array>();
      if (record) {
        const keys = split(foldIn(sampleKey, step), names.length);
        names.forEach((name, i) => {
          const indices = sampleIndices(keys[i], studentParams[name].data.length, perTensor);
          picks.set(name, indices);
          const p = teacher.getParams(t)[name].data;
          before.set(name, Float64Array.from(indices, (j) => p[j]));
        });
        wanted = new Map(names.map((name) => [studentParams[name].data, picks.get(name)!]));
      }
      const ownGrads = cloneGrads(grads);
      t = teacher.update(t, grads, { loss: NaN });
      stepRows.clear();
      s = student.update(s, ownGrads, { loss: NaN });
      wanted = null;
      if (record) {
        for (const name of names) {
          const block = stepRows.get(studentParams[name].data);
          if (!block) {
            throw new Error(`recordImitation: the student did not apply ${name} through mlpLoptApply; imitation needs a per-parameter MLP learned optimizer (small_fc_lopt, feature_mlp_lopt)`);
          }
          rows.push(block);
          const p = teacher.getParams(t)[name].data;
          const indices = picks.get(name)!;
          const start = before.get(name)!;
          for (let r = 0; r < indices.length; r++) targets.push(start[r] - p[indices[r]]);
        }
      }
    }
  }
  const count = targets.length;
  const inputs = new Float64Array(count * width);
  let at = 0;
  for (const block of rows) {
    inputs.set(block, at);
    at += block.length;
  }
  return { width, count, inputs, targets: Float64Array.from(targets) };
}

/** The MLP layers of θ: nn/w{l} [in, out], nn/b{l} [out]. */
function mlpLayers(theta: Params): { w: Float64Array; b: Float64Array; fanIn: number; fanOut: number }[] {
  const layers = [];
  for (let l = 0; theta[nnLayerNames(l).w]; l++) {
    const { w, b } = nnLayerNames(l);
    const [fanIn, fanOut] = theta[w].shape;
    layers.push({ w: Float64Array.from(theta[w].data), b: Float64Array.from(theta[b].data), fanIn, fanOut });
  }
  if (layers.length === 0) throw new Error('fitImitation: θ has no nn/w0 (imitation fits the MLP of small_fc_lopt or feature_mlp_lopt)');
  return layers;
}

type Layers = ReturnType<typeof mlpLayers>;

/** Relative squared error of the student's steps on the recording, and (when `grads` is given) its gradient. */
function imitationLoss(layers: Layers, data: ImitationRecording, grads?: Layers): number {
  const acts = layers.map((l) => new Float64Array(l.fanOut));
  const deltas = layers.map((l) => new Float64Array(l.fanOut));
  const weightOf = (i: number) => data.weights?.[i] ?? 1;
  let targetSquares = 0;
  for (let i = 0; i < data.count; i++) targetSquares += weightOf(i) * data.targets[i] ** 2;
  if (grads) for (const g of grads) { g.w.fill(0); g.b.fill(0); }
  let loss = 0;
  for (let i = 0; i < data.count; i++) {
    const x = data.inputs.subarray(i * data.width, (i + 1) * data.width);
    let a: Float64Array = x;
    layers.forEach((layer, l) => {
      const out = acts[l];
      for (let o = 0; o < layer.fanOut; o++) {
        let sum = layer.b[o];
        for (let j = 0; j < layer.fanIn; j++) sum += a[j] * layer.w[j * layer.fanOut + o];
        out[o] = l < layers.length - 1 ? Math.max(sum, 0) : sum;
      }
      a = out;
    });
    const [direction, magnitude] = acts[layers.length - 1];
    const scale = Math.exp(magnitude * EXP_MULT) * STEP_MULT;
    const error = direction * scale - data.targets[i];
    const weight = weightOf(i);
    loss += weight * error * error;
    if (!grads) continue;
    // d(weight · error²)/d outputs, then back through the layers.
    const top = deltas[layers.length - 1];
    top.fill(0);
    top[0] = 2 * weight * error * scale;
    top[1] = 2 * weight * error * direction * scale * EXP_MULT;
    for (let l = layers.length - 1; l >= 0; l--) {
      const layer = layers[l];
      const below = l > 0 ? acts[l - 1] : x;
      const delta = deltas[l];
      for (let o = 0; o < layer.fanOut; o++) grads[l].b[o] += delta[o];
      for (let j = 0; j < layer.fanIn; j++) {
        for (let o = 0; o < layer.fanOut; o++) grads[l].w[j * layer.fanOut + o] += below[j] * delta[o];
      }
      if (l === 0) break;
      const prev = deltas[l - 1];
      for (let j = 0; j < layer.fanIn; j++) {
        let sum = 0;
        for (let o = 0; o < layer.fanOut; o++) sum += layer.w[j * layer.fanOut + o] * delta[o];
        prev[j] = acts[l - 1][j] > 0 ? sum : 0;
      }
    }
  }
  const norm = targetSquares > 0 ? targetSquares : 1;
  if (grads) for (const g of grads) { for (let k = 0; k < g.w.length; k++) g.w[k] /= norm; for (let k = 0; k < g.b.length; k++) g.b[k] /= norm; }
  return loss / norm;
}

/**
 * One recording holding every sample of `list` (recordings of one student's inputs, in order). With
 * `balance`, each recording's samples are weighted by 1 / (its mean squared target), so that every
 * recording (a task whose teacher takes 10x smaller steps, for example) counts alike in the relative
 * error instead of the one with the largest steps dominating.
 */
export function mergeRecordings(list: readonly ImitationRecording[], { balance = false } = {}): ImitationRecording {
  if (list.length === 0) throw new Error('mergeRecordings: no recordings');
  const width = list[0].width;
  if (list.some((r) => r.width !== width)) throw new Error('mergeRecordings: recordings of different row widths');
  const count = list.reduce((sum, r) => sum + r.count, 0);
  const inputs = new Float64Array(count * width);
  const targets = new Float64Array(count);
  const weighted = balance || list.some((r) => r.weights);
  const weights = weighted ? new Float64Array(count) : undefined;
  let at = 0;
  for (const r of list) {
    inputs.set(r.inputs.subarray(0, r.count * width), at * width);
    targets.set(r.targets.subarray(0, r.count), at);
    if (weights) {
      let meanSquare = 0;
      for (let i = 0; i < r.count; i++) meanSquare += r.targets[i] ** 2 / r.count;
      const scale = balance && meanSquare > 0 ? 1 / meanSquare : 1;
      for (let i = 0; i < r.count; i++) weights[at + i] = (r.weights?.[i] ?? 1) * scale;
    }
    at += r.count;
  }
  return { width, count, inputs, targets, ...(weights ? { weights } : {}) };
}

export interface FitOptions {
  /** Adam iterations over the whole recording (default 500). */
  iterations?: number;
  /** Adam learning rate (default 1e-3). */
  learningRate?: number;
  /** Called every iteration with its loss. */
  onIteration?: (iteration: number, loss: number) => void;
}

export interface FitResult {
  theta: Params;
  /** Relative squared error before and after the fit. */
  lossBefore: number;
  lossAfter: number;
}

/** Relative squared error Σ w(step of θ − recorded step)² / Σ w recorded step² over a recording (w: its weights, else 1). */
export function imitationError(theta: Params, data: ImitationRecording): number {
  return imitationLoss(mlpLayers(theta), data);
}

/** θ with its MLP fitted to the recording (a new θ; the decay offsets are copied unchanged). */
export function fitImitation(theta: Params, data: ImitationRecording, o: FitOptions = {}): FitResult {
  const layers = mlpLayers(theta);
  if (layers[0].fanIn !== data.width) {
    throw new Error(`fitImitation: θ's MLP takes ${layers[0].fanIn} inputs but the recording has rows of ${data.width}`);
  }
  if (data.count === 0) throw new Error('fitImitation: the recording is empty');
  const iterations = o.iterations ?? 500;
  const lr = o.learningRate ?? 1e-3;
  const grads = layers.map((l) => ({ ...l, w: new Float64Array(l.w.length), b: new Float64Array(l.b.length) }));
  const moments = layers.map((l) => ({ mw: new Float64Array(l.w.length), vw: new Float64Array(l.w.length), mb: new Float64Array(l.b.length), vb: new Float64Array(l.b.length) }));
  const lossBefore = imitationLoss(layers, data);
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const adam = (p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, t: number) => {
    for (let k = 0; k < p.length; k++) {
      m[k] = beta1 * m[k] + (1 - beta1) * g[k];
      v[k] = beta2 * v[k] + (1 - beta2) * g[k] * g[k];
      p[k] -= (lr * (m[k] / (1 - beta1 ** t))) / (Math.sqrt(v[k] / (1 - beta2 ** t)) + eps);
    }
  };
  for (let it = 1; it <= iterations; it++) {
    const loss = imitationLoss(layers, data, grads);
    o.onIteration?.(it, loss);
    layers.forEach((layer, l) => {
      adam(layer.w, grads[l].w, moments[l].mw, moments[l].vw, it);
      adam(layer.b, grads[l].b, moments[l].mb, moments[l].vb, it);
    });
  }
  const out: Params = {};
  for (const name of Object.keys(theta)) out[name] = { shape: [...theta[name].shape], data: theta[name].data.slice() };
  layers.forEach((layer, l) => {
    const { w, b } = nnLayerNames(l);
    out[w].data.set(layer.w);
    out[b].data.set(layer.b);
  });
  return { theta: out, lossBefore, lossAfter: imitationLoss(mlpLayers(out), data) };
}

/** One round of imitationRounds: who led the recorded runs, the samples so far and the fit's errors. */
export interface ImitationRound {
  round: number;
  follow: 'teacher' | 'student';
  samples: number;
  lossBefore: number;
  lossAfter: number;
  seconds: number;
}

export interface ImitationRoundsOptions {
  theta: Params;
  rounds: number;
  /** The recordings of one round, made with the student of `theta` (runs led by `follow`). */
  record: (theta: Params, follow: 'teacher' | 'student') => ImitationRecording[];
  fit?: FitOptions;
  /** Weight each recording by its own step scale (mergeRecordings' `balance`). */
  balance?: boolean;
  onRound?: (round: ImitationRound) => void;
}

/**
 * DAgger: round 1 records runs led by the teacher, later rounds runs led by the student fitted so far;
 * every round refits θ on all samples recorded so far.
 */
export function imitationRounds(o: ImitationRoundsOptions): { theta: Params; rounds: ImitationRound[] } {
  let theta = o.theta;
  const recordings: ImitationRecording[] = [];
  const rounds: ImitationRound[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const follow = round === 1 ? 'teacher' : 'student';
    const began = Date.now();
    recordings.push(...o.record(theta, follow));
    const data = mergeRecordings(recordings, { balance: o.balance });
    const fit = fitImitation(theta, data, o.fit);
    theta = fit.theta;
    const row = { round, follow, samples: data.count, lossBefore: fit.lossBefore, lossAfter: fit.lossAfter, seconds: (Date.now() - began) / 1000 } as const;
    rounds.push(row);
    o.onRound?.(row);
  }
  return { theta, rounds };
}
