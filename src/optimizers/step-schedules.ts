// Step schedules: a multiplier s(t) of an optimizer's step at step t (optax's schedules, as factors).
//
// A schedule is a function of the step t (0 at the first update: the updates done before this one)
// and the run length T (the `numSteps` the state was initialised with); `scaleBySchedule` in a chain
// multiplies each step p_new − p_old by it. For SGD with learning rate lr that is SGD with learning
// rate lr·s(t); it works the same for any optimizer, learned ones included.

/** s(t) for step t (0-based) of a run of `numSteps` steps. */
export type StepSchedule = ((step: number, numSteps: number) => number) & { readonly description?: string };

export interface WarmupOptions {
  /** Steps of linear warmup from 0: s(t) = peak·t/warmupSteps for t < warmupSteps (default 0: none). */
  warmupSteps?: number;
}

export interface DecayOptions extends WarmupOptions {
  /** The value after warmup (default 1). */
  peak?: number;
  /** The value reached at the end of the decay (default 0). */
  end?: number;
  /**
   * The step at which the decay ends, warmup included (default: the run's numSteps); s stays at
   * `end` from there on.
   */
  decaySteps?: number;
}

function check(what: string, value: number, min: number, integer = false): void {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${what} must be ${integer ? 'an integer' : 'a finite number'} >= ${min}, got ${value}`);
  }
}

function named(fn: (step: number, numSteps: number) => number, description: string): StepSchedule {
  return Object.assign(fn, { description });
}

/** s(t) = value, after an optional linear warmup from 0. */
export function constantSchedule(value = 1, opts: WarmupOptions = {}): StepSchedule {
  check('constant schedule value', value, 0);
  const warmup = opts.warmupSteps ?? 0;
  check('warmupSteps', warmup, 0, true);
  return named((step) => (step < warmup ? (value * step) / warmup : value), `constant(${value}${warmup ? `, warmup ${warmup}` : ''})`);
}

function decaySchedule(
  kind: 'linear' | 'cosine', opts: DecayOptions, shape: (progress: number) => number,
): StepSchedule {
  const peak = opts.peak ?? 1;
  const end = opts.end ?? 0;
  const warmup = opts.warmupSteps ?? 0;
  check(`${kind} schedule peak`, peak, 0);
  check(`${kind} schedule end`, end, 0);
  check('warmupSteps', warmup, 0, true);
  if (opts.decaySteps !== undefined) check('decaySteps', opts.decaySteps, 1, true);
  return named((step, numSteps) => {
    if (step < warmup) return (peak * step) / warmup;
    const total = opts.decaySteps ?? numSteps;
    const span = total - warmup;
    const progress = span > 0 ? Math.min(1, (step - warmup) / span) : 1;
    return end + (peak - end) * shape(progress);
  }, `${kind}(${peak} → ${end}${warmup ? `, warmup ${warmup}` : ''}${opts.decaySteps ? `, over ${opts.decaySteps}` : ''})`);
}

/** Linear warmup to `peak`, then linear decay to `end` at `decaySteps` (optax warmup + linear_schedule). */
export function linearSchedule(opts: DecayOptions = {}): StepSchedule {
  return decaySchedule('linear', opts, (progress) => 1 - progress);
}

/**
 * Linear warmup to `peak`, then cosine decay to `end` at `decaySteps`:
 * s = end + (peak − end)·(1 + cos(π·progress))/2 (optax warmup_cosine_decay_schedule).
 */
export function warmupCosineSchedule(opts: DecayOptions = {}): StepSchedule {
  return decaySchedule('cosine', opts, (progress) => 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * `init` until the first boundary; from step b on (b a key of `boundaries`) the value given for b
 * (absolute values, not optax's cumulative factors). E.g. piecewiseConstantSchedule(1, { 100: 0.1,
 * 200: 0.01 }) is 1 for t < 100, 0.1 for 100 ≤ t < 200, then 0.01.
 */
export function piecewiseConstantSchedule(init: number, boundaries: Readonly<Record<number, number>>): StepSchedule {
  check('piecewise schedule initial value', init, 0);
  const points = Object.entries(boundaries).map(([step, value]) => [Number(step), value] as const);
  for (const [step, value] of points) {
    check('piecewise schedule boundary', step, 0, true);
    check(`piecewise schedule value at ${step}`, value, 0);
  }
  points.sort((a, b) => a[0] - b[0]);
  return named((step) => {
    let value = init;
    for (const [at, v] of points) if (step >= at) value = v;
    return value;
  }, `piecewise(${init}${points.map(([at, v]) => `, ${at}: ${v}`).join('')})`);
}
