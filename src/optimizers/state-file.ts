// Optimizer state files: the state of any lopt optimizer (hand-designed or learned) saved to disk and
// loaded back into a fresh optimizer, so that a run continues bit for bit where it stopped.
//
// The file is a safetensors file (https://github.com/huggingface/safetensors), like the learned
// optimizers' weights files (src/learned/weights.ts):
//   8 bytes      N, the header length, unsigned little-endian
//   N bytes      the header: UTF-8 JSON, padded with spaces to a multiple of 8
//   rest         the arrays, little-endian, one after the other in the header's order
// The header maps every value of the state to {"dtype": "F32" | "I32", "shape": [length],
// "data_offsets": [begin, end]}, named by its path in the state as src/optimizers/state-leaves.ts
// names it ("params/mlp/linear_0/w", "m/…", "slots/[name]/kernel/acc", "step:num", …; float32 arrays as
// F32, everything else bit-exactly as I32 words), parameters included. "__metadata__" (string values,
// as safetensors requires) is the manifest:
//   format          "lopt-optimizer-state"
//   format_version  "1"
//   optimizer       the optimizer's name, e.g. "adam" or "small_fc_lopt"
//   settings        JSON: its hyperparameters (hand-designed: {"hparams": {...}}) or, for learned
//                   optimizers, {"options": {...}, "theta_sha256": "..."}; "null" when unknown
//   step            updates applied so far (the state's step or iteration; "null" when it has none)
//   num_steps       the run length the state was built for (schedules, time features; "null" if unknown)
//   params          JSON {name: shape} of the parameters, in name order: the structure the state is
//                   rebuilt from (optimizer.init on parameters of these shapes, then every value restored)
//   meta            JSON of the caller's free fields (saveState's `meta`)
//   data_sha256     SHA-256 (hex) of the data bytes
// Loading checks the name, the settings and (when parameters are given) the parameter names and
// shapes, and says in one StateFileError which differs.
import { assembleSafetensors, parseSafetensorsHeader } from '../util/safetensors.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sortedNames, type Params } from '../engine/tensor.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Optimizer, OptimizerInitOptions } from './optimizer.js';
import { emptyLeafNames, restoreLeaves, stateToLeaves, type EncodedLeaf } from './state-leaves.js';

export const STATE_FORMAT = 'lopt-optimizer-state';
/** Leaf names independent of which fields alias an array (src/optimizers/state-leaves.ts). */
const CANONICAL = { canonical: true } as const;
export const STATE_FORMAT_VERSION = 1;

/** Free JSON fields saved with a state (e.g. where a training run stands). */
export type StateMeta = Record<string, unknown>;

/** What loadState / decodeState return. */
export interface LoadedState<S = unknown> {
  /** A state of the given optimizer holding every saved value: continue with optimizer.update. */
  state: S;
  /** Updates the saved state had applied (null when its state has no step or iteration counter). */
  step: number | null;
  /** The run length the state was built for (null when unknown). */
  numSteps: number | null;
  /** The parameter names and shapes of the state. */
  params: Record<string, number[]>;
  /** The optimizer's settings as saved (null when unknown). */
  settings: Record<string, unknown> | null;
  /** The caller's free fields given to saveState. */
  meta: StateMeta;
}

export interface LoadStateOptions {
  /**
   * The parameters the state must be for: their names and shapes must match the saved ones (else one
   * StateFileError naming the first difference). Their values are not used: the saved ones are.
   */
  params?: Params;
  /** Init options for the fresh state (default: { numSteps: the saved num_steps }). */
  init?: Partial<OptimizerInitOptions>;
}

export class StateFileError extends Error {
  override name = 'StateFileError';
}

interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** An optimizer that may say how it was configured: hand-designed ones carry `hparams`, learned ones `settings`. */
type Described = Optimizer<unknown> & { hparams?: unknown; settings?: unknown };

/**
 * The settings an optimizer is compared by: `{ hparams }` of a hand-designed optimizer, `settings` of
 * an optimizer that declares them (learned optimizers: options and θ's SHA-256), else null.
 */
