// lopt/browser (dist/browser/lopt.js, built here from the sources into a temporary folder) in headless
// Chromium (Debian's /usr/bin/chromium through playwright-core, as the report test):
// - one ES module with no `node:` import;
// - it loads with no console error, init() loads the WebAssembly kernels, backendName() is 'wasm';
// - optimizer state lives in the kernels' shared memory, or is copied where a page cannot share one;
// - one small_fc_lopt update (the shipped weights, loaded from a URL) on a fixed input matches the
//   native backend's in Node within 1e-5;
// - without WebAssembly, init() falls back to the TypeScript backend with one console line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { getBackend, learned, tensor, type Params } from '../../src/index.js';
import { mulberry32 } from '../fixtures/prng.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const WEIGHTS = join(root, 'pretrained', 'small_fc_lopt.safetensors');
const ORIGIN = 'http://lopt.test';

let dir: string;
let bundle: string;
let browser: Browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lopt-browser-'));
  const out = join(dir, 'lopt.js');
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-browser.mjs'), '--out', out], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  bundle = readFileSync(out, 'utf8');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
});

after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  /** Console lines (type: text) and page errors, in order. */
  messages: string[];
}

/** A page at ORIGIN that imports the bundle as `globalThis.lopt`; `prepare` runs before any script. */
async function open(prepare?: () => void): Promise<Opened> {
  const page = await browser.newPage();
  const messages: string[] = [];
  page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
  const files: Record<string, [string, string | Buffer]> = {
    '/index.html': ['text/html', '<!doctype html><script type="module">import * as lopt from "./lopt.js"; globalThis.lopt = lopt;</script>'],
    '/lopt.js': ['text/javascript', bundle],
    '/small_fc_lopt.safetensors': ['application/octet-stream', readFileSync(WEIGHTS)],
  };
  await page.route(`${ORIGIN}/**`, (route) => {
    const file = files[new URL(route.request().url()).pathname];
    return file ? route.fulfill({ contentType: file[0], body: file[1] }) : route.fulfill({ status: 404, body: 'not found' });
  });
  if (prepare) await page.addInitScript(prepare);
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction(() => 'lopt' in globalThis);
  return { page, messages };
}

