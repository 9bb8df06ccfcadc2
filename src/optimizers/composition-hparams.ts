// The composition keys of `--hparam` (lopt train): gradient clipping, a step schedule and decoupled
// weight decay chained around any optimizer, hand-designed or learned (see chain.ts, transforms.ts).
import type { Backend } from '../engine/backend.js';
import { chainWith, type ChainElement } from './chain.js';
import type { Optimizer } from './optimizer.js';
import {
  constantSchedule, linearSchedule, piecewiseConstantSchedule, warmupCosineSchedule, type StepSchedule,
} from './step-schedules.js';
import { clipByGlobalNorm, clipByValue, decoupledWeightDecay, scaleBySchedule } from './transforms.js';

export const SCHEDULE_KINDS = ['constant', 'linear', 'cosine', 'piecewise'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

/** The composition settings, validated (absent keys: off / defaults). */
export interface CompositionSettings {
  /** Clip the gradients' global norm to this (0: off). */
  clipGlobalNorm: number;
  /** Learned optimizers only (hand-designed ones have their own): clip every gradient element to [−C, C] (0: off). */
  gradClip: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  /** Steps until the end of the decay, warmup included (undefined: the run's steps). */
  scheduleSteps?: number;
  /** The factor at the end of a linear or cosine decay. */
  scheduleEnd: number;
  /** Piecewise: `step:factor,step:factor`. */
  scheduleBoundaries?: string;
  weightDecay: number;
  /** Comma-separated globs, or one `/regex/`; undefined: every parameter. */
  weightDecayMask?: string;
}

interface KeyDoc {
  key: keyof CompositionSettings;
  learnedOnly?: boolean;
  description: string;
}

/** The composition keys with one-line descriptions (README "Command line" has the long form). */
export const COMPOSITION_KEYS: readonly KeyDoc[] = [
  { key: 'clipGlobalNorm', description: 'clip the gradients to this global norm first (0: off)' },
  { key: 'gradClip', learnedOnly: true, description: 'learned optimizers: clip every gradient element to [-C, C] (hand-designed ones take their own gradClip)' },
  { key: 'schedule', description: `scale every step by a schedule: ${SCHEDULE_KINDS.join(', ')} (default constant)` },
  { key: 'warmupSteps', description: 'linear warmup of the step scale from 0 over this many steps' },
  { key: 'scheduleSteps', description: 'linear/cosine: the step where the decay ends (default: --steps)' },
  { key: 'scheduleEnd', description: 'linear/cosine: the final step scale (default 0)' },
  { key: 'scheduleBoundaries', description: 'piecewise: step:scale pairs, comma-separated (e.g. 500:0.1,1500:0.01)' },
  { key: 'weightDecay', description: 'decoupled weight decay: p ← p − lr·wd·p each step (lr: the optimizer’s learningRate, 1 for learned ones)' },
  { key: 'weightDecayMask', description: 'which parameters decay: comma-separated globs (* any characters) or one /regex/ (default all)' },
];

/** The composition keys valid for an optimizer (`gradClip` is one only for learned optimizers). */
export function compositionKeys(learnedOptimizer: boolean): string[] {
  return COMPOSITION_KEYS.filter((k) => learnedOptimizer || !k.learnedOnly).map((k) => k.key);
}

/** Splits `--hparam` values into the composition keys and the rest (the optimizer's own). */
export function splitCompositionHparams(
  hparams: Readonly<Record<string, unknown>>, learnedOptimizer: boolean,
): { composition: Record<string, unknown>; rest: Record<string, unknown> } {
  const keys = new Set(compositionKeys(learnedOptimizer));
  const composition: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(hparams)) (keys.has(key) ? composition : rest)[key] = value;
  return { composition, rest };
}

function bad(key: string, must: string, value: unknown): Error {
  return new Error(`invalid hyperparameter ${key}: must be ${must} (got ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`);
}