export function optimizerSettings(optimizer: Optimizer<unknown>): Record<string, unknown> | null {
  const described = optimizer as Described;
  if (described.settings !== null && typeof described.settings === 'object') return { ...(described.settings as Record<string, unknown>) };
  if (described.hparams !== null && typeof described.hparams === 'object') return { hparams: { ...(described.hparams as Record<string, unknown>) } };
  return null;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function counter(state: unknown, key: 'step' | 'iteration' | 'numSteps'): number | null {
  if (state === null || typeof state !== 'object') return null;
  const value = (state as Record<string, unknown>)[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The bytes of a state file for `state` of `optimizer` (see the top of this file). */
export function encodeState<S>(optimizer: Optimizer<S>, state: S, meta: StateMeta = {}): Uint8Array {
  const params = optimizer.getParams(state);
  const shapes: Record<string, number[]> = {};
  for (const name of sortedNames(params)) shapes[name] = [...params[name].shape];
  const leaves = stateToLeaves(state, new Set(), CANONICAL);
  let total = 0;
  for (const leaf of leaves) total += leaf.values.length * 4;
  const data = new Uint8Array(total);
  const view = new DataView(data.buffer);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const leaf of leaves) {
    const bytes = leaf.values.length * 4;
    header[leaf.name] = { dtype: leaf.dtype === 'float32' ? 'F32' : 'I32', shape: [leaf.values.length], data_offsets: [offset, offset + bytes] };
    if (leaf.dtype === 'float32') {
      for (let i = 0; i < leaf.values.length; i++) view.setFloat32(offset + 4 * i, leaf.values[i], true);
    } else {
      for (let i = 0; i < leaf.values.length; i++) view.setInt32(offset + 4 * i, leaf.values[i], true);
    }
    offset += bytes;
  }
  const step = counter(state, 'step') ?? counter(state, 'iteration');
  const metaNumSteps = typeof meta.numSteps === 'number' ? meta.numSteps : null;
  header.__metadata__ = {
    format: STATE_FORMAT,
    format_version: String(STATE_FORMAT_VERSION),
    optimizer: optimizer.name,
    settings: JSON.stringify(optimizerSettings(optimizer as Optimizer<unknown>)),
    step: JSON.stringify(step),
    num_steps: JSON.stringify(counter(state, 'numSteps') ?? metaNumSteps),
    params: JSON.stringify(shapes),
    meta: JSON.stringify(meta),
    data_sha256: sha256(data),
  };
  return assembleSafetensors(header, data);
}

/**
 * Writes `state` of `optimizer` to `file` atomically (a temporary file beside it, fsync, rename:
 * src/util/atomic-write.ts), with `meta` (free JSON fields; `numSteps` there is recorded as the run
 * length when the state itself does not hold one).
 */
export function saveState<S>(file: string, optimizer: Optimizer<S>, state: S, meta: StateMeta = {}): void {
  writeFileAtomic(file, encodeState(optimizer, state, meta));
}

function show(value: unknown): string {
  return value === undefined ? 'none' : typeof value === 'string' ? value : JSON.stringify(value);
}

/** The first key at which two settings objects differ, as "key=a" / "key=b" (nested keys joined by "."). */
function settingsDifference(saved: unknown, current: unknown, path = ''): [string, string] | null {
  const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObject(saved) && isObject(current)) {
    const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])].sort();
    for (const key of keys) {
      const found = settingsDifference(saved[key], current[key], path === '' || path === 'hparams' || path === 'options' ? key : `${path}.${key}`);
      if (found) return found;
    }
    return null;
  }
  if (JSON.stringify(saved) === JSON.stringify(current)) return null;
  return [`${path}=${show(saved)}`, `${path}=${show(current)}`];
}

function shapesDifference(saved: Record<string, number[]>, params: Params): string | null {
  const savedNames = Object.keys(saved).sort();
  const names = sortedNames(params);
  const missing = savedNames.filter((n) => !(n in params));
  const extra = names.filter((n) => !(n in saved));
  if (missing.length || extra.length) {
    return `parameter names differ (${[missing.length ? `saved only: ${missing.join(', ')}` : '', extra.length ? `given only: ${extra.join(', ')}` : ''].filter(Boolean).join('; ')})`;
  }
  for (const name of savedNames) {
    if (saved[name].join(',') !== params[name].shape.join(',')) {
      return `parameter "${name}" has shape [${saved[name].join(', ')}] in the file, [${params[name].shape.join(', ')}] here`;
    }
  }
  return null;
}

/**
 * Parses a state file's bytes and rebuilds the state for `optimizer`: a fresh `optimizer.init` over
 * parameters of the saved shapes, then every saved value written into it (parameters included).
 * Another optimizer name, other settings, other parameter shapes (with `opts.params`) or a state of
 * another structure throw one StateFileError naming `source` and the difference.
 */
