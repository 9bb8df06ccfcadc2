// The README's `npx lopt …`: npm links the package's bin, so it must be an executable file (shebang
// and mode) that runs the CLI. The test runs that file as npm's link would; it does not call npx,
// which in a clone installs the clone into npx's cache and reruns its install script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('the lopt bin of package.json is an executable that runs the command-line tool', () => {
  const bin = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).bin.lopt as string;
  const run = spawnSync(join(root, bin), ['--help'], { cwd: root, encoding: 'utf8' });
  assert.equal(run.error, undefined, `${bin} cannot be executed: ${run.error?.message}`);
  assert.equal(run.status, 0, run.stderr);
  for (const command of ['train', 'meta-train', 'meta-eval', 'study', 'report', 'data']) assert.match(run.stdout, new RegExp(`\\b${command}\\b`));
});

test('the native build script skips an addon that is newer than its sources and loads', () => {
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_node_gyp: '/nonexistent/node-gyp.js' } });
  assert.equal(run.status, 0);
  assert.equal(run.stderr, '', 'an up-to-date addon must not be rebuilt (a rebuild with no node-gyp would print a failure)');
});
