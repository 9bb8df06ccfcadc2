// The glue's thread pool (thread_pool.h). One caller at a time: each N-API instance (the main thread, or
// one worker_thread) owns its own pool.
//
// A call publishes (task, ctx, parts) under the mutex with a new generation number and wakes the
// workers; every thread then claims parts from one 64-bit ticket, generation in the high half and the
// next part in the low half, by compare-and-swap. A worker that wakes late for an old generation finds
// the ticket's generation changed and claims nothing, so it can never run an old task on a new call's
// parts; and the caller waits only for the parts to finish, not for sleeping workers to wake.
#include "thread_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

struct lopt_pool {
  pthread_mutex_t lock;
  pthread_cond_t work; /* a new generation, or stop */
  pthread_cond_t done; /* the last part of the current call finished */
  uint32_t generation; /* of the current call; guarded by lock */
  int stop;            /* guarded by lock */
  lopt_pool_task task; /* the current call; guarded by lock */
  void *ctx;
  size_t parts;
  _Atomic uint64_t ticket;  /* generation << 32 | next unclaimed part */
  _Atomic size_t pending;   /* parts of the current call not yet finished */
  size_t threads, started;  /* started: workers running */
  pthread_t workers[];
};

/* Claims and runs parts of generation gen until none is left; the last part to finish wakes the caller. */
static void run_parts(lopt_pool *pool, uint32_t gen, lopt_pool_task task, void *ctx, size_t parts) {
  for (;;) {
    uint64_t t = atomic_load(&pool->ticket);
    if ((uint32_t)(t >> 32) != gen || (t & 0xffffffffu) >= parts) return;
    if (!atomic_compare_exchange_weak(&pool->ticket, &t, t + 1)) continue;
    task(ctx, (size_t)(t & 0xffffffffu));
    if (atomic_fetch_sub(&pool->pending, 1) == 1) {
      pthread_mutex_lock(&pool->lock);
      pthread_cond_signal(&pool->done);
      pthread_mutex_unlock(&pool->lock);
    }
  }
}

static void *worker_main(void *arg) {
  lopt_pool *pool = arg;
  uint32_t seen = 0;
  pthread_mutex_lock(&pool->lock);
  for (;;) {
    while (!pool->stop && pool->generation == seen) pthread_cond_wait(&pool->work, &pool->lock);
    if (pool->stop) break;
    seen = pool->generation;
    lopt_pool_task task = pool->task;
    void *ctx = pool->ctx;
    size_t parts = pool->parts;
    pthread_mutex_unlock(&pool->lock);
    run_parts(pool, seen, task, ctx, parts);
    pthread_mutex_lock(&pool->lock);
  }
  pthread_mutex_unlock(&pool->lock);
  return NULL;
}

lopt_pool *lopt_pool_create(size_t threads) {
  if (threads < 2 || threads > LOPT_POOL_MAX_THREADS) return NULL;
  lopt_pool *pool = calloc(1, sizeof *pool + (threads - 1) * sizeof(pthread_t));
  if (!pool) return NULL;
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->work, NULL);
  pthread_cond_init(&pool->done, NULL);
  atomic_init(&pool->ticket, 0);
  atomic_init(&pool->pending, 0);
  pool->threads = threads;
  for (; pool->started < threads - 1; pool->started++) {
    if (pthread_create(&pool->workers[pool->started], NULL, worker_main, pool) != 0) {
      lopt_pool_destroy(pool);
      return NULL;
    }
  }
  return pool;
}

void lopt_pool_destroy(lopt_pool *pool) {
  if (!pool) return;
  pthread_mutex_lock(&pool->lock);
  pool->stop = 1;
  pthread_cond_broadcast(&pool->work);
  pthread_mutex_unlock(&pool->lock);
  for (size_t i = 0; i < pool->started; i++) pthread_join(pool->workers[i], NULL);
  pthread_cond_destroy(&pool->done);
  pthread_cond_destroy(&pool->work);
  pthread_mutex_destroy(&pool->lock);
  free(pool);
}

size_t lopt_pool_threads(const lopt_pool *pool) { return pool ? pool->threads : 1; }

void lopt_pool_run(lopt_pool *pool, size_t parts, lopt_pool_task task, void *ctx) {
  if (!pool || parts < 2) {
    for (size_t i = 0; i < parts; i++) task(ctx, i);
    return;
  }
  pthread_mutex_lock(&pool->lock);
  const uint32_t gen = ++pool->generation;
  pool->task = task, pool->ctx = ctx, pool->parts = parts;
  atomic_store(&pool->pending, parts);
  atomic_store(&pool->ticket, (uint64_t)gen << 32);
  pthread_cond_broadcast(&pool->work);
  pthread_mutex_unlock(&pool->lock);
  run_parts(pool, gen, task, ctx, parts);
  pthread_mutex_lock(&pool->lock);
  while (atomic_load(&pool->pending) > 0) pthread_cond_wait(&pool->done, &pool->lock);
  pthread_mutex_unlock(&pool->lock);
}

void lopt_pool_part(size_t n, size_t parts, size_t index, size_t align, size_t *start, size_t *len) {
  if (align < 1) align = 1;
  const size_t blocks = (n + align - 1) / align;
  const size_t base = blocks / parts, extra = blocks % parts;
  const size_t first = index * base + (index < extra ? index : extra);
  const size_t count = base + (index < extra ? 1 : 0);
  const size_t s = first * align < n ? first * align : n;
  const size_t e = (first + count) * align < n ? (first + count) * align : n;
  *start = s;
  *len = e - s;
}