export function decodeState<S>(bytes: Uint8Array, optimizer: Optimizer<S>, opts: LoadStateOptions = {}, source = 'the state bytes'): LoadedState<S> {
  const fail = (why: string): never => {
    throw new StateFileError(`${source} ${why}`);
  };
  const { header, dataOffset } = parseSafetensorsHeader(bytes, 'lopt optimizer state', fail);
  const manifest = header.__metadata__ as Record<string, string> | undefined;
  if (!manifest || manifest.format !== STATE_FORMAT) {
    fail(`is not a lopt optimizer state file (no "${STATE_FORMAT}" manifest in its header${manifest?.format ? `; it is a "${manifest.format}" file` : ''})`);
  }
  const m = manifest!;
  if (Number(m.format_version) !== STATE_FORMAT_VERSION) {
    fail(`has state format version ${m.format_version}; this lopt reads version ${STATE_FORMAT_VERSION} (update lopt)`);
  }
  let settings: Record<string, unknown> | null;
  let step: number | null;
  let numSteps: number | null;
  let shapes: Record<string, number[]>;
  let meta: StateMeta;
  try {
    settings = JSON.parse(m.settings ?? 'null');
    step = JSON.parse(m.step ?? 'null');
    numSteps = JSON.parse(m.num_steps ?? 'null');
    shapes = JSON.parse(m.params ?? '{}');
    meta = JSON.parse(m.meta ?? '{}');
  } catch {
    return fail('is corrupt (its manifest fields are not JSON)');
  }
  // Which optimizer: the name, then the settings, then the parameters.
  if (m.optimizer !== optimizer.name) {
    fail(`holds the state of optimizer ${m.optimizer}, not ${optimizer.name}`);
  }
  const current = optimizerSettings(optimizer as Optimizer<unknown>);
  if (settings !== null && current !== null) {
    const difference = settingsDifference(settings, current);
    if (difference) fail(`holds the state of ${m.optimizer} with ${difference[0]}; this optimizer has ${difference[1]}`);
  }
  if (opts.params) {
    const difference = shapesDifference(shapes!, opts.params);
    if (difference) fail(`holds a ${m.optimizer} state for other parameters: ${difference}`);
  }
  // The data.
  const data = bytes.subarray(dataOffset);
  const leaves: EncodedLeaf[] = [];
  let expected = 0;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const entries = Object.keys(header).filter((k) => k !== '__metadata__')
    .map((name) => [name, header[name] as TensorEntry] as const)
    .sort((a, b) => (a[1]?.data_offsets?.[0] ?? 0) - (b[1]?.data_offsets?.[0] ?? 0));
  for (const [name, entry] of entries) {
    if (!entry || (entry.dtype !== 'F32' && entry.dtype !== 'I32') || !Array.isArray(entry.shape) || !Array.isArray(entry.data_offsets)) {
      fail(`is corrupt: "${name}" is not an F32 or I32 tensor entry`);
    }
    const [begin, end] = entry.data_offsets;
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (begin !== expected || end - begin !== 4 * size) fail(`is corrupt: "${name}" has inconsistent data offsets`);
    expected = end;
  }
  if (data.length < expected) fail(`is truncated: the state needs ${expected} bytes of data, the file has ${data.length}`);
  if (data.length > expected) fail(`is corrupt: ${data.length - expected} bytes follow the last array`);
  if (sha256(data) !== m.data_sha256) fail('is corrupt: the checksum of its data does not match the manifest');
  for (const [name, entry] of entries) {
    const [begin, end] = entry.data_offsets;
    const n = (end - begin) / 4;
    if (entry.dtype === 'F32') {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = view.getFloat32(begin + 4 * i, true);
      leaves.push({ name, dtype: 'float32', values });
    } else {
      const values = new Int32Array(n);
      for (let i = 0; i < n; i++) values[i] = view.getInt32(begin + 4 * i, true);
      leaves.push({ name, dtype: 'int32', values });
    }
  }
  // A fresh state of the saved structure, then every value.
  const zeros: Params = {};
  for (const name of Object.keys(shapes!).sort()) {
    const shape = shapes![name];
    zeros[name] = { shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
  }
  const initOpts: OptimizerInitOptions = { numSteps: numSteps ?? step ?? 0, ...opts.init } as OptimizerInitOptions;
  let state: S;
  try {
    state = optimizer.init(zeros, initOpts);
  } catch (error) {
    return fail(`cannot be loaded: ${optimizer.name}.init failed (${(error as Error).message})`);
  }
  // Arrays that are empty in a fresh state (a learned optimizer's view of the last gradient) are not
  // state: what the file holds for them is dropped.
  const empty = emptyLeafNames(state);
  try {
    restoreLeaves(state, leaves.filter((leaf) => !empty.has(leaf.name)), new Set(), CANONICAL);
  } catch (error) {
    return fail(`does not fit this ${optimizer.name} state: ${(error as Error).message}`);
  }
  return { state, step: step!, numSteps: numSteps!, params: shapes!, settings: settings!, meta: meta! };
}

/** Reads a state file written by saveState and rebuilds the state for `optimizer` (see decodeState). */
export function loadState<S>(file: string, optimizer: Optimizer<S>, opts: LoadStateOptions = {}): LoadedState<S> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new StateFileError(`cannot read optimizer state file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return decodeState(bytes, optimizer, opts, file);
}
