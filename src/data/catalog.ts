// Every data set the tasks use: where it was found, or how to get it (what `lopt data` prints).
import { fashionMnistDirs, locateFashionMnist } from './fashion-mnist.js';

export interface DataSetStatus {
  name: string;
  usedBy: string[];
  found: boolean;
  location?: string;
  searched: string[];
  howToGet: string;
}

export function dataSetStatuses(dataDir?: string): DataSetStatus[] {
  const fmnist = locateFashionMnist(dataDir);
  return [
    {
      name: 'fashion-mnist',
      usedBy: ['fmnist-mlp'],
      found: fmnist !== undefined,
      location: fmnist,
      searched: fashionMnistDirs(dataDir),
      howToGet: 'apt-get install dataset-fashion-mnist (or copy the four IDX files into <data dir>/fashion-mnist/)',
    },
  ];
}
