// The README's "Use lopt with TensorFlow.js" snippet, run as it is written there, through the package's
// own `lopt/tfjs` entry (package.json "exports"), in a fresh node process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function readmeSnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('\n## Use lopt with TensorFlow.js\n');
  assert.ok(at >= 0, 'README.md has no "Use lopt with TensorFlow.js" section');
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, 'the section has no ts code block');
  return block[1];
}

test("the README's TensorFlow.js snippet runs and trains", () => {
  const code = readmeSnippet();
  assert.match(code, /from 'lopt\/tfjs'/);
  // Inside the package (dist/), so that 'lopt/tfjs' resolves to this checkout through "exports".
  const dir = join(ROOT, 'dist', 'readme-snippet');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'tfjs.mjs');
  writeFileSync(file, code);
  const run = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const losses = JSON.parse(run.stdout.trim().split('\n').at(-1)!.replace(/^\[\s*/, '[').replace(/\s*\]$/, ']')) as number[];
  assert.equal(losses.length, 2);
  assert.ok(losses.every(Number.isFinite), run.stdout);
});
