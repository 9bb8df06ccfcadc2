// Every data set the tasks use: where it was found, or how to get it (what `lopt data` prints).
import { join } from 'node:path';
import { CIFAR10_HOW_TO_GET, cifar10Dirs, locateCifar10 } from './cifar10.js';
import { fashionMnistDirs, locateFashionMnist } from './fashion-mnist.js';
import { SOTU_HOW_TO_GET, SOTU_PACKAGE, locateSotu } from './text.js';
import { TINY_IMAGENET16_HOW_TO_GET, locateTinyImagenet16, tinyImagenet16Dirs } from './tiny-imagenet16.js';

export interface DataSetStatus {
  name: string;
  usedBy: string[];
  found: boolean;
  location?: string;
  searched: string[];
  howToGet: string;
  /** For a data set computed from another when loaded (no files of its own). */
  derivedFrom?: string;
}

export function dataSetStatuses(dataDir?: string): DataSetStatus[] {
  const fmnist = locateFashionMnist(dataDir);
  const cifar = locateCifar10(dataDir);
  const tiny = locateTinyImagenet16(dataDir);
  const sotu = locateSotu();
  return [
    {
      name: 'fashion-mnist',
      usedBy: ['fmnist-mlp'],
      found: fmnist !== undefined,
      location: fmnist,
      searched: fashionMnistDirs(dataDir),
      howToGet: 'apt-get install dataset-fashion-mnist (or copy the four IDX files into <data dir>/fashion-mnist/)',
    },
    {
      name: 'cifar10',
      usedBy: ['cifar10-conv', 'cifar10-ae'],
      found: cifar !== undefined,
      location: cifar,
      searched: cifar10Dirs(dataDir),
      howToGet: CIFAR10_HOW_TO_GET,
    },
    {
      name: 'cifar10-16',
      usedBy: ['cifar10-16-conv'],
      found: cifar !== undefined,
      location: cifar,
      searched: cifar10Dirs(dataDir),
      howToGet: 'get cifar10 (above); its 16x16 images are the 2x2 box average of cifar10, computed when loaded',
      derivedFrom: 'cifar10',
    },
    {
      name: 'tiny-imagenet16',
      usedBy: ['imagenet16-mlp'],
      found: tiny !== undefined,
      location: tiny,
      searched: tinyImagenet16Dirs(dataDir),
      howToGet: TINY_IMAGENET16_HOW_TO_GET,
    },
    {
      name: 'sotu',
      usedBy: ['text-lstm-lm'],
      found: sotu !== undefined,
      location: sotu === undefined ? undefined : join(sotu, 'data'),
      searched: [`npm package ${SOTU_PACKAGE} (node_modules)`],
      howToGet: SOTU_HOW_TO_GET,
    },
  ];
}
