// Learned-optimizer weight files: one versioned format for every learned optimizer.
//
// The file is a safetensors file (https://github.com/huggingface/safetensors), readable as is by the
// `safetensors` Python package:
//   8 bytes      N, the header length, unsigned little-endian
//   N bytes      the header: UTF-8 JSON, padded with spaces to a multiple of 8
//   rest         θ as little-endian float32, tensor after tensor in lexicographic name order
// The header maps every θ name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
// (byte offsets into the data, contiguous, in name order) and holds the manifest in "__metadata__",
// whose values are strings, as safetensors requires:
//   format          "lopt-learned-optimizer"
//   format_version  "1"
//   optimizer       the learned optimizer's name, e.g. "small_fc_lopt"
//   options         JSON of its options (those that shape θ decide compatibility), e.g. {"hidden":4,...}
//   param_count     number of meta-parameters
//   data_sha256     SHA-256 (hex) of the data bytes
//   provenance      JSON object of free fields that meta-training fills: task, estimator settings,
//                   outerSteps, evalLoss, date, command, lopt version, ...
// θ names are LO's θ dict flattened with "/" with Haiku's "~" path segments dropped (e.g. LO's
// nn/~/w0 is nn/w0). Saving writes a temporary file and renames it into place.
import { assembleSafetensors, parseSafetensorsHeader } from '../util/safetensors.js';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sortedNames, type Params } from '../engine/tensor.js';
import { mixtureTaskNames } from '../tasks/mixture.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { checkTheta, type LearnedOptimizer } from './learned-optimizer.js';
import type { LearnedOptions } from './options.js';

export const WEIGHTS_FORMAT = 'lopt-learned-optimizer';
export const WEIGHTS_FORMAT_VERSION = 1;

/** Free-form facts about where θ came from (all optional; meta-training fills what it knows). */
export interface Provenance {
  /** The task θ was meta-trained on (a list where there were several; see metaTrainedOn). */
  task?: string | string[];
  /** Several meta-training tasks (alternative to a list in `task`). */
  tasks?: string[];
  estimator?: Record<string, unknown>;
  outerSteps?: number;
  evalLoss?: number;
  date?: string;
  command?: string;
  [key: string]: unknown;
}

/**
 * The task (or tasks, or task family) θ was meta-trained on, as its provenance says: `task` (a name, or
 * a list of names) and `tasks` (a list), in that order without repeats, a mixture family followed by
 * the tasks it draws from (`paper-mix`, `fmnist-mlp`, …); [] when the provenance names none (an
 * untrained θ, or weights from elsewhere).
 */
export function metaTrainedOn(provenance: Provenance | undefined | null): string[] {
  const names: string[] = [];
  const add = (value: unknown) => {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== 'string' || item === '') continue;
      for (const name of [item, ...mixtureTaskNames(item)]) if (!names.includes(name)) names.push(name);
    }
  };
  if (provenance && typeof provenance === 'object') {
    add(provenance.task);
    add(provenance.tasks);
  }
  return names;
}

export interface LearnedWeights {
  optimizer: string;
  options: LearnedOptions;
  theta: Params;
  provenance: Provenance;
  /** SHA-256 of the data bytes (hex). */
  sha256: string;
}

interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export class WeightsError extends Error {
  override name = 'WeightsError';
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The bytes of a weights file for θ of `lo`. */
export function encodeWeights(lo: LearnedOptimizer, theta: Params, provenance: Provenance = {}): Uint8Array {
  checkTheta(lo.name, theta, lo.thetaShapes);
  const names = sortedNames(theta);
  let total = 0;
  for (const name of names) total += theta[name].data.length * 4;
  const data = new Uint8Array(total);
  const view = new DataView(data.buffer);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const name of names) {
    const t = theta[name];
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    for (let i = 0; i < t.data.length; i++) view.setFloat32(offset + 4 * i, t.data[i], true);
    offset += t.data.length * 4;
  }
  header.__metadata__ = {
    format: WEIGHTS_FORMAT,
    format_version: String(WEIGHTS_FORMAT_VERSION),
    optimizer: lo.name,
    options: JSON.stringify(lo.options),
    param_count: String(lo.paramCount),
    data_sha256: sha256(data),
    provenance: JSON.stringify({ date: new Date().toISOString(), ...provenance }),
  };
  return assembleSafetensors(header, data);
}

