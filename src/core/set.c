#include "core/set.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/tx.h"

#define EV_PREFIX "urn:ietf:params:scim:event:"

/* How each audit kind becomes a SET (RFC 9967 §2.4 provisioning events). `payload` names
 * what goes under the event URI: the resource after the change ("full"), the names of the
 * changed attributes ("notice"), the role move (scimd's own URI), or nothing. */
enum payload {
    P_EMPTY,
    P_FULL,
    P_NOTICE,
    P_ROLE
};
static const struct {
    const char *kind, *uri;
    enum payload payload;
} kinds[] = {
    { "user.created", EV_PREFIX "prov:create:full", P_FULL },
    { "user.updated", EV_PREFIX "prov:patch:notice", P_NOTICE },
    { "user.deactivated", EV_PREFIX "prov:deactivate", P_EMPTY },
    { "user.reactivated", EV_PREFIX "prov:activate", P_EMPTY },
    { "user.deleted", EV_PREFIX "prov:delete", P_EMPTY },
    { "user.role_changed", "urn:x-scimd:event:role:change", P_ROLE },
    { "group.created", EV_PREFIX "prov:create:full", P_FULL },
    { "group.updated", EV_PREFIX "prov:patch:notice", P_NOTICE },
    { "group.deleted", EV_PREFIX "prov:delete", P_EMPTY },
};

json_t *
set_event_uris(void)
{
    json_t *out = json_array();
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(kinds[j].uri, kinds[i].uri) == 0;
        if (!seen)
            json_array_append_new(out, json_string(kinds[i].uri));
    }
    return out;
}

static json_t *
payload_of(enum payload p, const json_t *data)
{
    switch (p) {
    case P_FULL: {
        json_t *after = json_object_get(data, "after");
        return json_pack("{s:O}", "data", after ? after : json_object());
    }
    case P_NOTICE: {
        json_t *names = json_array();
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(data, "changes"), key, v) {
            json_array_append_new(names, json_string(key));
        }
        return json_pack("{s:o}", "attributes", names);
    }
    case P_ROLE: {
        json_t *role = json_object_get(data, "role"), *source = json_object_get(data, "source");
        return json_pack("{s:O?, s:O?}", "role", role, "source", source);
    }
    case P_EMPTY:
        break;
    }
    return json_object();
}

/* The externalId the resource had before or after the change, when it had one. */
static const char *
external_id(const json_t *data)
{
    static const char *const sides[] = { "after", "before" };
    for (size_t i = 0; i < 2; i++) {
        const char *x =
            json_string_value(json_object_get(json_object_get(data, sides[i]), "externalId"));
        if (x)
            return x;
    }
    return NULL;
}

json_t *
set_claims(const struct store_event *e, const char *iss, const char *aud)
{
    size_t i = 0;
    while (i < sizeof(kinds) / sizeof(kinds[0]) && strcmp(kinds[i].kind, e->kind) != 0)
        i++;
    if (i == sizeof(kinds) / sizeof(kinds[0]) ||
        (e->rtype != STORE_RTYPE_USER && e->rtype != STORE_RTYPE_GROUP))
        return NULL;
    json_t *data = json_loads(e->data ? e->data : "{}", 0, NULL);
    char uri[96], jti[48], txn[32];
    snprintf(uri, sizeof(uri), "/%s/%s", e->rtype == STORE_RTYPE_USER ? "Users" : "Groups",
             e->resource_id);
    snprintf(jti, sizeof(jti), "%lld-%lld", (long long)e->tenant_id, (long long)e->seq);
    snprintf(txn, sizeof(txn), "%lld", (long long)e->seq);
    json_t *sub = json_pack("{s:s, s:s}", "format", "scim", "uri", uri);
    const char *ext = external_id(data);
    if (ext)
        json_object_set_new(sub, "externalId", json_string(ext));
    json_t *claims =
        json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:{s:o}}", "iss", iss, "aud", aud, "iat",
                  (json_int_t)(e->created_ms / 1000), "jti", jti, "txn", txn, "sub_id", sub,
                  "events", kinds[i].uri, payload_of(kinds[i].payload, data));
    json_decref(data);
    return claims;
}

