import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evalSeeds, isEvalSeed, isSearchSeed, searchSeeds } from '../../src/study/seeds.js';

test('seed ranges: search 2000…, evaluation 1000…, disjoint, defaults 1 and 5', () => {
  assert.deepEqual(searchSeeds(), [2000]);
  assert.deepEqual(evalSeeds(), [1000, 1001, 1002, 1003, 1004]);
  const search = new Set(searchSeeds(1000));
  const evaluation = evalSeeds(1000);
  assert.equal(search.size, 1000);
  assert.ok(evaluation.every((s) => !search.has(s)), 'no evaluation seed is a search seed');
  assert.ok(evaluation.every(isEvalSeed) && evaluation.every((s) => !isSearchSeed(s)));
  assert.ok([...search].every(isSearchSeed) && [...search].every((s) => !isEvalSeed(s)));
  assert.throws(() => evalSeeds(0), /from 1 to 1000/);
  assert.throws(() => searchSeeds(1001), /from 1 to 1000/);
});
