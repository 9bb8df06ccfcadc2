// The browser demo's data: three interleaved spirals in the plane (a classic small classification
// problem an MLP needs a few hundred steps for), drawn from a seeded generator so that every load of
// the page trains on the same points.

export interface Spirals {
  /** [count, 2] points. */
  points: Float32Array;
  /** [count] class of each point, 0..classes−1. */
  labels: Int32Array;
  count: number;
  classes: number;
}

/** `perClass` points on each of `classes` spiral arms, with Gaussian-ish noise. */
export function spirals(perClass: number, classes: number, seed: number): Spirals {
  let state = seed >>> 0 || 1;
  const uniform = (): number => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 2 ** 32;
  };
  const noise = (): number => (uniform() + uniform() + uniform() - 1.5) * 0.15;
  const count = perClass * classes;
  const points = new Float32Array(2 * count);
  const labels = new Int32Array(count);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      const r = i / perClass;
      const angle = (4 * r + (2 * Math.PI * c) / classes) + noise();
      const k = c * perClass + i;
      points[2 * k] = r * Math.cos(angle);
      points[2 * k + 1] = r * Math.sin(angle);
      labels[k] = c;
    }
  }
  return { points, labels, count, classes };
}
