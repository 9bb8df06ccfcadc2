// Hyperparameter declarations of the hand-designed optimizers and their validation (zod).
//
// Each optimizer declares its hyperparameters as a list of specs (name, kind, default, range). From
// that list come the defaults, the CLI's `--hparam key=value` parsing (values may be strings) and a
// zod schema; every error is one line naming the problem and the valid choices.
import { z } from 'zod';

export type HparamValue = number | boolean;

export interface HparamSpec {
  readonly name: string;
  /** `integer` values are numbers that must be whole. */
  readonly kind: 'number' | 'integer' | 'boolean';
  readonly default: HparamValue;
  /** Inclusive lower bound (numbers only). */
  readonly min?: number;
  /** Exclusive upper bound (numbers only). */
  readonly below?: number;
  /** Other accepted names, e.g. `lr` for `learningRate`. */
  readonly aliases?: readonly string[];
  readonly description: string;
}

/** The gradient clip shared by every hand-designed optimizer (LO's GradientClipOptimizer). */
export const GRAD_CLIP_SPEC: HparamSpec = {
  name: 'gradClip', kind: 'number', default: 0, min: 0,
  description: 'clip every gradient element to [-gradClip, gradClip] first (0: off)',
};

export function learningRateSpec(defaultValue: number): HparamSpec {
  return {
    name: 'learningRate', kind: 'number', default: defaultValue, min: 0, aliases: ['lr'],
    description: 'learning rate',
  };
}

function coerceNumber(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (trimmed === '') return value;
  const parsed = Number(trimmed);
  return Number.isNaN(parsed) ? value : parsed;
}

function coerceBoolean(value: unknown): unknown {
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true' || lower === '1' || lower === 'yes') return true;
    if (lower === 'false' || lower === '0' || lower === 'no') return false;
  }
  if (value === 1) return true;
  if (value === 0) return false;
  return value;
}

function schemaFor(spec: HparamSpec): z.ZodType<HparamValue> {
  if (spec.kind === 'boolean') {
    return z.preprocess(coerceBoolean, z.boolean({ error: 'must be true or false' })) as z.ZodType<HparamValue>;
  }
  let num = z.number({ error: 'must be a finite number' }).refine(Number.isFinite, { message: 'must be finite' });
  if (spec.kind === 'integer') num = num.refine(Number.isInteger, { message: 'must be an integer' });
  const { min, below } = spec;
  if (min !== undefined) num = num.refine((v) => v >= min, { message: `must be >= ${min}` });
  if (below !== undefined) num = num.refine((v) => v < below, { message: `must be < ${below}` });
  return z.preprocess(coerceNumber, num) as z.ZodType<HparamValue>;
}

function describeChoices(specs: readonly HparamSpec[]): string {
  return specs
    .map((s) => (s.aliases?.length ? `${s.name} (alias ${s.aliases.join(', ')})` : s.name))
    .join(', ');
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The defaults of a spec list as a plain object. */
export function defaultsOf(specs: readonly HparamSpec[]): Record<string, HparamValue> {
  const out: Record<string, HparamValue> = {};
  for (const spec of specs) out[spec.name] = spec.default;
  return out;
}

/**
 * Validates `given` (canonical names or aliases; numbers, booleans or their string forms) against
 * `specs`, fills in the defaults and returns the complete, typed hyperparameters. Unknown names,
 * a name given twice (e.g. `lr` and `learningRate`) and invalid values throw a one-line Error.
 */
export function resolveHparams<H>(
  optimizer: string, specs: readonly HparamSpec[], given: Readonly<Record<string, unknown>> | undefined,
): H {
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) {
    throw new Error(`hyperparameters for ${optimizer} must be an object of name: value pairs`);
  }
  const byName = new Map<string, HparamSpec>();
  for (const spec of specs) {
    byName.set(spec.name, spec);
    for (const alias of spec.aliases ?? []) byName.set(alias, spec);
  }
  const canonical: Record<string, unknown> = {};
  const givenAs: Record<string, string> = {};
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value === undefined) continue;
    const spec = byName.get(key);
    if (!spec) {
      throw new Error(`unknown hyperparameter "${key}" for optimizer ${optimizer}; valid: ${describeChoices(specs)}`);
    }
    if (spec.name in canonical) {
      throw new Error(`hyperparameter ${spec.name} of optimizer ${optimizer} is given twice (as "${givenAs[spec.name]}" and "${key}")`);
    }
    canonical[spec.name] = value;
    givenAs[spec.name] = key;
  }
  const shape: Record<string, z.ZodType<HparamValue>> = {};
  for (const spec of specs) shape[spec.name] = schemaFor(spec).default(spec.default as never) as z.ZodType<HparamValue>;
  const result = z.object(shape).safeParse(canonical);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue.path[0] ?? '?');
    throw new Error(`invalid hyperparameter for ${optimizer}: ${name} ${issue.message} (got ${showValue(canonical[name])})`);
  }
  return result.data as H;
}

/**
 * Parses CLI-style `key=value` strings into an object (values stay strings; resolveHparams coerces
 * them). A malformed entry throws a one-line Error.
 */
export function parseHparamArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new Error(`--hparam expects key=value, got "${arg}"`);
    const key = arg.slice(0, eq).trim();
    if (key in out) throw new Error(`--hparam ${key} is given twice`);
    out[key] = arg.slice(eq + 1).trim();
  }
  return out;
}
