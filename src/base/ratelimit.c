#include "base/ratelimit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/xmalloc.h"

/* 4 096 slots of ~80 bytes: a third of a MiB per limiter, whatever the traffic. */
#define SLOTS   4096
#define KEY_MAX 64

struct slot {
    char key[KEY_MAX];
    int64_t window_start_ms;
    int64_t count;
};

struct ratelimit {
    int64_t max;
    int64_t window_ms;
    pthread_mutex_t mu; /* guards slots */
    /* The end of the latest window in which some key reached max: before it a key may be
     * limited, after it none is (ratelimit_any). Written under mu, read without it. */
    _Atomic int64_t limited_until_ms;
    struct slot slots[SLOTS];
};

struct ratelimit *
ratelimit_new(int64_t max, int64_t window_s)
{
    struct ratelimit *rl = xcalloc(1, sizeof(*rl));
    rl->max = max;
    rl->window_ms = (window_s > 0 ? window_s : 1) * 1000;
    pthread_mutex_init(&rl->mu, NULL);
    return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

/* FNV-1a */
static size_t
slot_of(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % SLOTS);
}

/* The key's slot, reset when it held another key or its window is over. Under mu. */
static struct slot *
current(struct ratelimit *rl, const char *key, int64_t now_ms)
{
    struct slot *s = &rl->slots[slot_of(key)];
    if (strncmp(s->key, key, KEY_MAX - 1) != 0 || now_ms - s->window_start_ms >= rl->window_ms) {
        str_copy(s->key, sizeof(s->key), key);
        s->window_start_ms = now_ms;
        s->count = 0;
    }
    return s;
}

bool
ratelimit_any(struct ratelimit *rl, int64_t now_ms)
{
    return rl != NULL && rl->max > 0 &&
           now_ms < atomic_load_explicit(&rl->limited_until_ms, memory_order_relaxed);
}

bool
ratelimit_is_limited(struct ratelimit *rl, const char *key, int64_t now_ms, int64_t *retry_s)
{
    if (!ratelimit_any(rl, now_ms))
        return false;
    pthread_mutex_lock(&rl->mu);
    struct slot *s = current(rl, key, now_ms);
    bool limited = s->count >= rl->max;
    int64_t left_ms = s->window_start_ms + rl->window_ms - now_ms;
    pthread_mutex_unlock(&rl->mu);
    if (limited && retry_s)
        *retry_s = left_ms > 1000 ? (left_ms + 999) / 1000 : 1;
    return limited;
}

void
ratelimit_count(struct ratelimit *rl, const char *key, int64_t now_ms)
{
    if (rl == NULL || rl->max <= 0)
        return;
    pthread_mutex_lock(&rl->mu);
    struct slot *s = current(rl, key, now_ms);
    int64_t end = s->window_start_ms + rl->window_ms;
    if (++s->count >= rl->max &&
        end > atomic_load_explicit(&rl->limited_until_ms, memory_order_relaxed))
        atomic_store_explicit(&rl->limited_until_ms, end, memory_order_relaxed);
    pthread_mutex_unlock(&rl->mu);
}
