#!/usr/bin/env node
// `npm run demo`: builds the browser bundles (scripts/build-browser.mjs) and serves the demo page,
// examples/browser/, with node:http; prints the URL to open. Serves only what the page loads: the
// page's folder, dist/browser (lopt.js, demo.js) and pretrained/ (the weights it fetches).
//
//   node scripts/demo.mjs [--port N]       (default 8080; 0 picks a free port)
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBrowserBundle, buildDemoBundle } from './build-browser.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SERVED = ['examples/browser', 'dist/browser', 'pretrained'];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
};

/** The file a URL path names inside the served folders, or undefined. */
function fileFor(urlPath) {
  const path = normalize(decodeURIComponent(urlPath)).replace(/^[/\\]+/, '');
  if (!SERVED.some((dir) => path === dir || path.startsWith(dir + sep) || path.startsWith(`${dir}/`))) return undefined;
  const file = join(root, path);
  try {
    const stat = statSync(file);
    return stat.isDirectory() ? fileFor(`${urlPath.replace(/\/$/, '')}/index.html`) : file;
  } catch {
    return undefined;
  }
}

/** Starts the server on `port` (0: any free one); resolves to it and its URL once listening. */
export async function startDemoServer(port = 8080) {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/') {
      response.writeHead(302, { location: '/examples/browser/' }).end();
      return;
    }
    const file = fileFor(url.pathname);
    if (!file) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${url.pathname}\n`);
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(response);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  return { server, url: `http://127.0.0.1:${address.port}/examples/browser/` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--port');
  const port = at > 0 ? Number(process.argv[at + 1]) : 8080;
  try {
    await buildBrowserBundle();
    await buildDemoBundle();
    const { url } = await startDemoServer(port);
    process.stdout.write(`lopt demo: open ${url} (Ctrl-C stops)\n`);
  } catch (error) {
    process.stderr.write(`lopt demo: ${error.message}${error.code === 'EADDRINUSE' ? ` (use --port N, or --port 0 for any free port)` : ''}\n`);
    process.exit(1);
  }
}
