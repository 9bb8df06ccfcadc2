// Kernel bodies, included by kernels.c once per instruction set with K(name) appending the set's
// suffix and SIMD_NAME naming it; the surrounding `#pragma GCC target` picks the instructions.
//
// Loops are written for GCC's auto-vectorizer: `#pragma omp simd` (-fopenmp-simd, no OpenMP runtime)
// on every hot loop, one pass per tensor, no temporaries. No pointer is `restrict`: the interface lets
// some outputs alias inputs exactly (out = x), which the per-index loops handle like the reference;
// partial overlaps are rejected by addon.c.
//
// Numerics (no -ffast-math; -ffp-contract=off, so every instruction set gives the same bits):
// - elementwise kernels and optimizer steps compute in float32 (double costs 2-3x in conversions);
//   the reference computes in double and rounds on store, so they agree to a few ulp, and exactly
//   where a single float operation is correctly rounded anyway (fill, clip, ReLU, addRowVector);
// - reductions accumulate in double: sumRows and the factored sums over axis a in the reference's
//   order; the others in NACC interleaved partial sums (element i goes to sum i % NACC, combined in a
//   fixed tree), so no result depends on the vector width. softmaxCrossEntropy works in double.

#ifndef K
#error "kernels_impl.h is included by kernels.c only"
#endif

#include "lopt_math.h"

static void K(fill)(size_t n, float *x, float value) {
  LOOP for (size_t i = 0; i < n; i++) x[i] = value;
}

static void K(axpy)(size_t n, double alpha, const float *x, float *y) {
  const float a = (float)alpha;
  LOOP for (size_t i = 0; i < n; i++) y[i] = y[i] + a * x[i];
}

static void K(scale)(size_t n, double alpha, float *x) {
  const float a = (float)alpha;
  LOOP for (size_t i = 0; i < n; i++) x[i] = x[i] * a;
}

static double K(sum_squares)(size_t n, const float *x) {
  double acc[NACC] = {0};
  BLOCKED(n, {
    const double xk = x[k];
    acc[j] += xk * xk;
  });
  return K(combine)(acc);
}

static void K(clip)(size_t n, const float *x, float lo, float hi, float *out) {
  // max(x, lo) then min(., hi) like Math.min(Math.max(x, lo), hi); a NaN x stays NaN.
  LOOP for (size_t i = 0; i < n; i++) {
    const float xi = x[i];
    const float above = xi < lo ? lo : xi;
    out[i] = above > hi ? hi : above;
  }
}

static void K(add_row_vector)(float *y, const float *bias, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; r++) {
    float *row = y + r * cols;
    LOOP for (size_t c = 0; c < cols; c++) row[c] = row[c] + bias[c];
  }
}

static void K(sum_rows)(const float *x, size_t rows, size_t cols, float *out, int accumulate) {
  // Column sums in double, COLBLOCK columns at a time; each column is summed in row order exactly
  // like the reference.
  double acc[COLBLOCK];
  for (size_t c0 = 0; c0 < cols; c0 += COLBLOCK) {
    const size_t w = cols - c0 < COLBLOCK ? cols - c0 : COLBLOCK;
    if (accumulate) {
      LOOP for (size_t c = 0; c < w; c++) acc[c] = out[c0 + c];
    } else {
      LOOP for (size_t c = 0; c < w; c++) acc[c] = 0.0;
    }
    for (size_t r = 0; r < rows; r++) {
      const float *row = x + r * cols + c0;
      LOOP for (size_t c = 0; c < w; c++) acc[c] += row[c];
    }
    LOOP for (size_t c = 0; c < w; c++) out[c0 + c] = (float)acc[c];
  }
}

static void K(relu_forward)(size_t n, const float *x, float *y) {
  LOOP for (size_t i = 0; i < n; i++) {
    const float xi = x[i];
    y[i] = xi > 0.0f ? xi : 0.0f;
  }
}

static void K(relu_backward)(size_t n, const float *y, const float *dy, float *dx) {
  LOOP for (size_t i = 0; i < n; i++) {
    const float yi = y[i], dyi = dy[i];
    dx[i] = yi > 0.0f ? dyi : 0.0f;
  }
}

