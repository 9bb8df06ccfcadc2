// Data sets, splits and seeded batch streams.
export { DataError } from './errors.js';
export { resolveDataRoot } from './root.js';
export { parseIdx, readMaybeGzip } from './idx.js';
export { loadFashionMnist, locateFashionMnist, fashionMnistDirs } from './fashion-mnist.js';
export { ImageSplit, type ImageBatch, type ImageData, type DataSplit, type BatchStream } from './image-data.js';
export { dataSetStatuses, type DataSetStatus } from './catalog.js';
