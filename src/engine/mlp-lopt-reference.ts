// Reference (TypeScript) versions of the learned-optimizer kernels: element by element, in float64,
// rounding only where a value is stored. The oracle the native kernels are tested against.
import {
  factoredSizes, mlpLoptFeatureCount, mlpLoptLayoutOf, type MlpLoptLayout, type MlpLoptNet, type MlpLoptTensor,
} from './mlp-lopt.js';

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(message);
}

/** Validates the sizes of a tensor's arrays; returns n, the layout and F. */
function shapeOf(t: MlpLoptTensor, kernel: string): { n: number; layout: MlpLoptLayout; features: number } {
  const n = t.p.length;
  const layout = mlpLoptLayoutOf(t);
  const { nm, nr, na } = layout;
  check(t.g.length === n, `${kernel}: g has ${t.g.length} elements, p has ${n}`);
  check(t.decays.length === nm + nr + na, `${kernel}: decays has ${t.decays.length} elements, expected ${nm + nr + na}`);
  const f = t.factored;
  const perElement = nm + nr + (f ? 0 : na);
  check(t.acc.length === perElement * n, `${kernel}: acc has ${t.acc.length} elements, expected ${perElement}·${n}`);
  if (f) {
    const [pre, na5, mid, nb, post] = f.dims;
    check(pre * na5 * mid * nb * post === n, `${kernel}: factored dims [${f.dims}] do not hold ${n} elements`);
    check(na > 0, `${kernel}: a factored tensor needs AdaFactor decays`);
    const { sizeRow, sizeCol } = factoredSizes(f);
    check(f.stats.length === 2 * na * (sizeRow + sizeCol), `${kernel}: stats has ${f.stats.length} elements, expected 2·${na}·(${sizeRow} + ${sizeCol})`);
  }
  return { n, layout, features: mlpLoptFeatureCount(layout) };
}

/** Writes the F features of element i (from the stored, already updated accumulators) into x. */
function featuresAt(t: MlpLoptTensor, layout: MlpLoptLayout, n: number, i: number, x: Float64Array): void {
  const { nm, nr, na } = layout;
  const g = t.g[i];
  const p = t.p[i];
  let f = 0;
  x[f++] = g;
  x[f++] = p;
  if (layout.logAbsP) x[f++] = Math.log(Math.abs(p) + 1e-8);
  const mAt = (k: number) => t.acc[k * n + i];
  const vAt = (k: number) => t.acc[(nm + k) * n + i];
  for (let k = 0; k < nm; k++) x[f++] = mAt(k);
  for (let k = 0; k < nr; k++) x[f++] = vAt(k);
  if (layout.mTimesRsqrtV) {
    const count = Math.max(nm, nr);
    for (let j = 0; j < count; j++) x[f++] = mAt(nm === 1 ? 0 : j) / Math.sqrt(vAt(nr === 1 ? 0 : j) + 1e-6);
  }
  for (let k = 0; k < nr; k++) x[f++] = 1 / Math.sqrt(vAt(k) + 1e-6);
  // AdaFactor: per decay the row and column statistic, and the preconditioner of g and m.
  const row = new Array<number>(na);
  const col = new Array<number>(na);
  const pre = new Array<number>(na);
  const preM = new Array<number>(na);
  const fac = t.factored;
  if (fac) {
    const { iRow, iCol } = factoredIndices(fac, i);
    const { sizeRow, sizeCol } = factoredSizes(fac);
    const rowFactorAt = na * (sizeRow + sizeCol);
    const colFactorAt = rowFactorAt + na * sizeRow;
    for (let k = 0; k < na; k++) {
      row[k] = fac.stats[k * sizeRow + iRow];
      col[k] = fac.stats[na * sizeRow + k * sizeCol + iCol];
      pre[k] = fac.stats[rowFactorAt + k * sizeRow + iRow] * fac.stats[colFactorAt + k * sizeCol + iCol];
      preM[k] = pre[k];
    }
  } else {
    for (let k = 0; k < na; k++) {
      const vf = t.acc[(nm + nr + k) * n + i];
      row[k] = vf;
      col[k] = vf;
      pre[k] = 1 / Math.sqrt(Math.max(vf + 1e-9, 1e-9));
      preM[k] = 1 / Math.sqrt(vf + 1e-6);
    }
  }
  for (let k = 0; k < na; k++) x[f++] = g * pre[k];
  for (let k = 0; k < na; k++) x[f++] = row[k];
  for (let k = 0; k < na; k++) x[f++] = col[k];
  for (let k = 0; k < na; k++) x[f++] = 1 / Math.sqrt(row[k] + 1e-8);
  for (let k = 0; k < na; k++) x[f++] = 1 / Math.sqrt(col[k] + 1e-8);
  if (layout.mTimesFactors) {
    const count = Math.max(nm, na);
    for (let j = 0; j < count; j++) x[f++] = mAt(nm === 1 ? 0 : j) * preM[na === 1 ? 0 : j];
  }
}

