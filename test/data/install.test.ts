import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dataSetStatuses } from '../../src/data/catalog.js';
import { CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, locateCifar10 } from '../../src/data/cifar10.js';
import { installSharedDatasets } from '../../src/data/install.js';
import { loadTinyImagenet16 } from '../../src/data/tiny-imagenet16.js';

const SHARED = resolve(process.cwd(), '..', 'shared', 'datasets');

test('installSharedDatasets copies Tiny ImageNet, keeps a present CIFAR-10, and is idempotent', { skip: !existsSync(SHARED) && 'no shared data folder' }, () => {
  const cifar = locateCifar10();
  assert.ok(cifar, 'CIFAR-10 must be built (node scripts/install-data.mjs)');
  const root = mkdtempSync(join(tmpdir(), 'lopt-install-'));
  symlinkSync(cifar, join(root, 'cifar-10-batches-bin')); // present: no 10 s rebuild here
  const steps = installSharedDatasets(SHARED, root);
  assert.deepEqual(steps.map((s) => `${s.name}:${s.action}`), ['cifar10:present', 'tiny-imagenet16:installed']);
  const copied = join(root, 'tiny-imagenet16', 'val_16x16.bin.gz');
  assert.equal(statSync(copied).size, statSync(join(SHARED, 'tiny-imagenet16', 'val_16x16.bin.gz')).size);
  assert.ok(existsSync(join(root, 'tiny-imagenet16', 'wnids.txt')));
  assert.equal(loadTinyImagenet16(root).count, 10000);
  const again = installSharedDatasets(SHARED, root);
  assert.deepEqual(again.map((s) => s.action), ['present', 'present']);
});

/**
 * A data root whose CIFAR-10 counts as present (six sparse files of the exact sizes: nothing to build)
 * and a fake shared folder holding a Tiny ImageNet data file made by `makeDataFile` and wnids.txt.
 */
function fakeInstall(makeDataFile: (file: string) => void): { shared: string; root: string; tinyDir: string } {
  const base = mkdtempSync(join(tmpdir(), 'lopt-install-fake-'));
  const root = join(base, 'root');
  const cifarDir = join(root, 'cifar-10-batches-bin');
  mkdirSync(cifarDir, { recursive: true });
  for (const name of [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE]) {
    writeFileSync(join(cifarDir, name), '');
    truncateSync(join(cifarDir, name), 10000 * 3073);
  }
  const shared = join(base, 'shared');
  mkdirSync(join(shared, 'tiny-imagenet16'), { recursive: true });
  writeFileSync(join(shared, 'tiny-imagenet16', 'wnids.txt'), 'n01443537\n');
  makeDataFile(join(shared, 'tiny-imagenet16', 'val_16x16.bin.gz'));
  return { shared, root, tinyDir: join(root, 'tiny-imagenet16') };
}

test('installSharedDatasets copies a read-only shared file exactly, writable, with no temporary file left', () => {
  const bytes = Buffer.alloc((2 << 20) + 777, 0x5a);
  const { shared, root, tinyDir } = fakeInstall((file) => {
    writeFileSync(file, bytes);
    chmodSync(file, 0o444);
  });
  const steps = installSharedDatasets(shared, root);
  assert.deepEqual(steps.map((s) => `${s.name}:${s.action}`), ['cifar10:present', 'tiny-imagenet16:installed']);
  assert.ok(readFileSync(join(tinyDir, 'val_16x16.bin.gz')).equals(bytes));
  assert.equal(statSync(join(tinyDir, 'val_16x16.bin.gz')).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(tinyDir).sort(), ['val_16x16.bin.gz', 'wnids.txt']);
  rmSync(join(root, '..'), { recursive: true });
});

test('installSharedDatasets leaves no partial or temporary file when copying fails mid-copy', () => {
  // The shared "data file" is a folder: it opens, then the first read fails (EISDIR) after the
  // temporary copy exists.
  const { shared, root, tinyDir } = fakeInstall((file) => {
    mkdirSync(file);
    writeFileSync(join(file, 'x'), 'x');
  });
  assert.throws(() => installSharedDatasets(shared, root), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
  assert.deepEqual(readdirSync(tinyDir), ['wnids.txt']);
  rmSync(join(root, '..'), { recursive: true });
});

test('the catalog lists every data set with the tasks that use it and how to get it', () => {
  const empty = mkdtempSync(join(tmpdir(), 'lopt-catalog-'));
  const statuses = dataSetStatuses(empty);
  assert.deepEqual(statuses.map((s) => s.name), ['fashion-mnist', 'cifar10', 'cifar10-16', 'tiny-imagenet16', 'sotu']);
  const byName = Object.fromEntries(statuses.map((s) => [s.name, s]));
  assert.deepEqual(byName['cifar10'].usedBy, ['cifar10-conv', 'cifar10-ae']);
  assert.deepEqual(byName['cifar10-16'].usedBy, ['cifar10-16-conv']);
  assert.equal(byName['cifar10-16'].derivedFrom, 'cifar10');
  assert.deepEqual(byName['tiny-imagenet16'].usedBy, ['imagenet16-mlp']);
  assert.deepEqual(byName['sotu'].usedBy, ['text-lstm-lm']);
  assert.equal(byName['cifar10'].found, false);
  assert.equal(byName['tiny-imagenet16'].found, false);
  assert.match(byName['cifar10'].howToGet, /build-cifar10\.cjs/);
  assert.match(byName['tiny-imagenet16'].howToGet, /tiny-imagenet16/);
  assert.equal(byName['sotu'].found, true);
  assert.ok(dataSetStatuses().every((s) => s.found), JSON.stringify(dataSetStatuses().filter((s) => !s.found).map((s) => s.name)));
});
