// The API reference (`npm run docs`): TypeDoc generates it from the sources' doc comments for the five
// entry points (lopt, lopt/study, lopt/distributed, lopt/tfjs, lopt/browser) with typedoc.json, without warnings
// (treatWarningsAsErrors) and without the network. Generated once, into a temporary folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; devDependencies: Record<string, string> };

/** Every file under `dir`, relative to it, with '/' separators. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
      else out.push(relative(dir, join(d, entry.name)).split('\\').join('/'));
    }
  };
  walk(dir);
  return out;
}

test('npm run docs: typedoc (pinned) writes the API reference of every entry point, without warnings', (t) => {
  assert.match(PACKAGE.devDependencies.typedoc, /^\d+\.\d+\.\d+$/, 'typedoc is not pinned');
  assert.match(PACKAGE.scripts.docs, /\btypedoc\b/);
  const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as { entryPoints: string[]; out: string; treatWarningsAsErrors?: boolean };
  assert.deepEqual(config.entryPoints, ['src/index.ts', 'src/study/index.ts', 'src/distributed/index.ts', 'src/tfjs/index.ts', 'src/browser/index.ts']);
  assert.equal(config.treatWarningsAsErrors, true);
  assert.match(readFileSync(join(ROOT, '.gitignore'), 'utf8'), new RegExp(`^/?${config.out.replace(/\/?$/, '/?')}$`, 'm'), `${config.out} is not git-ignored`);

  const out = mkdtempSync(join(tmpdir(), 'lopt-docs-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const typedocPackage = createRequire(join(ROOT, 'package.json')).resolve('typedoc/package.json');
  const cli = join(dirname(typedocPackage), (JSON.parse(readFileSync(typedocPackage, 'utf8')) as { bin: { typedoc: string } }).bin.typedoc);
  const run = spawnSync(process.execPath, [cli, '--out', out], {
    cwd: ROOT, encoding: 'utf8', timeout: 240_000,
    // No network: a proxy that refuses everything, so that any fetch would fail.
    env: { ...process.env, NO_COLOR: '1', HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9' },
  });
  const log = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.status, 0, `typedoc failed (${run.signal ?? run.status}):\n${log}`);
  assert.doesNotMatch(log, /\[warning\]|\[error\]/, log);

  const files = filesUnder(out);
  assert.ok(files.includes('index.html'), `no index.html in ${files.slice(0, 20).join(', ')}`);
  // One module per entry point, under the names users import.
  const index = readFileSync(join(out, 'index.html'), 'utf8');
  for (const entry of ['lopt', 'lopt/study', 'lopt/distributed', 'lopt/tfjs', 'lopt/browser']) assert.ok(index.includes(`>${entry}<`), `index.html does not list ${entry}`);
  // Key pages, each with its doc comment.
  // TypeDoc names a page by its module and symbol: functions/lopt.train.html, functions/lopt_tfjs.loptOptimizer.html.
  const page = (kind: string, name: string) => {
    const file = `${kind}/${name}.html`;
    assert.ok(files.includes(file), `no page ${file}`);
    return readFileSync(join(out, file), 'utf8');
  };
  assert.match(page('functions', 'lopt.getOptimizer'), /getOptimizer/);
  assert.match(page('functions', 'lopt.train'), /train/);
  assert.match(page('functions', 'lopt_tfjs.loptOptimizer'), /Every lopt optimizer as a tf\.Optimizer/);
  page('variables', 'lopt.learned');
  page('classes', 'lopt_tfjs.LoptOptimizer');
  page('functions', 'lopt_study.runStudy');
  page('functions', 'lopt_distributed.runDistributedLearner');
  assert.ok(existsSync(join(out, 'assets')), 'no assets folder');
});
