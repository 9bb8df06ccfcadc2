// Layer kernel bodies, included by nn_kernels.c once per instruction set with K(name) appending the
// set's suffix; the surrounding `#pragma GCC target` picks the instructions.
//
// Numerics (no -ffast-math; -ffp-contract=off, so every instruction set gives the same bits):
// - sigmoid and tanh use the branch-free float approximations below (exp: exp_f of lopt_math.h,
//   Cody–Waite reduction and a degree-7 polynomial, within ~2 ulp; tanh: an odd polynomial below
//   0.625, 1 − 2/(e^{2|x|} + 1) above), so GCC vectorizes them on every path while libm's scalar expf would not; the reference
//   computes in double and rounds on store, and the two agree to a few ulp;
// - sigmoid is evaluated from e = exp(−|x|) (never overflows), with 1 − sigmoid taken from the same
//   e, so σ(x)(1 − σ(x)) keeps its relative accuracy in both tails;
// - the loss of sigmoid_mse accumulates in double in NACC interleaved partial sums, spatial_mean in
//   double in the reference's order; col2im and scatter_add_rows add in float in the reference's
//   order.

#ifndef K
#error "nn_kernels_impl.h is included by nn_kernels.c only"
#endif

#define NN_INLINE static inline __attribute__((always_inline))

#include "lopt_math.h"

NN_INLINE float K(nn_sigmoid)(float x) {
  const float e = K(exp_f)(-fabsf(x));
  const float d = 1.0f + e;
  return x >= 0.0f ? 1.0f / d : e / d; /* NaN: e is NaN, so is e / d */
}

NN_INLINE float K(nn_tanh)(float x) {
  const float ax = fabsf(x);
  const float e = K(exp_f)(ax + ax);
  const float big = 1.0f - 2.0f / (e + 1.0f); /* |x| > 0.625: no cancellation (result > 0.55) */
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  return ax > 0.625f ? (x < 0.0f ? -big : big) : small;
}

// ---- convolution ----------------------------------------------------------------------------------

static void K(im2col)(const float *x, const lopt_conv_geometry *g, float *cols) {
  // One row per output position (b, oh, ow), columns in (kh, kw, c) order. A kernel row that lies
  // fully inside the image is one contiguous run of k·C floats of x (NHWC), copied at once.
  const size_t H = g->height, W = g->width, C = g->channels, k = g->kernel, s = g->stride;
  const ptrdiff_t pt = (ptrdiff_t)g->pad_top, pl = (ptrdiff_t)g->pad_left;
  const size_t run = k * C, width = k * run;
  float *out = cols;
  for (size_t b = 0; b < g->batch; b++) {
    const float *image = x + b * H * W * C;
    for (size_t oh = 0; oh < g->out_height; oh++) {
      const ptrdiff_t ih0 = (ptrdiff_t)(oh * s) - pt;
      for (size_t ow = 0; ow < g->out_width; ow++, out += width) {
        const ptrdiff_t iw0 = (ptrdiff_t)(ow * s) - pl;
        for (size_t kh = 0; kh < k; kh++) {
          const ptrdiff_t ih = ih0 + (ptrdiff_t)kh;
          float *dst = out + kh * run;
          if (ih < 0 || ih >= (ptrdiff_t)H) {
            memset(dst, 0, run * sizeof(float));
            continue;
          }
          const float *row = image + (size_t)ih * W * C;
          if (iw0 >= 0 && iw0 + (ptrdiff_t)k <= (ptrdiff_t)W) {
            memcpy(dst, row + (size_t)iw0 * C, run * sizeof(float));
            continue;
          }
          for (size_t kw = 0; kw < k; kw++) {
            const ptrdiff_t iw = iw0 + (ptrdiff_t)kw;
            if (iw < 0 || iw >= (ptrdiff_t)W) {
              memset(dst + kw * C, 0, C * sizeof(float));
            } else {
              memcpy(dst + kw * C, row + (size_t)iw * C, C * sizeof(float));
            }
          }
        }
      }
    }
  }
}

