// Where an inner step of PES meta-training goes (issue 5): one slot's two copies on fmnist-mlp with
// small_fc_lopt, timed per phase over many steps. Not part of `npm run bench`; a diagnostic.
import { learned, tasks, random } from 'lopt';

const STEPS = Number(process.env.STEPS ?? 400);
const task = tasks.get('fmnist-mlp', {});
const lopt = learned.get('small_fc_lopt');
const theta = lopt.init(random.keyFromSeed(12));
const optA = lopt.optFn(theta);
const optB = lopt.optFn(theta);
const params = task.init(random.keyFromSeed(1));
let a = optA.init(params, { numSteps: 2000 });
let b = optB.init(structuredClone(params), { numSteps: 2000 });
const stream = task.datasets.train.stream(random.keyFromSeed(3));
const t = { batch: 0, grad: 0, update: 0 };
const now = () => performance.now();
for (let i = 0; i < STEPS + 50; i++) {
  if (i === 50) { t.batch = 0; t.grad = 0; t.update = 0; }
  let t0 = now();
  const batch = stream.next();
  let t1 = now(); t.batch += t1 - t0;
  const ga = task.lossAndGrad(optA.getParams(a), batch);
  let t2 = now(); t.grad += t2 - t1;
  a = optA.update(a, ga.grads, { loss: ga.loss });
  let t3 = now(); t.update += t3 - t2;
  const gb = task.lossAndGrad(optB.getParams(b), batch);
  let t4 = now(); t.grad += t4 - t3;
  b = optB.update(b, gb.grads, { loss: gb.loss });
  t.update += now() - t4;
}
const per = (x: number) => (x / (2 * STEPS)).toFixed(3);
console.log(`per inner step (ms): batch ${per(t.batch)} (shared by the pair), lossAndGrad ${per(t.grad)}, update ${per(t.update)}, total ${per(t.batch + t.grad + t.update)}`);
