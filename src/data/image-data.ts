// Labelled images held as bytes ([count, height, width, channels], row-major) and their splits.
import type { Backend } from '../engine/backend.js';
import { foldIn, permutation, type Key } from '../engine/random.js';
import type { Tensor } from '../engine/tensor.js';

export interface ImageBatch {
  /** [batch, height, width, channels], pixels scaled to [0, 1]. */
  image: Tensor;
  label: Int32Array;
}

export interface ImageData {
  name: string;
  /** Height, width, channels of one image. */
  imageShape: [number, number, number];
  numClasses: number;
  count: number;
  pixels: Uint8Array;
  labels: Int32Array;
  /** Class names by label, when the data set ships them. */
  classNames?: string[];
}

/** An endless stream of batches; the batch it returns is overwritten by the next call. */
export interface BatchStream<B> {
  next(): B;
}

export interface DataSplit<B> {
  name: string;
  numExamples: number;
  batchSize: number;
  /** Shuffled batches forever: a new permutation of the split for every epoch, drawn from `key`. */
  stream(key: Key): BatchStream<B>;
  /** Every example once, in order, in batches of `batchSize` (the last one may be smaller). */
  inOrder(batchSize?: number): Iterable<B>;
}

/**
 * Some examples of an ImageData as a split: either a contiguous range [start, end), or an explicit
 * list of example indices (e.g. a per-class split). Position k of the split is source row `rows[k]`;
 * permutations and in-order evaluation run over positions.
 */
export class ImageSplit implements DataSplit<ImageBatch> {
  readonly numExamples: number;
  /** The source rows of the split, in split order. */
  readonly rows: Int32Array;
  readonly batchSize: number;
  private readonly backend: Backend;

  constructor(name: string, source: ImageData, start: number, end: number, batchSize: number, backend: Backend);
  constructor(name: string, source: ImageData, indices: ArrayLike<number>, batchSize: number, backend: Backend);
  constructor(
    readonly name: string,
    private readonly source: ImageData,
    startOrIndices: number | ArrayLike<number>,
    ...rest: [number, number, Backend] | [number, Backend]
  ) {
    if (typeof startOrIndices === 'number') {
      const [end, batchSize, backend] = rest as [number, number, Backend];
      const start = startOrIndices;
      if (start < 0 || end > source.count || end <= start) {
        throw new Error(`split ${name}: range [${start}, ${end}) outside the ${source.count} examples of ${source.name}`);
      }
      this.rows = Int32Array.from({ length: end - start }, (_, i) => start + i);
      this.batchSize = batchSize;
      this.backend = backend;
    } else {
      const [batchSize, backend] = rest as [number, Backend];
      this.rows = Int32Array.from(startOrIndices);
      if (this.rows.length === 0) throw new Error(`split ${name}: empty index list`);
      const seen = new Uint8Array(source.count);
      for (const row of this.rows) {
        if (!(row >= 0 && row < source.count)) {
          throw new Error(`split ${name}: index ${row} outside the ${source.count} examples of ${source.name}`);
        }
        if (seen[row]) throw new Error(`split ${name}: index ${row} listed twice`);
        seen[row] = 1;
      }
      this.batchSize = batchSize;
      this.backend = backend;
    }
    this.numExamples = this.rows.length;
  }

  stream(key: Key): BatchStream<ImageBatch> {
    const batch = this.newBatch(this.batchSize);
    const indices = new Int32Array(this.batchSize);
    let epoch = 0;
    let order = permutation(foldIn(key, epoch), this.numExamples);
    let position = 0;
    return {
      next: () => {
        for (let i = 0; i < this.batchSize; i++) {
          if (position === this.numExamples) {
            epoch += 1;
            order = permutation(foldIn(key, epoch), this.numExamples);
            position = 0;
          }
          indices[i] = this.rows[order[position++]];
        }
        this.fill(batch, indices);
        return batch;
      },
    };
  }

  *inOrder(batchSize = this.batchSize): Iterable<ImageBatch> {
    for (let from = 0; from < this.numExamples; from += batchSize) {
      const size = Math.min(batchSize, this.numExamples - from);
      const indices = this.rows.slice(from, from + size);
      const batch = this.newBatch(size);
      this.fill(batch, indices);
      yield batch;
    }
  }

  private newBatch(size: number): ImageBatch {
    const [h, w, c] = this.source.imageShape;
    return { image: { shape: [size, h, w, c], data: new Float32Array(size * h * w * c) }, label: new Int32Array(size) };
  }

  private fill(batch: ImageBatch, indices: Int32Array): void {
    const [h, w, c] = this.source.imageShape;
    this.backend.gatherRowsU8(this.source.pixels, h * w * c, indices, 1 / 255, batch.image.data);
    for (let i = 0; i < indices.length; i++) batch.label[i] = this.source.labels[indices[i]];
  }
}
