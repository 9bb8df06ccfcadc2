// Truncation schedules (LO outer_trainers/truncation_schedule.py): how long an inner run lasts before
// its task is reset. The unroll of one estimate (the truncation length K) is a separate setting.
import { uniform, type Key } from '../engine/random.js';

export type TruncationSchedule =
  | { kind: 'constant'; length: number }
  | { kind: 'log-uniform'; min: number; max: number };

export function checkSchedule(s: TruncationSchedule): void {
  const ok = (n: number) => Number.isInteger(n) && n >= 1;
  if (s.kind === 'constant' && !ok(s.length)) throw new Error(`inner run length must be a positive integer, got ${s.length}`);
  if (s.kind === 'log-uniform' && !(ok(s.min) && ok(s.max) && s.min <= s.max)) {
    throw new Error(`log-uniform lengths need integers 1 ≤ min ≤ max, got ${s.min}, ${s.max}`);
  }
}

/** The length of one inner run: constant, or exp(U[log min, log max]) rounded down (LO LogUniformLengthSchedule). */
export function sampleLength(s: TruncationSchedule, key: Key): number {
  if (s.kind === 'constant') return s.length;
  const u = uniform(key, 1)[0];
  const length = Math.floor(Math.exp(Math.log(s.min) + u * (Math.log(s.max) - Math.log(s.min))));
  return Math.min(s.max, Math.max(s.min, length));
}

/** The largest length the schedule gives (the default range of the random initial step). */
export function maxLength(s: TruncationSchedule): number {
  return s.kind === 'constant' ? s.length : s.max;
}
