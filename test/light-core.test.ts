// The light core: `import … from 'lopt'` (and `lopt train`, `lopt data`) loads none of the optional
// packages, and works in an install that lacks them; `lopt/study` and `lopt/distributed` load them
// when used and, without them, fail with one line naming the package and the fix.
//
// Each check runs in a fresh node process started with a preload (written below) that records every
// module resolved, through ESM (a `module.register` resolve hook) and CommonJS (Module._resolveFilename,
// which `require` and `createRequire` go through), and can make chosen packages absent: resolving one
// throws the "not found" error node throws for a package that is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OPTIONAL_PACKAGES } from '../src/util/optional.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  exports: Record<string, { types: string; default: string }>;
};
const OPTIONAL = ['better-sqlite3', 'vega', 'vega-lite', 'bullmq', 'ioredis'];
/** TensorFlow.js: the optional peer of `lopt/tfjs` and what the tests use with it. */
const TFJS = ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu'];
/** What the core must not load: the optional packages, TensorFlow.js and the report test's browser driver. */
const HEAVY = [...OPTIONAL, ...TFJS, 'playwright-core', 'playwright'];

const DIR = mkdtempSync(join(tmpdir(), 'lopt-light-'));
const PKG_OF = `(s) => {
  if (/^[./]/.test(s) || /^[a-z][a-z0-9+.-]*:/i.test(s)) return null;
  const parts = s.split('/');
  return s.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}`;
writeFileSync(join(DIR, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';
const pkgOf = ${PKG_OF};
let record = null;
let absent = new Set();
export function initialize(data) { record = data.record; absent = new Set(data.absent); }
export async function resolve(specifier, context, next) {
  const pkg = pkgOf(specifier);
  if (pkg !== null && absent.has(pkg)) {
    const error = new Error(\`Cannot find package '\${pkg}' imported from \${context.parentURL}\`);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  const result = await next(specifier, context);
  if (record) appendFileSync(record, \`esm \${specifier} \${result.url}\\n\`);
  return result;
}
`);
writeFileSync(join(DIR, 'preload.mjs'), `import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';
const pkgOf = ${PKG_OF};
const record = process.env.LOPT_TEST_RECORD || null;
const absent = (process.env.LOPT_TEST_ABSENT || '').split(',').filter((s) => s !== '');
register(new URL('./hooks.mjs', import.meta.url), { data: { record, absent } });
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const pkg = pkgOf(request);
  if (pkg !== null && absent.includes(pkg)) {
    const error = new Error(\`Cannot find module '\${request}'\`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  const filename = resolveFilename.call(this, request, ...rest);
  if (record) appendFileSync(record, \`cjs \${request} \${filename}\\n\`);
  return filename;
};
`);
const PRELOAD = pathToFileURL(join(DIR, 'preload.mjs')).href;
let runs = 0;

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every package resolved (by specifier or by a path under node_modules). */
  packages: Set<string>;
  /** Every resolved file or URL. */
  resolved: string[];
}

function child(args: string[], absent: string[] = []): Child {
  const record = join(DIR, `record-${++runs}.txt`);
  writeFileSync(record, '');
  const result = spawnSync(process.execPath, ['--import', PRELOAD, ...args], {
    cwd: ROOT, encoding: 'utf8',
    env: { ...process.env, LOPT_TEST_RECORD: record, LOPT_TEST_ABSENT: absent.join(','), LOPT_BACKEND: '' },
  });
  const packages = new Set<string>();
  const resolved: string[] = [];
  for (const line of readFileSync(record, 'utf8').split('\n').filter((l) => l !== '')) {
    const [, specifier, where] = line.split(' ');
    resolved.push(where);
    if (!/^[./]/.test(specifier) && !/^[a-z][a-z0-9+.-]*:/i.test(specifier)) {
      packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
    }
    for (const m of where.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)) packages.add(m[1]);
  }
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, packages, resolved };
}

const script = (code: string, absent: string[] = []) => child(['--input-type=module', '-e', code], absent);
const lopt = (args: string[], absent: string[] = []) => child([CLI, ...args], absent);
const heavyIn = (c: Child) => HEAVY.filter((p) => c.packages.has(p));
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
/** stderr without the notice of a machine where the native addon is not built. */
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l !== '' && !/native backend unavailable/.test(l));

