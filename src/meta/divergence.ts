// When a training run has diverged: the one rule that `train()` (and through it `lopt train`) and the
// study (src/study/run-job.ts) use.
//
// With the losses ℓ_1, ℓ_2, … of a run's steps (1-based, each measured before that step's update), ℓ_1
// being the initial loss, the run diverges at the first step t where
//   - ℓ_t is NaN, +Infinity or −Infinity, or
//   - the smoothed loss s has been above the threshold ℓ_1 + tolerance·|ℓ_1| at each of the last
//     `window` steps t − window + 1 … t, where s is the exponential moving average
//     s_1 = ℓ_1, s_t = smoothing·s_{t−1} + (1 − smoothing)·ℓ_t.
// Defaults: smoothing 0.9 (about the last 10 steps), window 100, tolerance 0.1 (10% above ℓ_1). A
// `window` of 0 keeps only the NaN/Inf part. The step reported is the one where the rule is met: for
// the smoothed part, the last step of the window.

/** The settings of the divergence rule (see the file's head); every field is optional. */
export interface DivergenceRule {
  /** Factor of the exponential moving average of the loss, in [0, 1) (default 0.9; 0: no smoothing). */
  smoothing?: number;
  /** Steps in a row the smoothed loss must stay above the threshold (default 100; 0: NaN/Inf only). */
  window?: number;
  /** The threshold is the initial loss plus `tolerance` times its magnitude (default 0.1). */
  tolerance?: number;
}

export const DEFAULT_DIVERGENCE_RULE: Readonly<Required<DivergenceRule>> = Object.freeze({ smoothing: 0.9, window: 100, tolerance: 0.1 });

/** Where and why a run diverged. */
export interface Divergence {
  /** 1-based step at which the rule is met. */
  step: number;
  /** `non-finite`: that step's loss is NaN or ±Inf; `smoothed`: the smoothed loss stayed above the threshold. */
  reason: 'non-finite' | 'smoothed';
  /** The loss of that step. */
  loss: number;
  /** The smoothed loss at that step (`smoothed` only). */
  smoothedLoss?: number;
  initialLoss: number;
  /** initialLoss + tolerance·|initialLoss|. */
  threshold: number;
  /** The rule that was applied, complete with defaults. */
  rule: Required<DivergenceRule>;
}

/** The rule complete with defaults; a bad setting throws one line naming it. */
export function resolveDivergenceRule(rule: DivergenceRule = {}): Required<DivergenceRule> {
  const out = { ...DEFAULT_DIVERGENCE_RULE };
  for (const [key, value] of Object.entries(rule)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_DIVERGENCE_RULE)) throw new Error(`unknown divergence setting "${key}"; valid: smoothing, window, tolerance`);
    (out as Record<string, number>)[key] = value as number;
  }
  if (!(Number.isFinite(out.smoothing) && out.smoothing >= 0 && out.smoothing < 1)) {
    throw new Error(`divergence smoothing must be in [0, 1), got ${out.smoothing}`);
  }
  if (!(Number.isInteger(out.window) && out.window >= 0)) throw new Error(`divergence window must be a non-negative integer, got ${out.window}`);
  if (!(Number.isFinite(out.tolerance) && out.tolerance >= 0)) throw new Error(`divergence tolerance must be a finite number ≥ 0, got ${out.tolerance}`);
  return out;
}

/** Applies the rule step by step: `push` each step's loss in order; it says at the first diverging step. */
export class DivergenceDetector {
  readonly rule: Required<DivergenceRule>;
  private steps = 0;
  private initial = NaN;
  private threshold = NaN;
  private smoothed = NaN;
  private above = 0;
  private found: Divergence | undefined;

  constructor(rule: DivergenceRule = {}) {
    this.rule = resolveDivergenceRule(rule);
  }

  /** The divergence once found (it stays found), else undefined. */
  get divergence(): Divergence | undefined {
    return this.found;
  }

  /** The next step's loss. Returns the divergence at the step where the rule is first met, else undefined. */
  push(loss: number): Divergence | undefined {
    if (this.found) return undefined;
    const step = ++this.steps;
    if (step === 1) {
      this.initial = loss;
      this.threshold = loss + this.rule.tolerance * Math.abs(loss);
      this.smoothed = loss;
    }
    if (!Number.isFinite(loss)) {
      this.found = { step, reason: 'non-finite', loss, initialLoss: this.initial, threshold: this.threshold, rule: this.rule };
      return this.found;
    }
    if (step > 1) this.smoothed = this.rule.smoothing * this.smoothed + (1 - this.rule.smoothing) * loss;
    this.above = this.smoothed > this.threshold ? this.above + 1 : 0;
    if (this.rule.window > 0 && this.above >= this.rule.window) {
      this.found = {
        step, reason: 'smoothed', loss, smoothedLoss: this.smoothed, initialLoss: this.initial, threshold: this.threshold, rule: this.rule,
      };
      return this.found;
    }
    return undefined;
  }
}

/** The first step at which a whole loss curve diverges by the rule, or undefined when it never does. */
export function findDivergence(losses: ArrayLike<number>, rule: DivergenceRule = {}): Divergence | undefined {
  const detector = new DivergenceDetector(rule);
  for (let i = 0; i < losses.length; i++) {
    const found = detector.push(losses[i]);
    if (found) return found;
  }
  return undefined;
}

/** Why a run diverged, in words (no step number): "the loss is NaN", "the smoothed loss … stayed above …". */
export function describeDivergence(d: Divergence): string {
  if (d.reason === 'non-finite') return `the loss is ${d.loss}`;
  const r = d.rule;
  const smoothing = r.smoothing > 0 ? `smoothed loss (exponential moving average, factor ${r.smoothing})` : 'loss';
  return `the ${smoothing} stayed above ${fmt(d.threshold)} (the initial loss ${fmt(d.initialLoss)} + ${+(r.tolerance * 100).toPrecision(6)}%) for ${r.window} steps (now ${fmt(d.smoothedLoss ?? d.loss)})`;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : x.toFixed(4);
}
