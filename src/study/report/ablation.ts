// The recipe ablation's table (issue 14; README "The recipe ablation"): meta-training recipes run from
// one initial θ for the same number of inner steps, each final θ scored by the mean training loss of
// full runs on the same meta-training evaluation keys (scripts/ablation.sh, scripts/ablation-score.mjs
// → DIR/results.json). The comparison against the reference recipe is paired: the same runs, so their
// noise largely cancels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { table, type Section } from './html.js';

export const ABLATION_FILE = 'results.json';

const ROW = z.object({
  variant: z.string(),
  /** Outer updates and inner steps the variant spent (absent for rows that are not meta-training runs). */
  updates: z.number().int().nonnegative().optional(),
  innerSteps: z.number().int().nonnegative().optional(),
  mean: z.number(),
  losses: z.array(z.number()).min(1),
});
const RESULTS = z.object({
  keys: z.object({ seed: z.number().int(), evalSeeds: z.number().int().positive(), innerSteps: z.number().int().positive() }),
  /** The row the others are compared with (default 'fixed'). */
  reference: z.string().default('fixed'),
  rows: z.array(ROW).min(1),
});
export type AblationResults = z.infer<typeof RESULTS>;
export type AblationRow = z.infer<typeof ROW>;

/** Mean and standard error of the per-key differences a − b (same keys, same order). */
export function pairedDifference(a: readonly number[], b: readonly number[]): { mean: number; se: number } {
  if (a.length !== b.length || a.length < 2) throw new Error(`paired difference needs two equal lists of at least 2 losses, got ${a.length} and ${b.length}`);
  const d = a.map((x, i) => x - b[i]);
  const mean = d.reduce((s, x) => s + x, 0) / d.length;
  const se = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (d.length - 1) / d.length);
  return { mean, se };
}

/** `DIR/results.json`, validated; one error naming the file and what is wrong. */
export function readAblation(dir: string): AblationResults {
  const file = join(dir, ABLATION_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read the ablation's results (${(error as Error).message}); write them with node scripts/ablation-score.mjs`);
  }
  const parsed = RESULTS.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: not an ablation results file (${issue.path.join('.') || 'top level'}: ${issue.message}); write it with node scripts/ablation-score.mjs`);
  }
  return parsed.data;
}

/** "+0.0012 ± 0.0004" against the reference row on the same keys ('' for the reference itself). */
function versusReference(row: AblationRow, reference: AblationRow | undefined): string {
  if (!reference || row === reference || row.losses.length !== reference.losses.length) return '';
  const { mean, se } = pairedDifference(row.losses, reference.losses);
  return `${mean >= 0 ? '+' : '−'}${Math.abs(mean).toFixed(4)} ± ${se.toFixed(4)}`;
}

/** The table's rows: variant, outer updates, inner steps, mean loss, paired difference to the reference. */
export function ablationTable(results: AblationResults): string[][] {
  const reference = results.rows.find((r) => r.variant === results.reference);
  return results.rows.map((r) => [
    r.variant,
    r.updates === undefined ? '' : r.updates.toLocaleString('en'),
    r.innerSteps === undefined ? '' : r.innerSteps.toLocaleString('en'),
    r.mean.toFixed(4),
    versusReference(r, reference),
  ]);
}

export const ABLATION_HEADERS = ['variant', 'outer updates', 'inner steps', 'mean loss', 'paired difference'];

/** The report's section, or none when no ablation folder was given. */
export function ablationSection(results: AblationResults | null): { section: Section; plots: string[] } | null {
  if (!results) return null;
  const { seed, evalSeeds, innerSteps } = results.keys;
  const intro = `Meta-training recipes for small_fc_lopt on fmnist-mlp, each run from the same initial θ for the same number of inner steps, each final θ scored by the mean training loss of ${innerSteps.toLocaleString('en')}-step runs on the same ${evalSeeds} meta-training evaluation keys (seed ${seed}). The paired difference is against the ${results.reference} recipe on the same runs, ± its standard error; negative is better.`;
  return { section: { id: 'ablation', title: 'Meta-training recipe ablation', intro, body: table(ABLATION_HEADERS, ablationTable(results)) }, plots: [] };
}
