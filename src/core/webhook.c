#include "core/webhook.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/fetch.h"
#include "base/log.h"
#include "base/seal.h"
#include "base/str.h"
#include "base/ticker.h"
#include "base/xmalloc.h"
#include "core/audit.h"
#include "core/set.h"
#include "core/tx.h"

#define SECRET_PREFIX "whsec_"
#define DUE_PER_PASS  64

static int
check_url(const char *url, const struct webhook_settings *cfg, struct err *err)
{
    size_t n = strlen(url);
    bool https = cstr_istarts_with(url, "https://"), http = cstr_istarts_with(url, "http://");
    if (n > 1024)
        return err_set(err, ERR_INVALID_VALUE, "url is longer than 1024 bytes");
    if (!https && !(http && cfg->allow_http))
        return err_set(err, ERR_INVALID_VALUE, "url must be an absolute https:// URL");
    const char *host = url + (https ? 8 : 7);
    size_t host_len = strcspn(host, "/?#");
    if (host_len == 0)
        return err_set(err, ERR_INVALID_VALUE, "url has no host");
    if (memchr(host, '@', host_len))
        return err_set(err, ERR_INVALID_VALUE, "url must not carry credentials");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return err_set(err, ERR_INVALID_VALUE, "url must not contain spaces or controls");
    return 0;
}

/* Applies fmt's fields to w after checking them. */
static int
apply_format(const struct webhook_format *fmt, struct store_webhook *w, struct err *err)
{
    if (fmt == NULL)
        return 0;
    if (fmt->format && strcmp(fmt->format, "scimd") != 0 && strcmp(fmt->format, "set") != 0)
        return err_set(err, ERR_INVALID_VALUE, "format must be \"scimd\" or \"set\"");
    if (fmt->delivery && strcmp(fmt->delivery, "push") != 0 && strcmp(fmt->delivery, "poll") != 0)
        return err_set(err, ERR_INVALID_VALUE, "delivery must be \"push\" or \"poll\"");
    if (fmt->audience) {
        size_t n = strlen(fmt->audience);
        if (n > 1024)
            return err_set(err, ERR_INVALID_VALUE, "audience is longer than 1024 bytes");
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)fmt->audience[i] < 0x20 || fmt->audience[i] == 0x7f)
                return err_set(err, ERR_INVALID_VALUE, "audience must not contain controls");
        str_copy(w->audience, sizeof(w->audience), fmt->audience);
    }
    if (fmt->format)
        str_copy(w->format, sizeof(w->format), fmt->format);
    if (fmt->delivery)
        str_copy(w->delivery, sizeof(w->delivery), fmt->delivery);
    return 0;
}

/* What a webhook of each delivery needs: push a url, poll (RFC 8936, a SET stream only) an
 * audience and no url, the receiver fetching from scimd. */
static int
check_delivery(const struct store_webhook *w, struct err *err)
{
    if (strcmp(w->delivery, "poll") != 0)
        return w->url[0] ? 0 : err_set(err, ERR_INVALID_VALUE, "url is required");
    if (strcmp(w->format, "set") != 0)
        return err_set(err, ERR_INVALID_VALUE, "poll delivery is for format \"set\" only");
    if (w->url[0])
        return err_set(err, ERR_INVALID_VALUE, "a poll stream has no url: the receiver polls");
    if (w->audience[0] == '\0')
        return err_set(err, ERR_INVALID_VALUE, "a poll stream needs an audience");
    return 0;
}

static int
new_secret(char out[64], struct err *err)
{
    unsigned char raw[32];
    if (crypto_random(raw, sizeof(raw), err) < 0)
        return -1;
    memcpy(out, SECRET_PREFIX, sizeof(SECRET_PREFIX) - 1);
    crypto_base64url(raw, sizeof(raw), out + sizeof(SECRET_PREFIX) - 1,
                     64 - (sizeof(SECRET_PREFIX) - 1));
    crypto_wipe(raw, sizeof(raw));
    return 0;
}

/* The owner a sealed secret is bound to: its webhook. */
static void
aad_of(const char *id, char aad[64])
{
    snprintf(aad, 64, "scimd-webhook-secret:%s", id);
}

/* What is stored for plain: sealed when a key is configured, else plain itself. */
static int
stored_secret(const struct webhook_settings *cfg, const char *id, const char *plain, char out[160],
              struct err *err)
{
    if (seal_keyring_newest(cfg->seal_keys) == NULL) {
        str_copy(out, 160, plain);
        return 0;
    }
    char aad[64];
    aad_of(id, aad);
    char *sealed = seal_text(cfg->seal_keys, aad, plain, err);
    if (sealed == NULL)
        return -1;
    str_copy(out, 160, sealed);
    free(sealed);
    return 0;
}

