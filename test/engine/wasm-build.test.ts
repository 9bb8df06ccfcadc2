// wasm/lopt_kernels.wasm is committed (npm installs have no clang): rebuilt from the sources with
// scripts/build-wasm.mjs, it must come out byte for byte the same, so that the kernels' C sources
// and the artifact cannot drift apart. Needs clang-14, lld-14 and wasi-libc (scripts/setup.sh installs
// them with the test packages); skipped, saying so, where they are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const COMMITTED = join(root, 'wasm', 'lopt_kernels.wasm');

test('wasm/lopt_kernels.wasm is what the sources build to', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-wasm-build-'));
  try {
    const out = join(dir, 'lopt_kernels.wasm');
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs'), '--out', out], { encoding: 'utf8' });
    if (build.status === 3) {
      t.skip(`the WebAssembly toolchain is missing: ${build.stderr.trim()}`);
      return;
    }
    assert.equal(build.status, 0, build.stderr);
    const rebuilt = readFileSync(out);
    const committed = readFileSync(COMMITTED);
    assert.ok(rebuilt.equals(committed),
      `the committed ${COMMITTED} (${committed.length} bytes) differs from a fresh build (${rebuilt.length} bytes): run "npm run build:wasm" and commit the result`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
