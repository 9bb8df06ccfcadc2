// The body of an evaluator's evaluation thread: full inner runs of one θ on the reserved seeds
// (src/meta's evaluateTheta), off the main thread so the evaluator keeps renewing its job lock.
import { parentPort, workerData } from 'node:worker_threads';
import { evaluateTheta, type MetaTrainOptions } from '../meta/learner.js';
import { buildLopt } from '../meta/problem.js';
import { thetaFromFlat } from '../meta/slots.js';
import { keepWorkerSingleThreaded } from '../engine/native.js';

const data = workerData as { options: Omit<MetaTrainOptions, 'theta'>; theta: Float32Array; at: { outerStep: number; thetaVersion: number } };
// One of many workers at once: its kernels keep one thread (the cores go to the workers).
keepWorkerSingleThreaded();
try {
  const shapes = buildLopt(data.options.problem).thetaShapes;
  parentPort!.postMessage({ ok: true, rows: evaluateTheta(data.options, thetaFromFlat(data.theta, shapes), data.at) });
} catch (error) {
  parentPort!.postMessage({ ok: false, error: (error as Error).message });
}
