#!/usr/bin/env node
// Builds the browser bundle, dist/browser/lopt.js (`lopt/browser`, `npm run build:browser`): one ES
// module from src/browser/index.ts with esbuild, the WebAssembly kernels embedded as base64. The core
// it bundles is the same code as `import 'lopt'`; what would reach Node is swapped out here:
// - src/engine/select.ts (which loads the Node addon) → src/browser/select.ts (the backend init() chose);
// - src/util/optional.ts (Node's module resolution) → src/browser/optional-tfjs.ts in the demo page's
//   bundle, which includes TensorFlow.js for lopt/tfjs;
// - src/browser/kernels-wasm.ts → wasm/lopt_kernels.wasm's bytes;
// - node:crypto, node:fs, node:url, node:path, … → src/browser/node/<name>.ts where it exists (SHA-256,
//   "no file exists"), and every other export of theirs a function that throws one clear error: the
//   core only touches them to read or write files, which a browser page cannot;
// - the globals Buffer and process → src/browser/node/buffer.ts and process.ts.
// No `node:` import is left in the output (test/browser/bundle.test.ts checks).
//
//   node scripts/build-browser.mjs [--demo] [--out FILE]      (--demo: the demo page's script instead)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const browser = join(root, 'src', 'browser');

/** A module that throws, on use of any export, an error saying why a page cannot do that. */
function nodeModuleStub(name) {
  const real = join(browser, 'node', `${name}.ts`);
  const base = existsSync(real) ? `require(${JSON.stringify(real)})` : '{}';
  return `const real = ${base};
module.exports = new Proxy(real, {
  get(target, key) {
    if (key in target || typeof key === 'symbol' || key === '__esModule') return target[key];
    return () => {
      throw new Error('lopt/browser: ${name}.' + String(key) + ' of Node is not available in a browser (lopt reads and writes no files there: pass bytes or a URL, e.g. learned.load(bytes))');
    };
  },
});
`;
}

/** The esbuild plugin that swaps the Node-only modules (see the top of this file). */
export function browserPlugin({ tfjs = false } = {}) {
  const swaps = [[/[\\/]src[\\/]engine[\\/]select\.js$/, join(browser, 'select.ts')]];
  if (tfjs) swaps.push([/[\\/]src[\\/]util[\\/]optional\.js$/, join(browser, 'optional-tfjs.ts')]);
  return {
    name: 'lopt-browser',
    setup(build) {
      build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path.slice(5), namespace: 'node-stub' }));
      build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({ contents: nodeModuleStub(args.path), loader: 'js', resolveDir: root }));
      build.onResolve({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith('.')) return undefined;
        const target = join(args.resolveDir, args.path);
        for (const [pattern, replacement] of swaps) if (pattern.test(target)) return { path: replacement };
        return undefined;
      });
      build.onLoad({ filter: /[\\/]src[\\/]browser[\\/]kernels-wasm\.ts$/ }, () => {
        const bytes = readFileSync(join(root, 'wasm', 'lopt_kernels.wasm')).toString('base64');
        return { contents: `export const wasmKernelBytes = Uint8Array.from(atob(${JSON.stringify(bytes)}), (c) => c.charCodeAt(0));`, loader: 'js' };
      });
    },
  };
}

/** esbuild options for an entry bundled for the browser. */
export function browserBuildOptions(entry, outfile, { tfjs = false, minify = true } = {}) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    legalComments: 'none',
    logLevel: 'error',
    inject: [join(browser, 'node', 'buffer.ts'), join(browser, 'node', 'process.ts')],
    plugins: [browserPlugin({ tfjs })],
  };
}

/** Builds lopt/browser into `out` (default dist/browser/lopt.js); returns the path. */
export async function buildBrowserBundle(out = join(root, 'dist', 'browser', 'lopt.js'), options = {}) {
  const esbuild = await import('esbuild');
  await esbuild.build(browserBuildOptions(join(browser, 'index.ts'), out, options));
  return out;
}

/**
 * Builds the demo page's script, examples/browser/demo.ts with TensorFlow.js and lopt/tfjs, into `out`
 * (default dist/browser/demo.js); returns the path.
 */
export async function buildDemoBundle(out = join(root, 'dist', 'browser', 'demo.js')) {
  const esbuild = await import('esbuild');
  await esbuild.build(browserBuildOptions(join(root, 'examples', 'browser', 'demo.ts'), out, { tfjs: true }));
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--out');
  const build = process.argv.includes('--demo') ? buildDemoBundle : buildBrowserBundle;
  build(at > 0 ? process.argv[at + 1] : undefined).then(
    (out) => process.stdout.write(`lopt: built ${out}\n`),
    (error) => {
      process.stderr.write(`lopt: the browser bundle could not be built: ${error.message}\n`);
      process.exit(1);
    },
  );
}
