import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { learned } from '../src/learned/registry.js';
import { getTask, taskNames as registeredTasks } from '../src/tasks/registry.js';
import { train } from '../src/training/train.js';

const dir = fileURLToPath(new URL('../../pretrained/', import.meta.url));
const shipped = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));

test('small_fc_lopt ships meta-trained weights, found by learned.pretrained', () => {
  assert.ok(shipped.includes('small_fc_lopt.safetensors'), `pretrained/ holds ${shipped.join(', ') || 'nothing'}`);
  assert.equal(learned.pretrained('small_fc_lopt'), join(dir, 'small_fc_lopt.safetensors'));
});

for (const file of shipped) {
  test(`pretrained/${file}: manifest complete, and a few training steps with it lower the loss`, () => {
    const { optimizer, theta, provenance } = learned.load(join(dir, file));
    assert.ok([`${optimizer.name}.safetensors`, `${optimizer.name}-general.safetensors`].includes(file), `${file} holds ${optimizer.name}`);
    for (const field of ['task', 'estimator', 'outerSteps', 'metaTrainingInnerSteps', 'selection', 'date', 'reproduce', 'evalLoss']) {
      assert.ok(provenance[field] !== undefined && provenance[field] !== '', `${file} manifest lacks ${field}`);
    }
    assert.ok((provenance.outerSteps as number) > 0);
    // Every task it was meta-trained on (a mixture family stands for its tasks).
    const trainedOn = learned.metaTrainedOn(provenance).filter((name) => registeredTasks().includes(name));
    assert.ok(trainedOn.length > 0, `${file} names no task`);
    for (const name of trainedOn) {
      const task = getTask(name, { batchSize: 64 });
      const result = train({ task, optimizer: optimizer.optFn(theta), steps: 60, seed: 3 });
      assert.ok(Number.isFinite(result.finalLoss), name);
      const head = result.losses.slice(0, 10).reduce((a, b) => a + b, 0) / 10;
      const tail = result.losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
      assert.ok(tail < head, `${name}: loss ${head} → ${tail}`);
    }
  });
}
