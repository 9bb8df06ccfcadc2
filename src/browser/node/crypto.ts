// node:crypto for the browser bundle: SHA-256, which the core uses to check weights files
// (src/learned/weights.ts) and to fingerprint θ and optimizer states, and randomBytes.
import { NodeLikeBytes } from './bytes.js';
import { Sha256 } from './sha256.js';

export function createHash(algorithm: string): Sha256 {
  if (algorithm !== 'sha256') throw new Error(`lopt/browser: hash "${algorithm}" is not available (sha256 is)`);
  return new Sha256();
}

export function randomBytes(size: number): NodeLikeBytes {
  const bytes = new NodeLikeBytes(size);
  globalThis.crypto.getRandomValues(bytes);
  return bytes;
}