/**
 * Where element i of the tensor (viewed as [pre, A, mid, B, post], the two factored axes A and B)
 * reads its row and column accumulators: the flat index with axis B removed and with axis A removed.
 */
function factoredIndices(fac: NonNullable<MlpLoptTensor['factored']>, i: number): { iRow: number; iCol: number } {
  const [, na5, mid, nb, post] = fac.dims;
  const q = i % post;
  const ib = Math.floor(i / post) % nb;
  const im = Math.floor(i / (post * nb)) % mid;
  const ia = Math.floor(i / (post * nb * mid)) % na5;
  const p0 = Math.floor(i / (post * nb * mid * na5));
  const iA = ((p0 * mid + im) * nb + ib) * post + q;
  const iB = ((p0 * na5 + ia) * mid + im) * post + q;
  return fac.rowIsA ? { iRow: iA, iCol: iB } : { iRow: iB, iCol: iA };
}

/** v_row, v_col ← β·v + (1−β)·mean of g² + 1e-30 over d0 (resp. d1); then the row and column factors. */
function updateFactored(t: MlpLoptTensor, n: number): void {
  const fac = t.factored!;
  const { sizeRow, sizeCol } = factoredSizes(fac);
  const [pre, na5, mid, nb, post] = fac.dims;
  const sumRow = new Float64Array(sizeRow);
  const sumCol = new Float64Array(sizeCol);
  for (let i = 0; i < n; i++) {
    const { iRow, iCol } = factoredIndices(fac, i);
    const gsq = t.g[i] * t.g[i] + 1e-30;
    sumRow[iRow] += gsq;
    sumCol[iCol] += gsq;
  }
  const { na, nm, nr } = t;
  const stats = fac.stats;
  const colAt = na * sizeRow;
  const rowFactorAt = na * (sizeRow + sizeCol);
  const colFactorAt = rowFactorAt + na * sizeRow;
  // v_row keeps axis d1: [pre·mid, nb, post] (mean over nb) when d0 = a, else [pre, na, mid·post].
  const outer = fac.rowIsA ? pre * mid : pre;
  const span = fac.rowIsA ? nb : na5;
  const inner = fac.rowIsA ? post : mid * post;
  for (let k = 0; k < na; k++) {
    const beta = t.decays[nm + nr + k];
    for (let r = 0; r < sizeRow; r++) {
      const at = k * sizeRow + r;
      stats[at] = beta * stats[at] + (1 - beta) * (sumRow[r] / (n / sizeRow));
    }
    for (let c = 0; c < sizeCol; c++) {
      const at = colAt + k * sizeCol + c;
      stats[at] = beta * stats[at] + (1 - beta) * (sumCol[c] / (n / sizeCol));
      stats[colFactorAt + k * sizeCol + c] = 1 / Math.sqrt(Math.max(stats[at], 1e-9));
    }
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let sum = 0;
        for (let s = 0; s < span; s++) sum += stats[k * sizeRow + (o * span + s) * inner + j];
        const mean = sum / span;
        for (let s = 0; s < span; s++) {
          const r = (o * span + s) * inner + j;
          stats[rowFactorAt + k * sizeRow + r] = 1 / Math.sqrt(Math.max(stats[k * sizeRow + r] / (mean + 1e-9), 1e-9));
        }
      }
    }
  }
}

export function mlpLoptAccumulate(t: MlpLoptTensor, moments: Float64Array): void {
  const { n, layout, features } = shapeOf(t, 'mlpLoptAccumulate');
  check(moments.length >= features, `mlpLoptAccumulate: moments has ${moments.length} elements, needs ${features}`);
  const sums = moments.length >= 2 * features;
  const { nm, nr, na } = layout;
  const { acc, g } = t;
  for (let k = 0; k < nm; k++) {
    const beta = t.decays[k];
    for (let i = 0; i < n; i++) acc[k * n + i] = beta * acc[k * n + i] + (1 - beta) * g[i];
  }
  for (let k = nm; k < nm + nr; k++) {
    const beta = t.decays[k];
    for (let i = 0; i < n; i++) acc[k * n + i] = beta * acc[k * n + i] + (1 - beta) * (g[i] * g[i]);
  }
  if (t.factored) {
    updateFactored(t, n);
  } else {
    for (let k = nm + nr; k < nm + nr + na; k++) {
      const beta = t.decays[k];
      for (let i = 0; i < n; i++) acc[k * n + i] = beta * acc[k * n + i] + (1 - beta) * (g[i] * g[i] + 1e-30);
    }
  }
  moments.fill(0, 0, (sums ? 2 : 1) * features);
  const x = new Float64Array(features);
  for (let i = 0; i < n; i++) {
    featuresAt(t, layout, n, i, x);
    for (let f = 0; f < features; f++) {
      moments[f] += x[f] * x[f];
      if (sums) moments[features + f] += x[f];
    }
  }
}

