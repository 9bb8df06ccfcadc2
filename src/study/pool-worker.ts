// The body of a study worker thread: runs one job at a time and posts its outcome back.
import { parentPort, workerData } from 'node:worker_threads';
import { getBackend, type BackendChoice } from '../engine/select.js';
import { runJob, TaskCache, type RunJob } from './run-job.js';
import { keepWorkerSingleThreaded } from '../engine/native.js';

const data = workerData as { backend: BackendChoice; dataDir?: string };
// One of many workers at once: its kernels keep one thread (the cores go to the workers).
keepWorkerSingleThreaded();
let tasks: TaskCache | null = null;

parentPort!.on('message', (job: RunJob) => {
  try {
    tasks ??= new TaskCache(getBackend(data.backend), data.dataDir);
    const outcome = runJob(job, tasks);
    const transfer = [outcome.losses?.buffer, outcome.wallAt?.buffer].filter((b): b is ArrayBuffer => b !== undefined);
    parentPort!.postMessage({ ok: true, outcome }, transfer);
  } catch (error) {
    parentPort!.postMessage({ ok: false, error: (error as Error).message });
  }
});
