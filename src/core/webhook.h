#ifndef SCIMD_CORE_WEBHOOK_H
#define SCIMD_CORE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "base/seal.h"
#include "store/store.h"

/* Webhooks: every audit event of a tenant, POSTed as JSON to the tenant's endpoints
 * (docs/webhooks.md). The events table is the durable outbox (events are written in the
 * transaction of their change); each endpoint keeps a cursor, the last event it acknowledged
 * with a 2xx, so delivery is at-least-once and in order per endpoint, survives restarts, and
 * retries with exponential backoff. A background worker delivers; a slow or dead endpoint
 * delays only its own events, never a SCIM request. */

struct webhook_settings {
    bool allow_http;       /* plain http:// endpoints (tests only) */
    int64_t retry_base_ms; /* delay after the first failure; doubles with each */
    int64_t retry_max_ms;  /* longest delay */
    int64_t timeout_ms;    /* per delivery */
    int64_t poll_ms;       /* how often the worker looks for due endpoints */
    size_t batch;          /* events per delivery at most */
    /* The sso keyring sealing secrets at rest (base/seal.h; its newest key seals); NULL or
     * empty: stored as they are. */
    const struct seal_keyring *seal_keys;
    /* The deployment's public URL: a SET's "iss" is the tenant's SCIM base URL, its own
     * publicUrl or this, followed by /scim/v2. */
    const char *public_url;
};

/* What a webhook sends (docs/webhooks.md): format "scimd" (batches of audit events, signed
 * with the secret) or "set" (one RFC 9967 SET per event, ES256-signed, core/set.h), with
 * delivery "push" (RFC 8935) and the SETs' audience ("" or absent: the url). NULL fields:
 * keep (update) or the defaults "scimd", "push", "" (create). */
struct webhook_format {
    const char *format;
    const char *delivery;
    const char *audience;
};

#define WEBHOOK_MAX_PER_TENANT 10

/* Adds an endpoint receiving events from now on, with a fresh secret ("whsec_…", in *out;
 * shown to the caller once). URL: absolute https:// (http:// only when allowed), ≤ 1024
 * bytes, no credentials. ERR_INVALID_VALUE naming the problem; ERR_CONFLICT past
 * WEBHOOK_MAX_PER_TENANT. */
int webhook_create(struct store *s, int64_t tenant_id, const char *url,
                   const struct webhook_format *fmt, const struct webhook_settings *cfg,
                   struct store_webhook *out, struct err *err);
/* `scimd reseal`: every webhook secret that the newest key of ring did not seal is sealed
 * again under it (one stored plain, from before a key was configured, is sealed), each
 * rewrite its own transaction and only if the secret did not change meanwhile. Counts go to
 * *out (zeroed first); a secret no key opens is counted, its id listed, and left as it is.
 * -1 on a store error (the counts so far stay); ERR_INVALID_VALUE when ring has no key. */
int webhook_reseal(struct store *s, const struct seal_keyring *ring, struct seal_tally *out,
                   struct err *err);
int webhook_get(struct store *s, int64_t tenant_id, const char *id, struct store_webhook *out,
                struct err *err);
int webhook_list(struct store *s, int64_t tenant_id, struct store_webhook **out, size_t *n,
                 struct err *err);
/* Changes the URL (NULL: keep), enabled (-1: keep) and the format (fmt NULL or its NULL
 * fields: keep). Re-enabling retries at once. ERR_INVALID_VALUE for an unknown format or
 * delivery, or an audience that is not a printable string of at most 1024 bytes. */
int webhook_update(struct store *s, int64_t tenant_id, const char *id, const char *url, int enabled,
                   const struct webhook_format *fmt, const struct webhook_settings *cfg,
                   struct store_webhook *out, struct err *err);
/* Replaces the secret; deliveries from now on are signed with the new one only. */
int webhook_rotate_secret(struct store *s, int64_t tenant_id, const char *id,
                          const struct webhook_settings *cfg, struct store_webhook *out,
                          struct err *err);
int webhook_delete(struct store *s, int64_t tenant_id, const char *id, struct err *err);
int webhook_attempts(struct store *s, int64_t tenant_id, const char *id, size_t limit,
                     struct store_webhook_attempt **out, size_t *n, struct err *err);

/* {"id", "url", "enabled", "format", "created", "delivered" (cursor), "pending", "failures",
 *  "nextAttempt", "lastAttempt", "lastStatus", "lastError"}, "delivery" and "audience" for
 *  format "set", plus "secret" when with_secret.
 * pending < 0 leaves it out. New reference. */
json_t *webhook_to_json(const struct store_webhook *w, int64_t pending, bool with_secret);
/* Events after the webhook's cursor. */
int webhook_pending(struct store *s, const struct store_webhook *w, int64_t *n, struct err *err);
json_t *webhook_attempt_to_json(const struct store_webhook_attempt *a);

/* What /metrics shows of webhook delivery: the database's view of every tenant's enabled
 * webhooks (shared by all instances) and this instance's attempts since it started. */
struct webhook_metrics {
    struct store_webhook_stats store; /* all zero when the read failed (ok false) */
    bool ok;
    uint64_t attempts_ok, attempts_failed, events_delivered;
};
void webhook_metrics(struct store *s, struct webhook_metrics *out);

/* "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>": the Scimd-Signature header
 * value a receiver checks. out needs 96 bytes. */
void webhook_signature(const char *secret, int64_t unix_s, const char *body, size_t len,
                       char out[96]);

/* RFC 8936 poll of the SET stream `id` of tenant t (a webhook of format "set", delivery
 * "poll"), authenticated with the stream's secret as a bearer token (bearer, len; compared in
 * constant time as SHA-256 hashes). Records the acknowledgements and error reports in body
 * (set_poll_parse), moves the cursor over every event acknowledged without a gap, and
 * answers *out = {"sets": {jti: SET}, "moreAvailable": bool}: the next unacknowledged SETs,
 * at most maxEvents. A SET given and not acknowledged is given again by a later poll.
 * ERR_UNAUTHORIZED for a wrong or missing secret, or an id that is not a poll stream of t
 * (the same answer: stream ids are not probed); ERR_FORBIDDEN for a disabled stream; the
 * parser's errors. returnImmediately false is answered at once too (docs/webhooks.md). */
int webhook_poll(struct store *s, const struct store_tenant *t, const char *id, const char *bearer,
                 size_t len, const char *body, size_t body_len, const struct webhook_settings *cfg,
                 json_t **out, struct err *err);

/* One pass of delivery: each due endpoint gets its next batch, as `owner` (an id unique to
 * this process). *attempts counts the POSTs made. */
int webhook_deliver_due(struct store *s, const struct webhook_settings *cfg, const char *owner,
                        size_t *attempts, struct err *err);

/* The background deliverer: a thread calling webhook_deliver_due every poll_ms. */
struct webhook_worker;
struct webhook_worker *webhook_worker_start(struct store *s, const struct webhook_settings *cfg,
                                            struct err *err);
/* Stops (after the delivery in progress, if any) and frees. NULL is a no-op. */
void webhook_worker_stop(struct webhook_worker *w);

#endif
