// The general-purpose weights' evaluation table (scripts/general-eval.mjs → DIR/summary.json): every
// learned optimizer, Adam at 1e-3 and Adam / NAdamW tuned per task, each the mean training loss of
// full runs averaged over the same seeds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { table, type Section } from './html.js';

export const GENERAL_FILE = 'summary.json';
/** The untuned baseline the general-purpose weights must beat on every task. */
export const GENERAL_BASELINE = 'adam 0.001';

// JSON writes a non-finite mean (a run that blew up) as null.
const ENTRY = z.object({ meanLoss: z.number().nullable(), diverged: z.number().int().nonnegative() });
const TUNED = ENTRY.extend({ choice: z.string() }).nullable();
const TASK = z.object({ name: z.string(), heldOut: z.boolean(), optimizers: z.record(z.string(), ENTRY), tunedAdam: TUNED, tunedNadamw: TUNED });
const SUMMARY = z.object({
  steps: z.number().int().positive(),
  seeds: z.array(z.number().int()).min(1),
  adamGrid: z.array(z.number()),
  nadamwEntries: z.array(z.number().int()),
  tasks: z.array(TASK).min(1),
});
export type GeneralSummary = z.infer<typeof SUMMARY>;
type Entry = z.infer<typeof ENTRY>;

/** `DIR/summary.json`, validated; one error naming the file and what is wrong. */
export function readGeneral(dir: string): GeneralSummary {
  const file = join(dir, GENERAL_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read the general-weights evaluation summary (${(error as Error).message}); write it with node scripts/general-eval.mjs`);
  }
  const parsed = SUMMARY.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: not a general-weights evaluation summary (${issue.path.join('.') || 'top level'}: ${issue.message}); write it with node scripts/general-eval.mjs`);
  }
  return parsed.data;
}

const isBaseline = (name: string) => name.startsWith('adam ') || name.startsWith('nadamw ');

/** The learned optimizers' names: the general-purpose weights (`…-general`) first, then the others in first-seen order. */
export function learnedNames(summary: GeneralSummary): string[] {
  const names = [...new Set(summary.tasks.flatMap((t) => Object.keys(t.optimizers)))].filter((n) => !isBaseline(n));
  return [...names.filter((n) => n.endsWith('-general')), ...names.filter((n) => !n.endsWith('-general'))];
}

const loss = (e: Entry | undefined | null) => e?.meanLoss ?? Infinity;

/** "0.4123 (lr 0.003) (1 diverged)"; '–' when the optimizer has no complete set of runs there. */
function cell(e: Entry | undefined | null, note?: string): string {
  if (!e) return '–';
  return `${e.meanLoss === null ? '∞' : e.meanLoss.toFixed(4)}${note ? ` (${note})` : ''}${e.diverged > 0 ? ` (${e.diverged} diverged)` : ''}`;
}

/** Whether the learned optimizer beats Adam at 1e-3 on every task without a diverged run, and where not. */
export function generalGoalMet(summary: GeneralSummary, learnedName: string): { met: boolean; failures: string[] } {
  const failures = summary.tasks
    .filter((t) => {
      const mine = t.optimizers[learnedName];
      return !mine || mine.diverged > 0 || !(loss(mine) < loss(t.optimizers[GENERAL_BASELINE]));
    })
    .map((t) => t.name);
  return { met: failures.length === 0, failures };
}

export function generalHeaders(summary: GeneralSummary): string[] {
  return ['task', 'held out', ...learnedNames(summary), 'Adam 1e-3', 'tuned Adam', 'tuned NAdamW'];
}

/** The table's rows: task, held out, each learned optimizer, Adam 1e-3, tuned Adam (lr), tuned NAdamW (#entry). */
export function generalTable(summary: GeneralSummary): string[][] {
  const learned = learnedNames(summary);
  return summary.tasks.map((t) => [
    t.name,
    t.heldOut ? 'yes' : '',
    ...learned.map((n) => cell(t.optimizers[n])),
    cell(t.optimizers[GENERAL_BASELINE]),
    cell(t.tunedAdam, t.tunedAdam?.choice.replace(/^adam /, 'lr ')),
    cell(t.tunedNadamw, t.tunedNadamw?.choice.replace(/^nadamw /, '')),
  ]);
}

/** The report's section, or none when no general-weights folder was given. */
export function generalSection(summary: GeneralSummary | null): { section: Section; plots: string[] } | null {
  if (!summary) return null;
  const general = learnedNames(summary).find((n) => n.endsWith('-general'));
  let goal = '';
  if (general) {
    const { met, failures } = generalGoalMet(summary, general);
    const target = 'lower mean loss than Adam at 1e-3 on every task, no diverged run';
    goal = met ? ` ${general} meets the goal (${target}).` : ` ${general} does not meet the goal (${target}) on: ${failures.join(', ')}.`;
  }
  const intro = `Each value is the mean training loss of ${summary.steps.toLocaleString('en')}-step runs, averaged over seeds ${summary.seeds.join(', ')}. Tuned Adam is the best per task of the learning rates ${summary.adamGrid.join(', ')}, tuned NAdamW the best per task of NAdamW list entries ${summary.nadamwEntries.map((i) => `#${i}`).join(', ')}, on the same seeds.${goal}`;
  return { section: { id: 'general', title: 'General-purpose weights', intro, body: table(generalHeaders(summary), generalTable(summary)) }, plots: [] };
}
