// Max pooling and the elementwise sum of a residual connection, included by nn_kernels_impl.h once
// per instruction set. Max pooling reads windows exactly as im2col does (ConvGeometry), ignoring the
// positions outside the image (Haiku/TensorFlow SAME padding pads with −inf); its backward routes each
// output gradient to the input element that won (the first maximum in (kh, kw) order), adding in
// output order, so results are deterministic and the same on every instruction set.

#ifndef K
#error "nn_pool_impl.h is included by nn_kernels_impl.h only"
#endif

static void K(max_pool_forward)(const float *x, const lopt_conv_geometry *g, float *y, int32_t *argmax) {
  const size_t H = g->height, W = g->width, C = g->channels, k = g->kernel, s = g->stride;
  const ptrdiff_t pt = (ptrdiff_t)g->pad_top, pl = (ptrdiff_t)g->pad_left;
  float *yo = y;
  int32_t *ao = argmax;
  for (size_t b = 0; b < g->batch; b++) {
    const size_t image = b * H * W * C;
    for (size_t oh = 0; oh < g->out_height; oh++) {
      for (size_t ow = 0; ow < g->out_width; ow++, yo += C, ao += C) {
        LOOP for (size_t c = 0; c < C; c++) yo[c] = -INFINITY, ao[c] = -1;
        for (size_t kh = 0; kh < k; kh++) {
          const ptrdiff_t ih = (ptrdiff_t)(oh * s) - pt + (ptrdiff_t)kh;
          if (ih < 0 || ih >= (ptrdiff_t)H) continue;
          for (size_t kw = 0; kw < k; kw++) {
            const ptrdiff_t iw = (ptrdiff_t)(ow * s) - pl + (ptrdiff_t)kw;
            if (iw < 0 || iw >= (ptrdiff_t)W) continue;
            const size_t at = image + ((size_t)ih * W + (size_t)iw) * C;
            const float *v = x + at;
            LOOP for (size_t c = 0; c < C; c++) {
              const bool take = v[c] > yo[c] || ao[c] < 0;
              yo[c] = take ? v[c] : yo[c];
              ao[c] = take ? (int32_t)(at + c) : ao[c];
            }
          }
        }
      }
    }
  }
}

static void K(max_pool_backward)(const float *dy, const int32_t *argmax, size_t count, size_t dx_len, float *dx) {
  LOOP for (size_t i = 0; i < dx_len; i++) dx[i] = 0.0f;
  for (size_t i = 0; i < count; i++) {
    if (argmax[i] >= 0) dx[argmax[i]] = dx[argmax[i]] + dy[i];
  }
}

static void K(add)(size_t n, const float *a, const float *b, float *out) {
  LOOP for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}