char *
set_sign(const json_t *claims, const char *jwk_text, const char *kid, struct err *err)
{
    cjose_err ce;
    char *plain = json_dumps(claims, JSON_COMPACT);
    cjose_jwk_t *jwk = cjose_jwk_import(jwk_text, strlen(jwk_text), &ce);
    cjose_header_t *hdr = cjose_header_new(&ce);
    cjose_jws_t *jws = NULL;
    char *out = NULL;
    const char *compact = NULL;
    if (plain && jwk && hdr && cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &ce) &&
        cjose_header_set(hdr, CJOSE_HDR_KID, kid, &ce) &&
        cjose_header_set(hdr, "typ", "secevent+jwt", &ce) &&
        (jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)plain, strlen(plain), &ce)) != NULL &&
        cjose_jws_export(jws, &compact, &ce))
        out = xstrdup(compact);
    else
        err_set(err, ERR_INTERNAL, "cannot sign a SET");
    cjose_jws_release(jws);
    cjose_header_release(hdr);
    cjose_jwk_release(jwk);
    free(plain);
    return out;
}

/* The owner a sealed private key is bound to: its kid. */
static void
aad_of(const char *kid, char aad[80])
{
    snprintf(aad, 80, "scimd-set-key:%s", kid);
}

/* A fresh P-256 key as generation gen, stored (sealed when ring has a key) unless the
 * generation is taken. */
static int
add_key(struct store *s, const struct seal_keyring *ring, int64_t gen, struct err *err)
{
    cjose_err ce;
    struct store_set_key k = { .gen = gen, .created_ms = clock_now_ms() };
    char uuid[37];
    if (crypto_uuid_v7(uuid, err) < 0)
        return -1;
    snprintf(k.kid, sizeof(k.kid), "set-%s", uuid);
    cjose_jwk_t *jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce);
    char *text = NULL;
    if (jwk == NULL || !cjose_jwk_set_kid(jwk, k.kid, strlen(k.kid), &ce) ||
        (text = cjose_jwk_to_json(jwk, true, &ce)) == NULL) {
        cjose_jwk_release(jwk);
        return err_set(err, ERR_INTERNAL, "cannot create a SET signing key");
    }
    cjose_jwk_release(jwk);
    int rc = 0;
    if (seal_keyring_newest(ring)) {
        char aad[80];
        aad_of(k.kid, aad);
        k.jwk = seal_text(ring, aad, text, err);
        rc = k.jwk ? 0 : -1;
    } else {
        k.jwk = xstrdup(text);
    }
    crypto_wipe(text, strlen(text));
    free(text);
    if (rc == 0 && store_tx_begin(s, err) == 0) {
        if (store_set_key_add(s, &k, err) < 0) {
            store_tx_rollback(s);
            rc = -1;
        } else {
            rc = tx_commit(s, err);
        }
    } else {
        rc = -1;
    }
    free(k.jwk);
    return rc;
}

/* The plain private JWK of k, malloc'd. */
static char *
open_key(const struct seal_keyring *ring, const struct store_set_key *k, struct err *err)
{
    if (!seal_is_sealed(k->jwk))
        return xstrdup(k->jwk);
    char aad[80], plain[SEAL_PLAIN_MAX + 1];
    aad_of(k->kid, aad);
    if (seal_keyring_newest(ring) == NULL) {
        err_set(err, ERR_INTERNAL, "the SET signing key is sealed and no sso key is set");
        return NULL;
    }
    if (seal_open(ring, aad, k->jwk, plain, sizeof(plain), err) < 0)
        return NULL;
    char *out = xstrdup(plain);
    crypto_wipe(plain, sizeof(plain));
    return out;
}

/* The newest `limit` generations, creating generation 1 when there is none. */
static int
keys(struct store *s, const struct seal_keyring *ring, size_t limit, struct store_set_key **v,
     size_t *n, struct err *err)
{
    if (store_set_keys_list(s, limit, v, n, err) < 0)
        return -1;
    if (*n > 0)
        return 0;
    store_set_keys_free(*v, *n);
    if (add_key(s, ring, 1, err) < 0 || store_set_keys_list(s, limit, v, n, err) < 0)
        return -1;
    if (*n == 0)
        return err_set(err, ERR_INTERNAL, "the SET signing key vanished");
    return 0;
}

