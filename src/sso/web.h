#ifndef SCIMD_SSO_WEB_H
#define SCIMD_SSO_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/call.h"
#include "base/buf.h"
#include "base/err.h"
#include "store/store.h"

/* What the OIDC and SAML handlers share: the sign-in event line, browser cookies, the
 * return_to rule, the generic error page, and strict encoders and decoders. */

/* Outcome counters for /metrics (issue 7 "Observability"). */
enum sso_result {
    SSO_RESULT_SUCCESS,
    SSO_RESULT_REJECTED,
    SSO_RESULT_ERROR,
    SSO_RESULT__COUNT
};

/* Records one sign-in attempt: an audit event of the tenant ("sso.signin", core/signin.h), a
 * log line with tenant, protocol, SP/IdP-initiated, result and a reason code (never a token,
 * code, state or assertion), and the counter. user_id may be NULL; so may tenant, for a
 * request to a tenant-free endpoint that names none: then only the log line and the counter
 * (there is no tenant whose audit trail it belongs to). */
void sso_event(struct api_call *call, const struct store_tenant *tenant, const char *protocol,
               const char *initiated, enum sso_result result, const char *reason,
               const char *user_id);

/* The same for a test sign-in from the console: the event also says "test": true and keeps
 * `received` (sso_received: what the identity provider sent; borrowed). */
void sso_event_test(struct api_call *call, const struct store_tenant *tenant, const char *protocol,
                    const char *initiated, enum sso_result result, const char *reason,
                    const char *user_id, const json_t *received);

/* The counter of a result since start. */
uint64_t sso_event_count(enum sso_result r);
const char *sso_result_name(enum sso_result r);

/* The value of cookie `name` in a Cookie header, copied into out (NUL-terminated); false when
 * absent, empty or longer than size - 1. */
bool sso_cookie_get(const char *header, const char *name, char *out, size_t size);

/* Adds a Set-Cookie to the reply: Path=/, Secure, HttpOnly, the given SameSite and Max-Age
 * (0 expires it). At most two per reply. */
void sso_cookie_set(struct api_call *call, const char *name, const char *value,
                    const char *same_site, int max_age);

/* SSO.md (a) "return_to": a same-origin path — starts with exactly one '/', no '\', no
 * control bytes, at most 512 bytes. An absolute URL under public_url + "/" is reduced to its
 * path. Returns the path (pointer into value) or NULL when the value must be dropped. */
const char *sso_return_to_check(const char *value, const char *public_url);

/* Replies with the generic sign-in error page (no detail of why: that is in the event). */
void sso_reply_failure(struct api_call *call, int status, const char *message);

/* Replies 302 to location (must fit call->location), with no-store and no framing. */
int sso_reply_redirect(struct api_call *call, const char *location, struct err *err);

/* Appends s percent-encoded for a query component (RFC 3986 unreserved kept). */
int sso_url_encode(struct buf *b, const char *s, struct err *err);

/* Standard base64 with padding of n bytes; malloc'd. */
char *sso_base64_encode(const void *in, size_t n);

/* The value of `name` in an application/x-www-form-urlencoded body, decoded ('+' is a space)
 * into a malloc'd string; NULL when absent or malformed. */
char *sso_form_get(const char *body, size_t len, const char *name);

/* SSO.md (a) "Okta" (issue 14): a URL whose first DNS label ends in "-admin" (any letter case)
 * is the Okta admin console, never the org. Refuses it with ERR_INVALID_VALUE naming `field`
 * and the right URL (the label without "-admin", the rest of the URL kept). okta_only limits
 * the rule to Okta's own domains (okta.com, oktapreview.com, okta-emea.com): for fields that
 * may name any IdP. url may be NULL (nothing to check). */
int sso_okta_admin_check(const char *field, const char *url, bool okta_only, struct err *err);

/* 32 random bytes as base64url (43 characters): state, nonce, handles. */
int sso_random_token(char out[44], struct err *err);

/* The tenant named by call->params[0] and its connection of `protocol`, with the parsed
 * config (new reference in *config). ERR_NOT_FOUND when either is missing. */
int sso_conn_load(struct api_call *call, const char *protocol, struct store_tenant *t,
                  struct store_sso_conn *conn, json_t **config, struct err *err);
/* The same for a tenant already known (found from a transaction or an issuer by the
 * tenant-free OIDC endpoints); ERR_NOT_FOUND when it has no connection of `protocol`. */
int sso_conn_of(struct api_call *call, const char *protocol, const struct store_tenant *t,
                struct store_sso_conn *conn, json_t **config, struct err *err);

/* How a sign-in started, read from its transaction. */
struct sso_flow {
    const char *initiated; /* "sp" | "idp" */
    const char *return_to; /* the host's path to come back to, or NULL */
    bool console;          /* started at /console/sso/{t}: opens a console session */
    /* A test sign-in from the console (…/login?test=1): resolves the user and verifies the
     * connection, then shows what the identity provider sent instead of handing off. */
    bool test;
    const json_t *received; /* sso_received (tests only) */
};

/* True when an SP-initiated sign-in asks to be a test (`test=1`). */
bool sso_test_asked(struct api_call *call);

/* The flow of a transaction's data (tx borrowed; NULL for an IdP-initiated sign-in). */
struct sso_flow sso_flow_of(const json_t *tx, const char *initiated);

/* What the identity provider sent, for a test sign-in's page and event: at most 40 members,
 * strings cut at 256 bytes, arrays at 20 elements; protocol noise (nonce, hashes) dropped.
 * A new reference. */
json_t *sso_received(const json_t *claims);

/* Finishes a successful sign-in: resolves the user (core/signin.h rules), issues the hand-off
 * code, records the event and redirects to the connection's signInCompleteUrl (else the
 * server's sso_complete_url) with code,
 * tenant and return_to; or, for a console sign-in (the transaction started at
 * /console/sso/{t}), redeems the code here and opens a console session (sso/console.h); or,
 * for a test, shows the outcome and what was received (no hand-off). On refusal replies with
 * the error page and records the event. */
int sso_finish(struct api_call *call, const struct store_tenant *t, const json_t *config,
               const char *protocol, const char *issuer, const char *subject, const char *email,
               const struct sso_flow *flow, struct err *err);

/* The read-only members of every connection's public view (sso_manage_get): a body may
 * repeat them as GET answered them (core/fields.h), so that GET, change, PUT works. */
#define SSO_READ_ONLY_COMMON "protocol", "verified", "firstSignIn"

/* Appends the sign-in counters in the Prometheus text format (issue 7 item 6). */
int sso_metrics_render(struct buf *out, struct err *err);

/* Hex SHA-256 of a NUL-terminated string. */
void sso_hash(const char *s, char out[65]);

#endif
