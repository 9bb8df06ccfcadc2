// LO's cosine learning-rate schedule with warmup (`optimizers/learning_rate_schedules.py`,
// CosineLearningRateSchedule), kept as LO computes it (docs/specification.md §5).

export interface CosineScheduleHparams {
  /** Peak learning rate. */
  learningRate: number;
  /** Fraction of the run spent warming up; 0 disables warmup. */
  warmupFraction: number;
  /** Fraction of the run before the cosine decay starts (it includes the warmup). */
  constantFraction: number;
  /** Final learning rate as a multiple of learningRate. */
  minLearningRateMult: number;
}

/**
 * The learning rate at `step` (the iteration before the increment) of a `numSteps`-step run:
 * - the step is clamped to numSteps (T);
 * - with warmupFraction > 0 the warmup spans max(warmupFraction, constantFraction)·T steps and ramps
 *   linearly from 0: lr·step/(that span) while step < the span (LO's quirk: a constant fraction larger
 *   than the warmup fraction lengthens the warmup);
 * - otherwise `(lr − min)·(cos(π·(x − c)/(T − c))/2 + 0.5) + min` with c = constantFraction·T,
 *   x = max(step, c), min = minLearningRateMult·lr.
 * LO evaluates in float32 and divides 0 by 0 when T − c = 0 (constantFraction 1, or T = 0) and when
 * the warmup span is 0 (T = 0), giving NaN; here those cases hold the rate at lr (no decay yet) and
 * skip the warmup instead. Everything else follows LO, in float64.
 */
export function cosineSchedule(step: number, numSteps: number, hp: CosineScheduleHparams): number {
  const total = numSteps;
  const clamped = Math.min(step, total);
  const constantSteps = total * hp.constantFraction;
  const x = Math.max(clamped, constantSteps);
  const minLr = hp.minLearningRateMult * hp.learningRate;

  if (hp.warmupFraction > 0) {
    const warmupSteps = total * Math.max(hp.warmupFraction, hp.constantFraction);
    if (warmupSteps > clamped) return (clamped / warmupSteps) * hp.learningRate;
  }
  const decaySpan = total - constantSteps;
  const progress = decaySpan > 0 ? (x - constantSteps) / decaySpan : 0;
  return (hp.learningRate - minLr) * (Math.cos(progress * Math.PI) / 2 + 0.5) + minLr;
}
