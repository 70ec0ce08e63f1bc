#include "core/reqlog.h"

#include <pthread.h>
#include <stdlib.h>
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

static int
by_id(const void *a, const void *b)
{
    return strcmp(((const struct store_token *)a)->id, ((const struct store_token *)b)->id);
}

/* bsearch's order of a token id (the key) against a token. */
static int
id_vs_token(const void *id, const void *t)
{
    return strcmp(id, ((const struct store_token *)t)->id);
}

int
reqlog_list(struct store *s, int64_t tenant_id, const char *token_id, struct reqlog_entry *out,
            size_t max, size_t *n, struct err *err)
{
    struct store_token *tokens = NULL;
    size_t n_tokens = 0;
    *n = 0;
    if (store_token_list(s, tenant_id, &tokens, &n_tokens, err) < 0)
        return -1;
    if (n_tokens == 0) {
        /* No token, no request of the tenant's (and qsort and bsearch take no NULL array). */
        free(tokens);
        return 0;
    }
    qsort(tokens, n_tokens, sizeof(*tokens), by_id);
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < used && *n < max; i++) {
        const struct reqlog_entry *e =
            &ring[(next_slot + LIMIT_REQLOG_ENTRIES - 1 - i) % LIMIT_REQLOG_ENTRIES];
        if (e->tenant_id != tenant_id || (token_id && strcmp(e->token_id, token_id) != 0))
            continue;
        if (bsearch(e->token_id, tokens, n_tokens, sizeof(*tokens), id_vs_token) != NULL)
            out[(*n)++] = *e;
    }
    pthread_mutex_unlock(&mu);
    free(tokens);
    return 0;
}