/* The plain secret of w into out (size > SEAL_PLAIN_MAX). */
static int
usable_secret(const struct webhook_settings *cfg, const struct store_webhook *w, char *out,
              size_t size, struct err *err)
{
    if (!seal_is_sealed(w->secret)) {
        str_copy(out, size, w->secret);
        return 0;
    }
    char aad[64];
    aad_of(w->id, aad);
    if (seal_keyring_newest(cfg->seal_keys) == NULL)
        return err_set(err, ERR_INTERNAL, "the webhook's secret is sealed and no sso key is set");
    return seal_open(cfg->seal_keys, aad, w->secret, out, size, err);
}

int
webhook_create(struct store *s, int64_t tenant_id, const char *url,
               const struct webhook_format *fmt, const struct webhook_settings *cfg,
               struct store_webhook *out, struct err *err)
{
    struct store_webhook w = {
        .tenant_id = tenant_id, .enabled = true, .format = "scimd", .delivery = "push"
    };
    struct store_webhook *v = NULL;
    size_t n = 0;
    char plain[64];
    if ((url && url[0] && check_url(url, cfg, err) < 0) || apply_format(fmt, &w, err) < 0)
        return -1;
    str_copy(w.url, sizeof(w.url), url ? url : "");
    if (check_delivery(&w, err) < 0 || crypto_uuid_v7(w.id, err) < 0 ||
        new_secret(plain, err) < 0 || stored_secret(cfg, w.id, plain, w.secret, err) < 0)
        return -1;
    w.created_ms = clock_now_ms();
    if (store_tx_begin(s, err) < 0)
        return -1;
    /* The cursor starts at the newest event: an endpoint receives what happens after it
     * was added. */
    int rc = store_webhook_list(s, tenant_id, &v, &n, err);
    free(v);
    if (rc == 0 && n >= WEBHOOK_MAX_PER_TENANT)
        rc = err_set(err, ERR_CONFLICT, "a tenant has at most %d webhooks", WEBHOOK_MAX_PER_TENANT);
    if (rc == 0 && (store_event_last_seq(s, tenant_id, &w.cursor, err) < 0 ||
                    store_webhook_insert(s, &w, err) < 0))
        rc = -1;
    if (rc < 0) {
        store_tx_rollback(s);
        return -1;
    }
    if (tx_commit(s, err) < 0)
        return -1;
    *out = w;
    str_copy(out->secret, sizeof(out->secret), plain); /* shown to the caller once */
    crypto_wipe(plain, sizeof(plain));
    return 0;
}

/* Re-seals one webhook's secret (see webhook_reseal). */
static int
reseal_one(struct store *s, const struct seal_keyring *ring, const struct store_webhook *w,
           struct seal_tally *out, struct err *err)
{
    char aad[64], plain[SEAL_PLAIN_MAX + 1];
    struct err oe = { 0 };
    bool was_plain = !seal_is_sealed(w->secret);
    aad_of(w->id, aad);
    if (!was_plain && seal_is_current(ring, w->secret)) {
        out->current++;
        return 0;
    }
    if (was_plain)
        str_copy(plain, sizeof(plain), w->secret);
    else if (seal_open(ring, aad, w->secret, plain, sizeof(plain), &oe) < 0) {
        seal_tally_unreadable(out, w->id);
        return 0;
    }
    char *sealed = seal_text(ring, aad, plain, err);
    crypto_wipe(plain, sizeof(plain));
    if (sealed == NULL)
        return -1;
    int rc;
    if (strlen(sealed) >= sizeof(w->secret)) {
        rc = err_set(err, ERR_INTERNAL, "a sealed webhook secret is too long to store");
    } else if (store_tx_begin(s, err) < 0) {
        rc = -1;
    } else if ((rc = store_webhook_reseal(s, w->id, w->secret, sealed, err)) < 0) {
        store_tx_rollback(s);
    } else if (tx_commit(s, err) < 0) {
        rc = -1;
    } else {
        if (rc == 0)
            out->changed++;
        else if (was_plain)
            out->was_plain++;
        else
            out->resealed++;
        rc = 0;
    }
    free(sealed);
    return rc;
}