int
set_key_current(struct store *s, const struct seal_keyring *ring, char **jwk, char kid[48],
                struct err *err)
{
    struct store_set_key *v = NULL;
    size_t n = 0;
    *jwk = NULL;
    if (keys(s, ring, 1, &v, &n, err) < 0)
        return -1;
    *jwk = open_key(ring, &v[0], err);
    str_copy(kid, 48, v[0].kid);
    store_set_keys_free(v, n);
    return *jwk ? 0 : -1;
}

int
set_key_rotate(struct store *s, const struct seal_keyring *ring, char kid[48], struct err *err)
{
    struct store_set_key *v = NULL;
    size_t n = 0;
    if (store_set_keys_list(s, 1, &v, &n, err) < 0)
        return -1;
    int64_t gen = n ? v[0].gen + 1 : 1;
    store_set_keys_free(v, n);
    if (add_key(s, ring, gen, err) < 0 || store_set_keys_list(s, 1, &v, &n, err) < 0)
        return -1;
    int rc = n ? 0 : err_set(err, ERR_INTERNAL, "the SET signing key vanished");
    if (n)
        str_copy(kid, 48, v[0].kid);
    store_set_keys_free(v, n);
    return rc;
}

json_t *
set_jwks(struct store *s, const struct seal_keyring *ring, struct err *err)
{
    struct store_set_key *v = NULL;
    size_t n = 0;
    if (keys(s, ring, SET_JWKS_KEYS, &v, &n, err) < 0)
        return NULL;
    json_t *arr = json_array();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        cjose_err ce;
        char *priv = open_key(ring, &v[i], err);
        cjose_jwk_t *jwk = priv ? cjose_jwk_import(priv, strlen(priv), &ce) : NULL;
        char *pub = jwk ? cjose_jwk_to_json(jwk, false, &ce) : NULL;
        json_t *j = pub ? json_loads(pub, 0, NULL) : NULL;
        if (j) {
            /* RFC 7517 §4.2, §4.4: the key signs, with ES256 only. */
            json_object_set_new(j, "use", json_string("sig"));
            json_object_set_new(j, "alg", json_string("ES256"));
            json_array_append_new(arr, j);
        } else if (priv) {
            rc = err_set(err, ERR_INTERNAL, "a SET signing key cannot be read");
        } else {
            rc = -1;
        }
        free(pub);
        cjose_jwk_release(jwk);
        if (priv)
            crypto_wipe(priv, strlen(priv));
        free(priv);
    }
    store_set_keys_free(v, n);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return json_pack("{s:o}", "keys", arr);
}

/* The seq a jti of tenant_id names ("<tenant_id>-<seq>"). */
static int
jti_seq(const json_t *v, int64_t tenant_id, int64_t *seq, struct err *err)
{
    const char *s = json_string_value(v);
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "%lld-", (long long)tenant_id);
    if (s == NULL)
        return err_set(err, ERR_INVALID_VALUE, "a jti must be a string");
    size_t n = json_string_length(v);
    if (n <= (size_t)plen || strncmp(s, prefix, (size_t)plen) != 0)
        return err_set(err, ERR_INVALID_VALUE, "\"%.40s\" is not the jti of a SET of this stream",
                       s);
    struct err ignored;
    if (str_to_i64((struct str){ s + plen, n - (size_t)plen }, 1, INT64_MAX, seq, "jti", &ignored) <
        0)
        return err_set(err, ERR_INVALID_VALUE, "\"%.40s\" is not the jti of a SET of this stream",
                       s);
    return 0;
}

