// Options of the learned optimizers (architecture and implementation choices), validated with zod.
//
// Each learned optimizer declares its options as a list of specs; from it come the defaults, the
// CLI's `--hparam key=value` parsing (values may be strings) and one-line errors naming the problem
// and the valid choices, as for the hand-designed optimizers' hyperparameters.
import { z } from 'zod';

export type OptionValue = number | string | boolean;

export type OptionSpec =
  | { readonly name: string; readonly kind: 'integer' | 'number'; readonly default: number; readonly min: number; readonly max: number; readonly description: string; readonly architecture: boolean }
  | { readonly name: string; readonly kind: 'choice'; readonly default: string; readonly choices: readonly string[]; readonly description: string; readonly architecture: boolean };

export type LearnedOptions = Record<string, OptionValue>;

function schemaFor(spec: OptionSpec): z.ZodType<OptionValue> {
  if (spec.kind === 'choice') {
    return z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string({ error: 'must be a string' })
      .refine((v) => spec.choices.includes(v), { message: `must be one of ${spec.choices.join(', ')}` })) as z.ZodType<OptionValue>;
  }
  const integer = spec.kind === 'integer';
  return z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v),
    z.number({ error: integer ? 'must be an integer' : 'must be a number' })
      .refine((v) => !integer || Number.isInteger(v), { message: 'must be an integer' })
      .refine((v) => v >= spec.min && v <= spec.max, { message: `must be in [${spec.min}, ${spec.max}]` })) as z.ZodType<OptionValue>;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Validates `given` against `specs` and fills in the defaults. Unknown names and invalid values throw
 * an Error with a one-line message.
 */
export function resolveOptions(optimizer: string, specs: readonly OptionSpec[], given: Readonly<Record<string, unknown>> | undefined): LearnedOptions {
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) {
    throw new Error(`options for ${optimizer} must be an object of name: value pairs`);
  }
  const known = new Set(specs.map((s) => s.name));
  for (const key of Object.keys(given ?? {})) {
    if (!known.has(key)) {
      const valid = specs.length ? specs.map((s) => s.name).join(', ') : 'none';
      throw new Error(`unknown option "${key}" for learned optimizer ${optimizer}; valid: ${valid}`);
    }
  }
  const out: LearnedOptions = {};
  for (const spec of specs) {
    const value = given?.[spec.name];
    if (value === undefined) {
      out[spec.name] = spec.default;
      continue;
    }
    const result = schemaFor(spec).safeParse(value);
    if (!result.success) {
      throw new Error(`invalid option for ${optimizer}: ${spec.name} ${result.error.issues[0].message} (got ${show(value)})`);
    }
    out[spec.name] = result.data;
  }
  return out;
}

/** The options that shape θ (weights files must agree on them); the others only choose an implementation. */
export function architectureOptions(specs: readonly OptionSpec[], options: LearnedOptions): LearnedOptions {
  const out: LearnedOptions = {};
  for (const spec of specs) if (spec.architecture) out[spec.name] = options[spec.name];
  return out;
}

/** How the per-parameter MLP runs natively (the reference backend ignores it). */
export const MLP_PATH_SPEC: OptionSpec = {
  name: 'path', kind: 'choice', default: 'auto', choices: ['auto', 'elementwise', 'gemm'], architecture: false,
  description: 'native MLP implementation: elementwise (no matrix products), gemm (OpenBLAS), or auto by width',
};

export function hiddenSpec(defaultValue: number): OptionSpec {
  return { name: 'hidden', kind: 'integer', default: defaultValue, min: 1, max: 4096, architecture: true, description: 'hidden units per layer of the per-parameter MLP' };
}

export function depthSpec(defaultValue: number): OptionSpec {
  return { name: 'depth', kind: 'integer', default: defaultValue, min: 0, max: 16, architecture: true, description: 'hidden layers of the per-parameter MLP' };
}

/** A behavioural option of a learned optimizer's step, saved with the weights (min 0; never shapes θ). */
function savedStepOption(name: string, kind: 'integer' | 'number', defaultValue: number, max: number, description: string): OptionSpec {
  return { name, kind, default: defaultValue, min: 0, max, architecture: false, description: `${description}, saved with the weights` };
}

/**
 * A linear warmup built into the learned optimizer: the step of update t (0-based) is scaled by t/N
 * for t < N, as the `warmupSteps` schedule of a composition, but saved with the weights' options, so
 * that meta-training and every later use see the same optimizer. 0: none.
 */
export const STEP_WARMUP_SPEC = savedStepOption('stepWarmup', 'integer', 0, 1_000_000_000,
  'updates of linear warmup of the step (scaled by t/N at update t < N; 0: none)');

/**
 * A larger step for the first updates, built into the learned optimizer and saved with the weights'
 * options: the step of update t (0-based) is multiplied by `stepBoost` for t < `stepBoostSteps`.
 * Truncated meta-training has a short-horizon bias (Wu et al. 2018): PES over truncations of 20
 * steps rewards steps that lower the loss within the truncation, and so learns early steps smaller than
 * the whole run wants. These two are chosen afterwards on whole runs of the meta-training evaluation
 * keys (scripts/tune-step-boost.mjs). 1 and 0: none.
 */
export const STEP_BOOST_SPEC = savedStepOption('stepBoost', 'number', 1, 100, 'factor on the step of the first stepBoostSteps updates (1: none)');

export const STEP_BOOST_STEPS_SPEC = savedStepOption('stepBoostSteps', 'integer', 0, 1_000_000_000, 'updates whose step stepBoost multiplies (0: none)');

/**
 * A smaller step on tensors with a large fan-in, built into the learned optimizer and saved with the
 * weights' options: a tensor of two or more dimensions whose fan-in F (the product of all dimensions
 * but the last, the variance-scaling convention) exceeds `stepFanInRef` has its step multiplied by
 * (stepFanInRef / F)^stepFanInPower; smaller fan-ins and 1-D tensors keep their step. A per-element
 * learned optimizer steps every weight of a unit alike, so the change of the unit's pre-activation per
 * update grows with F: on the CIFAR-10 autoencoder's 3072-input first layer, steps that suit fan-ins of
 * a few hundred kill its units (README "General-purpose weights"). 0: none.
 */
export const STEP_FAN_IN_REF_SPEC = savedStepOption('stepFanInRef', 'integer', 0, 1_000_000_000,
  'fan-in above which a tensor\'s step shrinks as (ref/fanIn)^stepFanInPower (0: none)');

export const STEP_FAN_IN_POWER_SPEC = savedStepOption('stepFanInPower', 'number', 1, 4, 'power of the fan-in step scaling (stepFanInRef)');

/** The step factor stepFanInRef/stepFanInPower give a tensor of this shape (1 when none applies). */
export function fanInStepScale(shape: readonly number[], ref: number, power: number): number {
  if (!(ref > 0) || shape.length < 2) return 1;
  const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return fanIn > ref ? (ref / fanIn) ** power : 1;
}
