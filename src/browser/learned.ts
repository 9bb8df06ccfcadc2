// `learned` of lopt/browser: the registry of learned optimizers (src/learned/registry.ts) with weights
// from bytes or a URL in place of a file path (a page has no file system): load(bytes) and
// loadUrl(url). The shipped weights, pretrained/<name>.safetensors, load either way.
import type { Backend } from '../engine/backend.js';
import { learned as registry, type LoadedWeights } from '../learned/registry.js';
import { resolveLearned } from '../learned/resolve-weights.js';
import { decodeWeights } from '../learned/weights.js';

export interface LoadOptions {
  /** Options overriding the file's (those that shape θ must agree with it). */
  options?: Readonly<Record<string, unknown>>;
  /** Backend of its kernels (default: the one init() chose). */
  backend?: Backend;
}

/** A weights file's bytes as a ready learned optimizer, θ and provenance (as learned.load in Node). */
function load(bytes: Uint8Array | ArrayBuffer, opts: LoadOptions = {}): LoadedWeights {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const { optimizer: name } = decodeWeights(data, 'the given weights bytes');
  const resolved = resolveLearned(name, { weights: data, options: opts.options, backend: opts.backend });
  return { optimizer: resolved.optimizer, theta: resolved.theta, provenance: resolved.provenance };
}

/** load() of the weights file at `url` (fetched; relative URLs resolve against the page). */
async function loadUrl(url: string | URL, opts: LoadOptions = {}): Promise<LoadedWeights> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`lopt/browser: weights at ${String(url)}: HTTP ${response.status} ${response.statusText}`);
  return load(new Uint8Array(await response.arrayBuffer()), opts);
}

export const learned = {
  names: registry.names,
  has: registry.has,
  describe: registry.describe,
  options: registry.options,
  resolve: registry.resolve,
  parseArgs: registry.parseArgs,
  get: registry.get,
  metaTrainedOn: registry.metaTrainedOn,
  load,
  loadUrl,
};