static int
parse_member(const char *key, json_t *v, int64_t tenant_id, struct set_poll *out, struct err *err)
{
    if (strcmp(key, "ack") == 0) {
        if (!json_is_array(v))
            return err_set(err, ERR_INVALID_VALUE, "\"ack\" must be an array of jti strings");
        if (json_array_size(v) > LIMIT_SET_POLL_ACKS)
            return err_set(err, ERR_INVALID_VALUE, "at most %d acknowledgements per poll",
                           LIMIT_SET_POLL_ACKS);
        size_t i;
        json_t *j;
        json_array_foreach(v, i, j) {
            if (jti_seq(j, tenant_id, &out->acks[out->n_acks], err) < 0)
                return -1;
            out->n_acks++;
        }
        return 0;
    }
    if (strcmp(key, "setErrs") == 0) {
        if (!json_is_object(v))
            return err_set(err, ERR_INVALID_VALUE, "\"setErrs\" must be an object keyed by jti");
        if (json_object_size(v) > LIMIT_SET_POLL_ACKS)
            return err_set(err, ERR_INVALID_VALUE, "at most %d error reports per poll",
                           LIMIT_SET_POLL_ACKS);
        const char *jti;
        json_t *e;
        json_object_foreach(v, jti, e) {
            json_t *name = json_string(jti);
            int rc = jti_seq(name, tenant_id, &out->errs[out->n_errs], err);
            json_decref(name);
            if (rc < 0)
                return -1;
            /* RFC 8936 §2.4.4: {"err": code, "description": text}. */
            if (!json_is_object(e) || !json_is_string(json_object_get(e, "err")))
                return err_set(err, ERR_INVALID_VALUE,
                               "each setErrs entry must be an object with an \"err\" string");
            out->n_errs++;
        }
        return 0;
    }
    if (strcmp(key, "maxEvents") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > LIMIT_SET_POLL_EVENTS)
            return err_set(err, ERR_INVALID_VALUE, "\"maxEvents\" must be an integer 0..%d",
                           LIMIT_SET_POLL_EVENTS);
        out->max_events = json_integer_value(v);
        return 0;
    }
    if (strcmp(key, "returnImmediately") == 0) {
        if (!json_is_boolean(v))
            return err_set(err, ERR_INVALID_VALUE, "\"returnImmediately\" must be a boolean");
        out->return_immediately = json_is_true(v);
        return 0;
    }
    return err_set(err, ERR_INVALID_VALUE,
                   "a poll request takes \"ack\", \"setErrs\", \"maxEvents\" and "
                   "\"returnImmediately\"; not \"%.40s\"",
                   key);
}

int
set_poll_parse(const char *body, size_t len, int64_t tenant_id, struct set_poll *out,
               struct err *err)
{
    *out = (struct set_poll){ .max_events = LIMIT_SET_POLL_EVENTS };
    json_error_t je;
    json_t *j = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        return err_set(err, ERR_INVALID_SYNTAX, "a poll request is a JSON object");
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(j, key, v) {
        if (parse_member(key, v, tenant_id, out, err) < 0) {
            rc = -1;
            break;
        }
    }
    json_decref(j);
    return rc;
}

/* Generations reseal looks at: far more than rotation ever makes. */
#define RESEAL_KEYS 1000

int
set_reseal(struct store *s, const struct seal_keyring *ring, struct seal_tally *out,
           struct err *err)
{
    *out = (struct seal_tally){ 0 };
    if (seal_keyring_newest(ring) == NULL)
        return err_set(err, ERR_INVALID_VALUE, "no sso key is configured");
    struct store_set_key *v = NULL;
    size_t n = 0;
    if (store_set_keys_list(s, RESEAL_KEYS, &v, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool was_plain = !seal_is_sealed(v[i].jwk);
        if (!was_plain && seal_is_current(ring, v[i].jwk)) {
            out->current++;
            continue;
        }
        struct err oe = { 0 };
        char *plain = open_key(ring, &v[i], &oe);
        if (plain == NULL) {
            seal_tally_unreadable(out, v[i].kid);
            continue;
        }
        char aad[80];
        aad_of(v[i].kid, aad);
        char *sealed = seal_text(ring, aad, plain, err);
        crypto_wipe(plain, strlen(plain));
        free(plain);
        if (sealed == NULL || store_tx_begin(s, err) < 0) {
            free(sealed);
            rc = -1;
            break;
        }
        int w = store_set_key_reseal(s, v[i].gen, v[i].jwk, sealed, err);
        free(sealed);
        if (w < 0) {
            store_tx_rollback(s);
            rc = -1;
        } else if (tx_commit(s, err) < 0) {
            rc = -1;
        } else if (w == 0) {
            out->changed++;
        } else if (was_plain) {
            out->was_plain++;
        } else {
            out->resealed++;
        }
    }
    store_set_keys_free(v, n);
    return rc;
}
