// Installs the shared data sets (../shared/datasets on project machines and CI) into a data root.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { copyFileAtomic } from '../util/atomic-write.js';
import { CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES } from './cifar10.js';
import { DataError } from './errors.js';
import { TINY_IMAGENET16_FOLDER, locateTinyImagenet16 } from './tiny-imagenet16.js';

export interface InstallStep {
  name: string;
  action: 'present' | 'installed';
  location: string;
}

/**
 * Copies `from` to `to` with copyFileAtomic (temporary file beside `to`, fsync, rename, no temporary
 * left on failure), so a crash leaves no half file; the copy is writable (0644) even when the shared
 * original is read-only.
 */
function copyAtomically(from: string, to: string): void {
  copyFileAtomic(from, to, { mode: 0o644 });
}

/** Whether `dir` holds the six CIFAR-10 batch files with their exact sizes. */
function cifar10Complete(dir: string): boolean {
  return [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].every((name) => {
    const file = join(dir, name);
    return existsSync(file) && statSync(file).size === 10000 * 3073;
  });
}

/**
 * Makes `dataRoot` hold every data set found in `sharedDir` (the shared `datasets/` folder):
 * CIFAR-10 is built into `<dataRoot>/cifar-10-batches-bin/` with `sharedDir/build-cifar10.cjs` unless
 * already readable there; `tiny-imagenet16/{val_16x16.bin.gz, wnids.txt}` are copied unless the data
 * file is already there. Fashion-MNIST (a Debian package) and the SOTU text (an npm dependency) are
 * not in `sharedDir`. Idempotent; throws a DataError naming what is missing in `sharedDir`.
 */
export function installSharedDatasets(sharedDir: string, dataRoot: string, log: (line: string) => void = () => {}): InstallStep[] {
  const steps: InstallStep[] = [];
  mkdirSync(dataRoot, { recursive: true });

  const cifarDir = join(dataRoot, 'cifar-10-batches-bin');
  if (cifar10Complete(cifarDir)) {
    steps.push({ name: 'cifar10', action: 'present', location: cifarDir });
  } else {
    const script = join(sharedDir, 'build-cifar10.cjs');
    if (!existsSync(script)) throw new DataError(`${script} not found: point installSharedDatasets at the shared datasets/ folder`);
    log(`building CIFAR-10 into ${cifarDir} (about 10 s)`);
    // The build skips work when its marker exists; an incomplete folder must be rebuilt.
    rmSync(join(cifarDir, '.complete'), { force: true });
    execFileSync(process.execPath, [script, dataRoot], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!cifar10Complete(cifarDir)) throw new DataError(`${script} ran but ${cifarDir} still lacks complete CIFAR-10 batch files; delete that folder and run it again`);
    steps.push({ name: 'cifar10', action: 'installed', location: cifarDir });
  }

  const tinyDir = join(dataRoot, TINY_IMAGENET16_FOLDER);
  const tiny = locateTinyImagenet16(undefined, [tinyDir]);
  if (tiny) {
    steps.push({ name: 'tiny-imagenet16', action: 'present', location: tiny });
  } else {
    const source = join(sharedDir, TINY_IMAGENET16_FOLDER);
    const dataFile = join(source, 'val_16x16.bin.gz');
    if (!existsSync(dataFile)) throw new DataError(`${dataFile} not found: point installSharedDatasets at the shared datasets/ folder`);
    mkdirSync(tinyDir, { recursive: true });
    log(`copying Tiny ImageNet 16x16 into ${tinyDir}`);
    if (existsSync(join(source, 'wnids.txt')) && !existsSync(join(tinyDir, 'wnids.txt'))) {
      copyAtomically(join(source, 'wnids.txt'), join(tinyDir, 'wnids.txt'));
    }
    copyAtomically(dataFile, join(tinyDir, 'val_16x16.bin.gz'));
    steps.push({ name: 'tiny-imagenet16', action: 'installed', location: join(tinyDir, 'val_16x16.bin.gz') });
  }
  return steps;
}
