#ifndef SCIMD_BASE_TICKER_H
#define SCIMD_BASE_TICKER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

/* A background thread that calls tick(arg, t) every interval_ms until stopped (the webhook
 * deliverer, the event pruner). A stop wakes a wait at once; the tick in progress finishes
 * (a long tick pauses with ticker_sleep, which a stop also ends). */
struct ticker;

struct ticker_spec {
    const char *name; /* for the error when the thread cannot start */
    void (*tick)(void *arg, struct ticker *t);
    void (*done)(void *arg); /* on the thread, after the last tick; NULL: none */
    void *arg;
    int64_t interval_ms; /* the wait after each tick, at least 1 */
};

struct ticker *ticker_start(const struct ticker_spec *spec, struct err *err);
/* Waits ms, or less when stopped meanwhile. True when stopped. */
bool ticker_sleep(struct ticker *t, int64_t ms);
/* Stops, waits for the thread to end, and frees. NULL is a no-op. */
void ticker_stop(struct ticker *t);

#endif