test('the bundle is one ES module with no node: import', () => {
  assert.doesNotMatch(bundle, /["'`]node:/, 'a node: module specifier is left in the bundle');
  assert.doesNotMatch(bundle, /\brequire\(["'`]/, 'a require() of a module is left in the bundle');
  assert.match(bundle, /\bexport\s*\{[^}]*\binit\b/, 'the bundle does not export init');
});

test('it loads with no console error; init() loads the WebAssembly kernels; backendName() is wasm', async () => {
  const { page, messages } = await open();
  try {
    const result = await page.evaluate(async () => {
      const lopt = (globalThis as unknown as { lopt: typeof import('../../src/browser/index.js') }).lopt;
      const name = await lopt.init();
      return { name, backendName: lopt.backendName(), info: lopt.getBackend().info().simd, exports: Object.keys(lopt).sort() };
    });
    assert.equal(result.name, 'wasm');
    assert.equal(result.backendName, 'wasm');
    assert.equal(result.info, 'wasm-simd128');
    for (const name of ['getOptimizer', 'learned', 'init', 'backendName', 'tensor', 'zeros', 'random']) assert.ok(result.exports.includes(name), `no export ${name}`);
    assert.deepEqual(messages, []);
  } finally {
    await page.close();
  }
});

test("Adam's parameters and state live in the kernels' shared memory; without one the kernels copy, with the same result", async () => {
  /** Two Adam steps on the wasm backend: the kind of buffer the state lives in, and the parameters. */
  const run = async (page: Page) => page.evaluate(async () => {
    const lopt = (globalThis as unknown as { lopt: typeof import('../../src/browser/index.js') }).lopt;
    await lopt.init();
    const adam = lopt.getOptimizer('adam', { learningRate: 0.01 });
    const values = Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i));
    let state = adam.init({ w: lopt.tensor([60, 50], values) }, { numSteps: 2 });
    for (let step = 0; step < 2; step++) {
      state = adam.update(state, { w: lopt.tensor([60, 50], values.map((v) => v * (step + 1))) }, { loss: 1 });
    }
    const w = adam.getParams(state).w.data;
    return { buffer: Object.prototype.toString.call(w.buffer), w: Array.from(w), backend: lopt.backendName() };
  });
  const shared = await open();
  const unshared = await open(() => {
    // A browser that refuses shared memories (one that ties them to cross-origin isolation).
    const Memory = WebAssembly.Memory;
    WebAssembly.Memory = function (descriptor: WebAssembly.MemoryDescriptor) {
      if (descriptor.shared) throw new TypeError('shared memory needs cross-origin isolation');
      return new Memory(descriptor);
    } as unknown as typeof WebAssembly.Memory;
  });
  try {
    const [a, b] = [await run(shared.page), await run(unshared.page)];
    assert.equal(a.buffer, '[object SharedArrayBuffer]');
    assert.equal(b.buffer, '[object ArrayBuffer]');
    assert.equal(b.backend, 'wasm');
    assert.deepEqual(a.w, b.w);
    assert.notDeepEqual(a.w, Array.from({ length: 3000 }, (_, i) => Math.fround(Math.sin(i))), 'Adam moved the parameters');
    assert.deepEqual([...shared.messages, ...unshared.messages], []);
  } finally {
    await shared.page.close();
    await unshared.page.close();
  }
});

/** Fixed parameters and gradients: a factored matrix (register loops), a bias, a matrix of short rows. */
function fixedInput(): { params: Record<string, [number[], number[]]>; grads: Record<string, number[]> } {
  const next = mulberry32(21);
  const params: Record<string, [number[], number[]]> = {};
  const grads: Record<string, number[]> = {};
  for (const [name, shape] of [['w', [64, 48]], ['b', [48]], ['v', [40, 3]]] as const) {
    const size = shape.reduce((a, b) => a * b, 1);
    params[name] = [[...shape], Array.from({ length: size }, () => next() - 0.5)];
    grads[name] = Array.from({ length: size }, () => (next() - 0.5) * 0.2);
  }
  return { params, grads };
}

test('one small_fc_lopt update (shipped weights from a URL) matches the native backend within 1e-5', async () => {
  const input = fixedInput();
  const tree = (values: Record<string, number[]>): Params =>
    Object.fromEntries(Object.entries(input.params).map(([n, [shape]]) => [n, tensor([...shape], Float32Array.from(values[n]))]));
  const { optimizer, theta } = learned.load(WEIGHTS, { backend: getBackend('native') });
  const native = optimizer.optFn(theta);
  const initial = Object.fromEntries(Object.entries(input.params).map(([n, [, v]]) => [n, v]));
  let state = native.init(tree(initial), { numSteps: 100 });
  state = native.update(state, tree(input.grads), { loss: 1.5 });
  const want = native.getParams(state);

  const { page, messages } = await open();
  try {
    const got = await page.evaluate(async ({ params, grads }) => {
      const lopt = (globalThis as unknown as { lopt: typeof import('../../src/browser/index.js') }).lopt;
      await lopt.init();
      const loaded = await lopt.learned.loadUrl('/small_fc_lopt.safetensors');
      const opt = loaded.optimizer.optFn(loaded.theta);
      const p = Object.fromEntries(Object.entries(params).map(([n, [shape, v]]) => [n, lopt.tensor(shape, Float32Array.from(v))]));
      const g = Object.fromEntries(Object.entries(grads).map(([n, v]) => [n, lopt.tensor(params[n][0], Float32Array.from(v))]));
      const s = opt.update(opt.init(p, { numSteps: 100 }), g, { loss: 1.5 });
      return { name: loaded.optimizer.name, params: Object.fromEntries(Object.entries(opt.getParams(s)).map(([n, t]) => [n, Array.from(t.data)])) };
    }, input);
    assert.equal(got.name, 'small_fc_lopt');
    let moved = 0;
    for (const [name, t] of Object.entries(want)) {
      t.data.forEach((w, i) => {
        const value = got.params[name][i];
        assert.ok(Math.abs(value - w) <= 1e-5, `${name}[${i}]: browser ${value}, native ${w}`);
        moved = Math.max(moved, Math.abs(w - initial[name][i]));
      });
    }
    assert.ok(moved > 1e-5, `the update barely moved the parameters (${moved}): the comparison means little`);
    assert.deepEqual(messages, []);
  } finally {
    await page.close();
  }
});

test('without WebAssembly, init() falls back to the TypeScript backend with one console line', async () => {
  const { page, messages } = await open(() => {
    delete (globalThis as { WebAssembly?: unknown }).WebAssembly;
  });
  try {
    const result = await page.evaluate(async () => {
      const lopt = (globalThis as unknown as { lopt: typeof import('../../src/browser/index.js') }).lopt;
      const name = await lopt.init();
      const adam = lopt.getOptimizer('adam');
      const s = adam.update(adam.init({ x: lopt.tensor([2], [1, 2]) }, { numSteps: 1 }), { x: lopt.tensor([2], [1, 1]) }, { loss: 0 });
      return { name, backendName: lopt.backendName(), x: Array.from(adam.getParams(s).x.data) };
    });
    assert.equal(result.name, 'reference');
    assert.equal(result.backendName, 'reference');
    assert.ok(result.x[0] < 1 && result.x[1] < 2, 'adam did not step');
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(messages[0], /^warning: lopt: WebAssembly kernels unavailable \(.+\); using the TypeScript backend$/);
  } finally {
    await page.close();
  }
});

test('before init() optimizers ask for it; init({ backend: "reference" }) picks TypeScript silently', async () => {
  const { page, messages } = await open();
  try {
    const result = await page.evaluate(async () => {
      const lopt = (globalThis as unknown as { lopt: typeof import('../../src/browser/index.js') }).lopt;
      let before = '';
      try {
        lopt.getOptimizer('adam');
      } catch (error) {
        before = (error as Error).message;
      }
      return { before, name: await lopt.init({ backend: 'reference' }), again: await lopt.init() };
    });
    assert.match(result.before, /call `await init\(\)` first/);
    assert.equal(result.name, 'reference');
    assert.equal(result.again, 'reference', 'a second init() keeps the first choice');
    assert.deepEqual(messages, []);
  } finally {
    await page.close();
  }
});
