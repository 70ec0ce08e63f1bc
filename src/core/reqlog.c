#include "core/reqlog.h"

#include <pthread.h>
#include <string.h>

#include "base/limits.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct reqlog_entry ring[LIMIT_REQLOG_ENTRIES]; /* under mu */
static size_t next_slot, used;                         /* under mu */

void
reqlog_record(const struct reqlog_entry *e)
{
    pthread_mutex_lock(&mu);
    ring[next_slot] = *e;
    next_slot = (next_slot + 1) % LIMIT_REQLOG_ENTRIES;
    if (used < LIMIT_REQLOG_ENTRIES)
        used++;
    pthread_mutex_unlock(&mu);
}

size_t
reqlog_list(int64_t tenant_id, const char *token_id, struct reqlog_entry *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < used && n < max; i++) {
        const struct reqlog_entry *e =
            &ring[(next_slot + LIMIT_REQLOG_ENTRIES - 1 - i) % LIMIT_REQLOG_ENTRIES];
        if (e->tenant_id == tenant_id && (token_id == NULL || strcmp(e->token_id, token_id) == 0))
            out[n++] = *e;
    }
    pthread_mutex_unlock(&mu);
    return n;
}