export function mlpLoptApply(t: MlpLoptTensor, net: MlpLoptNet, extraSums: Float64Array | null): void {
  const { n, layout, features } = shapeOf(t, 'mlpLoptApply');
  const sizes = Array.from(net.sizes);
  const layers = sizes.length - 1;
  check(layers >= 1, 'mlpLoptApply: the net needs at least one layer');
  const inputs = net.inputs.length;
  check(sizes[0] === features + inputs, `mlpLoptApply: the net takes ${sizes[0]} inputs, but there are ${features} features and ${inputs} per-tensor inputs`);
  check(net.scales.length === features, `mlpLoptApply: scales has ${net.scales.length} elements, expected ${features}`);
  const outputs = sizes[layers];
  check(outputs >= 2, 'mlpLoptApply: the net needs at least 2 outputs');
  let paramCount = 0;
  for (let l = 0; l < layers; l++) paramCount += sizes[l] * sizes[l + 1] + sizes[l + 1];
  check(net.params.length === paramCount, `mlpLoptApply: params has ${net.params.length} elements, expected ${paramCount}`);
  const extras = outputs - 2;
  if (extras > 0) {
    check(extraSums !== null && extraSums.length >= extras, `mlpLoptApply: extraSums needs ${extras} elements`);
  }
  if (extraSums) extraSums.fill(0, 0, extras);
  const x = new Float64Array(features);
  const widest = Math.max(...sizes);
  let a = new Float64Array(widest);
  let b = new Float64Array(widest);
  for (let i = 0; i < n; i++) {
    featuresAt(t, layout, n, i, x);
    for (let f = 0; f < features; f++) a[f] = x[f] * net.scales[f];
    for (let c = 0; c < inputs; c++) a[features + c] = net.inputs[c];
    let offset = 0;
    for (let l = 0; l < layers; l++) {
      const fanIn = sizes[l];
      const fanOut = sizes[l + 1];
      for (let o = 0; o < fanOut; o++) {
        let sum = net.params[offset + fanIn * fanOut + o];
        for (let j = 0; j < fanIn; j++) sum += a[j] * net.params[offset + j * fanOut + o];
        b[o] = l < layers - 1 ? Math.max(sum, 0) : sum;
      }
      offset += fanIn * fanOut + fanOut;
      [a, b] = [b, a];
    }
    const step = a[0] * Math.exp(a[1] * net.expMult) * net.stepMult;
    t.p[i] = t.p[i] - step;
    for (let e = 0; e < extras; e++) extraSums![e] += a[2 + e];
  }
}

/**
 * The MLP's input rows of chosen elements, as mlpLoptApply would feed them right now: the F features
 * scaled by `net.scales`, then the per-tensor inputs (time features). Row r of `out` (width F + inputs)
 * belongs to element `indices[r]`. Call it where mlpLoptApply is about to run (after
 * mlpLoptAccumulate, before p changes): fitting θ by regression (src/learned/imitation.ts) reads it.
 */
export function mlpLoptNetInputs(t: MlpLoptTensor, net: MlpLoptNet, indices: ArrayLike<number>, out: Float64Array): void {
  const { n, layout, features } = shapeOf(t, 'mlpLoptNetInputs');
  const inputs = net.inputs.length;
  const width = features + inputs;
  check(net.scales.length === features, `mlpLoptNetInputs: scales has ${net.scales.length} elements, expected ${features}`);
  check(out.length >= indices.length * width, `mlpLoptNetInputs: out needs ${indices.length}·${width} elements`);
  const x = new Float64Array(features);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r];
    check(Number.isInteger(i) && i >= 0 && i < n, `mlpLoptNetInputs: index ${i} is outside [0, ${n})`);
    featuresAt(t, layout, n, i, x);
    const row = r * width;
    for (let f = 0; f < features; f++) out[row + f] = x[f] * net.scales[f];
    for (let c = 0; c < inputs; c++) out[row + features + c] = net.inputs[c];
  }
}

export function nnAdamStep(
  p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array,
  lr: number, beta1: number, beta2: number, eps: number, stats: Float64Array,
): void {
  const n = p.length;
  check(m.length === n && v.length === n && g.length === n, 'nnAdamStep: p, m, v and g must have the same length');
  check(stats.length >= 9, 'nnAdamStep: stats needs 9 elements');
  stats.fill(0, 0, 9);
  for (let i = 0; i < n; i++) {
    const gi = Math.min(Math.max(g[i], -1000), 1000);
    const pi = p[i];
    m[i] = beta1 * m[i] + (1 - beta1) * gi;
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    const mi = m[i];
    const vi = v[i];
    stats[0] += pi;
    stats[1] += pi * pi;
    stats[2] += gi;
    stats[3] += gi * gi;
    stats[4] += Math.abs(gi);
    stats[5] += mi;
    stats[6] += mi * mi;
    stats[7] += vi;
    stats[8] += vi * vi;
    p[i] = pi - ((lr * (1 + eps)) / (eps + Math.sqrt(vi + 1e-10))) * mi;
  }
}
