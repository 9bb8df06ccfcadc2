// BatchNorm and LayerNorm kernel bodies, included by nn_kernels_impl.h once per instruction set.
//
// Numerics (the same bits on every instruction set, and the reference's formulas op for op):
// - statistics are sums of x and x² in double (Haiku's var = E[x²] − E[x]², clamped at 0), per
//   channel in row order (BatchNorm: one double lane per channel, COLBLOCK channels at a time) or per
//   row in NACC interleaved partial sums combined by K(combine) (LayerNorm); mean and 1/sqrt(var + eps)
//   are computed in double and stored as floats;
// - outputs are float operations on those floats: y = (x − mean)·(γ·invStd) + β (BatchNorm) and
//   y = ((x − mean)·invStd)·γ + β (LayerNorm);
// - every backward reduction (Σ dy, Σ dy·x̂) is done before dx is written, so dx may alias dy.

#ifndef K
#error "nn_norm_impl.h is included by nn_kernels_impl.h only"
#endif

/* Per channel of x [rows, channels]: mean and 1/sqrt(var + eps) of the column. */
static void K(bn_stats)(const float *x, size_t rows, size_t channels, double eps, float *mean, float *inv_std) {
  double sum[COLBLOCK], sq[COLBLOCK];
  const double n = rows ? (double)rows : 1.0;
  for (size_t c0 = 0; c0 < channels; c0 += COLBLOCK) {
    const size_t w = channels - c0 < COLBLOCK ? channels - c0 : COLBLOCK;
    LOOP for (size_t c = 0; c < w; c++) sum[c] = 0.0, sq[c] = 0.0;
    for (size_t r = 0; r < rows; r++) {
      const float *xr = x + r * channels + c0;
      LOOP for (size_t c = 0; c < w; c++) {
        const double v = xr[c];
        sum[c] += v;
        sq[c] += v * v;
      }
    }
    for (size_t c = 0; c < w; c++) {
      const double m = sum[c] / n;
      const double var = sq[c] / n - m * m;
      mean[c0 + c] = (float)m;
      inv_std[c0 + c] = (float)(1.0 / sqrt((var > 0.0 ? var : 0.0) + eps));
    }
  }
}

static void K(batch_norm_forward)(const float *x, size_t rows, size_t channels, const float *gamma,
                                  const float *beta, double eps, bool training, float *mean, float *inv_std,
                                  float *y) {
  // Pass 1 (training only): the batch statistics; pass 2: the output (y may be x itself).
  if (training) K(bn_stats)(x, rows, channels, eps, mean, inv_std);
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * channels;
    float *yr = y + r * channels;
    LOOP for (size_t c = 0; c < channels; c++) {
      const float s = gamma[c] * inv_std[c];
      yr[c] = (xr[c] - mean[c]) * s + beta[c];
    }
  }
}

/* dβ = Σ_rows dy and dγ = Σ_rows dy·x̂ per column of x, dy [rows, cols] (double, row order, COLBLOCK
   columns at a time), with the statistics per column (BatchNorm) or per row (LayerNorm); per_row is a
   constant at each call, so each caller gets its own specialised loop. */
NN_INLINE void K(norm_param_grads)(const float *x, const float *dy, size_t rows, size_t cols, const float *mean,
                                   const float *inv_std, bool per_row, float *dgamma, float *dbeta) {
  double db[COLBLOCK], dg[COLBLOCK];
  for (size_t c0 = 0; c0 < cols; c0 += COLBLOCK) {
    const size_t w = cols - c0 < COLBLOCK ? cols - c0 : COLBLOCK;
    LOOP for (size_t c = 0; c < w; c++) db[c] = 0.0, dg[c] = 0.0;
    for (size_t r = 0; r < rows; r++) {
      const float *xr = x + r * cols + c0, *dyr = dy + r * cols + c0;
      if (per_row) {
        const float m = mean[r], is = inv_std[r];
        LOOP for (size_t c = 0; c < w; c++) {
          const float xh = (xr[c] - m) * is;
          db[c] += dyr[c];
          dg[c] += (double)dyr[c] * (double)xh;
        }
      } else {
        const float *m = mean + c0, *is = inv_std + c0;
        LOOP for (size_t c = 0; c < w; c++) {
          const float xh = (xr[c] - m[c]) * is[c];
          db[c] += dyr[c];
          dg[c] += (double)dyr[c] * (double)xh;
        }
      }
    }
    LOOP for (size_t c = 0; c < w; c++) dbeta[c0 + c] = (float)db[c], dgamma[c0 + c] = (float)dg[c];
  }
}

