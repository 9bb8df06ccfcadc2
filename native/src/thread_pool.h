// A small pthread pool for the N-API glue: it runs the parts of one kernel call (disjoint element ranges,
// sub-batches of images) on several threads. The kernels themselves (kernels*.c, nn_kernels*.c,
// lopt_kernels*.c) stay free of threads, since the same sources also build to WebAssembly.
//
// Determinism: how a call is cut into parts depends only on the part count the caller chooses (the
// configured thread count), never on which thread runs a part or when. Callers that reduce keep one
// partial result per part and combine them in part order, so a given thread count always gives the same
// bits, and one part is exactly the unthreaded call.
#ifndef LOPT_THREAD_POOL_H
#define LOPT_THREAD_POOL_H

#include <stddef.h>

/* The most threads a pool runs (and so the most parts a call is cut into). */
#define LOPT_POOL_MAX_THREADS 256

typedef struct lopt_pool lopt_pool;

/* Runs part `index` of a call; ctx is the caller's description of the whole call. */
typedef void (*lopt_pool_task)(void *ctx, size_t index);

/* A pool of `threads` threads in all: the calling thread and threads − 1 workers. NULL when threads is
   not in [2, LOPT_POOL_MAX_THREADS] or a worker cannot start. */
lopt_pool *lopt_pool_create(size_t threads);

/* Stops and joins the workers; NULL is allowed. */
void lopt_pool_destroy(lopt_pool *pool);

/* Threads of the pool, the caller included. */
size_t lopt_pool_threads(const lopt_pool *pool);

/* Runs task(ctx, i) for every i in [0, parts) on the pool's threads (the caller takes parts too) and
   returns when all have finished. With a NULL pool, or one part, the caller runs them all in order. */
void lopt_pool_run(lopt_pool *pool, size_t parts, lopt_pool_task task, void *ctx);

/* Part `index` of `parts` of the range [0, n): [*start, *start + *len). Boundaries fall on multiples of
   `align` elements (so vector loops see the same alignment as an unsplit call), and parts differ in size
   by at most `align`; trailing parts may be empty when n is small. */
void lopt_pool_part(size_t n, size_t parts, size_t index, size_t align, size_t *start, size_t *len);

#endif
