// The README's `npx lopt …`: the package's bin must be an executable file that runs the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('npx lopt runs the command-line tool from the repository', () => {
  const run = spawnSync('npx', ['--no-install', 'lopt', '--help'], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  for (const command of ['train', 'meta-train', 'meta-eval', 'study', 'report', 'data']) assert.match(run.stdout, new RegExp(`\\b${command}\\b`));
});
