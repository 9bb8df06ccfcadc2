// Benchmark of the WebAssembly kernels (the issue "In the browser"): one optimizer update of the
// 118,282-parameter Fashion-MNIST MLP (784 → 128 → 128 → 10) with Adam and with small_fc_lopt (the
// shipped weights), on the wasm, native and reference (TypeScript) backends in Node, and on wasm and
// reference in headless Chromium (lopt/browser, built here; Debian's /usr/bin/chromium through
// playwright-core). All of Node's cases run side by side in one process, interleaved (bench/wasm-timing.ts),
// then Chromium's, with the same routine, also on a page that cannot make a shared memory (the
// unshared fallback, which copies every array in and out: 'wasm-unshared'). Goal: wasm within 3x of native single-thread. For scale, the
// native addon's baseline x86-64 path (`native-scalar`: 4-lane SSE2, no fused multiply-add, as
// WebAssembly's 128-bit SIMD) runs alongside its default (AVX-512 or AVX2 with FMA).
// Prints a table, the ratios and one JSON line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend, getOptimizer, learned, random, tasks, type Backend } from 'lopt';
import { loadNativeBackend } from '../src/engine/native.js';
import { timeUpdates, type TimingCase, type TimingOptions } from './wasm-timing.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WEIGHTS = join(root, 'pretrained', 'small_fc_lopt.safetensors');
const CHROMIUM = '/usr/bin/chromium';
const OPTIMIZERS = ['adam', 'small_fc_lopt'];

interface Row { where: string; optimizer: string; backend: string; msPerUpdate: number }

function options(shapes: [string, number[]][]): TimingOptions {
  return { shapes, rounds: Number(process.env.LOPT_BENCH_ROUNDS ?? 9), roundMs: 200, warmupMs: 2000 };
}

function nodeRows(shapes: [string, number[]][]): Row[] {
  const cases: TimingCase[] = OPTIMIZERS.flatMap((optimizer) =>
    ['native', 'native-scalar', 'wasm', 'reference'].map((backend) => ({ optimizer, backend })));
  const make = (optimizer: string, backend: string) => {
    const b: Backend = backend === 'native-scalar' ? loadNativeBackend({ simd: 'scalar' }) : getBackend(backend as 'native' | 'wasm' | 'reference');
    if (optimizer === 'adam') return getOptimizer('adam', {}, { backend: b });
    const loaded = learned.load(WEIGHTS, { backend: b });
    return loaded.optimizer.optFn(loaded.theta);
  };
  const ms = timeUpdates(make, cases, options(shapes));
  return cases.map((c, i) => ({ where: `node ${process.versions.node}`, ...c, msPerUpdate: ms[i] }));
}