int
webhook_reseal(struct store *s, const struct seal_keyring *ring, struct seal_tally *out,
               struct err *err)
{
    *out = (struct seal_tally){ 0 };
    if (seal_keyring_newest(ring) == NULL)
        return err_set(err, ERR_INVALID_VALUE, "no sso key is configured");
    struct store_tenant *t = NULL;
    size_t nt = 0;
    if (store_tenant_list(s, &t, &nt, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        struct store_webhook *v = NULL;
        size_t n = 0;
        rc = store_webhook_list(s, t[i].id, &v, &n, err);
        for (size_t j = 0; rc == 0 && j < n; j++)
            rc = reseal_one(s, ring, &v[j], out, err);
        if (v)
            crypto_wipe(v, n * sizeof(*v));
        free(v);
    }
    free(t);
    return rc;
}

int
webhook_get(struct store *s, int64_t tenant_id, const char *id, struct store_webhook *out,
            struct err *err)
{
    return store_webhook_get(s, tenant_id, id, out, err);
}

int
webhook_list(struct store *s, int64_t tenant_id, struct store_webhook **out, size_t *n,
             struct err *err)
{
    return store_webhook_list(s, tenant_id, out, n, err);
}

/* Reads the webhook, applies the changes given, writes it back: one transaction. */
static int
modify(struct store *s, int64_t tenant_id, const char *id, const char *url, int enabled,
       const struct webhook_format *fmt, bool new_key, const struct webhook_settings *cfg,
       struct store_webhook *out, struct err *err)
{
    struct store_webhook w;
    char plain[64] = "";
    if (store_tx_begin(s, err) < 0)
        return -1;
    int rc = store_webhook_get(s, tenant_id, id, &w, err);
    if (rc == 0 && url)
        str_copy(w.url, sizeof(w.url), url);
    if (rc == 0 && enabled >= 0)
        w.enabled = enabled != 0;
    if (rc == 0)
        rc = apply_format(fmt, &w, err);
    if (rc == 0)
        rc = check_delivery(&w, err);
    if (rc == 0 && new_key &&
        (new_secret(plain, err) < 0 || stored_secret(cfg, w.id, plain, w.secret, err) < 0))
        rc = -1;
    if (rc == 0)
        rc = store_webhook_update(s, &w, err);
    if (rc < 0) {
        store_tx_rollback(s);
        return -1;
    }
    if (tx_commit(s, err) < 0)
        return -1;
    *out = w;
    if (new_key)
        str_copy(out->secret, sizeof(out->secret), plain); /* shown to the caller once */
    crypto_wipe(plain, sizeof(plain));
    return 0;
}

int
webhook_update(struct store *s, int64_t tenant_id, const char *id, const char *url, int enabled,
               const struct webhook_format *fmt, const struct webhook_settings *cfg,
               struct store_webhook *out, struct err *err)
{
    if (url && url[0] && check_url(url, cfg, err) < 0)
        return -1;
    return modify(s, tenant_id, id, url, enabled, fmt, false, cfg, out, err);
}

int
webhook_rotate_secret(struct store *s, int64_t tenant_id, const char *id,
                      const struct webhook_settings *cfg, struct store_webhook *out,
                      struct err *err)
{
    return modify(s, tenant_id, id, NULL, -1, NULL, true, cfg, out, err);
}

int
webhook_delete(struct store *s, int64_t tenant_id, const char *id, struct err *err)
{
    return store_webhook_delete(s, tenant_id, id, err);
}

int
webhook_attempts(struct store *s, int64_t tenant_id, const char *id, size_t limit,
                 struct store_webhook_attempt **out, size_t *n, struct err *err)
{
    struct store_webhook w;
    if (store_webhook_get(s, tenant_id, id, &w, err) < 0)
        return -1;
    return store_webhook_attempts(s, tenant_id, id, limit, out, n, err);
}

int
webhook_pending(struct store *s, const struct store_webhook *w, int64_t *n, struct err *err)
{
    return store_event_count_after(s, w->tenant_id, w->cursor, n, err);
}

static json_t *
time_or_null(int64_t ms)
{
    char buf[32];
    if (ms <= 0)
        return json_null();
    clock_format_ms(ms, buf);
    return json_string(buf);
}

json_t *
webhook_to_json(const struct store_webhook *w, int64_t pending, bool with_secret)
{
    json_t *j =
        json_pack("{s:s, s:s, s:b, s:o, s:I, s:I, s:o, s:o, s:o, s:s}", "id", w->id, "url", w->url,
                  "enabled", w->enabled, "created", time_or_null(w->created_ms), "delivered",
                  (json_int_t)w->cursor, "failures", (json_int_t)w->failures, "nextAttempt",
                  time_or_null(w->failures ? w->next_attempt_ms : 0), "lastAttempt",
                  time_or_null(w->last_attempt_ms), "lastStatus",
                  /* null, as the attempt's status, when no HTTP answer came */
                  w->last_attempt_ms && w->last_status ? json_integer(w->last_status) : json_null(),
                  "lastError", w->last_error);
    json_object_set_new(j, "format", json_string(w->format));
    if (strcmp(w->format, "set") == 0) {
        json_object_set_new(j, "delivery", json_string(w->delivery));
        json_object_set_new(j, "audience", json_string(w->audience[0] ? w->audience : w->url));
    }
    if (pending >= 0)
        json_object_set_new(j, "pending", json_integer(pending));
    if (with_secret)
        json_object_set_new(j, "secret", json_string(w->secret));
    return j;
}

json_t *
webhook_attempt_to_json(const struct store_webhook_attempt *a)
{
    return json_pack("{s:o, s:I, s:I, s:o, s:I, s:s}", "time", time_or_null(a->at_ms), "firstEvent",
                     (json_int_t)a->first_event, "lastEvent", (json_int_t)a->last_event, "status",
                     a->status ? json_integer(a->status) : json_null(), "durationMs",
                     (json_int_t)a->duration_ms, "error", a->error);
}

void
webhook_signature(const char *secret, int64_t unix_s, const char *body, size_t len, char out[96])
{
    char prefix[24], mac[65];
    int plen = snprintf(prefix, sizeof(prefix), "%lld.", (long long)unix_s);
    /* HMAC over "<t>.<body>" without copying the body: prefix, then body. */
    size_t total = (size_t)plen + len;
    char *msg = xmalloc(total + 1);
    memcpy(msg, prefix, (size_t)plen);
    memcpy(msg + plen, body, len);
    crypto_hmac_sha256_hex(secret, strlen(secret), msg, total, mac);
    free(msg);
    snprintf(out, 96, "t=%lld,v1=%s", (long long)unix_s, mac);
}

/* The host[:port] of an http(s) URL into out ("?" when it has none). */
static void
url_host(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n); /* userinfo is a credential: never logged */
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    snprintf(out, size, "%.*s", n ? (int)n : 1, n ? p : "?");
}

