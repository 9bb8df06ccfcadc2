// The reference backend's normalization, pooling, residual-sum, GELU and causal-softmax kernels (see
// backend.ts for each contract): plain loops with the native kernels' formulas, float operations
// rounded with Math.fround where the native code computes in float, sums in double.
import type { Backend, ConvGeometry } from './backend.js';

const f = Math.fround;

/** mean and 1/sqrt(var + eps) of `count` values read by at(i), var = E[x²] − E[x]² clamped at 0. */
function moments(count: number, at: (i: number) => number, eps: number): [mean: number, invStd: number] {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < count; i++) {
    const v = at(i);
    sum += v;
    sq += v * v;
  }
  const n = count || 1;
  const mean = sum / n;
  const variance = Math.max(sq / n - mean * mean, 0);
  return [f(mean), f(1 / Math.sqrt(variance + eps))];
}

type Kernels = Pick<Backend,
  'batchNormForward' | 'batchNormBackward' | 'layerNormForward' | 'layerNormBackward' | 'maxPoolForward' |
  'maxPoolBackward' | 'add' | 'geluForward' | 'geluBackward' | 'causalSoftmax' | 'causalSoftmaxBackward'>;

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

export const layerKernelsReference: Kernels = {
  batchNormForward(x, rows, channels, gamma, beta, eps, training, mean, invStd, y) {
    if (training) {
      for (let c = 0; c < channels; c++) [mean[c], invStd[c]] = moments(rows, (r) => x[r * channels + c], eps);
    }
    for (let i = 0; i < rows * channels; i++) {
      const c = i % channels;
      y[i] = f(f(f(x[i] - mean[c]) * f(gamma[c] * invStd[c])) + beta[c]);
    }
  },
  batchNormBackward(x, dy, rows, channels, gamma, mean, invStd, dx, dgamma, dbeta) {
    const xhat = (i: number): number => f(f(x[i] - mean[i % channels]) * invStd[i % channels]);
    for (let c = 0; c < channels; c++) {
      let db = 0;
      let dg = 0;
      for (let r = 0; r < rows; r++) {
        db += dy[r * channels + c];
        dg += dy[r * channels + c] * xhat(r * channels + c);
      }
      dbeta[c] = db;
      dgamma[c] = dg;
    }
    const n = rows || 1;
    for (let i = 0; i < rows * channels; i++) {
      const c = i % channels;
      const k = f(gamma[c] * invStd[c]);
      dx[i] = f(k * f(f(dy[i] - f(dbeta[c] / n)) - f(xhat(i) * f(dgamma[c] / n))));
    }
  },
  layerNormForward(x, rows, features, gamma, beta, eps, mean, invStd, y) {
    for (let r = 0; r < rows; r++) {
      const base = r * features;
      const [m, is] = moments(features, (j) => x[base + j], eps);
      mean[r] = m;
      invStd[r] = is;
      for (let j = 0; j < features; j++) y[base + j] = f(f(f(f(x[base + j] - m) * is) * gamma[j]) + beta[j]);
    }
  },
  layerNormBackward(x, dy, rows, features, gamma, mean, invStd, dx, dgamma, dbeta) {
    const xhat = (r: number, j: number): number => f(f(x[r * features + j] - mean[r]) * invStd[r]);
    for (let j = 0; j < features; j++) {
      let db = 0;
      let dg = 0;
      for (let r = 0; r < rows; r++) {
        db += dy[r * features + j];
        dg += dy[r * features + j] * xhat(r, j);
      }
      dbeta[j] = db;
      dgamma[j] = dg;
    }
    const n = features || 1;
    for (let r = 0; r < rows; r++) {
      let sumG = 0;
      let sumGx = 0;
      for (let j = 0; j < features; j++) {
        const g = f(dy[r * features + j] * gamma[j]);
        sumG += g;
        sumGx += g * xhat(r, j);
      }
      const mg = f(sumG / n);
      const mgx = f(sumGx / n);
      for (let j = 0; j < features; j++) {
        const g = f(dy[r * features + j] * gamma[j]);
        dx[r * features + j] = f(invStd[r] * f(f(g - mg) - f(xhat(r, j) * mgx)));
      }
    }
  },
  maxPoolForward(x, g, y, argmax) {
    let o = 0;
    for (let b = 0; b < g.batch; b++)
      for (let oh = 0; oh < g.outHeight; oh++)
        for (let ow = 0; ow < g.outWidth; ow++)
          for (let c = 0; c < g.channels; c++, o++) {
            const [value, at] = windowMax(x, g, b, oh, ow, c);
            y[o] = value;
            argmax[o] = at;
          }
  },
  maxPoolBackward(dy, argmax, dx) {
    dx.fill(0);
    for (let i = 0; i < dy.length; i++) {
      const at = argmax[i];
      if (at >= dx.length) throw new RangeError(`maxPoolBackward: argmax[${i}] = ${at} is outside dx (${dx.length} elements)`);
      if (at >= 0) dx[at] += dy[i];
    }
  },
  add(a, b, out) {
    for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  },
  geluForward(x, y) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      y[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_A * v * v * v)));
    }
  },
  geluBackward(x, dy, dx) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      const t = Math.tanh(GELU_C * (v + GELU_A * v * v * v));
      dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * v * v));
    }
  },
  causalSoftmax(x, heads, length, scale, y) {
    const s = f(scale);
    for (let row = 0; row < heads * length; row++) {
      const base = row * length;
      const n = (row % length) + 1;
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, f(s * x[base + j]));
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(f(s * x[base + j]) - max);
      for (let j = 0; j < length; j++) y[base + j] = j < n ? Math.exp(f(s * x[base + j]) - max) / sum : 0;
    }
  },
  causalSoftmaxBackward(y, dy, heads, length, scale, dx) {
    const s = f(scale);
    for (let row = 0; row < heads * length; row++) {
      const base = row * length;
      const n = (row % length) + 1;
      let dot = 0;
      for (let j = 0; j < n; j++) dot += y[base + j] * dy[base + j];
      for (let j = 0; j < length; j++) dx[base + j] = j < n ? s * y[base + j] * (dy[base + j] - dot) : 0;
    }
  },
};

/** The maximum of one pooling window inside the image and its flat index into x (−inf, −1 if empty). */
function windowMax(x: Float32Array, g: ConvGeometry, b: number, oh: number, ow: number, c: number): [number, number] {
  let best = -Infinity;
  let at = -1;
  for (let kh = 0; kh < g.kernelSize; kh++) {
    const ih = oh * g.stride - g.padTop + kh;
    if (ih < 0 || ih >= g.height) continue;
    for (let kw = 0; kw < g.kernelSize; kw++) {
      const iw = ow * g.stride - g.padLeft + kw;
      if (iw < 0 || iw >= g.width) continue;
      const index = ((b * g.height + ih) * g.width + iw) * g.channels + c;
      if (x[index] > best || at < 0) {
        best = x[index];
        at = index;
      }
    }
  }
  return [best, at];
}