static void K(col2im)(const float *cols, const lopt_conv_geometry *g, float *dx) {
  // dx ← 0, then every column entry is added back where im2col took it from, in row order.
  const size_t H = g->height, W = g->width, C = g->channels, k = g->kernel, s = g->stride;
  const ptrdiff_t pt = (ptrdiff_t)g->pad_top, pl = (ptrdiff_t)g->pad_left;
  const size_t width = k * k * C;
  const size_t total = g->batch * H * W * C;
  LOOP for (size_t i = 0; i < total; i++) dx[i] = 0.0f;
  const float *src = cols;
  for (size_t b = 0; b < g->batch; b++) {
    float *image = dx + b * H * W * C;
    for (size_t oh = 0; oh < g->out_height; oh++) {
      const ptrdiff_t ih0 = (ptrdiff_t)(oh * s) - pt;
      for (size_t ow = 0; ow < g->out_width; ow++, src += width) {
        const ptrdiff_t iw0 = (ptrdiff_t)(ow * s) - pl;
        for (size_t kh = 0; kh < k; kh++) {
          const ptrdiff_t ih = ih0 + (ptrdiff_t)kh;
          if (ih < 0 || ih >= (ptrdiff_t)H) continue;
          float *row = image + (size_t)ih * W * C;
          for (size_t kw = 0; kw < k; kw++) {
            const ptrdiff_t iw = iw0 + (ptrdiff_t)kw;
            if (iw < 0 || iw >= (ptrdiff_t)W) continue;
            float *d = row + (size_t)iw * C;
            const float *v = src + (kh * k + kw) * C;
            LOOP for (size_t c = 0; c < C; c++) d[c] = d[c] + v[c];
          }
        }
      }
    }
  }
}

#include "nn_conv_impl.h"

// ---- pooling --------------------------------------------------------------------------------------

static void K(spatial_mean)(const float *x, size_t batch, size_t positions, size_t channels, float *out) {
  // Per image and channel: the sum over positions in double, in position order, then / positions.
  double acc[COLBLOCK];
  const double count = (double)positions;
  for (size_t b = 0; b < batch; b++) {
    const float *image = x + b * positions * channels;
    for (size_t c0 = 0; c0 < channels; c0 += COLBLOCK) {
      const size_t w = channels - c0 < COLBLOCK ? channels - c0 : COLBLOCK;
      LOOP for (size_t c = 0; c < w; c++) acc[c] = 0.0;
      for (size_t p = 0; p < positions; p++) {
        const float *row = image + p * channels + c0;
        LOOP for (size_t c = 0; c < w; c++) acc[c] += row[c];
      }
      float *o = out + b * channels + c0;
      LOOP for (size_t c = 0; c < w; c++) o[c] = (float)(acc[c] / count);
    }
  }
}

static void K(spatial_mean_backward)(const float *dy, size_t batch, size_t positions, size_t channels, float *dx) {
  const float count = (float)positions;
  for (size_t b = 0; b < batch; b++) {
    const float *g = dy + b * channels;
    for (size_t p = 0; p < positions; p++) {
      float *row = dx + (b * positions + p) * channels;
      LOOP for (size_t c = 0; c < channels; c++) row[c] = g[c] / count;
    }
  }
}

// ---- activations and the autoencoder loss ---------------------------------------------------------

static void K(sigmoid)(size_t n, const float *x, float *y) {
  LOOP for (size_t i = 0; i < n; i++) y[i] = K(nn_sigmoid)(x[i]);
}

static void K(tanh)(size_t n, const float *x, float *y) {
  LOOP for (size_t i = 0; i < n; i++) y[i] = K(nn_tanh)(x[i]);
}

static double K(sigmoid_mse)(size_t n, const float *logits, const float *target, float *dlogits) {
  // d/dlogit of mean((t − σ)²) = 2(σ − t)·σ(1 − σ)/n. dlogits may be logits itself. (No commas in
  // BLOCKED bodies: one declaration per statement.)
  double acc[NACC] = {0};
  const float scale = (float)(2.0 / (double)n);
  if (dlogits) {
    BLOCKED(n, {
      const float x = logits[k];
      const float e = K(exp_f)(-fabsf(x));
      const float d = 1.0f + e;
      const float a = 1.0f / d;
      const float b = e / d;
      const float s = x >= 0.0f ? a : b;
      const float s1 = x >= 0.0f ? b : a;
      const float diff = s - target[k];
      acc[j] += (double)diff * (double)diff;
      dlogits[k] = scale * diff * s * s1;
    });
  } else {
    BLOCKED(n, {
      const float diff = K(nn_sigmoid)(logits[k]) - target[k];
      acc[j] += (double)diff * (double)diff;
    });
  }
  return K(combine)(acc) / (double)n;
}