static double K(softmax_cross_entropy)(const float *logits, const int32_t *labels, size_t rows, size_t cols,
                                       float *dlogits) {
  // Stable: exponents are taken of logit − row max. dlogits may be logits itself (row by row, each
  // element is read before it is written, and the label's logit is read first).
  double total = 0.0;
  for (size_t r = 0; r < rows; r++) {
    const float *row = logits + r * cols;
    float mx = -INFINITY;
    LOOP_MAX_MX for (size_t c = 0; c < cols; c++) mx = row[c] > mx ? row[c] : mx;
    const double m = mx;
    const size_t label = (size_t)labels[r];
    const double target = row[label];
    double sum = 0.0;
    if (dlogits) {
      float *drow = dlogits + r * cols;
      for (size_t c = 0; c < cols; c++) {
        const double e = exp((double)row[c] - m);
        sum += e;
        drow[c] = (float)e;
      }
      const double n = (double)rows;
      LOOP for (size_t c = 0; c < cols; c++) {
        drow[c] = (float)(((double)drow[c] / sum - (c == label ? 1.0 : 0.0)) / n);
      }
    } else {
      for (size_t c = 0; c < cols; c++) sum += exp((double)row[c] - m);
    }
    total += log(sum) + m - target;
  }
  return total / (double)rows;
}

static void K(gather_rows_u8)(const uint8_t *src, size_t row_length, const int32_t *indices, size_t count,
                              double scale, float *out) {
  const float s = (float)scale;
  for (size_t i = 0; i < count; i++) {
    const uint8_t *from = src + (size_t)indices[i] * row_length;
    float *to = out + i * row_length;
    LOOP for (size_t j = 0; j < row_length; j++) to[j] = (float)from[j] * s;
  }
}

// ---- optimizer steps ------------------------------------------------------------------------------

static void K(sgd_step)(size_t n, float *p, const float *g, double lr) {
  const float rate = (float)lr;
  LOOP for (size_t i = 0; i < n; i++) p[i] = p[i] - rate * g[i];
}

static void K(sgdm_step)(size_t n, float *p, float *m, const float *g, double lr, double momentum, int nesterov) {
  const float mu = (float)momentum, rate = (float)lr;
  if (nesterov) {
    LOOP for (size_t i = 0; i < n; i++) {
      const float gi = g[i];
      const float mi = gi + mu * m[i];
      m[i] = mi;
      p[i] = p[i] - rate * (gi + mu * mi);
    }
  } else {
    LOOP for (size_t i = 0; i < n; i++) {
      const float mi = g[i] + mu * m[i];
      m[i] = mi;
      p[i] = p[i] - rate * mi;
    }
  }
}

static void K(adam_step)(size_t n, float *p, float *m, float *v, const float *g, double lr, double beta1,
                         double beta2, double eps, double bc1, double bc2) {
  const float b1 = (float)beta1, c1 = (float)(1.0 - beta1);
  const float b2 = (float)beta2, c2 = (float)(1.0 - beta2);
  const float step = (float)(lr / bc1), inv_bc2 = (float)(1.0 / bc2), e = (float)eps;
  LOOP for (size_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] - step * mi / (sqrtf(vi * inv_bc2) + e);
  }
}

static void K(nadamw_step)(size_t n, float *p, float *m, float *v, const float *g, double lr_t, double beta1,
                           double beta2, double eps, double l2, double adamw_decay, int nesterov) {
  const float b1 = (float)beta1, c1 = (float)(1.0 - beta1);
  const float b2 = (float)beta2, c2 = (float)(1.0 - beta2);
  const float lr = (float)lr_t, e = (float)eps, l2f = (float)l2, wd = (float)(lr_t * adamw_decay);
  if (nesterov) {
    LOOP for (size_t i = 0; i < n; i++) {
      const float pi = p[i];
      const float gi = g[i] - l2f * pi;
      const float mi = b1 * m[i] + c1 * gi;
      const float vi = b2 * v[i] + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      const float dir = b1 * mi + c1 * gi;
      p[i] = pi - (lr * dir / (sqrtf(vi) + e) + wd * pi);
    }
  } else {
    LOOP for (size_t i = 0; i < n; i++) {
      const float pi = p[i];
      const float gi = g[i] - l2f * pi;
      const float mi = b1 * m[i] + c1 * gi;
      const float vi = b2 * v[i] + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi - (lr * mi / (sqrtf(vi) + e) + wd * pi);
    }
  }
}

