// θ files written by meta-training. ADAPTER: the learned-optimizer issue owns the one weights format
// (src/learned/); until its save/load functions exist this writes the same kind of file — a JSON
// manifest header, then the tensors as little-endian float32 in lexicographic name order, with a
// checksum — so only these two functions need pointing at the owner's code later.
import { readFileSync } from 'node:fs';
import { sortedNames, type Params } from '../engine/tensor.js';
import type { LearnedOptimizer } from '../learned/learned-optimizer.js';
import { writeFileAtomic } from '../util/atomic-write.js';

const MAGIC = 'LOPTTHT1';

/** Free provenance fields filled by meta-training. */
export interface ThetaProvenance {
  task?: string;
  estimator?: string;
  settings?: Record<string, unknown>;
  outerSteps?: number;
  evalLoss?: number | null;
  date?: string;
  command?: string;
}

function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

export function saveTheta(file: string, lopt: LearnedOptimizer, theta: Params, provenance: ThetaProvenance): void {
  const names = sortedNames(theta);
  const total = names.reduce((n, name) => n + theta[name].data.length, 0);
  const body = new Uint8Array(4 * total);
  const view = new DataView(body.buffer);
  const tensors: { name: string; shape: number[]; offset: number }[] = [];
  let offset = 0;
  for (const name of names) {
    tensors.push({ name, shape: [...theta[name].shape], offset });
    for (const x of theta[name].data) { view.setFloat32(4 * offset, x, true); offset++; }
  }
  const header = {
    format: 'lopt-weights', version: 1, optimizer: lopt.name, options: lopt.options, architecture: lopt.architecture,
    paramCount: total, tensors, checksum: fnv1a(body), provenance,
  };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  writeFileAtomic(file, Buffer.concat([Buffer.from(MAGIC, 'ascii'), len, head, body]));
}

export function loadTheta(file: string): { optimizer: string; theta: Params; provenance: ThetaProvenance } {
  const buf = readFileSync(file);
  if (buf.length < 12 || buf.subarray(0, 8).toString('ascii') !== MAGIC) throw new Error(`${file} is not a lopt θ file`);
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) throw new Error(`${file} is truncated`);
  const header = JSON.parse(buf.subarray(12, 12 + hlen).toString('utf8')) as {
    optimizer: string; paramCount: number; checksum: string; provenance: ThetaProvenance;
    tensors: { name: string; shape: number[]; offset: number }[];
  };
  const body = new Uint8Array(buf.subarray(12 + hlen));
  if (body.length !== 4 * header.paramCount) throw new Error(`${file} is truncated: ${body.length} body bytes, expected ${4 * header.paramCount}`);
  if (fnv1a(body) !== header.checksum) throw new Error(`${file} is corrupt (checksum mismatch)`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const theta: Params = {};
  for (const t of header.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = view.getFloat32(4 * (t.offset + i), true);
    theta[t.name] = { shape: t.shape, data };
  }
  return { optimizer: header.optimizer, theta, provenance: header.provenance };
}
