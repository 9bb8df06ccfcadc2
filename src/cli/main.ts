#!/usr/bin/env node
// The `lopt` command: wires the subcommands and turns every failure into one line and exit code 2.
import { Command, CommanderError } from 'commander';
import { dataCommand } from './data.js';
import { reportCommand } from './report.js';
import { studyCommand } from './study.js';
import { reportFatal } from './errors.js';
import { trainCommand } from './train.js';
import { metaTrainCommand } from './meta-train.js';
import { metaEvalCommand } from './meta-eval.js';

const verbose = process.argv.includes('--verbose');

function buildProgram(): Command {
  const program = new Command('lopt')
    .description('learned optimizers: train tasks, meta-train optimizers, study their tradeoffs')
    .option('--verbose', 'print stack traces with errors')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text.startsWith('error:') ? `lopt: ${text}` : text) });
  for (const command of [trainCommand(), metaTrainCommand(), metaEvalCommand(), dataCommand(), studyCommand(), reportCommand()]) {
    program.addCommand(command.exitOverride().option('--verbose', 'print stack traces with errors'));
  }
  return program;
}

try {
  buildProgram().parse(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; commander has already printed its one-line error otherwise.
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  reportFatal(error, verbose);
}