/* The body of one delivery: {"webhook": id, "tenant": slug, "events": [...]}. */
static char *
batch_body(const struct store_event *v, size_t n, const char *id, const char *tenant, size_t *len)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, audit_event_to_json(&v[i]));
    json_t *j = json_pack("{s:s, s:s, s:o}", "webhook", id, "tenant", tenant, "events", arr);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    *len = text ? strlen(text) : 0;
    return text;
}

static int64_t
backoff_ms(const struct webhook_settings *cfg, int64_t failures)
{
    int64_t d = cfg->retry_base_ms;
    for (int64_t i = 1; i < failures && d < cfg->retry_max_ms; i++)
        d *= 2;
    return d < cfg->retry_max_ms ? d : cfg->retry_max_ms;
}

/* This instance's delivery counters (webhook_metrics). */
static atomic_uint_fast64_t attempts_ok, attempts_failed, events_delivered;

/* A backlog past this is counted as this: enough to alert on, cheap to read every scrape. */
#define BACKLOG_COUNT_CAP 100000

void
webhook_metrics(struct store *s, struct webhook_metrics *out)
{
    struct err e = { 0 };
    *out = (struct webhook_metrics){
        .attempts_ok = atomic_load(&attempts_ok),
        .attempts_failed = atomic_load(&attempts_failed),
        .events_delivered = atomic_load(&events_delivered),
    };
    out->ok = store_webhook_stats(s, BACKLOG_COUNT_CAP, &out->store, &e) == 0;
    if (!out->ok)
        log_warn("metrics: webhook state not read: %s", e.detail);
}

/* The end of a lease taken now: one delivery with room to spare. */
static int64_t
lease_until(const struct webhook_settings *cfg)
{
    return clock_now_ms() + 2 * cfg->timeout_ms + 5000;
}

/* Writes w's state and the attempt a, then releases the lease (until_ms 0) or keeps it until
 * until_ms: one transaction. 1 when written; 0 when owner had lost the lease (another
 * deliverer holds it now: stop); -1 on error. */
static int
finish(struct store *s, const char *owner, const struct store_webhook *w,
       const struct store_webhook_attempt *a, int64_t until_ms, struct err *err)
{
    if (store_tx_begin(s, err) < 0)
        return -1;
    int rc = store_webhook_finish(s, w, owner, a, until_ms, err);
    if (rc < 0) {
        store_tx_rollback(s);
        return -1;
    }
    return tx_commit(s, err) < 0 ? -1 : rc;
}

