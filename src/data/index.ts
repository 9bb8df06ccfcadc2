// Data sets, splits and seeded batch streams.
export { DataError } from './errors.js';
export { resolveDataRoot } from './root.js';
export { parseIdx, readMaybeGzip } from './idx.js';
export { loadFashionMnist, locateFashionMnist, fashionMnistDirs } from './fashion-mnist.js';
export { loadCifar10, loadCifar10x16, locateCifar10, cifar10Dirs, downsample2x2, CIFAR10_CLASS_NAMES } from './cifar10.js';
export {
  loadTinyImagenet16, locateTinyImagenet16, tinyImagenet16Dirs, tinyImagenet16Splits, splitPerClass,
  TINY_IMAGENET16_SPLIT_SEED, type IndexSplits,
} from './tiny-imagenet16.js';
export {
  TextSplit, textSplits, loadTextCorpus, loadSotu, loadTextFile, locateSotu, sanitizeText, splitBounds,
  PAD_BYTE, DEFAULT_SEQUENCE_LENGTH, DEFAULT_TEXT_BATCH_SIZE,
  type TextBatch, type TextOptions, type TextCorpus, type TextSplits,
} from './text.js';
export { installSharedDatasets, type InstallStep } from './install.js';
export { ImageSplit, type ImageBatch, type ImageData, type DataSplit, type BatchStream } from './image-data.js';
export { dataSetStatuses, type DataSetStatus } from './catalog.js';