static double K(rms_scale)(size_t n, float *v, const float *g, double decay, double eps, float *u) {
  const float d = (float)decay, c = (float)(1.0 - decay), e = (float)eps;
  double acc[NACC] = {0};
  BLOCKED(n, {
    const float gk = g[k];
    const float vk = d * v[k] + c * (gk * gk + e);
    v[k] = vk;
    const float uk = gk / sqrtf(vk);
    u[k] = uk;
    acc[j] += (double)uk * (double)uk;
  });
  return K(combine)(acc);
}

static void K(factored_moments)(const float *g, const size_t dims[5], double decay, double eps, float *va,
                                float *vb, double *scratch) {
  // One pass over g. For each leading index, sums over axis a accumulate in scratch[0, mid·nb·post)
  // (in ia order, like the reference); sums over axis b are finished row by row (in NACC partial sums
  // when post = 1, else in scratch after the slab).
  const size_t pre = dims[0], na = dims[1], mid = dims[2], nb = dims[3], post = dims[4];
  const size_t len = nb * post, slab = mid * len;
  const double keep = decay, mix = 1.0 - decay;
  double *acc_a = scratch, *acc_b = scratch + slab;
  for (size_t p0 = 0; p0 < pre; p0++) {
    LOOP for (size_t i = 0; i < slab; i++) acc_a[i] = 0.0;
    for (size_t ia = 0; ia < na; ia++) {
      for (size_t im = 0; im < mid; im++) {
        const size_t r = (p0 * na + ia) * mid + im;
        const float *row = g + r * len;
        double *arow = acc_a + im * len;
        float *vbo = vb + r * post;
        if (post == 1) {
          double acc[NACC] = {0};
          BLOCKED(len, {
            const double x = row[k];
            const double sq = x * x + eps;
            arow[k] += sq;
            acc[j] += sq;
          });
          vbo[0] = (float)(keep * (double)vbo[0] + mix * (K(combine)(acc) / (double)nb));
        } else {
          LOOP for (size_t q = 0; q < post; q++) acc_b[q] = 0.0;
          for (size_t ib = 0; ib < nb; ib++) {
            const float *seg = row + ib * post;
            double *aseg = arow + ib * post;
            LOOP for (size_t q = 0; q < post; q++) {
              const double x = seg[q];
              const double sq = x * x + eps;
              aseg[q] += sq;
              acc_b[q] += sq;
            }
          }
          LOOP for (size_t q = 0; q < post; q++) {
            vbo[q] = (float)(keep * (double)vbo[q] + mix * (acc_b[q] / (double)nb));
          }
        }
      }
    }
    float *vao = va + p0 * slab;
    LOOP for (size_t i = 0; i < slab; i++) vao[i] = (float)(keep * (double)vao[i] + mix * (acc_a[i] / (double)na));
  }
}

static double K(scale_by_factors)(const float *g, const size_t dims[5], const float *fa, const float *fb,
                                  float *u) {
  // u = g·fa·fb in float; Σ u² in double. u may be g itself.
  const size_t pre = dims[0], na = dims[1], mid = dims[2], nb = dims[3], post = dims[4];
  const size_t len = nb * post;
  double acc[NACC] = {0};
  for (size_t p0 = 0; p0 < pre; p0++) {
    for (size_t ia = 0; ia < na; ia++) {
      for (size_t im = 0; im < mid; im++) {
        const size_t r = (p0 * na + ia) * mid + im;
        const float *row = g + r * len;
        float *urow = u + r * len;
        const float *farow = fa + (p0 * mid + im) * len;
        const float *fbrow = fb + r * post;
        if (post == 1) {
          const float b = fbrow[0];
          BLOCKED(len, {
            const float uk = row[k] * farow[k] * b;
            urow[k] = uk;
            acc[j] += (double)uk * (double)uk;
          });
        } else {
          for (size_t ib = 0; ib < nb; ib++) {
            const float *seg = row + ib * post;
            const float *faseg = farow + ib * post;
            float *useg = urow + ib * post;
            BLOCKED(post, {
              const float uk = seg[k] * faseg[k] * fbrow[k];
              useg[k] = uk;
              acc[j] += (double)uk * (double)uk;
            });
          }
        }
      }
    }
  }
  return K(combine)(acc);
}

const lopt_kernels K(lopt_kernels) = {
    .name = SIMD_NAME,
    LOPT_CORE_KERNELS(LOPT_KERNEL_ENTRY)
};
