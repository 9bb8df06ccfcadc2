// `lopt report`: writes the study's self-contained HTML report from the results database and
// meta-training run folders.
import { Command } from 'commander';
import { reportFatal } from './errors.js';

interface ReportFlags {
  db: string;
  out: string;
  runs: string[];
  ablation?: string;
  general?: string;
  json?: boolean;
  verbose?: boolean;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write the study report (index.html with inline SVG plots and tables) from the results database')
    .option('--db <file>', 'results database written by `lopt study`', 'results/lopt.db')
    .requiredOption('--out <dir>', 'folder to write index.html into')
    .option('--runs <dir...>', 'meta-training run folders (`lopt meta-train --out DIR`) for the meta-training curves', [])
    .option('--ablation <dir>', 'a recipe ablation folder with results.json (scripts/ablation-score.mjs) for its table')
    .option('--general <dir>', 'a general-purpose weights evaluation folder with summary.json (scripts/general-eval.mjs) for its table')
    .option('--json', 'print one JSON summary object as the last stdout line')
    .action((flags: ReportFlags) => {
      // The program parses synchronously: report this command's asynchronous failures here.
      runReport(flags).catch((error: unknown) => reportFatal(error, flags.verbose ?? process.argv.includes('--verbose')));
    });
}

async function runReport(flags: ReportFlags): Promise<void> {
  // The report (and its optional packages) is loaded when the command runs, not for every `lopt`.
  const { writeReport } = await import('../study/report/index.js');
  const result = await writeReport({ dbPath: flags.db, outDir: flags.out, runDirs: flags.runs, ablationDir: flags.ablation, generalDir: flags.general });
  const lines = [
    `report: ${result.indexPath} (${result.plots.length} plot${result.plots.length === 1 ? '' : 's'})`,
    ...(result.missing.length ? [`no data yet for: ${result.missing.join('; ')} (the report says which command fills each)`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