/* POSTs the next batch of w (leased to owner) and records the outcome. */
static int
deliver_one(struct store *s, const struct webhook_settings *cfg, const char *owner,
            struct store_webhook *w, struct err *err)
{
    struct store_event *v = NULL;
    size_t n = 0, len = 0;
    if (store_event_list(s, w->tenant_id, w->cursor, cfg->batch, &v, &n, err) < 0)
        return -1;
    if (n == 0) {
        store_events_free(v, n);
        return 0;
    }
    /* Every delivery names its tenant, in the body and a header: one receiver serves all. */
    struct store_tenant t;
    if (store_tenant_get_by_id(s, w->tenant_id, &t, err) < 0) {
        store_events_free(v, n);
        return -1;
    }
    struct store_webhook_attempt a = { .first_event = v[0].seq, .last_event = v[n - 1].seq };
    char *body = batch_body(v, n, w->id, t.slug, &len);
    store_events_free(v, n);
    char sig[96], sig_header[128], id_header[80], tenant_header[96], secret[SEAL_PLAIN_MAX + 1];
    int64_t start = clock_now_ms();
    long status = 0;
    struct err ferr = { 0 };
    /* A secret that cannot be opened (the key changed) fails the attempt like a dead
     * endpoint would: recorded, retried, never a silent skip. */
    int rc = body ? usable_secret(cfg, w, secret, sizeof(secret), &ferr)
                  : err_set(&ferr, ERR_INTERNAL, "encoding");
    if (rc == 0) {
        webhook_signature(secret, start / 1000, body, len, sig);
        crypto_wipe(secret, sizeof(secret));
        snprintf(sig_header, sizeof(sig_header), "Scimd-Signature: %s", sig);
        snprintf(id_header, sizeof(id_header), "Scimd-Webhook-Id: %s", w->id);
        snprintf(tenant_header, sizeof(tenant_header), "Scimd-Tenant: %s", t.slug);
        const char *headers[] = { "Content-Type: application/json", sig_header, id_header,
                                  tenant_header, NULL };
        const struct fetch_post req = {
            w->url, headers, body, len, cfg->timeout_ms, cfg->allow_http
        };
        rc = fetch_post(&req, &status, &ferr);
    }
    free(body);
    int64_t end = clock_now_ms();
    a.at_ms = end;
    a.duration_ms = end - start;
    a.status = rc == 0 ? status : 0;
    w->last_attempt_ms = end;
    w->last_status = a.status;
    if (rc == 0 && status >= 200 && status < 300) {
        atomic_fetch_add(&attempts_ok, 1);
        atomic_fetch_add(&events_delivered, (uint_fast64_t)n);
        w->cursor = a.last_event;
        w->failures = 0;
        w->next_attempt_ms = 0;
        w->last_error[0] = '\0';
    } else {
        atomic_fetch_add(&attempts_failed, 1);
        if (rc == 0)
            snprintf(a.error, sizeof(a.error), "HTTP %ld", status);
        else
            str_copy(a.error, sizeof(a.error), ferr.detail);
        w->failures++;
        w->next_attempt_ms = end + backoff_ms(cfg, w->failures);
        str_copy(w->last_error, sizeof(w->last_error), a.error);
        /* The host's sync is behind while this lasts: warn, naming the tenant and the host
         * of the URL (never its path or query, which may carry a credential). */
        char host[256];
        url_host(w->url, host, sizeof(host));
        log_warn("webhook %s of tenant %s to %s: delivery of events %lld-%lld failed (%s); "
                 "retry in %lld ms",
                 w->id, t.slug, host, (long long)a.first_event, (long long)a.last_event, a.error,
                 (long long)(w->next_attempt_ms - end));
    }
    return finish(s, owner, w, &a, 0, err) < 0 ? -1 : 0;
}

/* Records a failed SET attempt (a->error set): counted, backed off, logged as deliver_one
 * does. */
static void
set_failed(const struct webhook_settings *cfg, struct store_webhook *w, const char *slug,
           struct store_webhook_attempt *a)
{
    int64_t now = clock_now_ms();
    if (a->at_ms == 0)
        a->at_ms = now;
    atomic_fetch_add(&attempts_failed, 1);
    w->failures++;
    w->next_attempt_ms = now + backoff_ms(cfg, w->failures);
    w->last_attempt_ms = a->at_ms;
    w->last_status = a->status;
    str_copy(w->last_error, sizeof(w->last_error), a->error);
    char host[256];
    url_host(w->url, host, sizeof(host));
    log_warn("webhook %s of tenant %s to %s: SET of event %lld failed (%s); retry in %lld ms",
             w->id, slug, host, (long long)a->last_event, a->error,
             (long long)(w->next_attempt_ms - now));
}

/* POSTs one SET (RFC 8935 §2): 202 accepted; 400 is the receiver's permanent refusal of this
 * SET (§2.3: the body names the error; scimd does not read it), recorded and passed over;
 * anything else fails and is retried with the same jti. Sets a's outcome and moves w. Returns
 * 1 when the stream may go on, 0 when it must wait for a retry. */
