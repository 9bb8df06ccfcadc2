// The demo page (examples/browser/, `npm run demo`) in headless Chromium: scripts/demo.mjs builds the
// bundles and serves the page; the page trains one TensorFlow.js model with small_fc_lopt and with
// Adam through lopt/tfjs on the WebAssembly kernels, with no console error, and both losses fall;
// the plot shows both curves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import type { DemoState } from '../../examples/browser/demo.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const STEPS = 40;

let server: ChildProcess;
let url: string;
let browser: Browser;

before(async () => {
  server = spawn(process.execPath, [join(root, 'scripts', 'demo.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stderr!.on('data', (chunk) => { output += chunk; });
  url = await new Promise<string>((resolve, reject) => {
    server.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /open (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    server.once('exit', (code) => reject(new Error(`scripts/demo.mjs exited with ${code}: ${output}`)));
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill();
    await once(server, 'exit');
  }
});

test('the demo page trains with small_fc_lopt and Adam on wasm; both losses fall; the plot shows both', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  try {
    await page.goto(`${url}?steps=${STEPS}`);
    await page.waitForFunction(() => {
      const demo = (globalThis as unknown as { loptDemo?: DemoState }).loptDemo;
      return demo !== undefined && (demo.done || demo.error !== null);
    }, null, { timeout: 240_000 });
    const demo = await page.evaluate(() => (globalThis as unknown as { loptDemo: DemoState }).loptDemo);
    assert.equal(demo.error, null);
    assert.equal(demo.backend, 'wasm');
    for (const name of ['small_fc_lopt', 'adam']) {
      const losses = demo.losses[name];
      assert.equal(losses.length, STEPS, name);
      assert.ok(losses.every(Number.isFinite), `${name}: a loss is not finite`);
      const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
      const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
      assert.ok(last < 0.95 * first, `${name}: the loss did not fall (${first} over the first 5 steps, ${last} over the last 5)`);
    }
    // Pixels of each curve's colour (small_fc_lopt #d62728, Adam #1f77b4) on the canvas.
    const pixels = await page.evaluate(() => {
      const canvas = document.getElementById('plot') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const count = (r: number, g: number, b: number) => {
        let n = 0;
        for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40 && data[i + 3] > 200) n++;
        return n;
      };
      return { red: count(0xd6, 0x27, 0x28), blue: count(0x1f, 0x77, 0xb4) };
    });
    assert.ok(pixels.red > 200 && pixels.blue > 200, `the plot lacks a curve: ${JSON.stringify(pixels)}`);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
