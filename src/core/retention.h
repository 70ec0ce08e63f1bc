#ifndef SCIMD_CORE_RETENTION_H
#define SCIMD_CORE_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

/* Event retention (issue 17; docs/configuration.md, event_retention_days). The events table
 * is both the audit trail and the webhook outbox: a background pruner deletes events older
 * than the retention, in small transactions, but never one that a webhook of its tenant has
 * not delivered yet (enabled or not); those stay until delivered or the webhook is deleted.
 * Pruning is idempotent, so every instance runs it against a shared database. */

struct retention_settings {
    int64_t keep_days;  /* events younger than this are kept; 0 keeps every event forever */
    int64_t interval_s; /* time between two passes */
};

/* The created_ms before which an event may go at now_ms: now - keep_days days (0 when
 * keep_days is 0, which matches no event). */
int64_t retention_cutoff_ms(int64_t keep_days, int64_t now_ms);

/* One batch, in its own transaction: deletes up to `limit` (at most LIMIT_PRUNE_BATCH)
 * events created before before_ms that every webhook of their tenant has delivered, oldest
 * first. *n gets how many went; fewer than `limit` means nothing more is due. */
int retention_prune_batch(struct store *s, int64_t before_ms, size_t limit, int64_t *n,
                          struct err *err);

/* Process-wide counters for /metrics: events pruned and passes finished since start. */
void retention_counters(uint64_t *pruned, uint64_t *passes);

/* The background pruner: a thread running a pass every interval_s, the first one at start.
 * A pass prunes batch after batch (pausing LIMIT_PRUNE_PAUSE_MS between them, at most
 * LIMIT_PRUNE_BATCHES_PER_PASS) until a batch comes back short, and logs what it pruned. */
struct retention_worker;
struct retention_worker *
retention_worker_start(struct store *s, const struct retention_settings *cfg, struct err *err);
/* Stops (after the batch in progress, if any) and frees. NULL is a no-op. */
void retention_worker_stop(struct retention_worker *w);

#endif