/** Trains a few steps with a hand-designed and a learned optimizer through the core's public names. */
const TRAIN_CORE = `
import { getOptimizer, learned, random, tasks, train } from 'lopt';
const adam = train({ task: tasks.get('quadratic'), optimizer: getOptimizer('adam', { learningRate: 0.1 }), steps: 5, seed: 0 });
const lo = learned.get('small_fc_lopt');
const lopt = train({ task: tasks.get('quadratic'), optimizer: lo.optFn(lo.init(random.keyFromSeed(0))), steps: 3, seed: 0 });
console.log(JSON.stringify({ adam: [adam.initialLoss, adam.finalLoss, adam.losses.length], lopt: [lopt.initialLoss, lopt.finalLoss, lopt.losses.length] }));
`;

function assertTrained(stdout: string): void {
  const r = lastJson(stdout) as { adam: [number, number, number]; lopt: [number, number, number] };
  assert.equal(r.adam[2], 5);
  assert.ok(r.adam[1] < r.adam[0], `adam did not lower the loss: ${JSON.stringify(r.adam)}`);
  assert.equal(r.lopt[2], 3);
  assert.ok(Number.isFinite(r.lopt[1]), `learned optimizer: ${JSON.stringify(r.lopt)}`);
}

test('package.json: the study and distributed packages are optional, pinned, and named by the error messages', () => {
  assert.deepEqual(Object.keys(PACKAGE.optionalDependencies).sort(), [...OPTIONAL].sort());
  for (const name of OPTIONAL) {
    assert.ok(!(name in PACKAGE.dependencies), `${name} is still in dependencies`);
    assert.match(PACKAGE.optionalDependencies[name], /^\d+\.\d+\.\d+$/, `${name} is not pinned`);
  }
  assert.deepEqual(OPTIONAL_PACKAGES, PACKAGE.optionalDependencies);
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string; optional?: boolean; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>;
  };
  assert.deepEqual(lock.packages[''].optionalDependencies, PACKAGE.optionalDependencies, 'package-lock.json is not in step with package.json');
  for (const name of OPTIONAL) {
    assert.ok(!(name in (lock.packages[''].dependencies ?? {})));
    assert.equal(lock.packages[`node_modules/${name}`].version, PACKAGE.optionalDependencies[name]);
    assert.equal(lock.packages[`node_modules/${name}`].optional, true, `${name} is not optional in package-lock.json`);
  }
  for (const [entry, target] of [['./study', './dist/src/study/index.js'], ['./distributed', './dist/src/distributed/index.js'], ['./tfjs', './dist/src/tfjs/index.js']]) {
    assert.equal(PACKAGE.exports[entry]?.default, target);
    assert.equal(PACKAGE.exports[entry].types, target.replace(/\.js$/, '.d.ts'));
    readFileSync(join(ROOT, PACKAGE.exports[entry].types)); // built
  }
});

test("import from 'lopt' loads none of better-sqlite3, vega, vega-lite, bullmq, ioredis, playwright; train still trains", () => {
  const run = script(TRAIN_CORE);
  assert.equal(run.code, 0, run.stderr);
  assertTrained(run.stdout);
  // The recorder saw the core's own modules (so an empty list of heavy packages means something).
  assert.ok(run.resolved.some((r) => r.endsWith('/dist/src/training/train.js')), 'the resolve hook recorded nothing');
  assert.deepEqual(heavyIn(run), []);
  // The public names did not move.
  const names = script(`import * as lopt from 'lopt'; console.log(JSON.stringify(Object.keys(lopt).sort()));`);
  assert.equal(names.code, 0, names.stderr);
  const exported = lastJson(names.stdout) as string[];
  for (const name of ['getOptimizer', 'learned', 'tasks', 'train', 'random', 'nn', 'data', 'meta', 'metaTrain', 'MetaLearner', 'getBackend']) {
    assert.ok(exported.includes(name), `lopt no longer exports ${name}`);
  }
  assert.ok(!exported.includes('study') && !exported.includes('distributed'), 'study and distributed have entries of their own');
  assert.ok(!exported.includes('loptOptimizer'), 'the TensorFlow.js adapter has an entry of its own');
});

