// A memory measurement in its own process: trains a task with one optimizer for a few steps, then
// prints one JSON line with the exact state bytes, the engine-allocated bytes and the peak RSS.
// Usage: node dist/src/study/memory-child.js '<MemoryChildRequest as JSON>'
import { readFileSync, writeFileSync } from 'node:fs';
import { getBackend } from '../engine/select.js';
import { keyFromSeed, split } from '../engine/random.js';
import { countParams, type Params } from '../engine/tensor.js';
import { getTask } from '../tasks/registry.js';
import { buildOptimizer } from './optimizer-spec.js';
import { float32Bytes, type MemoryChildReport, type MemoryChildRequest } from './memory.js';

/**
 * Peak RSS in bytes: the kernel's VmHWM of this process's memory (reset above) where /proc has it.
 * getrusage's maxRSS (`process.resourceUsage().maxRSS`) is the fallback only: on Linux it also
 * counts the image this process was forked from, i.e. the parent's RSS at the spawn, which would
 * make every child report the study process's size.
 */
function peakRss(fromProc: boolean): number {
  if (fromProc) {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  }
  return process.resourceUsage().maxRSS * 1024;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as MemoryChildRequest;
  const backend = getBackend(request.backend);
  const task = getTask(request.task, { ...request.taskOpts, backend, dataDir: request.dataDir });
  const optimizer = buildOptimizer(request.spec, backend);
  const [initKey, dataKey, optimizerKey] = split(keyFromSeed(request.seed), 3);
  const batches = task.datasets.train.stream(dataKey);
  const params = task.init(initKey);
  const paramCount = countParams(params);
  const stateBytes = optimizer.stateBytes(params);
  // Loading (decoding) a data set peaks higher than training does: collect its garbage and reset
  // the peak-RSS mark (Linux clear_refs 5), so the peak below is the training run's.
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3 && gc; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20)); // let V8 hand freed pages back
  }
  let peakScope: MemoryChildReport['peakScope'] = 'training';
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    peakScope = 'process';
  }
  let state = optimizer.init(params, { numSteps: request.steps, key: optimizerKey });
  let grads: Params = {};
  for (let step = 0; step < request.steps; step++) {
    const result = task.lossAndGrad(optimizer.getParams(state), batches.next());
    grads = result.grads;
    state = optimizer.update(state, grads, { loss: result.loss });
  }
  const report: MemoryChildReport = {
    paramCount,
    stateBytes,
    // Parameters, optimizer state and gradients: every Float32Array reachable from them, once.
    engineBytes: float32Bytes([optimizer.getParams(state), state, grads]),
    peakRssBytes: peakRss(peakScope === 'training'),
    peakScope,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