function numberOf(given: Record<string, unknown>, key: string, fallback: number, opts: { min: number; above?: boolean; integer?: boolean }): number {
  const raw = given[key];
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  const what = `${opts.integer ? 'an integer' : 'a finite number'} ${opts.above ? '>' : '>='} ${opts.min}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(key, what, raw);
  if (opts.integer && !Number.isInteger(value)) throw bad(key, what, raw);
  if (opts.above ? !(value > opts.min) : !(value >= opts.min)) throw bad(key, what, raw);
  return value;
}

function parseBoundaries(text: string): Record<number, number> {
  const out: Record<number, number> = {};
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*:\s*([^\s:]+)\s*$/.exec(part);
    const value = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(value) || value < 0) throw bad('scheduleBoundaries', 'step:scale pairs separated by commas, steps integers >= 0 and scales >= 0 (e.g. 500:0.1,1500:0.01)', text);
    out[Number(m[1])] = value;
  }
  return out;
}

/**
 * Validates composition keys (as split off by splitCompositionHparams; values may be strings). Errors
 * are one line naming the key and what it must be; an unknown key names the valid ones.
 */
export function resolveComposition(given: Readonly<Record<string, unknown>>, learnedOptimizer = false): CompositionSettings {
  const valid = compositionKeys(learnedOptimizer);
  for (const key of Object.keys(given)) {
    if (!valid.includes(key)) throw new Error(`unknown composition key "${key}"; valid: ${valid.join(', ')}`);
  }
  const g = given as Record<string, unknown>;
  const schedule = g.schedule === undefined ? 'constant' : String(g.schedule);
  if (!(SCHEDULE_KINDS as readonly string[]).includes(schedule)) throw bad('schedule', `one of ${SCHEDULE_KINDS.join(', ')}`, g.schedule);
  const settings: CompositionSettings = {
    clipGlobalNorm: numberOf(g, 'clipGlobalNorm', 0, { min: 0 }),
    gradClip: numberOf(g, 'gradClip', 0, { min: 0 }),
    schedule: schedule as ScheduleKind,
    warmupSteps: numberOf(g, 'warmupSteps', 0, { min: 0, integer: true }),
    scheduleEnd: numberOf(g, 'scheduleEnd', 0, { min: 0 }),
    weightDecay: numberOf(g, 'weightDecay', 0, { min: 0 }),
  };
  if (g.scheduleSteps !== undefined) settings.scheduleSteps = numberOf(g, 'scheduleSteps', 1, { min: 1, integer: true });
  const decaying = schedule === 'linear' || schedule === 'cosine';
  if (!decaying && (g.scheduleSteps !== undefined || g.scheduleEnd !== undefined)) {
    throw new Error(`${g.scheduleSteps !== undefined ? 'scheduleSteps' : 'scheduleEnd'} applies to schedule=linear or schedule=cosine (schedule is ${schedule})`);
  }
  if (settings.scheduleSteps !== undefined && settings.scheduleSteps <= settings.warmupSteps) {
    throw new Error(`scheduleSteps (${settings.scheduleSteps}) must be larger than warmupSteps (${settings.warmupSteps})`);
  }
  if (schedule === 'piecewise') {
    if (g.scheduleBoundaries === undefined) throw new Error('schedule=piecewise needs scheduleBoundaries=step:scale,... (e.g. 500:0.1,1500:0.01)');
    settings.scheduleBoundaries = String(g.scheduleBoundaries);
    parseBoundaries(settings.scheduleBoundaries);
  } else if (g.scheduleBoundaries !== undefined) {
    throw new Error(`scheduleBoundaries applies to schedule=piecewise (schedule is ${schedule})`);
  }
  if (g.weightDecayMask !== undefined) {
    if (settings.weightDecay === 0) throw new Error('weightDecayMask needs weightDecay > 0');
    settings.weightDecayMask = String(g.weightDecayMask);
    if (settings.weightDecayMask.trim() === '') throw bad('weightDecayMask', 'comma-separated globs or one /regex/', g.weightDecayMask);
  }
  return settings;
}

/** The mask a `weightDecayMask` value stands for: one `/regex/`, else comma-separated globs. */
export function weightDecayMaskOf(text: string): string | string[] {
  const trimmed = text.trim();
  if (/^\/.+\/[a-z]*$/.test(trimmed)) return trimmed;
  return trimmed.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** The step schedule the settings ask for, or undefined when every step is scaled by 1. */
export function scheduleOf(settings: CompositionSettings): StepSchedule | undefined {
  const warmupSteps = settings.warmupSteps;
  switch (settings.schedule) {
    case 'constant':
      return warmupSteps > 0 ? constantSchedule(1, { warmupSteps }) : undefined;
    case 'linear':
      return linearSchedule({ warmupSteps, end: settings.scheduleEnd, decaySteps: settings.scheduleSteps });
    case 'cosine':
      return warmupCosineSchedule({ warmupSteps, end: settings.scheduleEnd, decaySteps: settings.scheduleSteps });
    case 'piecewise': {
      const points = parseBoundaries(settings.scheduleBoundaries!);
      // The warmup, if any, ramps to the piecewise value.
      const base = piecewiseConstantSchedule(1, points);
      if (warmupSteps === 0) return base;
      const warm = constantSchedule(1, { warmupSteps });
      return Object.assign((t: number, n: number) => warm(t, n) * base(t, n), { description: `${base.description}, warmup ${warmupSteps}` });
    }
  }
}

/**
 * `optimizer` with the settings' transformations chained around it — [clipGlobalNorm, gradClip
 * (learned), optimizer, weightDecay, schedule] — or `optimizer` itself when they ask for none.
 * `learningRate` multiplies the weight decay (the optimizer's learning rate; 1 for learned ones).
 */
export function composeOptimizer(
  optimizer: Optimizer<unknown>, settings: CompositionSettings, opts: { learningRate?: number; backend?: Backend } = {},
): Optimizer<unknown> {
  const { backend } = opts;
  const pre: ChainElement[] = [];
  const post: ChainElement[] = [];
  if (settings.clipGlobalNorm > 0) pre.push(clipByGlobalNorm(settings.clipGlobalNorm, { backend }));
  if (settings.gradClip > 0) pre.push(clipByValue(settings.gradClip, { backend }));
  if (settings.weightDecay > 0) {
    const mask = settings.weightDecayMask === undefined ? undefined : weightDecayMaskOf(settings.weightDecayMask);
    post.push(decoupledWeightDecay(settings.weightDecay, { mask, learningRate: opts.learningRate ?? 1, backend }));
  }
  const schedule = scheduleOf(settings);
  if (schedule) post.push(scaleBySchedule(schedule, { backend }));
  if (pre.length === 0 && post.length === 0) return optimizer;
  return chainWith({ backend }, ...pre, optimizer, ...post);
}
