#ifndef SCIMD_BASE_RATELIMIT_H
#define SCIMD_BASE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* Fixed-window counters by key (a client address, a token prefix), in a table of fixed size
 * so that a flood of distinct keys costs no memory: a new key takes the slot of its hash,
 * evicting what was there (an attacker can reset another key's count only by colliding with
 * it, and then is counted instead). Thread-safe (one mutex, held for a few instructions). */
struct ratelimit;

/* A limiter allowing max events per window_s seconds per key; max 0 disables it. */
struct ratelimit *ratelimit_new(int64_t max, int64_t window_s);
void ratelimit_free(struct ratelimit *rl);

/* False when no key can be limited at now_ms (none has used up its events in a window still
 * open): one atomic read, no lock, so the caller skips building keys on the hot path. */
bool ratelimit_any(struct ratelimit *rl, int64_t now_ms);

/* True when key has used up its events in the current window; *retry_s is then the seconds
 * until the window ends (at least 1). Counts nothing. */
bool ratelimit_is_limited(struct ratelimit *rl, const char *key, int64_t now_ms, int64_t *retry_s);

/* Counts one event for key. */
void ratelimit_count(struct ratelimit *rl, const char *key, int64_t now_ms);

#endif
