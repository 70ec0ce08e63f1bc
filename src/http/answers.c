#include "http/answers.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/limits.h"
#include "base/str.h"
#include "base/xmalloc.h"

/* A kept answer costs its body and about this much more: libmicrohttpd's response with its
 * eight headers (each its own allocations), and the entry (measured: 1.4 KiB more than the
 * body for a user's answer). */
#define ENTRY_OVERHEAD_BYTES 1536
/* Larger answers (pages of a listing, read once by an import) are not kept. */
#define ENTRY_MAX_BYTES (64 * 1024)
/* A key's bucket: WAYS slots side by side, so that two keys of one slot do not keep evicting
 * each other (with one slot per key, a quarter of 20 000 users read twice missed the second
 * time, measured); its stripe's lock guards the bucket. */
#define WAYS 4
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

/* A slot holds its entry's key's first bytes beside the pointer: a bucket's four slots are
 * one cache line, and a lookup reads only the entry whose tag matches (the entries are
 * scattered over the heap: each read of one was a cache miss). */
struct slot {
    uint64_t tag;
    struct entry *entry;
};

#define BUCKET_BYTES (WAYS * sizeof(struct slot))
_Static_assert(BUCKET_BYTES == 64, "a bucket is one cache line");

struct http_answers {
    size_t max_bytes;
    size_t mask;        /* slots - 1; slots is a power of two */
    struct slot *slots; /* in slots_mem, aligned */
    void *slots_mem;
    struct stripe stripes[STRIPES];
    atomic_size_t bytes;
};

struct http_answers *
http_answers_new(size_t max_bytes)
{
    if (max_bytes == 0)
        return NULL;
    /* Aligned as its stripes' locks are (malloc gives 16 bytes). */
    struct http_answers *a = xcalloc_aligned(alignof(struct http_answers), sizeof(*a));
    a->max_bytes = max_bytes;
    /* Twice as many slots as the smallest answers the budget holds: buckets seldom fill
     * before the bytes do (16 bytes a slot: 2 MiB for the default 64 MiB). */
    size_t slots = STRIPES * WAYS;
    while (slots < 2 * (max_bytes / ENTRY_OVERHEAD_BYTES))
        slots *= 2;
    a->mask = slots - 1;
    /* Buckets start on a cache line: one more bucket allocated for the alignment. */
    a->slots_mem = xcalloc(slots + WAYS, sizeof(struct slot));
    a->slots = (struct slot *)(((uintptr_t)a->slots_mem + BUCKET_BYTES - 1) &
                               ~(uintptr_t)(BUCKET_BYTES - 1));
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
        entry_free(a->slots[i].entry);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&a->stripes[i].lock);
    free(a->slots_mem);
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
bucket_of(const struct http_answers *a, const struct http_answer_key *k)
{
    size_t h;
    memcpy(&h, k->digest, sizeof(h));
    return h & a->mask & ~(size_t)(WAYS - 1);
}

static pthread_mutex_t *
lock_of(struct http_answers *a, size_t bucket)
{
    return &a->stripes[(bucket / WAYS) % STRIPES].lock;
}

static uint64_t
tag_of(const struct http_answer_key *k)
{
    uint64_t t;
    memcpy(&t, k->digest + 8, sizeof(t));
    return t;
}

/* The slot of bucket b holding k, or -1. */
static int
find(const struct http_answers *a, size_t b, const struct http_answer_key *k)
{
    uint64_t tag = tag_of(k);
    for (int w = 0; w < WAYS; w++) {
        const struct slot *sl = &a->slots[b + (size_t)w];
        if (sl->entry && sl->tag == tag && memcmp(&sl->entry->key, k, sizeof(*k)) == 0)
            return w;
    }
    return -1;
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
    struct entry *e = a->slots[i].entry;
    a->slots[i] = (struct slot){ 0 };
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
    size_t b = bucket_of(a, k);
    pthread_mutex_lock(lock_of(a, b));
    bool kept = find(a, b, k) >= 0;
    pthread_mutex_unlock(lock_of(a, b));
    return kept;
}

bool
http_answers_serve(struct http_answers *a, const struct http_answer_key *k,
                   const struct store_generation *gen, int64_t now_ms, struct MHD_Connection *conn,
                   struct http_answer_meta *meta, enum MHD_Result *ret)
{
    size_t b = bucket_of(a, k);
    struct entry *stale = NULL;
    bool served = false;
    pthread_mutex_lock(lock_of(a, b));
    int w = find(a, b, k);
    if (w >= 0) {
        struct entry *e = a->slots[b + (size_t)w].entry;
        if (same_generation(&e->gen, gen) && usable(&e->meta, now_ms)) {
            /* Queued under the lock: the slot's reference keeps the response alive until
             * libmicrohttpd holds its own. */
            *ret = MHD_queue_response(conn, (unsigned)e->meta.status, e->response);
            *meta = e->meta;
            served = true;
        } else {
            stale = take(a, b + (size_t)w); /* never served again: free its memory now */
        }
    }
    pthread_mutex_unlock(lock_of(a, b));
    entry_free(stale);
    return served;
}

/* The slot of bucket b a new answer for k made at gen goes into: k's own, else an empty one,
 * else one made at another generation (stale or about to be), else one picked by the key. */
static size_t
victim(const struct http_answers *a, size_t b, const struct http_answer_key *k,
       const struct store_generation *gen)
{
    int w = find(a, b, k);
    if (w >= 0)
        return b + (size_t)w;
    for (w = 0; w < WAYS; w++)
        if (a->slots[b + (size_t)w].entry == NULL)
            return b + (size_t)w;
    for (w = 0; w < WAYS; w++)
        if (!same_generation(&a->slots[b + (size_t)w].entry->gen, gen))
            return b + (size_t)w;
    return b + (k->digest[16] & (WAYS - 1));
}

bool
http_answers_put(struct http_answers *a, const struct http_answer_key *k,
                 const struct store_generation *gen, const struct http_answer_meta *meta,
                 struct MHD_Response *r, size_t body_bytes)
{
    size_t bytes = body_bytes + ENTRY_OVERHEAD_BYTES;
    if (!gen->known || body_bytes > ENTRY_MAX_BYTES || bytes > a->max_bytes / 8)
        return false;
    size_t b = bucket_of(a, k);
    pthread_mutex_t *lock = lock_of(a, b);
    pthread_mutex_lock(lock);
    size_t i = victim(a, b, k, gen);
    struct entry *old = take(a, i);
    /* Across stripes the sum may pass the bound by what other threads add at this moment. */
    if (atomic_load(&a->bytes) + bytes > a->max_bytes) {
        pthread_mutex_unlock(lock);
        entry_free(old);
        return false;
    }
    struct entry *e = xmalloc(sizeof(*e));
    *e = (struct entry){ .key = *k, .gen = *gen, .meta = *meta, .response = r, .bytes = bytes };
    a->slots[i] = (struct slot){ tag_of(k), e };
    atomic_fetch_add(&a->bytes, bytes);
    pthread_mutex_unlock(lock);
    entry_free(old);
    return true;
}
