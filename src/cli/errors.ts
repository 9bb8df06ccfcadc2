// How the CLI reports a failure: one line naming the problem and the fix, exit code 2.
export class UsageError extends Error {
  override name = 'UsageError';
}

export function reportFatal(error: unknown, verbose: boolean): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`lopt: error: ${message.split('\n')[0]}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(2);
}