static int
push_set(const struct webhook_settings *cfg, struct store_webhook *w, const char *slug,
         const char *set, struct store_webhook_attempt *a)
{
    char id_header[80], tenant_header[96];
    snprintf(id_header, sizeof(id_header), "Scimd-Webhook-Id: %s", w->id);
    snprintf(tenant_header, sizeof(tenant_header), "Scimd-Tenant: %s", slug);
    const char *headers[] = { "Content-Type: application/secevent+jwt", "Accept: application/json",
                              id_header, tenant_header, NULL };
    const struct fetch_post req = { w->url,      headers,         set,
                                    strlen(set), cfg->timeout_ms, cfg->allow_http };
    struct err ferr = { 0 };
    long status = 0;
    int64_t start = clock_now_ms();
    int rc = fetch_post(&req, &status, &ferr);
    int64_t end = clock_now_ms();
    a->at_ms = end;
    a->duration_ms = end - start;
    a->status = rc == 0 ? status : 0;
    w->last_attempt_ms = end;
    w->last_status = a->status;
    if (rc == 0 && (status == 202 || status == 400)) {
        atomic_fetch_add(&attempts_ok, 1);
        atomic_fetch_add(&events_delivered, 1);
        w->cursor = a->last_event;
        w->failures = 0;
        w->next_attempt_ms = 0;
        w->last_error[0] = '\0';
        if (status == 400)
            str_copy(a->error, sizeof(a->error), "refused by the receiver (HTTP 400): not retried");
        return 1;
    }
    if (rc == 0)
        snprintf(a->error, sizeof(a->error), "HTTP %ld", status);
    else
        str_copy(a->error, sizeof(a->error), ferr.detail);
    set_failed(cfg, w, slug, a);
    return 0;
}

/* Delivers w's next events as SETs, one POST each (format "set", docs/webhooks.md), leased
 * to owner: each outcome is written before the next POST, the lease kept (renewed) while the
 * stream goes on and released with the last, so no other deliverer starts from the cursor
 * in between. Events of kinds without a SET are passed over, recorded with the attempt that
 * follows them. */
static int
deliver_sets(struct store *s, const struct webhook_settings *cfg, const char *owner,
             struct store_webhook *w, size_t *attempts, struct err *err)
{
    struct store_event *v = NULL;
    size_t n = 0;
    struct store_tenant t;
    char *jwk = NULL, kid[48], iss[1100];
    if (store_event_list(s, w->tenant_id, w->cursor, cfg->batch, &v, &n, err) < 0)
        return -1;
    int rc = n == 0 ? 0 : store_tenant_get_by_id(s, w->tenant_id, &t, err);
    struct err kerr = { 0 };
    if (rc == 0 && n > 0 && set_key_current(s, cfg->seal_keys, &jwk, kid, &kerr) < 0) {
        /* A signing key that cannot be read (its sso key is gone) fails the attempt like a
         * dead endpoint: recorded, retried, never a silent skip. */
        struct store_webhook_attempt a = { .first_event = v[0].seq, .last_event = v[0].seq };
        str_copy(a.error, sizeof(a.error), kerr.detail);
        set_failed(cfg, w, t.slug, &a);
        (*attempts)++;
        store_events_free(v, n);
        return finish(s, owner, w, &a, 0, err) < 0 ? -1 : 0;
    }
    if (rc == 0 && n > 0)
        snprintf(iss, sizeof(iss), "%s/scim/v2",
                 t.public_url[0] ? t.public_url : (cfg->public_url ? cfg->public_url : ""));
    const char *aud = w->audience[0] ? w->audience : w->url;
    int64_t first = 0;
    bool go_on = true;
    for (size_t i = 0; rc == 0 && go_on && i < n; i++) {
        if (first == 0)
            first = v[i].seq;
        json_t *claims = set_claims(&v[i], iss, aud);
        if (claims == NULL && i + 1 < n)
            continue; /* passed over with the next SET's attempt */
        struct store_webhook_attempt a = { .first_event = first, .last_event = v[i].seq };
        if (claims == NULL) {
            /* Only kinds without a SET are left: move past them, said in the log. */
            w->cursor = v[i].seq;
            a.at_ms = clock_now_ms();
            str_copy(a.error, sizeof(a.error), "no SET for these events: passed over");
        } else {
            struct err serr = { 0 };
            char *set = set_sign(claims, jwk, kid, &serr);
            json_decref(claims);
            if (set == NULL) {
                str_copy(a.error, sizeof(a.error), serr.detail);
                set_failed(cfg, w, t.slug, &a);
                go_on = false;
            } else {
                go_on = push_set(cfg, w, t.slug, set, &a) == 1;
            }
            free(set);
            (*attempts)++;
        }
        bool more = go_on && i + 1 < n;
        int written = finish(s, owner, w, &a, more ? lease_until(cfg) : 0, err);
        rc = written < 0 ? -1 : 0;
        go_on = written == 1 && more;
        first = 0;
    }
    if (jwk)
        crypto_wipe(jwk, strlen(jwk));
    free(jwk);
    store_events_free(v, n);
    return rc;
}

/* Events scanned per poll beyond the cursor: bounds the work of one poll; a longer run of
 * acknowledged or SET-less events is passed over by the following polls. */
#define POLL_SCAN 1000