/** Chromium's rows, or [] (saying why on stderr) when Chromium or the bundle cannot run. */
async function chromiumRows(shapes: [string, number[]][]): Promise<Row[]> {
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`bench: ${CHROMIUM} not found (apt-get install chromium): no browser numbers\n`);
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), 'lopt-bench-wasm-'));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-browser.mjs'), '--out', join(dir, 'lopt.js')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(build.stderr.trim());
    const bundle = readFileSync(join(dir, 'lopt.js'), 'utf8');
    const version = browser.version();
    const weights = Array.from(readFileSync(WEIGHTS));
    const shared = await timeInPage(browser, bundle, shapes, weights, ['wasm', 'reference'], false);
    const unshared = await timeInPage(browser, bundle, shapes, weights, ['wasm'], true);
    return [...shared, ...unshared].map((r) => ({ where: `chromium ${version}`, ...r }));
  } catch (error) {
    process.stderr.write(`bench: no browser numbers: ${(error as Error).message.split('\n')[0]}\n`);
    return [];
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Times the cases on one page of the bundle. `refuseShared`: the page cannot make a shared memory (as a
 * browser that ties it to cross-origin isolation), so the kernels copy every array in and out; its rows
 * are named 'wasm-unshared'.
 */
async function timeInPage(
  browser: import('playwright-core').Browser, bundle: string, shapes: [string, number[]][], weights: number[],
  backends: string[], refuseShared: boolean,
): Promise<Omit<Row, 'where'>[]> {
  const page = await browser.newPage();
  try {
    const files: Record<string, [string, string]> = {
      '/index.html': ['text/html', '<!doctype html><script type="module">import * as lopt from "./lopt.js"; globalThis.lopt = lopt;</script>'],
      '/lopt.js': ['text/javascript', bundle],
    };
    await page.route('http://bench.test/**', (route) => {
      const file = files[new URL(route.request().url()).pathname];
      return file ? route.fulfill({ contentType: file[0], body: file[1] }) : route.fulfill({ status: 404, body: '' });
    });
    if (refuseShared) {
      await page.addInitScript(() => {
        const Memory = WebAssembly.Memory;
        WebAssembly.Memory = function (descriptor: WebAssembly.MemoryDescriptor) {
          if (descriptor.shared) throw new TypeError('no shared memory');
          return new Memory(descriptor);
        } as unknown as typeof WebAssembly.Memory;
      });
    }
    await page.goto('http://bench.test/index.html');
    await page.waitForFunction(() => 'lopt' in globalThis);
    await page.addScriptTag({ content: `globalThis.timeUpdates = ${timeUpdates.toString()};` });
    const cases: TimingCase[] = OPTIMIZERS.flatMap((optimizer) => backends.map((backend) => ({ optimizer, backend })));
    const ms = await page.evaluate(async ({ cases, options, weights }) => {
      const g = globalThis as unknown as { lopt: typeof import('../src/browser/index.js'); timeUpdates: typeof timeUpdates };
      await g.lopt.init();
      const bytes = Uint8Array.from(weights);
      const make = (optimizer: string, backend: string) => {
        const b = g.lopt.getBackend(backend as 'wasm' | 'reference');
        if (optimizer === 'adam') return g.lopt.getOptimizer('adam', {}, { backend: b });
        const loaded = g.lopt.learned.load(bytes, { backend: b });
        return loaded.optimizer.optFn(loaded.theta);
      };
      return g.timeUpdates(make, cases, options);
    }, { cases, options: options(shapes), weights });
    return cases.map((c, i) => ({ ...c, backend: refuseShared ? `${c.backend}-unshared` : c.backend, msPerUpdate: ms[i] }));
  } finally {
    await page.close();
  }
}

async function main(): Promise<void> {
  const params = tasks.get('fmnist-mlp').init(random.keyFromSeed(0));
  const shapes = Object.entries(params).map(([name, t]) => [name, t.shape] as [string, number[]]);
  const paramCount = shapes.reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
  const rows = [...nodeRows(shapes), ...(await chromiumRows(shapes))];
  const native = (optimizer: string) => rows.find((r) => r.where.startsWith('node') && r.optimizer === optimizer && r.backend === 'native')!.msPerUpdate;
  const out = process.stdout;
  const info = getBackend('native').info();
  out.write(`one update of the ${paramCount.toLocaleString('en')}-parameter fmnist-mlp (native: ${info.simd}, single thread)\n`);
  out.write(`${'where'.padEnd(26)}${'optimizer'.padEnd(16)}${'backend'.padEnd(15)}${'ms/update'.padStart(12)}${'x native'.padStart(10)}\n`);
  for (const r of rows) {
    out.write(`${r.where.padEnd(26)}${r.optimizer.padEnd(16)}${r.backend.padEnd(15)}${r.msPerUpdate.toFixed(3).padStart(12)}${(r.msPerUpdate / native(r.optimizer)).toFixed(2).padStart(10)}\n`);
  }
  const ratios: Record<string, number> = {};
  for (const r of rows.filter((row) => row.backend === 'wasm')) {
    ratios[`${r.where.split(' ')[0]} wasm / native ${r.optimizer} (goal <= 3)`] = r.msPerUpdate / native(r.optimizer);
  }
  for (const [name, value] of Object.entries(ratios)) out.write(`ratio ${name}: ${value.toFixed(2)}\n`);
  out.write(`${JSON.stringify({ bench: 'wasm', task: 'fmnist-mlp', paramCount, nativeSimd: info.simd, rows, ratios })}\n`);
}

await main();
