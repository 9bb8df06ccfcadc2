// `lopt data`: lists every data set the tasks use, where it was found, or how to get it.
import { Command } from 'commander';
import { dataSetStatuses } from '../data/catalog.js';
import { resolveDataRoot } from '../data/root.js';

export function dataCommand(): Command {
  return new Command('data')
    .description('list the data sets the tasks use and where they were found')
    .option('--data-dir <dir>', 'data root (default: $LOPT_DATA_DIR or ~/.cache/lopt/data)')
    .option('--json', 'print one JSON object as the last stdout line')
    .action((flags: { dataDir?: string; json?: boolean }) => {
      const statuses = dataSetStatuses(flags.dataDir);
      const lines = [`data root: ${resolveDataRoot(flags.dataDir)}`];
      for (const s of statuses) {
        const derived = s.derivedFrom ? `derived from ${s.derivedFrom} when loaded, ` : '';
        lines.push(s.found
          ? `  ${s.name.padEnd(16)} found at ${s.location} (${derived}tasks: ${s.usedBy.join(', ')})`
          : `  ${s.name.padEnd(16)} MISSING (${derived}searched ${s.searched.join(', ')}; tasks: ${s.usedBy.join(', ')}); get it: ${s.howToGet}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      if (flags.json) process.stdout.write(`${JSON.stringify({ dataRoot: resolveDataRoot(flags.dataDir), dataSets: statuses })}\n`);
    });
}