test('lopt/tfjs: @tensorflow/tfjs-core is an optional peer, loaded by that entry only', () => {
  const pkg = PACKAGE as unknown as { peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }> };
  assert.ok('@tensorflow/tfjs-core' in pkg.peerDependencies);
  assert.equal(pkg.peerDependenciesMeta['@tensorflow/tfjs-core']?.optional, true);
  assert.match(PACKAGE.devDependencies['@tensorflow/tfjs'], /^\d+\.\d+\.\d+$/, '@tensorflow/tfjs is not pinned');
  const run = script(`import { loptOptimizer } from 'lopt/tfjs'; console.log(loptOptimizer('adam').loptName);`);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim().split('\n').at(-1), 'adam');
  assert.ok(run.packages.has('@tensorflow/tfjs-core'), 'the recorder missed @tensorflow/tfjs-core');
});

test('lopt/tfjs without @tensorflow/tfjs-core: one line naming the package and the install; lopt still trains', () => {
  const absent = TFJS;
  const line = 'lopt/tfjs needs @tensorflow/tfjs-core, an optional peer dependency that is not installed: npm install @tensorflow/tfjs (or @tensorflow/tfjs-core)';
  const caught = script(`try { await import('lopt/tfjs'); console.log('loaded'); } catch (e) { console.log(JSON.stringify([e.name, e.code, e.packageName, e.message])); }`, absent);
  assert.equal(caught.code, 0, caught.stderr);
  assert.deepEqual(lastJson(caught.stdout), ['OptionalPeerMissing', 'LOPT_OPTIONAL_PACKAGE_MISSING', '@tensorflow/tfjs-core', line]);
  // A plain static import: node reports that error (with its stack), not its own ERR_MODULE_NOT_FOUND.
  const plain = script(`import { loptOptimizer } from 'lopt/tfjs'; console.log(typeof loptOptimizer);`, absent);
  assert.notEqual(plain.code, 0);
  assert.ok(plain.stderr.split('\n').some((l) => l === `OptionalPeerMissing: ${line}`), plain.stderr);
  assert.doesNotMatch(plain.stderr, /ERR_MODULE_NOT_FOUND|Cannot find package/);
  const core = script(TRAIN_CORE, absent);
  assert.equal(core.code, 0, core.stderr);
  assertTrained(core.stdout);
});

test('the recorder catches the optional packages when lopt/study and lopt/distributed use them', () => {
  // Importing the entries loads none of them; opening a database loads better-sqlite3 (CommonJS,
  // through createRequire), a plot loads vega and vega-lite (ESM, dynamic import).
  const run = script(`
    import * as study from 'lopt/study';
    import * as distributed from 'lopt/distributed';
    const db = study.openResultsDb(':memory:');
    console.log(JSON.stringify({ best: db.bestConfigs().length, parsed: distributed.parseRedisUrl('redis://h:1').port }));
    const { renderSvg } = await import('./dist/src/study/report/render.js');
    const svg = await renderSvg({ data: { values: [{ x: 1, y: 2 }] }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } });
    console.log(JSON.stringify({ svg: svg.startsWith('<svg') }));
  `);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(lastJson(run.stdout), { svg: true });
  for (const name of ['better-sqlite3', 'vega', 'vega-lite']) assert.ok(run.packages.has(name), `the recorder missed ${name}`);

  const entries = script(`import * as study from 'lopt/study'; import * as distributed from 'lopt/distributed';
    console.log(typeof study.runStudy, typeof study.openResultsDb, typeof distributed.runDistributedLearner, typeof distributed.openRedis);`);
  assert.equal(entries.code, 0, entries.stderr);
  assert.equal(entries.stdout.trim(), 'function function function function');
  assert.deepEqual(heavyIn(entries), [], 'importing lopt/study or lopt/distributed loads their packages only when used');
});

