// The transformer's elementwise pieces, included by nn_kernels_impl.h once per instruction set:
// GELU (the tanh approximation, jax.nn.gelu's default and so Haiku's transformer examples') and the
// causal softmax of self-attention, fused: scale, mask (key j > query i), max, exp, sum and
// normalisation in one pass over each row of scores; its backward likewise.
//
// Numerics: tanh and exp are K(nn_tanh) and K(exp_f) (a few ulp, the same bits on every instruction
// set); row sums are in double in NACC interleaved partial sums combined by K(combine).

#ifndef K
#error "nn_transformer_impl.h is included by nn_kernels_impl.h only"
#endif

#define GELU_C 0.7978845608028654f /* sqrt(2/π) */
#define GELU_A 0.044715f

static void K(gelu_forward)(size_t n, const float *x, float *y) {
  // y = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); y may be x itself.
  LOOP for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    const float t = K(nn_tanh)(GELU_C * (v + GELU_A * (v * v * v)));
    y[i] = 0.5f * v * (1.0f + t);
  }
}

static void K(gelu_backward)(size_t n, const float *x, const float *dy, float *dx) {
  // dy·(½(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)), 1 − t² as (1 − t)(1 + t); dx may be dy.
  LOOP for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    const float t = K(nn_tanh)(GELU_C * (v + GELU_A * (v * v * v)));
    const float du = GELU_C * (1.0f + 3.0f * GELU_A * (v * v));
    dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * ((1.0f - t) * (1.0f + t)) * du);
  }
}

static void K(causal_softmax)(const float *x, size_t heads, size_t length, float scale, float *y) {
  // Row i of each head's [length, length] block: y_j = exp(s·x_j − max)/Σ over j ≤ i, 0 for j > i.
  for (size_t h = 0; h < heads; h++) {
    for (size_t i = 0; i < length; i++) {
      const float *xr = x + (h * length + i) * length;
      float *yr = y + (h * length + i) * length;
      const size_t n = i + 1;
      float max = scale * xr[0];
      for (size_t k = 1; k < n; k++) {
        const float z = scale * xr[k];
        max = z > max ? z : max;
      }
      double acc[NACC] = {0};
      BLOCKED(n, {
        const float e = K(exp_f)(scale * xr[k] - max);
        yr[k] = e;
        acc[j] += e;
      });
      const float inv = (float)(1.0 / K(combine)(acc));
      LOOP for (size_t k = 0; k < n; k++) yr[k] = yr[k] * inv;
      LOOP for (size_t k = n; k < length; k++) yr[k] = 0.0f;
    }
  }
}

static void K(causal_softmax_backward)(const float *y, const float *dy, size_t heads, size_t length, float scale,
                                       float *dx) {
  // dx_j = s·y_j·(dy_j − Σ_{k ≤ i} y_k·dy_k) for j ≤ i, 0 for j > i; dx may be dy itself.
  for (size_t h = 0; h < heads; h++) {
    for (size_t i = 0; i < length; i++) {
      const size_t row = (h * length + i) * length;
      const float *yr = y + row, *dyr = dy + row;
      float *dxr = dx + row;
      const size_t n = i + 1;
      double acc[NACC] = {0};
      BLOCKED(n, { acc[j] += (double)yr[k] * (double)dyr[k]; });
      const float dot = (float)K(combine)(acc);
      LOOP for (size_t k = 0; k < n; k++) dxr[k] = scale * (yr[k] * (dyr[k] - dot));
      LOOP for (size_t k = n; k < length; k++) dxr[k] = 0.0f;
    }
  }
}

#undef GELU_C
#undef GELU_A
