// Seeded, splittable random keys: Threefry-2x32 (20 rounds), the counter-based generator JAX uses.
//
// Algorithm (documented because results must be identical on every machine):
// - A key is a pair of uint32 words. keyFromSeed(s) = [0, s] for 0 <= s < 2^32 (as jax.random.PRNGKey).
// - split(key, n) is JAX's original threefry split: the counters 0..2n-1 are hashed as the pairs
//   (i, n+i) and the 2n output words, laid out [first outputs..., second outputs...], are read as
//   n consecutive pairs. So split(keyFromSeed(0)) equals jax.random.split(PRNGKey(0)).
// - foldIn(key, d) = threefry(key, (0, d)), as jax.random.fold_in.
// - Element i of a stream of random bits is the first word of threefry(key, (i, 0)); uniforms take
//   the top 24 bits: u = (bits >>> 8) / 2^24 in [0, 1). Normals use Box–Muller on the two words of
//   threefry(key, (i, j)) in float64; truncated normals resample element i with j = 1, 2, ... until
//   the value lies in [lo, hi]. Only +, ^, rotations on uint32 and Math.log/sqrt/cos are used.

export type Key = readonly [number, number];

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** Threefry-2x32 with 20 rounds: hashes the counter pair (x0, x1) under the key. */
export function threefry2x32(key: Key, x0: number, x1: number): [number, number] {
  const k0 = key[0] >>> 0;
  const k1 = key[1] >>> 0;
  const k2 = (k0 ^ k1 ^ 0x1bd11bda) >>> 0;
  const ks = [k0, k1, k2];
  let a = (x0 + k0) >>> 0;
  let b = (x1 + k1) >>> 0;
  for (let block = 0; block < 5; block++) {
    const base = (block % 2) * 4;
    for (let r = 0; r < 4; r++) {
      a = (a + b) >>> 0;
      b = rotl(b, ROTATIONS[base + r]);
      b = (b ^ a) >>> 0;
    }
    const s = block + 1;
    a = (a + ks[s % 3]) >>> 0;
    b = (b + ks[(s + 1) % 3] + s) >>> 0;
  }
  return [a, b];
}

export function keyFromSeed(seed: number): Key {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`seed must be an integer in [0, 2^32), got ${seed}`);
  }
  return [0, seed >>> 0];
}

export function split(key: Key, count = 2): Key[] {
  const words = new Array<number>(2 * count);
  for (let i = 0; i < count; i++) {
    const [y0, y1] = threefry2x32(key, i, count + i);
    words[i] = y0;
    words[count + i] = y1;
  }
  const keys: Key[] = [];
  for (let i = 0; i < count; i++) keys.push([words[2 * i], words[2 * i + 1]]);
  return keys;
}

export function foldIn(key: Key, data: number): Key {
  return threefry2x32(key, 0, data >>> 0);
}

/** Uniform integers in [0, 2^32). */
export function randomBits(key: Key, count: number): Uint32Array {
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = threefry2x32(key, i, 0)[0];
  return out;
}

/** Uniform floats in [lo, hi). */
export function uniform(key: Key, count: number, lo = 0, hi = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u = (threefry2x32(key, i, 0)[0] >>> 8) / 16777216;
    out[i] = lo + (hi - lo) * u;
  }
  return out;
}

function boxMuller(key: Key, i: number, j: number): number {
  const [w0, w1] = threefry2x32(key, i, j);
  const u1 = ((w0 >>> 8) + 1) / 16777217; // in (0, 1]: log is finite
  const u2 = (w1 >>> 8) / 16777216;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Standard normal samples scaled by `std`. */
export function normal(key: Key, count: number, std = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = std * boxMuller(key, i, 0);
  return out;
}

/** Normal samples with standard deviation `std`, conditioned on [lo·std, hi·std] (no variance correction). */
export function truncatedNormal(key: Key, count: number, std = 1, lo = -2, hi = 2): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let x = boxMuller(key, i, 0);
    for (let j = 1; x < lo || x > hi; j++) x = boxMuller(key, i, j);
    out[i] = std * x;
  }
  return out;
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates driven by the key's bit stream). */
export function permutation(key: Key, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const bits = threefry2x32(key, i, 0);
    // 53-bit uniform from both words keeps the modulo bias negligible for any realistic n.
    const u = (bits[0] * 2097152 + (bits[1] >>> 11)) / 9007199254740992;
    const j = Math.floor(u * (i + 1));
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}

/** Uniform integer in [0, n). */
export function randint(key: Key, n: number): number {
  const [w0, w1] = threefry2x32(key, 0, 0);
  return Math.floor(((w0 * 2097152 + (w1 >>> 11)) / 9007199254740992) * n);
}

export function keyToString(key: Key): string {
  return `${key[0]}:${key[1]}`;
}
