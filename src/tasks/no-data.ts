// Data splits for tasks that need no data (quadratics) or only scalar noise (LO's noise_datasets).
import { normal, foldIn, type Key } from '../engine/random.js';
import type { BatchStream, DataSplit } from '../data/image-data.js';
import type { TaskDatasets } from './task.js';

/** A batch of LO's noise data set: one standard-normal scalar, or nothing for data-free tasks. */
export interface NoiseBatch {
  noise: number;
}

class NoiseSplit implements DataSplit<NoiseBatch> {
  readonly batchSize = 1;

  /** `random` false: every batch is { noise: 0 } (data-free tasks). */
  constructor(readonly name: string, private readonly random: boolean, readonly numExamples: number) {}

  stream(key: Key): BatchStream<NoiseBatch> {
    const batch = { noise: 0 };
    let index = 0;
    return {
      next: () => {
        batch.noise = this.random ? normal(foldIn(key, index++), 1)[0] : 0;
        return batch;
      },
    };
  }

  /** Evaluation: `numExamples` fixed draws (seeded by the split's name), or one empty batch. */
  *inOrder(): Iterable<NoiseBatch> {
    const key = foldIn([0, 0], this.name.length);
    for (let i = 0; i < this.numExamples; i++) yield { noise: this.random ? normal(foldIn(key, i), 1)[0] : 0 };
  }
}

export function noDataSplits(): TaskDatasets<NoiseBatch> {
  const split = (name: string) => new NoiseSplit(name, false, 1);
  return { train: split('train'), valid: split('valid'), outerValid: split('outer_valid'), test: split('test') };
}

export function noiseSplits(evalDraws = 16): TaskDatasets<NoiseBatch> {
  const split = (name: string) => new NoiseSplit(name, true, evalDraws);
  return { train: split('train'), valid: split('valid'), outerValid: split('outer_valid'), test: split('test') };
}
