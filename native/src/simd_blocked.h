/* BLOCKED(n, BODY): runs BODY (which sees k, the element index, and j = k mod NACC, its partial sum)
   for k in [0, n), NACC elements per vectorized inner loop (LOOP), then the tail. The including file
   defines LOOP and NACC. */
#define BLOCKED(n, BODY)                                                   \
  do {                                                                     \
    const size_t n_ = (n);                                                 \
    size_t i_ = 0;                                                         \
    for (; i_ + NACC <= n_; i_ += NACC) {                                  \
      LOOP for (size_t j = 0; j < NACC; j++) {                             \
        const size_t k = i_ + j;                                           \
        BODY                                                               \
      }                                                                    \
    }                                                                      \
    for (size_t j = 0; i_ + j < n_; j++) {                                 \
      const size_t k = i_ + j;                                             \
      BODY                                                                 \
    }                                                                      \
  } while (0)
