// The reference backend: plain TypeScript loops, simple and obviously correct. It is the oracle the
// native backend is tested against, and the fallback when the addon cannot load.
import type { Backend, BackendInfo, ConvGeometry, FactoredDims } from './backend.js';
import { mlpLoptAccumulate, mlpLoptApply, nnAdamStep } from './mlp-lopt-reference.js';
import { layerKernelsReference } from './layer-kernels-reference.js';

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

// ---- layer kernels --------------------------------------------------------------------------------

function im2col(x: Float32Array, g: ConvGeometry, cols: Float32Array): void {
  const { batch, height, width, channels, kernelSize: k, stride, padTop, padLeft, outHeight, outWidth } = g;
  const rowLength = k * k * channels;
  for (let b = 0; b < batch; b++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++) {
        const r = (b * outHeight + oh) * outWidth + ow;
        for (let kh = 0; kh < k; kh++)
          for (let kw = 0; kw < k; kw++)
            for (let c = 0; c < channels; c++) {
              const ih = oh * stride - padTop + kh;
              const iw = ow * stride - padLeft + kw;
              const inside = ih >= 0 && ih < height && iw >= 0 && iw < width;
              cols[r * rowLength + (kh * k + kw) * channels + c] =
                inside ? x[((b * height + ih) * width + iw) * channels + c] : 0;
            }
      }
}

function col2im(cols: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { batch, height, width, channels, kernelSize: k, stride, padTop, padLeft, outHeight, outWidth } = g;
  const rowLength = k * k * channels;
  dx.fill(0, 0, batch * height * width * channels);
  for (let b = 0; b < batch; b++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++) {
        const r = (b * outHeight + oh) * outWidth + ow;
        for (let kh = 0; kh < k; kh++)
          for (let kw = 0; kw < k; kw++) {
            const ih = oh * stride - padTop + kh;
            const iw = ow * stride - padLeft + kw;
            if (ih < 0 || ih >= height || iw < 0 || iw >= width) continue;
            for (let c = 0; c < channels; c++) {
              dx[((b * height + ih) * width + iw) * channels + c] += cols[r * rowLength + (kh * k + kw) * channels + c];
            }
          }
      }
}

// Convolutions as the textbook sums, accumulated in double and rounded once (no im2col, no transforms).
function conv2dForward(
  x: Float32Array, w: Float32Array, bias: Float32Array, g: ConvGeometry, outChannels: number, y: Float32Array,
): void {
  const { batch, height, width, channels, kernelSize: k, stride, padTop, padLeft, outHeight, outWidth } = g;
  for (let b = 0; b < batch; b++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++)
        for (let co = 0; co < outChannels; co++) {
          let sum = bias[co];
          for (let kh = 0; kh < k; kh++)
            for (let kw = 0; kw < k; kw++) {
              const ih = oh * stride - padTop + kh;
              const iw = ow * stride - padLeft + kw;
              if (ih < 0 || ih >= height || iw < 0 || iw >= width) continue;
              for (let c = 0; c < channels; c++) {
                sum += x[((b * height + ih) * width + iw) * channels + c] * w[((kh * k + kw) * channels + c) * outChannels + co];
              }
            }
          y[((b * outHeight + oh) * outWidth + ow) * outChannels + co] = sum;
        }
}

function conv2dBackwardInput(
  dy: Float32Array, w: Float32Array, g: ConvGeometry, outChannels: number, dx: Float32Array,
): void {
  const { batch, height, width, channels, kernelSize: k, stride, padTop, padLeft, outHeight, outWidth } = g;
  for (let b = 0; b < batch; b++)
    for (let ih = 0; ih < height; ih++)
      for (let iw = 0; iw < width; iw++)
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (let kh = 0; kh < k; kh++)
            for (let kw = 0; kw < k; kw++) {
              // The output position whose window reads (ih, iw) at tap (kh, kw), if any.
              const sh = ih + padTop - kh;
              const sw = iw + padLeft - kw;
              if (sh < 0 || sw < 0 || sh % stride !== 0 || sw % stride !== 0) continue;
              const oh = sh / stride;
              const ow = sw / stride;
              if (oh >= outHeight || ow >= outWidth) continue;
              for (let co = 0; co < outChannels; co++) {
                sum += dy[((b * outHeight + oh) * outWidth + ow) * outChannels + co] * w[((kh * k + kw) * channels + c) * outChannels + co];
              }
            }
          dx[((b * height + ih) * width + iw) * channels + c] = sum;
        }
}

function conv2dBackwardFilter(
  x: Float32Array, dy: Float32Array, g: ConvGeometry, outChannels: number, dw: Float32Array,
): void {
  const { batch, height, width, channels, kernelSize: k, stride, padTop, padLeft, outHeight, outWidth } = g;
  for (let kh = 0; kh < k; kh++)
    for (let kw = 0; kw < k; kw++)
      for (let c = 0; c < channels; c++)
        for (let co = 0; co < outChannels; co++) {
          let sum = 0;
          for (let b = 0; b < batch; b++)
            for (let oh = 0; oh < outHeight; oh++)
              for (let ow = 0; ow < outWidth; ow++) {
                const ih = oh * stride - padTop + kh;
                const iw = ow * stride - padLeft + kw;
                if (ih < 0 || ih >= height || iw < 0 || iw >= width) continue;
                sum += x[((b * height + ih) * width + iw) * channels + c] * dy[((b * outHeight + oh) * outWidth + ow) * outChannels + co];
              }
          dw[((kh * k + kw) * channels + c) * outChannels + co] = sum;
        }
}

