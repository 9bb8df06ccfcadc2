// Scalar math shared by every kernel family (kernels_impl.h, nn_kernels_impl.h, learned_kernels_impl.h):
// exp and log as branch-free float polynomials, the float/bits casts they use, and the fixed-tree
// combine of NACC interleaved partial sums. Included by each implementation header once per
// instruction set (K(name) names the copy; see simd_variants.h), so it has no include guard. The
// including .c file has included <math.h>, <stdint.h> and <string.h> and defines NACC.
//
// Why these: no -ffast-math, so libm's expf/logf stay scalar calls; these vectorize on every path
// and, with -ffp-contract=off, give the same bits on every instruction set. learned_small_impl.h's vexp
// is the 16-lane form of exp_f (same polynomial, limits and NaN handling, multiply-adds fused).

#ifndef K
#error "lopt_math.h is included by the *_impl.h kernel bodies only"
#endif

#ifndef LOPT_MATH_INLINE
#define LOPT_MATH_INLINE static inline __attribute__((always_inline))
#endif

LOPT_MATH_INLINE float K(bits_to_float)(int32_t i) {
  float f;
  memcpy(&f, &i, sizeof f);
  return f;
}

LOPT_MATH_INLINE int32_t K(float_to_bits)(float f) {
  int32_t i;
  memcpy(&i, &f, sizeof i);
  return i;
}

/* exp(x) within ~2 ulp: x = n·ln2 + r (Cody–Waite), degree-7 Taylor polynomial of e^r, times 2^n, as
   2^(n−1)·2 for n > 0 (so n = 128 does not overflow the exponent; n = −126 stays a normal 2^n).
   Overflow (x > ln FLT_MAX) gives +inf, x < log(FLT_MIN) gives 0, and x in [log(FLT_MIN), −87) gives
   e^−87 (no subnormals); NaN stays NaN. */
LOPT_MATH_INLINE float K(exp_f)(float x) {
  const float xc = x > 88.72283935546875f ? 88.72283935546875f : (x < -87.0f ? -87.0f : x);
  const float nf = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
  const float r = (xc - nf * 0.693145751953125f) - nf * 1.428606820309417232e-6f;
  /* e^r ≈ 1 + r + r²/2 + … + r⁷/5040 by Estrin's scheme (short dependency chains). */
  const float r2 = r * r, r4 = r2 * r2;
  const float q01 = 1.0f + r, q23 = 0.5f + r * (1.0f / 6.0f), q45 = 1.0f / 24.0f + r * (1.0f / 120.0f);
  const float q67 = 1.0f / 720.0f + r * (1.0f / 5040.0f);
  const float q = (q01 + r2 * q23) + r4 * (q45 + r2 * q67);
  const int32_t n = (int32_t)nf, up = n > 0;
  float result = (q * K(bits_to_float)((n - up + 127) << 23)) * (up ? 2.0f : 1.0f);
  result = x > 88.72283935546875f ? INFINITY : result;
  result = x < -87.33654022216797f ? 0.0f : result;
  return x != x ? x : result;
}

/* log(x) for x ≥ FLT_MIN within ~2 ulp: x = 2^e·m, m in [√½, √2), log m = 2·atanh((m − 1)/(m + 1))
   by its odd series. +inf stays +inf, NaN stays NaN. */
LOPT_MATH_INLINE float K(log_f)(float x) {
  const int32_t bits = K(float_to_bits)(x);
  int32_t e = ((bits >> 23) & 0xff) - 127;
  float m = K(bits_to_float)((bits & 0x007fffff) | 0x3f800000);
  const int big = m > 1.41421356237f;
  m = big ? m * 0.5f : m;
  e = big ? e + 1 : e;
  const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  float q = 1.0f / 11.0f;
  q = q * s2 + 1.0f / 9.0f;
  q = q * s2 + 1.0f / 7.0f;
  q = q * s2 + 1.0f / 5.0f;
  q = q * s2 + 1.0f / 3.0f;
  q = q * s2 + 1.0f;
  const float result = (float)e * 0.693147180559945309f + 2.0f * s * q;
  return (x != x || x == INFINITY) ? x : result;
}

/* The sum of acc[0 .. NACC) by a fixed pairwise tree (the same on every instruction set); acc is
   overwritten. */
static inline double K(combine)(double *acc) {
  for (size_t w = NACC / 2; w >= 1; w /= 2)
    for (size_t j = 0; j < w; j++) acc[j] = acc[j] + acc[j + w];
  return acc[0];
}
