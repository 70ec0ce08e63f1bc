#include "sso/jwks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/xmalloc.h"
#include "sso/fetch.h"
#include "sso/jwt.h"

struct entry {
    char *uri;  /* owned */
    char *text; /* owned JSON of the last good set; NULL before the first */
    int64_t fetched_ms;
    int64_t expires_ms;
    int64_t refetch_ms; /* last kid-miss refetch */
    bool fetching;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry entries[SSO_JWKS_ENTRIES];
static atomic_ulong fetches;

unsigned long
sso_jwks_fetches(void)
{
    return atomic_load(&fetches);
}

static struct entry *
find(const char *uri)
{
    struct entry *oldest = &entries[0];
    for (size_t i = 0; i < SSO_JWKS_ENTRIES; i++) {
        if (entries[i].uri && strcmp(entries[i].uri, uri) == 0)
            return &entries[i];
        if (entries[i].uri == NULL || entries[i].fetched_ms < oldest->fetched_ms)
            oldest = &entries[i];
    }
    if (oldest->fetching)
        return NULL;
    free(oldest->uri);
    free(oldest->text);
    *oldest = (struct entry){ .uri = xstrdup(uri) };
    return oldest;
}

/* A usable set: an object whose "keys" is a non-empty array of at most 50 objects. */
static bool
usable(const json_t *j)
{
    const json_t *keys = json_object_get(j, "keys");
    return json_is_array(keys) && json_array_size(keys) > 0 &&
           json_array_size(keys) <= SSO_JWKS_MAX_KEYS;
}

static char *
download(const char *uri, bool allow_http, int64_t *ttl_s, struct err *err)
{
    struct sso_fetch f = { .url = uri, .max_bytes = SSO_JWKS_MAX_BYTES, .allow_http = allow_http };
    long status;
    char *body = NULL;
    int64_t max_age = -1;
    atomic_fetch_add(&fetches, 1);
    if (sso_fetch_run(&f, &status, &body, &max_age, err) < 0)
        return NULL;
    json_t *j = status == 200 ? json_loads(body, JSON_REJECT_DUPLICATES, NULL) : NULL;
    bool ok = usable(j);
    json_decref(j);
    if (!ok) {
        free(body);
        err_set(err, ERR_UPSTREAM, "the identity provider's JWKS is unusable (status %ld)", status);
        return NULL;
    }
    *ttl_s = max_age < SSO_JWKS_TTL_MIN_S   ? SSO_JWKS_TTL_MIN_S
             : max_age > SSO_JWKS_TTL_MAX_S ? SSO_JWKS_TTL_MAX_S
                                            : max_age;
    return body;
}

json_t *
sso_jwks_get(const char *uri, bool kid_miss, bool allow_http, struct err *err)
{
    int64_t now = clock_now_ms();
    char *copy = NULL;
    bool fetch = false;
    pthread_mutex_lock(&mu);
    struct entry *e = find(uri);
    if (e == NULL) {
        pthread_mutex_unlock(&mu);
        err_set(err, ERR_UPSTREAM, "JWKS cache is busy");
        return NULL;
    }
    if (!e->fetching) {
        if (e->text == NULL || now >= e->expires_ms)
            fetch = true;
        else if (kid_miss && now - e->refetch_ms >= SSO_JWKS_REFETCH_MIN_S * 1000)
            fetch = true;
    }
    if (fetch) {
        e->fetching = true;
        if (kid_miss)
            e->refetch_ms = now;
    }
    if (e->text)
        copy = xstrdup(e->text);
    pthread_mutex_unlock(&mu);

    if (fetch) {
        int64_t ttl = 0;
        struct err fe = { 0 };
        char *text = download(uri, allow_http, &ttl, &fe);
        pthread_mutex_lock(&mu);
        e->fetching = false;
        if (text) {
            free(e->text);
            e->text = text;
            e->fetched_ms = clock_now_ms();
            e->expires_ms = e->fetched_ms + ttl * 1000;
            free(copy);
            copy = xstrdup(text);
        } else if (copy == NULL) {
            *err = fe;
        }
        pthread_mutex_unlock(&mu);
    }
    if (copy == NULL) {
        if (err->code == ERR_OK)
            err_set(err, ERR_UPSTREAM, "no JWKS for the identity provider yet");
        return NULL;
    }
    json_t *j = json_loads(copy, JSON_REJECT_DUPLICATES, NULL);
    free(copy);
    if (j == NULL)
        err_set(err, ERR_INTERNAL, "cached JWKS does not parse");
    return j;
}

void
sso_jwks_clear(void)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < SSO_JWKS_ENTRIES; i++) {
        free(entries[i].uri);
        free(entries[i].text);
        entries[i] = (struct entry){ 0 };
    }
    pthread_mutex_unlock(&mu);
}
