#ifndef SCIMD_CORE_SET_H
#define SCIMD_CORE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/seal.h"
#include "store/store.h"

/* SCIM events as Security Event Tokens (RFC 8417 SETs, with RFC 9967's SCIM event URIs and
 * payloads; docs/webhooks.md "SCIM events (SETs)"). A webhook of format "set" receives each
 * audit event as one SET signed with ES256 by the database's signing key; receivers verify it
 * against the JWKS published at SET_JWKS_PATH. */

#define SET_JWKS_PATH "/events/v1/jwks.json"
/* Generations of the signing key the JWKS lists: the one signing and the one before, so a
 * receiver holding SETs signed just before a rotation can still verify them. */
#define SET_JWKS_KEYS 2

/* The newest signing key, creating generation 1 on first use (two instances racing both
 * insert; the first wins and both then read it). *jwk: the private JWK text, malloc'd
 * (crypto_wipe and free it); kid: its key id. The private part is sealed at rest with ring's
 * newest key when one is configured. ERR_INTERNAL when a sealed key cannot be opened. */
int set_key_current(struct store *s, const struct seal_keyring *ring, char **jwk, char kid[48],
                    struct err *err);
/* Adds a new generation, which signs from now on; the previous one stays in the JWKS
 * (`scimd set-key rotate`). Its kid into kid. */
int set_key_rotate(struct store *s, const struct seal_keyring *ring, char kid[48], struct err *err);
/* `scimd reseal`: every SET signing key not sealed under ring's newest key is sealed again
 * under it (one stored plain is sealed), each its own transaction, only if unchanged
 * meanwhile. Counts into *out as webhook_reseal does; a key no ring key opens is counted
 * (named by kid) and left. ERR_INVALID_VALUE when ring has no key. */
int set_reseal(struct store *s, const struct seal_keyring *ring, struct seal_tally *out,
               struct err *err);
/* {"keys": [public JWKs of the newest SET_JWKS_KEYS generations]}, creating the first key
 * when there is none. New reference, or NULL with err. */
json_t *set_jwks(struct store *s, const struct seal_keyring *ring, struct err *err);

/* The claims of the SET for audit event e of the tenant whose SCIM base URL is iss, for the
 * audience aud: iss, aud, iat (the event's time), jti ("<tenant id>-<event seq>", the same at
 * every redelivery), txn (the event's seq: scimd records one event per change), sub_id
 * ({"format": "scim", "uri": "/Users/<id>", "externalId"} per RFC 9967) and events ({URI:
 * payload}). NULL when the event's kind has no SET (docs/webhooks.md lists them): such
 * events are skipped. New reference. */
/* The event URIs scimd's SETs carry, each once (RFC 9967 §4, the ServiceProviderConfig's
 * securityEvents.eventUris). New reference. */
json_t *set_event_uris(void);
json_t *set_claims(const struct store_event *e, const char *iss, const char *aud);
/* A poll request (RFC 8936 §2.4): {"ack": [jti…], "setErrs": {jti: {"err", "description"}},
 * "maxEvents": n, "returnImmediately": bool}, every member optional. acks and errs hold the
 * event seqs the jtis name. */
struct set_poll {
    int64_t acks[LIMIT_SET_POLL_ACKS];
    size_t n_acks;
    int64_t errs[LIMIT_SET_POLL_ACKS];
    size_t n_errs;
    int64_t max_events; /* 0..LIMIT_SET_POLL_EVENTS; LIMIT_SET_POLL_EVENTS when absent */
    bool return_immediately;
};
/* Parses a poll request of the stream of tenant tenant_id into *out. ERR_INVALID_SYNTAX for
 * text that is not a JSON object; ERR_INVALID_VALUE for an unknown member, a member of the
 * wrong type, more than LIMIT_SET_POLL_ACKS jtis, maxEvents outside 0..LIMIT_SET_POLL_EVENTS,
 * or a jti that is not "<tenant_id>-<seq>" of this tenant. Pure: no store, no log. */
int set_poll_parse(const char *body, size_t len, int64_t tenant_id, struct set_poll *out,
                   struct err *err);

/* Signs claims as a JWS (ES256, typ "secevent+jwt", the key's kid): compact serialisation,
 * malloc'd, or NULL with ERR_INTERNAL. */
char *set_sign(const json_t *claims, const char *jwk, const char *kid, struct err *err);

#endif
