// The reference backend: plain TypeScript loops, simple and obviously correct. It is the oracle the
// native backend is tested against, and the fallback when the addon cannot load.
import type { Backend, BackendInfo, FactoredDims } from './backend.js';

function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[p * m + i] : a[i * k + p];
        const bpj = transB ? b[j * k + p] : b[p * n + j];
        sum += aip * bpj;
      }
      const prior = beta === 0 ? 0 : beta * c[i * n + j];
      c[i * n + j] = alpha * sum + prior;
    }
  }
}

function softmaxCrossEntropy(
  logits: Float32Array, labels: Int32Array, rows: number, cols: number, dlogits: Float32Array | null,
): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, logits[row + c]);
    let sumExp = 0;
    for (let c = 0; c < cols; c++) sumExp += Math.exp(logits[row + c] - max);
    const label = labels[r];
    total += Math.log(sumExp) + max - logits[row + label];
    if (dlogits) {
      for (let c = 0; c < cols; c++) {
        const softmax = Math.exp(logits[row + c] - max) / sumExp;
        dlogits[row + c] = (softmax - (c === label ? 1 : 0)) / rows;
      }
    }
  }
  return total / rows;
}

function factoredMoments(
  g: Float32Array, dims: FactoredDims, decay: number, eps: number,
  vWithoutA: Float32Array, vWithoutB: Float32Array,
): void {
  const [pre, na, mid, nb, post] = dims;
  const sumOverA = new Float64Array(vWithoutA.length);
  const sumOverB = new Float64Array(vWithoutB.length);
  for (let p0 = 0; p0 < pre; p0++)
    for (let ia = 0; ia < na; ia++)
      for (let im = 0; im < mid; im++)
        for (let ib = 0; ib < nb; ib++)
          for (let q = 0; q < post; q++) {
            const x = g[(((p0 * na + ia) * mid + im) * nb + ib) * post + q];
            const gsq = x * x + eps;
            sumOverA[((p0 * mid + im) * nb + ib) * post + q] += gsq;
            sumOverB[((p0 * na + ia) * mid + im) * post + q] += gsq;
          }
  for (let i = 0; i < vWithoutA.length; i++) vWithoutA[i] = decay * vWithoutA[i] + (1 - decay) * (sumOverA[i] / na);
  for (let i = 0; i < vWithoutB.length; i++) vWithoutB[i] = decay * vWithoutB[i] + (1 - decay) * (sumOverB[i] / nb);
}

function scaleByFactors(
  g: Float32Array, dims: FactoredDims, fWithoutA: Float32Array, fWithoutB: Float32Array, u: Float32Array,
): number {
  const [pre, na, mid, nb, post] = dims;
  let sumSq = 0;
  for (let p0 = 0; p0 < pre; p0++)
    for (let ia = 0; ia < na; ia++)
      for (let im = 0; im < mid; im++)
        for (let ib = 0; ib < nb; ib++)
          for (let q = 0; q < post; q++) {
            const i = (((p0 * na + ia) * mid + im) * nb + ib) * post + q;
            const value = g[i] * fWithoutA[((p0 * mid + im) * nb + ib) * post + q]
              * fWithoutB[((p0 * na + ia) * mid + im) * post + q];
            u[i] = value;
            sumSq += u[i] * u[i];
          }
  return sumSq;
}

export const referenceBackend: Backend = {
  name: 'reference',
  info(): BackendInfo {
    return { name: 'reference', simd: 'js', blas: 'none (TypeScript loops)', blasThreads: 1 };
  },
  gemm,
  fill(x, value) { x.fill(value); },
  axpy(alpha, x, y) { for (let i = 0; i < y.length; i++) y[i] += alpha * x[i]; },
  scale(alpha, x) { for (let i = 0; i < x.length; i++) x[i] *= alpha; },
  sumSquares(x) {
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
    return sum;
  },
  clip(x, lo, hi, out) { for (let i = 0; i < x.length; i++) out[i] = Math.min(Math.max(x[i], lo), hi); },
  addRowVector(y, bias, rows, cols) {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[r * cols + c] += bias[c];
  },
  sumRows(x, rows, cols, out, accumulate) {
    for (let c = 0; c < cols; c++) {
      let sum = accumulate ? out[c] : 0;
      for (let r = 0; r < rows; r++) sum += x[r * cols + c];
      out[c] = sum;
    }
  },
  reluForward(x, y) { for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0; },
  reluBackward(y, dy, dx) { for (let i = 0; i < y.length; i++) dx[i] = y[i] > 0 ? dy[i] : 0; },
  softmaxCrossEntropy,
  gatherRowsU8(src, rowLength, indices, scale, out) {
    for (let i = 0; i < indices.length; i++) {
      const from = indices[i] * rowLength;
      for (let j = 0; j < rowLength; j++) out[i * rowLength + j] = src[from + j] * scale;
    }
  },
  sgdStep(p, g, lr) { for (let i = 0; i < p.length; i++) p[i] -= lr * g[i]; },
  sgdmStep(p, m, g, lr, momentum, nesterov) {
    for (let i = 0; i < p.length; i++) {
      m[i] = g[i] + momentum * m[i];
      p[i] -= lr * (nesterov ? g[i] + momentum * m[i] : m[i]);
    }
  },
  adamStep(p, m, v, g, lr, beta1, beta2, eps, bc1, bc2) {
    for (let i = 0; i < p.length; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      p[i] -= lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + eps);
    }
  },
  nadamwStep(p, m, v, g, lrT, beta1, beta2, eps, l2, adamwDecay, nesterov) {
    for (let i = 0; i < p.length; i++) {
      const grad = g[i] - l2 * p[i];
      m[i] = beta1 * m[i] + (1 - beta1) * grad;
      v[i] = beta2 * v[i] + (1 - beta2) * grad * grad;
      const direction = nesterov ? beta1 * m[i] + (1 - beta1) * grad : m[i];
      p[i] -= lrT * direction / (Math.sqrt(v[i]) + eps) + lrT * adamwDecay * p[i];
    }
  },
  rmsScale(v, g, decay, eps, u) {
    let sumSq = 0;
    for (let i = 0; i < g.length; i++) {
      v[i] = decay * v[i] + (1 - decay) * (g[i] * g[i] + eps);
      u[i] = g[i] / Math.sqrt(v[i]);
      sumSq += u[i] * u[i];
    }
    return sumSq;
  },
  factoredMoments,
  scaleByFactors,
};
