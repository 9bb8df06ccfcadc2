// The registry of hand-designed optimizers: names, hyperparameters with defaults, construction by name.
import type { Backend } from '../engine/backend.js';
import { ADAFACTOR_HPARAMS, adafactor } from './adafactor.js';
import { ADAM_HPARAMS, adam } from './adam.js';
import type { HandDesignedOptimizer } from './factory.js';
import { defaultsOf, parseHparamArgs, resolveHparams, type HparamSpec, type HparamValue } from './hparams.js';
import { NADAMW_HPARAMS, nadamw } from './nadamw.js';
import { SGD_HPARAMS, sgd } from './sgd.js';
import { SGDM_HPARAMS, sgdm } from './sgdm.js';

export const OPTIMIZER_NAMES = ['sgd', 'sgdm', 'adam', 'nadamw', 'adafactor'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export type OptimizerHparams = Record<string, HparamValue>;

interface Entry {
  description: string;
  specs: readonly HparamSpec[];
  create(hparams: Readonly<Record<string, unknown>>, opts: { backend?: Backend }): HandDesignedOptimizer<unknown, OptimizerHparams>;
}

// The factories validate their own hyperparameters (resolveHparams); the casts only widen types.
const ENTRIES: Record<OptimizerName, Entry> = {
  sgd: {
    description: 'SGD: p ← p − lr·g',
    specs: SGD_HPARAMS,
    create: (h, o) => sgd(h as never, o) as unknown as HandDesignedOptimizer<unknown, OptimizerHparams>,
  },
  sgdm: {
    description: 'SGD with momentum (optax trace): m ← g + μm, p ← p − lr·m',
    specs: SGDM_HPARAMS,
    create: (h, o) => sgdm(h as never, o) as unknown as HandDesignedOptimizer<unknown, OptimizerHparams>,
  },
  adam: {
    description: 'Adam with bias correction (optax form)',
    specs: ADAM_HPARAMS,
    create: (h, o) => adam(h as never, o) as unknown as HandDesignedOptimizer<unknown, OptimizerHparams>,
  },
  nadamw: {
    description: "LO's NAdamW with cosine schedule (defaults: opt_list entry 0)",
    specs: NADAMW_HPARAMS,
    create: (h, o) => nadamw(h as never, o) as unknown as HandDesignedOptimizer<unknown, OptimizerHparams>,
  },
  adafactor: {
    description: 'AdaFactor as LO wraps optax adafactor',
    specs: ADAFACTOR_HPARAMS,
    create: (h, o) => adafactor(h as never, o) as unknown as HandDesignedOptimizer<unknown, OptimizerHparams>,
  },
};

function entryOf(name: string): Entry {
  if (!Object.prototype.hasOwnProperty.call(ENTRIES, name)) {
    throw new Error(`unknown optimizer "${name}"; valid: ${OPTIMIZER_NAMES.join(', ')}`);
  }
  return ENTRIES[name as OptimizerName];
}

export const optimizers = {
  /** The registered names, in display order. */
  names: OPTIMIZER_NAMES as readonly OptimizerName[],

  has(name: string): name is OptimizerName {
    return Object.prototype.hasOwnProperty.call(ENTRIES, name);
  },

  /** One-line description of an optimizer. */
  describe(name: string): string {
    return entryOf(name).description;
  },

  /** Hyperparameter specs (name, kind, default, range, aliases, description) of an optimizer. */
  hparams(name: string): readonly HparamSpec[] {
    return entryOf(name).specs;
  },

  /** The default hyperparameters of an optimizer, by canonical name. */
  defaults(name: string): OptimizerHparams {
    return defaultsOf(entryOf(name).specs);
  },

  /**
   * Validates hyperparameters (canonical names or aliases, values as numbers, booleans or strings)
   * and returns the complete set with defaults filled in.
   */
  resolve(name: string, hparams?: Readonly<Record<string, unknown>>): OptimizerHparams {
    return resolveHparams<OptimizerHparams>(name, entryOf(name).specs, hparams);
  },

  /** Parses CLI `key=value` strings (from repeated `--hparam`) and validates them for `name`. */
  parseArgs(name: string, args: readonly string[]): OptimizerHparams {
    const entry = entryOf(name);
    const given = parseHparamArgs(args);
    const out: OptimizerHparams = {};
    const resolved = resolveHparams<OptimizerHparams>(name, entry.specs, given);
    for (const spec of entry.specs) {
      const named = [spec.name, ...(spec.aliases ?? [])].some((key) => key in given);
      if (named) out[spec.name] = resolved[spec.name];
    }
    return out;
  },

  /**
   * A new optimizer by name. Unknown names, unknown hyperparameters and invalid values throw an
   * Error whose one-line message says what is wrong and lists the valid choices.
   */
  get(
    name: string, hparams?: Readonly<Record<string, unknown>>, opts: { backend?: Backend } = {},
  ): HandDesignedOptimizer<unknown, OptimizerHparams> {
    return entryOf(name).create(hparams ?? {}, opts);
  },
};

/** Same as `optimizers.get`. */
export function getOptimizer(
  name: string, hparams?: Readonly<Record<string, unknown>>, opts: { backend?: Backend } = {},
): HandDesignedOptimizer<unknown, OptimizerHparams> {
  return optimizers.get(name, hparams, opts);
}