/** σ(x) without overflow: exp is only taken of −|x|. */
function sigmoidOf(x: number): number {
  const e = Math.exp(-Math.abs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

function sigmoidMse(logits: Float32Array, target: Float32Array, dlogits: Float32Array | null): number {
  const n = logits.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const s = sigmoidOf(logits[i]);
    const oneMinus = sigmoidOf(-logits[i]);
    const diff = s - target[i];
    total += diff * diff;
    if (dlogits) dlogits[i] = (2 * diff * s * oneMinus) / n;
  }
  return total / n;
}

function checkRows(indices: Int32Array, tableLength: number, rowLength: number, what: string): void {
  if (rowLength === 0) return;
  const rows = Math.floor(tableLength / rowLength);
  for (let i = 0; i < indices.length; i++) {
    if (!(indices[i] >= 0 && indices[i] < rows)) {
      throw new RangeError(`${what}: indices[${i}] = ${indices[i]} is not a row of the table (${rows} rows)`);
    }
  }
}

function lstmCellForward(
  gates: Float32Array, cPrev: Float32Array, rows: number, hidden: number,
  c: Float32Array, h: Float32Array, tanhC: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * 4 * hidden;
    for (let j = 0; j < hidden; j++) {
      const i = sigmoidOf(gates[base + j]);
      const g = Math.tanh(gates[base + hidden + j]);
      const f = sigmoidOf(gates[base + 2 * hidden + j] + 1);
      const o = sigmoidOf(gates[base + 3 * hidden + j]);
      gates[base + j] = i;
      gates[base + hidden + j] = g;
      gates[base + 2 * hidden + j] = f;
      gates[base + 3 * hidden + j] = o;
      const s = r * hidden + j;
      c[s] = f * cPrev[s] + i * g;
      tanhC[s] = Math.tanh(c[s]);
      h[s] = o * tanhC[s];
    }
  }
}

function lstmCellBackward(
  act: Float32Array, cPrev: Float32Array, tanhC: Float32Array, dh: Float32Array, dc: Float32Array,
  rows: number, hidden: number, dGates: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * 4 * hidden;
    for (let j = 0; j < hidden; j++) {
      const s = r * hidden + j;
      const i = act[base + j];
      const g = act[base + hidden + j];
      const f = act[base + 2 * hidden + j];
      const o = act[base + 3 * hidden + j];
      const t = tanhC[s];
      const dcTotal = dc[s] + dh[s] * o * (1 - t * t);
      dGates[base + j] = dcTotal * g * i * (1 - i);
      dGates[base + hidden + j] = dcTotal * i * (1 - g * g);
      dGates[base + 2 * hidden + j] = dcTotal * cPrev[s] * f * (1 - f);
      dGates[base + 3 * hidden + j] = dh[s] * t * o * (1 - o);
      dc[s] = dcTotal * f;
    }
  }
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
  im2col,
  col2im,
  conv2dWorkspaceSize: () => 0,
  conv2dForward,
  conv2dBackwardInput,
  conv2dBackwardFilter,
  spatialMean(x, batch, positions, channels, out) {
    for (let b = 0; b < batch; b++)
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let p = 0; p < positions; p++) sum += x[(b * positions + p) * channels + c];
        out[b * channels + c] = sum / positions;
      }
  },
  spatialMeanBackward(dy, batch, positions, channels, dx) {
    for (let b = 0; b < batch; b++)
      for (let p = 0; p < positions; p++)
        for (let c = 0; c < channels; c++) dx[(b * positions + p) * channels + c] = dy[b * channels + c] / positions;
  },
  sigmoid(x, y) { for (let i = 0; i < x.length; i++) y[i] = sigmoidOf(x[i]); },
  tanh(x, y) { for (let i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]); },
  sigmoidMse,
  gatherRows(table, rowLength, indices, out) {
    checkRows(indices, table.length, rowLength, 'gatherRows');
    for (let i = 0; i < indices.length; i++)
      for (let j = 0; j < rowLength; j++) out[i * rowLength + j] = table[indices[i] * rowLength + j];
  },
  scatterAddRows(src, rowLength, indices, table) {
    checkRows(indices, table.length, rowLength, 'scatterAddRows');
    for (let i = 0; i < indices.length; i++)
      for (let j = 0; j < rowLength; j++) table[indices[i] * rowLength + j] += src[i * rowLength + j];
  },
  swapLeadingAxes(x, d0, d1, inner, out) {
    for (let i = 0; i < d0; i++)
      for (let j = 0; j < d1; j++)
        for (let k = 0; k < inner; k++) out[(j * d0 + i) * inner + k] = x[(i * d1 + j) * inner + k];
  },
  lstmCellForward,
  lstmCellBackward,
  ...layerKernelsReference,
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
  mlpLoptAccumulate,
  mlpLoptApply,
  nnAdamStep,
};
