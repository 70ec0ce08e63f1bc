#include "core/retention.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/ticker.h"
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
    struct ticker *ticker;
};

/* One pass: batches until one comes back short, the pass limit, or a stop (which also ends
 * the pause between batches). */
static void
pass(void *arg, struct ticker *t)
{
    struct retention_worker *w = arg;
    int64_t start = clock_now_ms(), cutoff = retention_cutoff_ms(w->cfg.keep_days, start);
    int64_t total = 0;
    int batches = 0;
    struct err err = { 0 };
    int rc = 0;
    while (cutoff > 0 && batches < LIMIT_PRUNE_BATCHES_PER_PASS) {
        int64_t n = 0;
        rc = retention_prune_batch(w->store, cutoff, LIMIT_PRUNE_BATCH, &n, &err);
        batches++;
        total += n;
        if (rc < 0 || n < LIMIT_PRUNE_BATCH || ticker_sleep(t, LIMIT_PRUNE_PAUSE_MS))
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

static void
pruner_done(void *arg)
{
    store_thread_done(((struct retention_worker *)arg)->store);
}

struct retention_worker *
retention_worker_start(struct store *s, const struct retention_settings *cfg, struct err *err)
{
    struct retention_worker *w = xcalloc(1, sizeof(*w));
    w->store = s;
    w->cfg = *cfg;
    if (w->cfg.interval_s < 1)
        w->cfg.interval_s = 1;
    struct ticker_spec spec = { .name = "event pruner",
                                .tick = pass,
                                .done = pruner_done,
                                .arg = w,
                                .interval_ms = cfg->interval_s * 1000 };
    if ((w->ticker = ticker_start(&spec, err)) == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

void
retention_worker_stop(struct retention_worker *w)
{
    if (w == NULL)
        return;
    ticker_stop(w->ticker);
    free(w);
}