/** Writes θ of `lo` to `file` atomically (temporary file, then rename). */
export function saveWeights(file: string, lo: LearnedOptimizer, theta: Params, provenance: Provenance = {}): void {
  writeFileAtomic(file, encodeWeights(lo, theta, provenance));
}

/** Parses a weights file's bytes; every problem is one WeightsError naming `source`. */
export function decodeWeights(bytes: Uint8Array, source: string): LearnedWeights {
  const fail = (why: string): never => {
    throw new WeightsError(`${source} ${why}`);
  };
  const { header, dataOffset } = parseSafetensorsHeader(bytes, 'lopt weights', fail);
  const meta = header.__metadata__ as Record<string, string> | undefined;
  if (!meta || meta.format !== WEIGHTS_FORMAT) fail(`is not a lopt weights file (no "${WEIGHTS_FORMAT}" manifest in its header)`);
  const version = Number(meta!.format_version);
  if (version !== WEIGHTS_FORMAT_VERSION) {
    fail(`has weights format version ${meta!.format_version}; this lopt reads version ${WEIGHTS_FORMAT_VERSION} (update lopt)`);
  }
  let options: LearnedOptions;
  let provenance: Provenance;
  try {
    options = JSON.parse(meta!.options ?? '{}');
    provenance = JSON.parse(meta!.provenance ?? '{}');
  } catch {
    return fail('is corrupt (its options or provenance are not JSON)');
  }
  const data = bytes.subarray(dataOffset);
  const names = Object.keys(header).filter((k) => k !== '__metadata__').sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let expected = 0;
  for (const name of names) {
    const entry = header[name] as TensorEntry;
    if (!entry || entry.dtype !== 'F32' || !Array.isArray(entry.shape) || !Array.isArray(entry.data_offsets)) {
      fail(`is corrupt: tensor "${name}" is not an F32 tensor entry`);
    }
    const [begin, end] = entry.data_offsets;
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (begin !== expected || end - begin !== 4 * size) fail(`is corrupt: tensor "${name}" has inconsistent data offsets`);
    expected = end;
  }
  if (data.length < expected) fail(`is truncated: θ needs ${expected} bytes of data, the file has ${data.length}`);
  if (data.length > expected) fail(`is corrupt: ${data.length - expected} bytes follow the last tensor`);
  const digest = sha256(data);
  if (digest !== meta!.data_sha256) fail('is corrupt: the checksum of its data does not match the manifest');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const theta: Params = {};
  for (const name of names) {
    const entry = header[name] as TensorEntry;
    const [begin, end] = entry.data_offsets;
    const values = new Float32Array((end - begin) / 4);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(begin + 4 * i, true);
    theta[name] = { shape: [...entry.shape], data: values };
  }
  return { optimizer: meta!.optimizer, options, theta, provenance, sha256: digest };
}

export function loadWeights(file: string): LearnedWeights {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new WeightsError(`cannot read weights file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return decodeWeights(bytes, file);
}

/**
 * θ from `weights` for the learned optimizer `lo`: the optimizer name, the options that shape θ and
 * every θ name and shape must match, else one WeightsError says which.
 */
export function thetaFor(lo: LearnedOptimizer, weights: LearnedWeights, source: string): Params {
  if (weights.optimizer !== lo.name) {
    throw new WeightsError(`${source} holds weights for ${weights.optimizer}, not ${lo.name}`);
  }
  for (const [key, value] of Object.entries(lo.architecture)) {
    if (weights.options[key] !== value) {
      throw new WeightsError(`${source} holds ${lo.name} weights with ${key}=${String(weights.options[key])}, not ${key}=${String(value)} (drop --hparam ${key} or pass ${key}=${String(weights.options[key])})`);
    }
  }
  try {
    checkTheta(lo.name, weights.theta, lo.thetaShapes);
  } catch (error) {
    throw new WeightsError(`${source}: ${(error as Error).message}`);
  }
  return weights.theta;
}

/**
 * Shipped pretrained weights of a learned optimizer (`pretrained/<name>.safetensors` in the package),
 * or undefined when there are none yet.
 */
export function pretrainedWeightsPath(name: string): string | undefined {
  // This file runs as dist/src/learned/weights.js: the package root is three levels up.
  const file = fileURLToPath(new URL(`../../../pretrained/${name}.safetensors`, import.meta.url));
  return existsSync(file) ? file : undefined;
}