// ---- normalization, max pooling, the residual sum, GELU, attention's softmax -----------------------

#include "nn_norm_impl.h"
#include "nn_pool_impl.h"
#include "nn_transformer_impl.h"

// ---- embedding and layout -------------------------------------------------------------------------

static void K(gather_rows)(const float *table, size_t row_length, const int32_t *indices, size_t count,
                           float *out) {
  for (size_t i = 0; i < count; i++)
    memcpy(out + i * row_length, table + (size_t)indices[i] * row_length, row_length * sizeof(float));
}

static void K(scatter_add_rows)(const float *src, size_t row_length, const int32_t *indices, size_t count,
                                float *table) {
  for (size_t i = 0; i < count; i++) {
    float *to = table + (size_t)indices[i] * row_length;
    const float *from = src + i * row_length;
    LOOP for (size_t j = 0; j < row_length; j++) to[j] = to[j] + from[j];
  }
}

static void K(swap_leading_axes)(const float *x, size_t d0, size_t d1, size_t inner, float *out) {
  for (size_t i = 0; i < d0; i++)
    for (size_t j = 0; j < d1; j++)
      memcpy(out + (j * d0 + i) * inner, x + (i * d1 + j) * inner, inner * sizeof(float));
}

// ---- LSTM cell (Haiku: gates i, g, f, o; forget bias +1) ------------------------------------------

static void K(lstm_cell_forward)(float *gates, const float *c_prev, size_t rows, size_t hidden, float *c, float *h,
                                 float *tanh_c) {
  // c may be c_prev itself (each element is read before it is written).
  for (size_t r = 0; r < rows; r++) {
    float *gi = gates + r * 4 * hidden, *gg = gi + hidden, *gf = gg + hidden, *go = gf + hidden;
    const float *cp = c_prev + r * hidden;
    float *cr = c + r * hidden, *hr = h + r * hidden, *tr = tanh_c + r * hidden;
    LOOP for (size_t j = 0; j < hidden; j++) {
      const float i = K(nn_sigmoid)(gi[j]);
      const float g = K(nn_tanh)(gg[j]);
      const float f = K(nn_sigmoid)(gf[j] + 1.0f);
      const float o = K(nn_sigmoid)(go[j]);
      const float cn = f * cp[j] + i * g;
      const float tc = K(nn_tanh)(cn);
      gi[j] = i;
      gg[j] = g;
      gf[j] = f;
      go[j] = o;
      cr[j] = cn;
      tr[j] = tc;
      hr[j] = o * tc;
    }
  }
}

static void K(lstm_cell_backward)(const float *act, const float *c_prev, const float *tanh_c, const float *dh,
                                  float *dc, size_t rows, size_t hidden, float *dgates) {
  // 1 − t² as (1 − t)(1 + t): accurate when |t| is near 1.
  for (size_t r = 0; r < rows; r++) {
    const float *ai = act + r * 4 * hidden, *ag = ai + hidden, *af = ag + hidden, *ao = af + hidden;
    float *di = dgates + r * 4 * hidden, *dg = di + hidden, *df = dg + hidden, *dout = df + hidden;
    const float *cp = c_prev + r * hidden, *tr = tanh_c + r * hidden, *dhr = dh + r * hidden;
    float *dcr = dc + r * hidden;
    LOOP for (size_t j = 0; j < hidden; j++) {
      const float i = ai[j], g = ag[j], f = af[j], o = ao[j], tc = tr[j], dhj = dhr[j];
      const float dcn = dcr[j] + dhj * o * ((1.0f - tc) * (1.0f + tc));
      dout[j] = dhj * tc * (o * (1.0f - o));
      di[j] = dcn * g * (i * (1.0f - i));
      dg[j] = dcn * i * ((1.0f - g) * (1.0f + g));
      df[j] = dcn * cp[j] * (f * (1.0f - f));
      dcr[j] = dcn * f;
    }
  }
}

const lopt_nn_kernels K(lopt_nn_kernels) = {
    .name = SIMD_NAME,
    LOPT_NN_KERNELS(LOPT_KERNEL_ENTRY)
};

#undef NN_INLINE
