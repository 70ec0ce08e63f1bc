#include "http/answers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/limits.h"
#include "base/str.h"
#include "base/xmalloc.h"

/* A kept answer costs its body and about this much more: libmicrohttpd's response with its
 * eight headers, and the entry. */
#define ENTRY_OVERHEAD_BYTES 1024
/* Larger answers (pages of a listing, read once by an import) are not kept. */
#define ENTRY_MAX_BYTES (64 * 1024)
/* Slots are locked in stripes: two threads contend only when their keys share one. */
#define STRIPES 64
/* The key is made of the request in one buffer; longer requests are not kept. */
#define KEY_TEXT_MAX 8192

struct entry {
    struct http_answer_key key;
    struct store_generation gen;
    struct http_answer_meta meta;
    struct MHD_Response *response; /* the cache's reference */
    size_t bytes;
};

/* One stripe's lock on a cache line of its own: threads locking different stripes do not
 * pass the line back and forth. */
struct stripe {
    _Alignas(64) pthread_mutex_t lock;
};

struct http_answers {
    size_t max_bytes;
    size_t mask; /* slots - 1; slots is a power of two */
    struct entry **slots;
    struct stripe stripes[STRIPES];
    atomic_size_t bytes;
};

struct http_answers *
http_answers_new(size_t max_bytes)
{
    if (max_bytes == 0)
        return NULL;
    struct http_answers *a = xcalloc(1, sizeof(*a));
    a->max_bytes = max_bytes;
    /* About one slot per smallest answer the budget holds. */
    size_t slots = STRIPES;
    while (slots * 2 <= max_bytes / ENTRY_OVERHEAD_BYTES)
        slots *= 2;
    a->mask = slots - 1;
    a->slots = xcalloc(slots, sizeof(*a->slots));
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&a->stripes[i].lock, NULL);
    return a;
}

static void
entry_free(struct entry *e)
{
    if (e == NULL)
        return;
    MHD_destroy_response(e->response);
    free(e);
}

void
http_answers_free(struct http_answers *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i <= a->mask; i++)
        entry_free(a->slots[i]);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&a->stripes[i].lock);
    free(a->slots);
    free(a);
}

static bool
add(char *text, size_t *n, const char *s)
{
    size_t len = strlen(s) + 1;
    if (*n + len > KEY_TEXT_MAX)
        return false;
    memcpy(text + *n, s, len);
    *n += len;
    return true;
}

bool
http_answers_key(const struct api_call *call, struct http_answer_key *k)
{
    /* A conditional GET's answer depends on what the client holds (304, 412). */
    if (strcmp(call->method, "GET") != 0 || call->authorization == NULL || call->if_match != NULL ||
        call->if_none_match != NULL)
        return false;
    /* Every part of the request a SCIM read looks at, each ending in its NUL: no two
     * requests make the same text. */
    char text[KEY_TEXT_MAX];
    size_t n = 0;
    bool ok = add(text, &n, call->authorization) && add(text, &n, call->path_prefix) &&
              add(text, &n, call->path);
    for (int i = 0; ok && i < call->n_args; i++)
        ok = add(text, &n, call->args[i].key) && add(text, &n, call->args[i].value);
    if (ok)
        crypto_sha256(text, n, k->digest);
    crypto_wipe(text, n);
    return ok;
}

static size_t
slot_of(const struct http_answers *a, const struct http_answer_key *k)
{
    size_t h;
    memcpy(&h, k->digest, sizeof(h));
    return h & a->mask;
}

static bool
usable(const struct http_answer_meta *m, int64_t now_ms)
{
    return (m->token_expires_ms == 0 || m->token_expires_ms > now_ms) &&
           now_ms - m->token_last_used_ms < LIMIT_TOKEN_TOUCH_SECONDS * 1000;
}

/* Takes e out of slot i (its stripe locked) and returns it for entry_free outside the lock. */
static struct entry *
take(struct http_answers *a, size_t i)
{
    struct entry *e = a->slots[i];
    a->slots[i] = NULL;
    if (e)
        atomic_fetch_sub(&a->bytes, e->bytes);
    return e;
}

static bool
same_generation(const struct store_generation *a, const struct store_generation *b)
{
    return a->known && b->known && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

bool
http_answers_kept(struct http_answers *a, const struct http_answer_key *k)
{
    size_t i = slot_of(a, k);
    pthread_mutex_t *lock = &a->stripes[i % STRIPES].lock;
    pthread_mutex_lock(lock);
    bool kept = a->slots[i] && memcmp(&a->slots[i]->key, k, sizeof(*k)) == 0;
    pthread_mutex_unlock(lock);
    return kept;
}

bool
http_answers_serve(struct http_answers *a, const struct http_answer_key *k,
                   const struct store_generation *gen, int64_t now_ms, struct MHD_Connection *conn,
                   struct http_answer_meta *meta, enum MHD_Result *ret)
{
    size_t i = slot_of(a, k);
    pthread_mutex_t *lock = &a->stripes[i % STRIPES].lock;
    struct entry *stale = NULL;
    bool served = false;
    pthread_mutex_lock(lock);
    struct entry *e = a->slots[i];
    if (e && memcmp(&e->key, k, sizeof(*k)) == 0) {
        if (same_generation(&e->gen, gen) && usable(&e->meta, now_ms)) {
            /* Queued under the lock: the slot's reference keeps the response alive until
             * libmicrohttpd holds its own. */
            *ret = MHD_queue_response(conn, (unsigned)e->meta.status, e->response);
            *meta = e->meta;
            served = true;
        } else {
            stale = take(a, i); /* never served again: free its memory now */
        }
    }
    pthread_mutex_unlock(lock);
    entry_free(stale);
    return served;
}

bool
http_answers_put(struct http_answers *a, const struct http_answer_key *k,
                 const struct store_generation *gen, const struct http_answer_meta *meta,
                 struct MHD_Response *r, size_t body_bytes)
{
    size_t bytes = body_bytes + ENTRY_OVERHEAD_BYTES;
    if (!gen->known || body_bytes > ENTRY_MAX_BYTES || bytes > a->max_bytes / 8)
        return false;
    size_t i = slot_of(a, k);
    pthread_mutex_t *lock = &a->stripes[i % STRIPES].lock;
    pthread_mutex_lock(lock);
    struct entry *old = take(a, i);
    /* Across stripes the sum may pass the bound by what other threads add at this moment. */
    if (atomic_load(&a->bytes) + bytes > a->max_bytes) {
        pthread_mutex_unlock(lock);
        entry_free(old);
        return false;
    }
    struct entry *e = xmalloc(sizeof(*e));
    *e = (struct entry){ .key = *k, .gen = *gen, .meta = *meta, .response = r, .bytes = bytes };
    a->slots[i] = e;
    atomic_fetch_add(&a->bytes, bytes);
    pthread_mutex_unlock(lock);
    entry_free(old);
    return true;
}
