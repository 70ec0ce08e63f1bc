#include "core/retention.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "core/tx.h"

#define DAY_MS (24LL * 3600 * 1000)

static atomic_uint_fast64_t pruned_total;
static atomic_uint_fast64_t passes_total;

int64_t
retention_cutoff_ms(int64_t keep_days, int64_t now_ms)
{
    if (keep_days <= 0)
        return 0;
    return now_ms - keep_days * DAY_MS;
}

int
retention_prune_batch(struct store *s, int64_t before_ms, size_t limit, int64_t *n, struct err *err)
{
    *n = 0;
    if (limit > LIMIT_PRUNE_BATCH)
        limit = LIMIT_PRUNE_BATCH;
    if (before_ms <= 0 || limit == 0)
        return 0;
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (store_event_prune(s, before_ms, limit, n, err) < 0) {
        store_tx_rollback(s);
        return -1;
    }
    if (tx_commit(s, err) < 0) {
        *n = 0;
        return -1;
    }
    atomic_fetch_add(&pruned_total, (uint_fast64_t)*n);
    return 0;
}

void
retention_counters(uint64_t *pruned, uint64_t *passes)
{
    *pruned = atomic_load(&pruned_total);
    *passes = atomic_load(&passes_total);
}

struct retention_worker {
    struct store *store;
    struct retention_settings cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
};

/* Waits ms or until stopped; the caller holds w->mu. True when stopped. */
static bool
wait_ms(struct retention_worker *w, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    until.tv_sec += ms / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    /* Bounded: a spurious wake-up only shortens the wait. */
    if (!w->stop)
        pthread_cond_timedwait(&w->cond, &w->mu, &until);
    return w->stop;
}

/* One pass; the caller holds w->mu, released around each batch (no lock across the
 * database). Batches until one comes back short, the pass limit, or stop. */
static void
pass(struct retention_worker *w)
{
    int64_t start = clock_now_ms(), cutoff = retention_cutoff_ms(w->cfg.keep_days, start);
    int64_t total = 0;
    int batches = 0;
    struct err err = { 0 };
    int rc = 0;
    while (cutoff > 0 && batches < LIMIT_PRUNE_BATCHES_PER_PASS) {
        int64_t n = 0;
        pthread_mutex_unlock(&w->mu);
        rc = retention_prune_batch(w->store, cutoff, LIMIT_PRUNE_BATCH, &n, &err);
        pthread_mutex_lock(&w->mu);
        batches++;
        total += n;
        if (rc < 0 || n < LIMIT_PRUNE_BATCH || wait_ms(w, LIMIT_PRUNE_PAUSE_MS))
            break;
    }
    if (rc < 0)
        log_warn("retention: pruning stopped after %lld events: %s; the next pass retries",
                 (long long)total, err.detail);
    else if (total > 0)
        log_info("retention: pruned %lld events older than %lld days in %d batches (%lld ms)",
                 (long long)total, (long long)w->cfg.keep_days, batches,
                 (long long)(clock_now_ms() - start));
    atomic_fetch_add(&passes_total, 1);
}

static void *
run(void *arg)
{
    struct retention_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        pass(w);
        if (wait_ms(w, w->cfg.interval_s * 1000))
            break;
    }
    pthread_mutex_unlock(&w->mu);
    store_thread_done(w->store);
    return NULL;
}

struct retention_worker *
retention_worker_start(struct store *s, const struct retention_settings *cfg, struct err *err)
{
    struct retention_worker *w = xcalloc(1, sizeof(*w));
    w->store = s;
    w->cfg = *cfg;
    if (w->cfg.interval_s < 1)
        w->cfg.interval_s = 1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&w->mu, NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->mu);
        free(w);
        err_set(err, ERR_INTERNAL, "cannot start the event pruner");
        return NULL;
    }
    return w;
}

void
retention_worker_stop(struct retention_worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