test('lopt train and lopt data load none of the optional packages', () => {
  const train = lopt(['train', '--task', 'quadratic', '--optimizer', 'adam', '--lr', '0.1', '--steps', '4', '--json']);
  assert.equal(train.code, 0, train.stderr);
  assert.equal(lastJson(train.stdout).steps, 4);
  assert.ok(train.resolved.some((r) => r.endsWith('/dist/src/cli/train.js')));
  assert.deepEqual(heavyIn(train), []);
  const data = lopt(['data', '--json']);
  assert.equal(data.code, 0, data.stderr);
  assert.ok(Array.isArray(lastJson(data.stdout).dataSets));
  assert.deepEqual(heavyIn(data), []);
  const help = lopt(['study', '--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout.replace(/\s+/g, " "), /search, eval, overhead, memory, variants, table1, report/);
  assert.deepEqual(heavyIn(help), []);
});

test('without the optional packages the core trains, and the study and distributed parts fail with one line naming the package', () => {
  const absent = [...OPTIONAL, 'playwright-core'];
  const core = script(TRAIN_CORE, absent);
  assert.equal(core.code, 0, core.stderr);
  assertTrained(core.stdout);

  // The absence is real to node: a plain import of one of them fails.
  const probe = script(`try { await import('vega'); console.log('loaded'); } catch (e) { console.log(e.code); }`, absent);
  assert.equal(probe.stdout.trim(), 'ERR_MODULE_NOT_FOUND');

  const fix = (name: string) => `needs the optional package ${name}: npm install ${name}@${PACKAGE.optionalDependencies[name]}`;
  const entries = script(`
    import * as study from 'lopt/study';
    import * as distributed from 'lopt/distributed';
    const out = {};
    try { study.openResultsDb(':memory:'); out.db = 'opened'; } catch (e) { out.db = [e.name, e.packageName, e.message]; }
    try { await distributed.openRedis(distributed.parseRedisUrl('redis://127.0.0.1:1')); out.redis = 'opened'; } catch (e) { out.redis = [e.name, e.packageName, e.message]; }
    console.log(JSON.stringify(out));
  `, absent);
  assert.equal(entries.code, 0, entries.stderr);
  const out = lastJson(entries.stdout) as Record<string, [string, string, string]>;
  assert.deepEqual(out.db, ['OptionalPackageMissing', 'better-sqlite3', `the lopt study results database ${fix('better-sqlite3')}`]);
  assert.deepEqual(out.redis, ['OptionalPackageMissing', 'ioredis', `distributed meta-training (lopt meta-train --redis) ${fix('ioredis')}`]);

  // The CLI: one error line, exit code 2.
  const dir = mkdtempSync(join(tmpdir(), 'lopt-light-cli-'));
  const dbFile = join(dir, 'results.db');
  writeFileSync(dbFile, '');
  const cases: [string[], string][] = [
    [['report', '--db', dbFile, '--out', join(dir, 'report')], 'better-sqlite3'],
    [['study', '--db', join(dir, 'study.db'), '--phases', 'search', '--tasks', 'quadratic', '--optimizers', 'sgd'], 'better-sqlite3'],
    [['study', '--db', join(dir, 'study.db'), '--phases', 'report'], 'vega'],
    [['meta-train', '--lopt', 'small_fc_lopt', '--task', 'quadratic', '--out', join(dir, 'run'), '--redis', 'redis://127.0.0.1:1'], 'bullmq'],
  ];
  for (const [args, name] of cases) {
    const run = lopt(args, absent);
    assert.equal(run.code, 2, `lopt ${args.join(' ')}: ${run.stderr}`);
    const lines = errorLines(run.stderr);
    assert.equal(lines.length, 1, `lopt ${args[0]}: not one line:\n${run.stderr}`);
    assert.match(lines[0], new RegExp(`^lopt: error: .* ${fix(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  }
  // The training commands need none of them.
  const train = lopt(['train', '--task', 'quadratic', '--optimizer', 'sgd', '--steps', '3', '--json'], absent);
  assert.equal(train.code, 0, train.stderr);
  assert.equal(lastJson(train.stdout).steps, 3);
});

test('BullMQ installed without ioredis: the message names ioredis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-light-ioredis-'));
  const run = lopt(['meta-train', '--lopt', 'small_fc_lopt', '--task', 'quadratic', '--out', join(dir, 'run'), '--redis', 'redis://127.0.0.1:1'], ['ioredis']);
  assert.equal(run.code, 2, run.stderr);
  assert.deepEqual(errorLines(run.stderr), [`lopt: error: distributed meta-training (lopt meta-train --redis) needs the optional package ioredis: npm install ioredis@${PACKAGE.optionalDependencies.ioredis}`]);
});
