import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chooseBlasCore } from '../../src/engine/native.js';

test('the OpenBLAS core: SkylakeX on Intel AVX-512 unless OPENBLAS_CORETYPE is set; LOPT_BLAS_CORE names one or says auto', () => {
  const intel = () => true;
  const other = () => false;
  const fresh: NodeJS.ProcessEnv = {};
  assert.equal(chooseBlasCore(fresh, intel), 'SkylakeX');
  assert.equal(fresh.OPENBLAS_CORETYPE, 'SkylakeX');
  const elsewhere: NodeJS.ProcessEnv = {};
  assert.equal(chooseBlasCore(elsewhere, other), null);
  assert.equal(elsewhere.OPENBLAS_CORETYPE, undefined);
  const preset: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: 'Haswell', LOPT_BLAS_CORE: 'Zen' };
  assert.equal(chooseBlasCore(preset, intel), null);
  assert.equal(preset.OPENBLAS_CORETYPE, 'Haswell');
  const auto: NodeJS.ProcessEnv = { LOPT_BLAS_CORE: 'auto' };
  assert.equal(chooseBlasCore(auto, intel), null);
  assert.equal(auto.OPENBLAS_CORETYPE, undefined);
  const named: NodeJS.ProcessEnv = { LOPT_BLAS_CORE: 'Haswell' };
  assert.equal(chooseBlasCore(named, other), 'Haswell');
  assert.equal(named.OPENBLAS_CORETYPE, 'Haswell');
});

test('the chosen core reaches OpenBLAS: it is set before the addon loads', () => {
  const select = fileURLToPath(new URL('../../src/engine/select.js', import.meta.url));
  const script = `import(${JSON.stringify(select)}).then((m) => console.log(m.getBackend('native').info().blas))`;
  const preset = process.env.OPENBLAS_CORETYPE;
  // A preset OPENBLAS_CORETYPE is left alone (and wins); otherwise LOPT_BLAS_CORE names the core.
  const env = preset ? { ...process.env } : { ...process.env, LOPT_BLAS_CORE: 'Haswell' };
  const child = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, new RegExp(`\\(core ${preset ?? 'Haswell'}\\)`, 'i'));
});