static void K(batch_norm_backward)(const float *x, const float *dy, size_t rows, size_t channels,
                                   const float *gamma, const float *mean, const float *inv_std, float *dx,
                                   float *dgamma, float *dbeta) {
  // Pass 1: dβ = Σ dy and dγ = Σ dy·x̂ per channel; pass 2: dx = γ·invStd·((dy − dβ/n) − x̂·dγ/n).
  K(norm_param_grads)(x, dy, rows, channels, mean, inv_std, false, dgamma, dbeta);
  const float n = rows ? (float)rows : 1.0f;
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * channels, *dyr = dy + r * channels;
    float *dxr = dx + r * channels;
    LOOP for (size_t c = 0; c < channels; c++) {
      const float xh = (xr[c] - mean[c]) * inv_std[c];
      const float k = gamma[c] * inv_std[c];
      dxr[c] = k * ((dyr[c] - dbeta[c] / n) - xh * (dgamma[c] / n));
    }
  }
}

static void K(layer_norm_forward)(const float *x, size_t rows, size_t features, const float *gamma,
                                  const float *beta, double eps, float *mean, float *inv_std, float *y) {
  // Per row: pass 1 the statistics, pass 2 the output (y may be x itself).
  const double n = features ? (double)features : 1.0;
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * features;
    float *yr = y + r * features;
    double acc[NACC] = {0}, accq[NACC] = {0};
    BLOCKED(features, {
      const double v = xr[k];
      acc[j] += v;
      accq[j] += v * v;
    });
    const double m = K(combine)(acc) / n;
    const double var = K(combine)(accq) / n - m * m;
    const float mf = (float)m;
    const float is = (float)(1.0 / sqrt((var > 0.0 ? var : 0.0) + eps));
    mean[r] = mf;
    inv_std[r] = is;
    LOOP for (size_t c = 0; c < features; c++) yr[c] = ((xr[c] - mf) * is) * gamma[c] + beta[c];
  }
}

static void K(layer_norm_backward)(const float *x, const float *dy, size_t rows, size_t features,
                                   const float *gamma, const float *mean, const float *inv_std, float *dx,
                                   float *dgamma, float *dbeta) {
  // Pass 1: dγ = Σ_rows dy·x̂ and dβ = Σ_rows dy per feature, before dx is written.
  K(norm_param_grads)(x, dy, rows, features, mean, inv_std, true, dgamma, dbeta);
  // Pass 2, per row with g = dy·γ: dx = invStd·((g − mean(g)) − x̂·mean(g·x̂)).
  const double n = features ? (double)features : 1.0;
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * features, *dyr = dy + r * features;
    float *dxr = dx + r * features;
    const float m = mean[r], is = inv_std[r];
    double acc[NACC] = {0}, accx[NACC] = {0};
    BLOCKED(features, {
      const float xh = (xr[k] - m) * is;
      const float g = dyr[k] * gamma[k];
      acc[j] += g;
      accx[j] += (double)g * (double)xh;
    });
    const float mg = (float)(K(combine)(acc) / n);
    const float mgx = (float)(K(combine)(accx) / n);
    LOOP for (size_t c = 0; c < features; c++) {
      const float xh = (xr[c] - m) * is;
      const float g = dyr[c] * gamma[c];
      dxr[c] = is * ((g - mg) - xh * mgx);
    }
  }
}
