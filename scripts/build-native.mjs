#!/usr/bin/env node
// Builds the native backend (build/Release/lopt_native.node) with node-gyp; run by `npm install`.
//
// A failed build never fails the install: it prints one line on stderr and exits 0, and lopt then
// runs on the reference backend. The compiler output is captured, written to
// build/native-build.log, and shown in full only with LOPT_VERBOSE_BUILD=1.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const verbose = process.env.LOPT_VERBOSE_BUILD === '1';
const windows = process.platform === 'win32';

/** Ways to run node-gyp, in order of preference: [command, leading args, label]. */
function nodeGypCandidates() {
  const list = [];
  // npm sets this for lifecycle scripts: its bundled node-gyp.
  if (process.env.npm_config_node_gyp) list.push([process.execPath, [process.env.npm_config_node_gyp], 'npm node-gyp']);
  list.push([windows ? 'node-gyp.cmd' : 'node-gyp', [], 'node-gyp']);
  // Run directly (node scripts/build-native.mjs): the node-gyp bundled with the npm next to node.
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) list.push([process.execPath, [bundled], 'bundled node-gyp']);
  list.push([windows ? 'npx.cmd' : 'npx', ['--yes', 'node-gyp'], 'npx node-gyp']);
  return list;
}

/** Node's own headers, when installed next to the binary (avoids node-gyp downloading them). */
function nodedirArgs() {
  if (process.env.npm_config_nodedir || process.argv.some((a) => a.startsWith('--nodedir'))) return [];
  const prefix = join(dirname(process.execPath), '..');
  const headers = join(prefix, 'include', 'node');
  return existsSync(join(headers, 'node_api.h')) && existsSync(join(headers, 'common.gypi')) ? [`--nodedir=${prefix}`] : [];
}

/** The most telling short reason in node-gyp's output. */
function reason(output, code) {
  const checks = [
    [/cblas[\w-]*\.h: No such file|cblas[\w-]*\.h' file not found/i, 'OpenBLAS headers (cblas.h) not found'],
    [/cannot find -lopenblas|library not found for -lopenblas/i, 'libopenblas not found'],
    [/node_api\.h: No such file|node_api\.h' file not found/i, 'Node.js headers not found'],
    [/Could not find any Python|gyp ERR! find Python/i, 'Python (needed by node-gyp) not found'],
    [/not found: make|make: (command )?not found|spawn make ENOENT/i, 'make not found'],
    [/\b(cc|gcc|clang|g\+\+|c\+\+): (command )?not found|spawn (cc|gcc|clang) ENOENT|No such file or directory: '[^']*(cc|gcc|clang)'/i, 'no C compiler found'],
    [/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|getaddrinfo|network connectivity/i, 'node-gyp could not download the Node.js headers'],
  ];
  for (const [pattern, text] of checks) if (pattern.test(output)) return text;
  const error = output.split('\n').find((line) => /\berror\b/i.test(line) && !/^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(line));
  const detail = error ? error.trim().replace(/\s+/g, ' ').slice(0, 120) : `node-gyp exited with code ${code}`;
  return detail;
}

function writeLog(text) {
  try {
    mkdirSync(join(root, 'build'), { recursive: true });
    writeFileSync(join(root, 'build', 'native-build.log'), text);
    return 'build/native-build.log';
  } catch {
    return undefined;
  }
}

const addon = join(root, 'build', 'Release', 'lopt_native.node');

/** Newest modification time among the files the addon is built from. */
function newestSourceTime() {
  let newest = statSync(join(root, 'binding.gyp')).mtimeMs;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, 'native'));
  return newest;
}

/**
 * True when the built addon is newer than its sources and loads. `npx lopt` in a clone installs the
 * clone into npx's cache, which runs this script again: rebuilding there would take half a minute
 * and remove build/Release from under any running lopt. LOPT_FORCE_BUILD=1 always rebuilds.
 */
function upToDate() {
  if (process.env.LOPT_FORCE_BUILD === '1' || !existsSync(addon)) return false;
  if (statSync(addon).mtimeMs < newestSourceTime()) return false;
  const load = spawnSync(process.execPath, ['-e', 'process.dlopen({ exports: {} }, process.argv[1])', addon], { stdio: 'ignore' });
  return load.status === 0;
}

function main() {
  if (upToDate()) return;
  const args = ['rebuild', ...nodedirArgs()];
  let output = '';
  let code = -1;
  for (const [command, lead, label] of nodeGypCandidates()) {
    const result = spawnSync(command, [...lead, ...args], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      shell: windows,
      stdio: verbose ? 'inherit' : 'pipe',
      env: { ...process.env, JOBS: process.env.JOBS ?? 'max' },
    });
    if (result.error && result.error.code === 'ENOENT') {
      output += `${label}: not found\n`;
      continue;
    }
    output += `$ ${label} ${args.join(' ')}\n${result.stdout ?? ''}${result.stderr ?? ''}`;
    if (result.error) output += `${result.error.message}\n`;
    code = result.status ?? -1;
    break;
  }
  const log = writeLog(output);
  const built = code === 0 && existsSync(addon);
  if (built) return;
  const why = code === -1 && !output.includes('$ ') ? 'node-gyp not found' : reason(output, code);
  const where = log && !verbose ? `; log in ${log}` : '';
  process.stderr.write(
    `lopt: the native backend could not be built (${why}); the reference backend will be used ` +
      `(fix: apt-get install libopenblas-dev, then npm rebuild lopt${where})\n`,
  );
}

try {
  main();
} catch (error) {
  process.stderr.write(
    `lopt: the native backend could not be built (${error?.message ?? error}); the reference backend will be used ` +
      '(fix: apt-get install libopenblas-dev, then npm rebuild lopt)\n',
  );
}
process.exit(0);
