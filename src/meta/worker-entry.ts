// The body of a meta-training worker thread: owns some task slots and runs their truncations.
import { parentPort, workerData } from 'node:worker_threads';
import { SlotGroup, type SlotContext } from './slots.js';
import type { SlotState } from './unroll.js';
import { keepWorkerSingleThreaded } from '../engine/native.js';

const data = workerData as { ctx: SlotContext; indices: number[]; states: SlotState[] };
// One of many workers at once: its kernels keep one thread (the cores go to the workers).
keepWorkerSingleThreaded();
let group: SlotGroup | null = null;
let initError: string | null = null;
try {
  group = new SlotGroup(data.ctx, data.indices, data.states);
} catch (error) {
  initError = (error as Error).message;
}

parentPort!.on('message', (msg: { id: number; type: string; theta?: Float32Array; draw?: number; steps?: number }) => {
  try {
    if (!group) throw new Error(initError ?? 'worker not initialised');
    if (msg.type === 'ready') {
      parentPort!.postMessage({ id: msg.id, ok: true, value: true });
    } else if (msg.type === 'run') {
      parentPort!.postMessage({ id: msg.id, ok: true, value: group.run(msg.theta!, msg.draw!, msg.steps!) });
    } else if (msg.type === 'states') {
      parentPort!.postMessage({ id: msg.id, ok: true, value: group.states() });
    } else {
      throw new Error(`unknown worker request ${msg.type}`);
    }
  } catch (error) {
    parentPort!.postMessage({ id: msg.id, ok: false, error: (error as Error).message });
  }
});
