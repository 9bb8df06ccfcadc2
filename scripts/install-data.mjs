#!/usr/bin/env node
// Installs the shared data sets (CIFAR-10, Tiny ImageNet 16x16) into the data root; needs the built dist/.
// Usage: node scripts/install-data.mjs [DATA_ROOT]   (default: $LOPT_DATA_DIR, else ~/.cache/lopt/data)
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = resolve(repoRoot, '..', 'shared', 'datasets');
const dist = join(repoRoot, 'dist', 'src', 'data');
if (!existsSync(join(dist, 'install.js'))) {
  console.error(`lopt: ${dist}/install.js not found; build first with "npm run build"`);
  process.exit(2);
}
const { installSharedDatasets } = await import(pathToFileURL(join(dist, 'install.js')).href);
const { resolveDataRoot } = await import(pathToFileURL(join(dist, 'root.js')).href);
const dataRoot = resolveDataRoot(process.argv[2]);

if (!existsSync(sharedDir)) {
  console.log([
    `lopt: no shared data folder at ${sharedDir}; nothing installed into ${dataRoot}. To get the data yourself:`,
    `  CIFAR-10: unpack the official cifar-10-binary.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) into ${dataRoot}/`,
    `  Tiny ImageNet 16x16: put val_16x16.bin(.gz) (and wnids.txt) into ${dataRoot}/tiny-imagenet16/`,
    '  Fashion-MNIST: apt-get install dataset-fashion-mnist; the SOTU text comes with npm install',
    '  "lopt data" shows what is found.',
  ].join('\n'));
  process.exit(0);
}
try {
  const steps = installSharedDatasets(sharedDir, dataRoot, (line) => console.log(`lopt: ${line}`));
  for (const step of steps) console.log(`lopt: ${step.name} ${step.action} at ${step.location}`);
} catch (error) {
  console.error(`lopt: ${error.message}`);
  process.exit(2);
}
