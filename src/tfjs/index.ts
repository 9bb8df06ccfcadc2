// lopt/tfjs: every lopt optimizer as a TensorFlow.js optimizer (a tf.Optimizer subclass), for
// `model.compile({ optimizer })` + `model.fit`, `optimizer.minimize(f)` and `applyGradients`.
//
// Each step reads every gradient once into a Float32Array (dataSync), runs the lopt optimizer's
// update (lopt's native fused kernels where the addon loads, else the TypeScript backend) and writes
// each parameter back with `variable.assign(tf.tensor(values, shape))`.
//
// State: the variables first seen together in one step form a group, with one lopt optimizer state
// over the parameter tree { variable name: tensor } (so optimizers with features across tensors, such
// as rnn_fc_lopt's, see the same tree as in lopt's own engine). Variables that first appear in a later
// step form a new group, initialised then. A variable of a group without a gradient in a step is
// stepped with a zero gradient. The optimizer keeps its own copy of the parameters; when a variable
// was assigned by someone else since the last step (model.setWeights, loading), the copy is refreshed
// from the variable before the update.
//
// getWeights()/setWeights(): "iter" (the iteration count, as every tf.Optimizer), then per group g
// the variables ("lopt/g/var/i/NAME", value: the shape) and every array and number of the lopt state
// but the parameters ("lopt/g/state/PATH", bit-exact; src/tfjs/state-codec.ts). setWeights replaces
// the whole state; each saved group is restored when its variables are first seen: the variables of
// the same names, else the next group of variables with the same shapes in the same order (a model
// loaded with tf.loadLayersModel in a process where its variable names are taken).
//
// Serialization (model.save with includeOptimizer, tf.loadLayersModel): the class is registered as
// "LoptOptimizer"; its config holds the optimizer name, its hyperparameters or options, numSteps and,
// for learned optimizers, θ itself (its values in θ's name order), so a loaded model steps with the
// same θ wherever the weights came from.
//
// @tensorflow/tfjs-core is an optional peer dependency, loaded here with a top-level await: without it,
// importing lopt/tfjs fails with one line (an OptionalPeerMissing) that names it and the install.
/**
 * Every lopt optimizer as a TensorFlow.js `tf.Optimizer`, `import { loptOptimizer } from 'lopt/tfjs'`
 * (`@tensorflow/tfjs-core` is an optional peer dependency).
 *
 * @module lopt/tfjs
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Backend } from '../engine/backend.js';
import { importPeer } from '../util/optional.js';

/** TensorFlow.js's core at run time (`tf` names its types). */
const tfc = await importPeer<typeof tf>('@tensorflow/tfjs-core', 'lopt/tfjs', 'npm install @tensorflow/tfjs (or @tensorflow/tfjs-core)');

/** A named tensor as tf.Optimizer's getWeights/setWeights use (tfjs-core's NamedTensor). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}
import { flattenParams, sizeOf, type Params, unflattenParams } from '../engine/tensor.js';
import { learned } from '../learned/registry.js';
import { resolveLearned } from '../learned/resolve-weights.js';
import type { Optimizer as LoptCoreOptimizer } from '../optimizers/optimizer.js';
import { optimizers, OPTIMIZER_NAMES } from '../optimizers/registry.js';
import { encodeState, restoreState, type EncodedLeaf } from './state-codec.js';

export { encodeState, restoreState, type EncodedLeaf, type LeafDtype } from './state-codec.js';

/** Learned optimizers whose update uses the training loss (UpdateContext.loss). */
const USES_LOSS = new Set(['rnn_fc_lopt']);

export interface LoptOptimizerOptions {
  /** Learned optimizers: θ as a weights file path or the file's bytes (default: the shipped weights). */
  weights?: string | Uint8Array;
  /** Planned run length, for optimizers whose schedule or time features need it (nadamw requires it). */
  numSteps?: number;
  /** Learned optimizers without shipped weights and none given: seed of the untrained θ (default 0). */
  seed?: number;
  /** lopt numerical backend (default: getBackend(), native where the addon loads). */
  backend?: Backend;
  /** Every other key is a hyperparameter (hand-designed) or an option (learned) of the optimizer. */
  [hparam: string]: unknown;
}