/* The stream's secret checked against the bearer token presented. */
static int
poll_auth(const struct webhook_settings *cfg, const struct store_webhook *w, const char *bearer,
          size_t len, struct err *err)
{
    char secret[SEAL_PLAIN_MAX + 1], want[65], got[65];
    struct err ignored;
    if (bearer == NULL || usable_secret(cfg, w, secret, sizeof(secret), &ignored) < 0)
        return err_set(err, ERR_UNAUTHORIZED, "the stream's secret is required as a bearer token");
    crypto_sha256_hex(secret, strlen(secret), want);
    crypto_sha256_hex(bearer, len, got);
    crypto_wipe(secret, sizeof(secret));
    if (!crypto_equal(want, got, 64))
        return err_set(err, ERR_UNAUTHORIZED, "the stream's secret is required as a bearer token");
    return 0;
}

static bool
has_seq(const int64_t *v, size_t n, int64_t seq)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == seq)
            return true;
    return false;
}

/* Whether seq is one of the n events of v (ascending by seq). */
static bool
has_event(const struct store_event *v, size_t n, int64_t seq)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].seq == seq)
            return true;
        if (v[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Inside the poll's transaction: records the acks that name one of the tenant's events in
 * the window a poll hands SETs from (the POLL_SCAN events above the cursor; any other jti
 * was never given out, and storing it could only grow the table), then moves the cursor over
 * the acknowledged or SET-less run. w->cursor is updated. */
static int
poll_ack(struct store *s, struct store_webhook *w, const struct set_poll *p, const char *iss,
         const char *aud, struct err *err)
{
    struct store_event *v = NULL;
    size_t n = 0, na = 0;
    int64_t *acks = NULL;
    if (store_event_list(s, w->tenant_id, w->cursor, POLL_SCAN, &v, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < p->n_acks + p->n_errs; i++) {
        int64_t seq = i < p->n_acks ? p->acks[i] : p->errs[i - p->n_acks];
        if (has_event(v, n, seq) && store_webhook_ack_add(s, w->id, seq, err) < 0) {
            store_events_free(v, n);
            return -1;
        }
    }
    if (store_webhook_acks(s, w->id, w->cursor, POLL_SCAN, &acks, &na, err) < 0) {
        store_events_free(v, n);
        return -1;
    }
    int64_t cursor = w->cursor;
    for (size_t i = 0; i < n; i++) {
        json_t *c = has_seq(acks, na, v[i].seq) ? NULL : set_claims(&v[i], iss, aud);
        if (c) {
            json_decref(c);
            break;
        }
        cursor = v[i].seq;
    }
    store_events_free(v, n);
    free(acks);
    if (cursor == w->cursor)
        return 0;
    w->cursor = cursor;
    return store_webhook_advance(s, w->id, cursor, err);
}

/* The answer: the next unacknowledged SETs after w's cursor, at most max. */
static int
poll_sets(struct store *s, const struct store_webhook *w, int64_t max, const char *iss,
          const char *aud, const char *jwk, const char *kid, json_t **out, struct err *err)
{
    struct store_event *v = NULL;
    size_t n = 0, na = 0;
    int64_t *acks = NULL;
    json_t *sets = json_object();
    bool more = false;
    int rc = store_event_list(s, w->tenant_id, w->cursor, POLL_SCAN, &v, &n, err);
    if (rc == 0)
        rc = store_webhook_acks(s, w->id, w->cursor, POLL_SCAN, &acks, &na, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (has_seq(acks, na, v[i].seq))
            continue;
        json_t *c = set_claims(&v[i], iss, aud);
        if (c == NULL)
            continue;
        if ((int64_t)json_object_size(sets) >= max) {
            json_decref(c);
            more = true;
            break;
        }
        char *set = set_sign(c, jwk, kid, err);
        if (set)
            json_object_set_new(sets, json_string_value(json_object_get(c, "jti")),
                                json_string(set));
        else
            rc = -1;
        free(set);
        json_decref(c);
    }
    /* A full scan window may hide more beyond it. */
    if (n == POLL_SCAN)
        more = true;
    free(acks);
    store_events_free(v, n);
    if (rc < 0) {
        json_decref(sets);
        return -1;
    }
    *out = json_pack("{s:o, s:b}", "sets", sets, "moreAvailable", more);
    return 0;
}

/* The poll stream `id` of tenant t into w, read as store_webhook_get does or, with lock,
 * store_webhook_lock does; an unknown id and a webhook that is no poll stream are refused
 * alike, as a wrong secret is. */
static int
poll_stream(struct store *s, const struct store_tenant *t, const char *id, bool lock,
            struct store_webhook *w, struct err *err)
{
    struct err e = { 0 };
    int rc =
        lock ? store_webhook_lock(s, t->id, id, w, &e) : store_webhook_get(s, t->id, id, w, &e);
    if (rc < 0 && e.code != ERR_NOT_FOUND) {
        *err = e;
        return -1;
    }
    if (rc < 0 || strcmp(w->format, "set") != 0 || strcmp(w->delivery, "poll") != 0)
        return err_set(err, ERR_UNAUTHORIZED, "the stream's secret is required as a bearer token");
    return 0;
}

int
webhook_poll(struct store *s, const struct store_tenant *t, const char *id, const char *bearer,
             size_t len, const char *body, size_t body_len, const struct webhook_settings *cfg,
             json_t **out, struct err *err)
{
    struct store_webhook w;
    *out = NULL;
    if (poll_stream(s, t, id, false, &w, err) < 0 || poll_auth(cfg, &w, bearer, len, err) < 0)
        return -1;
    if (!w.enabled)
        return err_set(err, ERR_FORBIDDEN, "this stream is disabled");
    struct set_poll *p = xcalloc(1, sizeof(*p));
    char iss[1100];
    snprintf(iss, sizeof(iss), "%s/scim/v2",
             t->public_url[0] ? t->public_url : (cfg->public_url ? cfg->public_url : ""));
    char *jwk = NULL, kid[48];
    /* The key first: creating it is a transaction of its own. */
    int rc = set_poll_parse(body, body_len, t->id, p, err);
    if (rc == 0)
        rc = set_key_current(s, cfg->seal_keys, &jwk, kid, err);
    if (rc == 0 && (rc = store_tx_begin(s, err)) == 0) {
        /* The cursor and acknowledgements as they stand now, polls of the stream taking turns
         * from here to the commit: a cursor read before another poll moved it (forgetting the
         * acknowledgements it passed) would hand those SETs out again. */
        if (poll_stream(s, t, id, true, &w, err) < 0 ||
            (!w.enabled && err_set(err, ERR_FORBIDDEN, "this stream is disabled") < 0) ||
            poll_ack(s, &w, p, iss, w.audience, err) < 0 ||
            poll_sets(s, &w, p->max_events, iss, w.audience, jwk, kid, out, err) < 0) {
            store_tx_rollback(s);
            rc = -1;
        } else if (tx_commit(s, err) < 0) {
            rc = -1;
        }
    }
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    } else {
        atomic_fetch_add(&events_delivered, (uint_fast64_t)p->n_acks);
    }
    if (jwk)
        crypto_wipe(jwk, strlen(jwk));
    free(jwk);
    free(p);
    return rc;
}

int
webhook_deliver_due(struct store *s, const struct webhook_settings *cfg, const char *owner,
                    size_t *attempts, struct err *err)
{
    struct store_webhook *due = NULL;
    size_t n = 0;
    int64_t now = clock_now_ms();
    *attempts = 0;
    if (store_webhook_due(s, now, DUE_PER_PASS, &due, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* The list may be old by now (another instance may have delivered since): the
         * claim answers the webhook as it stands under the lease, and delivery starts from
         * that cursor. Finishing releases the lease. */
        struct store_webhook w;
        int claimed =
            store_webhook_claim(s, due[i].id, owner, clock_now_ms(), lease_until(cfg), &w, err);
        if (claimed < 0)
            rc = -1;
        else if (claimed == 1 && strcmp(w.format, "set") == 0) {
            rc = deliver_sets(s, cfg, owner, &w, attempts, err);
        } else if (claimed == 1) {
            rc = deliver_one(s, cfg, owner, &w, err);
            (*attempts)++;
        }
    }
    free(due);
    return rc;
}

struct webhook_worker {
    struct store *store;
    struct webhook_settings cfg;
    char owner[37];
    struct ticker *ticker;
};

static void
deliver_tick(void *arg, struct ticker *t)
{
    (void)t;
    struct webhook_worker *w = arg;
    size_t attempts;
    struct err err = { 0 };
    if (webhook_deliver_due(w->store, &w->cfg, w->owner, &attempts, &err) < 0)
        log_warn("webhooks: %s", err.detail);
}

static void
worker_done(void *arg)
{
    store_thread_done(((struct webhook_worker *)arg)->store);
}

struct webhook_worker *
webhook_worker_start(struct store *s, const struct webhook_settings *cfg, struct err *err)
{
    struct webhook_worker *w = xcalloc(1, sizeof(*w));
    w->store = s;
    w->cfg = *cfg;
    struct ticker_spec spec = { .name = "webhook worker",
                                .tick = deliver_tick,
                                .done = worker_done,
                                .arg = w,
                                .interval_ms = cfg->poll_ms };
    if (crypto_uuid_v7(w->owner, err) < 0 || (w->ticker = ticker_start(&spec, err)) == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

void
webhook_worker_stop(struct webhook_worker *w)
{
    if (w == NULL)
        return;
    ticker_stop(w->ticker);
    free(w);
}
