// The small statistics the report computes from raw rows: means, standard errors, binned curves and
// the time a curve needs to reach a target loss.

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Standard error of the mean: sample standard deviation (n − 1) over √n; NaN below two values. */
export function standardError(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return NaN;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (n - 1) / n);
}

export interface CurvePoint {
  step: number;
  loss: number;
  wallSeconds: number;
}

/**
 * The mean of several runs' curves, step by step, over the steps every run has (a shorter or
 * partly missing run shortens the mean curve rather than biasing its tail). A non-finite loss at a
 * step makes that step's mean non-finite, as a diverged run should.
 */
export function meanCurve(curves: readonly (readonly CurvePoint[])[]): CurvePoint[] {
  if (curves.length === 0) return [];
  const maps = curves.map((c) => new Map(c.map((p) => [p.step, p])));
  const steps = [...maps[0].keys()].filter((s) => maps.every((m) => m.has(s))).sort((a, b) => a - b);
  return steps.map((step) => ({
    step,
    loss: mean(maps.map((m) => m.get(step)!.loss)),
    wallSeconds: mean(maps.map((m) => m.get(step)!.wallSeconds)),
  }));
}

/**
 * A trailing moving average over `window` steps: per-step minibatch losses are noisy, and a target
 * crossing or a "final loss" read from one step would mostly measure that noise.
 */
export function smoothCurve(curve: readonly CurvePoint[], window: number): CurvePoint[] {
  const w = Math.max(1, Math.floor(window));
  const out: CurvePoint[] = [];
  let sum = 0;
  for (let i = 0; i < curve.length; i++) {
    sum += curve[i].loss;
    if (i >= w) sum -= curve[i - w].loss;
    out.push({ ...curve[i], loss: sum / Math.min(i + 1, w) });
  }
  return out;
}

/** Default smoothing window: 2% of the run (at least one step). */
export function smoothingWindow(length: number): number {
  return Math.max(1, Math.round(length / 50));
}

/** The first point of a curve at or below the target, or null when it never gets there. */
export function firstReaching(curve: readonly CurvePoint[], target: number): CurvePoint | null {
  for (const p of curve) if (p.loss <= target) return p;
  return null;
}

/**
 * At most `maxPoints` points: consecutive points grouped into equal bins, each bin replaced by the
 * mean of its steps, losses and wall times. Keeps the first and last regions of a curve and the SVG
 * small; a curve already short enough is returned as is.
 */
export function downsample(curve: readonly CurvePoint[], maxPoints: number): CurvePoint[] {
  if (curve.length <= maxPoints) return curve.slice();
  const out: CurvePoint[] = [];
  for (let b = 0; b < maxPoints; b++) {
    const lo = Math.floor((b * curve.length) / maxPoints);
    const hi = Math.floor(((b + 1) * curve.length) / maxPoints);
    const bin = curve.slice(lo, hi);
    out.push({
      step: mean(bin.map((p) => p.step)),
      loss: mean(bin.map((p) => p.loss)),
      wallSeconds: mean(bin.map((p) => p.wallSeconds)),
    });
  }
  return out;
}

/** Groups items by a string key, keeping first-seen order of keys. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