interface Group {
  /** Variable names, in the order of the gradients of the step that created the group. */
  variables: string[];
  /** The names in the lopt parameter tree (the variable names, or those of a restored group). */
  keys: string[];
  shapes: number[][];
  state: unknown;
  /** The dataId each variable had after our last assign (undefined: read it before the next step). */
  dataIds: unknown[];
  /** The gradient arrays of the last update (the state may hold views of them; they are not state). */
  lastGrads: Set<unknown>;
}

interface SavedGroup {
  keys: string[];
  shapes: number[][];
  leaves: EncodedLeaf[];
}

const RESERVED = new Set(['weights', 'numSteps', 'seed', 'backend']);

function describeNames(): string {
  return `${OPTIMIZER_NAMES.join(', ')} (hand-designed), ${learned.names.join(', ')} (learned)`;
}

/** Config values pass through tfjs-layers' re-casing of strings; a string under the key "name" does not. */
function encodeSettings(settings: Record<string, unknown>): { name: string } {
  return { name: JSON.stringify(settings) };
}

function decodeSettings(value: unknown): Record<string, unknown> {
  if (value && typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string') return JSON.parse((value as { name: string }).name);
  return (value ?? {}) as Record<string, unknown>;
}

export class LoptOptimizer extends tfc.Optimizer {
  /** The name this class is registered under for serialization. */
  static className = 'LoptOptimizer';

  /** The lopt optimizer's name (sgd, adam, small_fc_lopt, …). */
  readonly loptName: string;
  /** The hyperparameters (hand-designed) or options (learned) as given, without weights/numSteps/seed/backend. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly numSteps: number | undefined;
  /** Learned optimizers: where θ came from (a path, "bytes", "config", "untrained (seed S)"). */
  readonly thetaSource: string | undefined;
  /** The lopt optimizer that runs the updates. */
  readonly lopt: LoptCoreOptimizer<unknown>;
  private readonly thetaValues: Float32Array | undefined;
  /**
   * Learned optimizers: every option θ runs with, those saved with its weights (a built-in warmup or
   * step boost) included, so that the config rebuilds the same optimizer around the same θ.
   */
  private readonly learnedOptions: Readonly<Record<string, unknown>> | undefined;
  private groups: Group[] = [];
  private groupOf = new Map<string, Group>();
  private pending: SavedGroup[] = [];
  private loss: number | undefined;

  constructor(name: string, options: LoptOptimizerOptions = {}, theta?: Float32Array) {
    super();
    const settings: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) if (!RESERVED.has(key) && value !== undefined) settings[key] = value;
    this.loptName = name;
    this.settings = Object.freeze({ ...settings });
    this.numSteps = options.numSteps;
    const backend = options.backend;
    if (optimizers.has(name)) {
      if (options.weights !== undefined) throw new Error(`weights apply to learned optimizers only (${name} is hand-designed)`);
      this.lopt = optimizers.get(name, settings, { backend });
    } else if (learned.has(name)) {
      if (theta !== undefined) {
        const lo = learned.get(name, settings, { backend });
        const like: Params = {};
        for (const [n, shape] of Object.entries(lo.thetaShapes)) like[n] = { shape: [...shape], data: new Float32Array(sizeOf(shape)) };
        this.lopt = lo.optFn(unflattenParams(theta, like));
        this.thetaValues = theta;
        this.thetaSource = 'config';
        this.learnedOptions = { ...lo.options };
      } else {
        const chosen = resolveLearned(name, { options: settings, weights: options.weights, seed: options.seed, backend });
        if (chosen.untrained) {
          process.emitWarning(`lopt: no pretrained weights are shipped for ${name}; using an untrained θ from seed ${options.seed ?? 0}; pass { weights } for meta-trained weights`);
        }
        this.lopt = chosen.optimizer.optFn(chosen.theta);
        this.thetaValues = flattenParams(chosen.theta);
        this.thetaSource = chosen.source;
        this.learnedOptions = { ...chosen.optimizer.options };
      }
    } else {
      throw new Error(`unknown optimizer "${name}"; valid: ${describeNames()}`);
    }
    // Fails now (not at the first step) when init needs something missing, e.g. nadamw's numSteps.
    this.lopt.init({}, { numSteps: this.numSteps as number });
  }

  /** The training loss of the coming update, for optimizers that use it (rnn_fc_lopt) when you call applyGradients yourself. */
  setLoss(loss: number): void {
    this.loss = loss;
  }

  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    const { value, grads } = this.computeGradients(f, varList);
    try {
      this.loss = value.dataSync()[0];
      if (varList != null) {
        this.applyGradients(varList.filter((v) => grads[v.name] != null).map((v) => ({ name: v.name, tensor: grads[v.name] })));
      } else {
        this.applyGradients(grads);
      }
    } finally {
      tfc.dispose(grads);
      this.loss = undefined;
    }
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const grads = new Map<string, tf.Tensor>();
    if (Array.isArray(variableGradients)) {
      for (const { name, tensor } of variableGradients) if (tensor != null) grads.set(name, tensor);
    } else {
      for (const name of Object.keys(variableGradients)) if (variableGradients[name] != null) grads.set(name, variableGradients[name]);
    }
    const loss = this.loss;
    this.loss = undefined;
    if (USES_LOSS.has(this.loptName) && loss === undefined) {
      throw new Error(`${this.loptName} uses the training loss: step it with minimize() or model.fit, or call setLoss(loss) before applyGradients`);
    }
    const registered = tfc.engine().registeredVariables;
    const variableOf = (name: string): tf.Variable => {
      const v = registered[name];
      if (v === undefined) throw new Error(`LoptOptimizer: no variable named "${name}" (gradients are keyed by variable name)`);
      if (v.dtype !== 'float32') throw new Error(`LoptOptimizer: variable "${name}" is ${v.dtype}; lopt optimizes float32 variables`);
      return v;
    };
    const fresh = [...grads.keys()].filter((name) => !this.groupOf.has(name));
    if (fresh.length) this.addGroup(fresh.map(variableOf));
    const touched = new Set<Group>();
    for (const name of grads.keys()) touched.add(this.groupOf.get(name)!);
    for (const group of this.groups) {
      if (!touched.has(group)) continue;
      const params = this.lopt.getParams(group.state);
      const gradTree: Params = {};
      group.lastGrads.clear();
      group.variables.forEach((name, i) => {
        const key = group.keys[i];
        const v = variableOf(name);
        if (v.dataId !== group.dataIds[i]) params[key].data.set(v.dataSync() as Float32Array);
        const g = grads.get(name);
        let data: Float32Array;
        if (g === undefined) data = new Float32Array(params[key].data.length);
        else {
          const read = g.dataSync();
          data = read instanceof Float32Array ? read : Float32Array.from(read as ArrayLike<number>);
        }
        group.lastGrads.add(data);
        gradTree[key] = { shape: group.shapes[i], data };
      });
      group.state = this.lopt.update(group.state, gradTree, { loss: loss ?? Number.NaN });
      const updated = this.lopt.getParams(group.state);
      tfc.tidy(() => {
        group.variables.forEach((name, i) => {
          const v = variableOf(name);
          v.assign(tfc.tensor(updated[group.keys[i]].data.slice(), group.shapes[i], 'float32'));
          group.dataIds[i] = v.dataId;
        });
      });
    }
    this.incrementIterations();
  }

  /** A new group for variables first seen now: its lopt state, restored from setWeights where saved. */
  private addGroup(variables: tf.Variable[]): void {
    const names = variables.map((v) => v.name);
    const shapes = variables.map((v) => [...v.shape]);
    const sameShapes = (saved: SavedGroup) => saved.shapes.length === shapes.length && saved.shapes.every((s, i) => s.join(',') === shapes[i].join(','));
    let index = this.pending.findIndex((saved) => saved.keys.length === names.length && [...saved.keys].sort().join('\n') === [...names].sort().join('\n'));
    let keys = names;
    if (index >= 0) {
      // The same names: map by name (the saved order may differ).
      const saved = this.pending[index];
      const order = names.map((n) => saved.keys.indexOf(n));
      if (!order.every((j, i) => saved.shapes[j].join(',') === shapes[i].join(','))) {
        throw new Error(`LoptOptimizer.setWeights: the saved state of ${names.join(', ')} is for other shapes`);
      }
    } else if (this.pending.length) {
      index = this.pending.findIndex(sameShapes);
      if (index < 0) {
        throw new Error(`LoptOptimizer.setWeights: no saved state fits the variables ${names.join(', ')} (shapes ${shapes.map((s) => `[${s.join(', ')}]`).join(', ')})`);
      }
      keys = this.pending[index].keys;
    }
    const params: Params = {};
    variables.forEach((v, i) => {
      params[keys[i]] = { shape: shapes[i], data: Float32Array.from(v.dataSync() as ArrayLike<number>) };
    });
    const state = this.lopt.init(params, { numSteps: this.numSteps as number });
    if (index >= 0) {
      restoreState(state, this.pending[index].leaves, this.paramArrays(state));
      this.pending.splice(index, 1);
    }
    const group: Group = { variables: names, keys, shapes, state, dataIds: names.map(() => undefined), lastGrads: new Set() };
    this.groups.push(group);
    for (const name of names) this.groupOf.set(name, group);
  }

  private paramArrays(state: unknown): Set<unknown> {
    return new Set(Object.values(this.lopt.getParams(state)).map((t) => t.data));
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [await this.saveIterations()];
    // Groups restored by setWeights but not yet seen are still part of the state.
    const saved: SavedGroup[] = this.groups.map((group) => {
      const skip = this.paramArrays(group.state);
      for (const g of group.lastGrads) skip.add(g);
      return { keys: group.keys, shapes: group.shapes, leaves: encodeState(group.state, skip) };
    });
    saved.push(...this.pending);
    saved.forEach((group, g) => {
      group.keys.forEach((key, i) => out.push({ name: `lopt/${g}/var/${i}/${key}`, tensor: tfc.tensor1d(group.shapes[i], 'int32') }));
      for (const leaf of group.leaves) out.push({ name: `lopt/${g}/state/${leaf.name}`, tensor: tfc.tensor1d(leaf.values.slice(), leaf.dtype) });
    });
    return out;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const iter = weightValues.find((w) => w.name === 'iter') ?? weightValues[0];
    const saved = new Map<number, SavedGroup>();
    const groupAt = (g: number) => {
      let group = saved.get(g);
      if (!group) saved.set(g, (group = { keys: [], shapes: [], leaves: [] }));
      return group;
    };
    for (const { name, tensor } of weightValues) {
      if (name === iter.name) continue;
      const match = /^lopt\/(\d+)\/(var|state)\/(.*)$/s.exec(name);
      if (!match) throw new Error(`LoptOptimizer.setWeights: "${name}" is not a lopt optimizer weight`);
      const group = groupAt(Number(match[1]));
      const values = await tensor.data();
      if (match[2] === 'var') {
        const varMatch = /^(\d+)\/(.*)$/s.exec(match[3]);
        if (!varMatch) throw new Error(`LoptOptimizer.setWeights: "${name}" is not a lopt optimizer weight`);
        group.keys[Number(varMatch[1])] = varMatch[2];
        group.shapes[Number(varMatch[1])] = Array.from(values as Int32Array);
      } else {
        const dtype = tensor.dtype === 'float32' ? 'float32' : 'int32';
        group.leaves.push({ name: match[3], dtype, values: dtype === 'float32' ? Float32Array.from(values as Float32Array) : Int32Array.from(values as Int32Array) });
      }
    }
    this.iterations_ = Number((await iter.tensor.data())[0]);
    this.groups = [];
    this.groupOf.clear();
    this.pending = [...saved.keys()].sort((a, b) => a - b).map((g) => saved.get(g)!);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      name: this.loptName,
      settings: encodeSettings((this.learnedOptions ?? this.settings) as Record<string, unknown>),
      numSteps: this.numSteps ?? null,
      theta: this.thetaValues ? Array.from(this.thetaValues) : null,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const settings = decodeSettings(config.settings);
    const numSteps = config.numSteps == null ? undefined : Number(config.numSteps);
    const theta = Array.isArray(config.theta) ? Float32Array.from(config.theta as number[]) : undefined;
    return new LoptOptimizer(String(config.name), { ...settings, numSteps }, theta) as unknown as T;
  }

  override dispose(): void {
    this.groups = [];
    this.groupOf.clear();
    this.pending = [];
    super.dispose();
  }
}

tfc.serialization.registerClass(LoptOptimizer);

/**
 * Every lopt optimizer as a tf.Optimizer: hand-designed (`sgd`, `sgdm`, `adam`, `nadamw`,
 * `adafactor`; options are hyperparameters such as learningRate, beta1, …) and learned
 * (`small_fc_lopt`, …; θ from `weights`, else the shipped pretrained weights; options are the
 * optimizer's options). `numSteps` is the planned run length (nadamw's schedule needs it).
 */
export function loptOptimizer(name: string, options: LoptOptimizerOptions = {}): LoptOptimizer {
  return new LoptOptimizer(name, options);
}
