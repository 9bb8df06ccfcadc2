#!/usr/bin/env node
// Builds the WebAssembly kernels, wasm/lopt_kernels.wasm (`npm run build:wasm`), from the native
// addon's kernel sources (native/src/kernels.c, learned_kernels.c and the headers they include) and
// wasm/src/*.c, with clang's wasm32-wasi target and 128-bit SIMD, linked against wasi-libc (malloc,
// memcpy) with wasm-ld. Needs Debian's clang-14, lld-14 and wasi-libc (or $CLANG, $WASM_LD and
// $WASI_SYSROOT). The artifact is committed, since npm installs have no clang;
// test/engine/wasm-build.test.ts rebuilds it and checks that it is byte-identical.
//
//   node scripts/build-wasm.mjs [--out FILE]
//
// LOPT_WASM_NAMES=1 keeps the function names in the module (for profiles; not the committed build).
//
// Exit status: 0 built, 1 the build failed, 3 the toolchain is missing (the rebuild test skips then).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The C files of the module: the kernel tables of the native addon, then the WebAssembly glue. */
export const WASM_SOURCES = [
  'native/src/kernels.c',
  'native/src/learned_kernels.c',
  ...readdirSync(join(root, 'wasm', 'src')).filter((f) => f.endsWith('.c')).sort().map((f) => `wasm/src/${f}`),
];

// The native addon's numerics flags (binding.gyp): no fused multiply-adds, no errno from libm.
// wasm/src comes first on the include path for its cblas.h. -Wno-pass-failed: clang cannot vectorize
// softmax_cross_entropy's max loop as its `omp simd` asks (a kernel the wasm module does not export).
const CFLAGS = [
  '--target=wasm32-wasi', '-msimd128', '-mbulk-memory', '-O3', '-std=gnu11', '-fno-math-errno', '-ffp-contract=off',
  '-fopenmp-simd', '-Wall', '-Werror', '-Wno-pass-failed', '-Iwasm/src', '-Inative/src',
];
// A 1 MiB stack (the kernels keep a few KiB of sums on it); memory grows as malloc needs it. Without
// debug information and names the output depends on the sources and flags only (the rebuild test).
// The memory is imported (env.memory), with the wasm32 maximum of 4 GiB, so that the loader can make
// it a shared memory (src/engine/wasm-memory.ts): growing a shared memory keeps the arrays that view it.
const LDFLAGS = [
  '--no-entry', process.env.LOPT_WASM_NAMES ? '--strip-debug' : '--strip-all', '-z', 'stack-size=1048576',
  '--import-memory', '--max-memory=4294967296',
];

/** The first of the commands that runs (`name --version` exits 0), or undefined. */
function findTool(candidates) {
  return candidates.find((c) => c && spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
}

/** The tools, or the reason they are missing. */
export function wasmToolchain(env = process.env) {
  const clang = findTool([env.CLANG, 'clang-14', 'clang']);
  const wasmLd = findTool([env.WASM_LD, 'wasm-ld-14', 'wasm-ld']);
  const sysroot = env.WASI_SYSROOT ?? '/usr';
  const libc = join(sysroot, 'lib', 'wasm32-wasi', 'libc.a');
  if (!clang) return { error: 'clang not found (apt-get install clang-14, or set $CLANG)' };
  if (!wasmLd) return { error: 'wasm-ld not found (apt-get install lld-14, or set $WASM_LD)' };
  if (!existsSync(libc)) return { error: `${libc} not found (apt-get install wasi-libc, or set $WASI_SYSROOT)` };
  return { clang, wasmLd, sysroot };
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr || result.stdout || result.error?.message}`);
  }
}

/** Compiles and links the module into `out`; throws with the compiler's message on failure. */
export function buildWasm(out = join(root, 'wasm', 'lopt_kernels.wasm'), env = process.env) {
  const tools = wasmToolchain(env);
  if (tools.error) throw new Error(tools.error);
  const work = mkdtempSync(join(tmpdir(), 'lopt-wasm-'));
  try {
    const objects = WASM_SOURCES.map((source, i) => {
      const object = join(work, `${i}.o`);
      run(tools.clang, [...CFLAGS, `--sysroot=${tools.sysroot}`, '-c', source, '-o', object]);
      return object;
    });
    run(tools.wasmLd, [...LDFLAGS, `-L${join(tools.sysroot, 'lib', 'wasm32-wasi')}`, ...objects, '-lc', '-o', out]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--out');
  const tools = wasmToolchain();
  if (tools.error) {
    process.stderr.write(`lopt: the WebAssembly kernels cannot be built here: ${tools.error}\n`);
    process.exit(3);
  }
  try {
    const out = buildWasm(at > 0 ? process.argv[at + 1] : undefined);
    process.stdout.write(`lopt: built ${out}\n`);
  } catch (error) {
    process.stderr.write(`lopt: the WebAssembly kernels could not be built: ${error.message}\n`);
    process.exit(1);
  }
}
