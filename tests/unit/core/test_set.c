/* core/set pure logic: the claims of a SET for each audit kind (RFC 8417, RFC 9967), signing
 * (ES256, verified here with cjose), and the RFC 8936 poll request parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <cmocka.h>

#include "core/set.h"

#define EV "urn:ietf:params:scim:event:"

static struct store_event
event(const char *kind, enum store_rtype rtype, const char *data)
{
    struct store_event e = {
        .seq = 42, .tenant_id = 7, .created_ms = 1700000000123, .rtype = rtype
    };
    snprintf(e.kind, sizeof(e.kind), "%s", kind);
    snprintf(e.resource_id, sizeof(e.resource_id), "u-1");
    e.data = (char *)data;
    return e;
}

static char *
dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(s);
    return s;
}

static void
set_claims_user_created_is_create_full_with_every_claim(void **state)
{
    (void)state;
    struct store_event e = event("user.created", STORE_RTYPE_USER,
                                 "{\"after\":{\"userName\":\"ann\",\"externalId\":\"x1\"}}");
    json_t *c = set_claims(&e, "https://id.example/scim/v2", "https://rcv.example/");
    assert_non_null(c);
    char *s = dump(c);
    /* RFC 8417 §2.2 iss/aud/iat/jti/txn; RFC 9967 sub_id format "scim"; full: "data". */
    assert_string_equal(
        s, "{\"aud\":\"https://rcv.example/\",\"events\":{\"" EV "prov:create:full\":{\"data\":"
           "{\"externalId\":\"x1\",\"userName\":\"ann\"}}},\"iat\":1700000000,\"iss\":"
           "\"https://id.example/scim/v2\",\"jti\":\"7-42\",\"sub_id\":{\"externalId\":\"x1\","
           "\"format\":\"scim\",\"uri\":\"/Users/u-1\"},\"txn\":\"42\"}");
    free(s);
    json_decref(c);
}

static void
set_claims_maps_each_kind_to_its_event_uri(void **state)
{
    (void)state;
    static const struct {
        const char *kind;
        enum store_rtype rtype;
        const char *data, *events;
    } cases[] = {
        { "user.updated", STORE_RTYPE_USER, "{\"changes\":{\"displayName\":{},\"title\":{}}}",
          "{\"" EV "prov:patch:notice\":{\"attributes\":[\"displayName\",\"title\"]}}" },
        { "user.deactivated", STORE_RTYPE_USER, "{\"changes\":{\"active\":{}}}",
          "{\"" EV "prov:deactivate\":{}}" },
        { "user.reactivated", STORE_RTYPE_USER, "{}", "{\"" EV "prov:activate\":{}}" },
        { "user.deleted", STORE_RTYPE_USER, "{\"before\":{}}", "{\"" EV "prov:delete\":{}}" },
        { "user.role_changed", STORE_RTYPE_USER,
          "{\"role\":{\"before\":\"a\",\"after\":\"b\"},\"source\":\"group\"}",
          "{\"urn:x-scimd:event:role:change\":{\"role\":{\"after\":\"b\",\"before\":\"a\"},"
          "\"source\":\"group\"}}" },
        { "group.created", STORE_RTYPE_GROUP, "{\"after\":{\"displayName\":\"g\"}}",
          "{\"" EV "prov:create:full\":{\"data\":{\"displayName\":\"g\"}}}" },
        { "group.deleted", STORE_RTYPE_GROUP, "{}", "{\"" EV "prov:delete\":{}}" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct store_event e = event(cases[i].kind, cases[i].rtype, cases[i].data);
        json_t *c = set_claims(&e, "i", "a");
        assert_non_null(c);
        char *s = dump(json_object_get(c, "events"));
        assert_string_equal(s, cases[i].events);
        free(s);
        json_decref(c);
    }
}

static void
set_claims_is_null_for_kinds_without_a_set(void **state)
{
    (void)state;
    static const char *const kinds[] = { "role_map.changed", "sso.signin", "user.sso_unlinked",
                                         "tenant.updated" };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct store_event e = event(kinds[i], STORE_RTYPE_USER, "{}");
        assert_null(set_claims(&e, "i", "a"));
    }
    struct store_event e = event("user.created", 0, "{}");
    assert_null(set_claims(&e, "i", "a"));
}

static void
set_claims_survives_broken_event_data(void **state)
{
    (void)state;
    struct store_event e = event("user.updated", STORE_RTYPE_USER, "not json");
    json_t *c = set_claims(&e, "i", "a");
    assert_non_null(c);
    char *s = dump(json_object_get(c, "events"));
    assert_string_equal(s, "{\"" EV "prov:patch:notice\":{\"attributes\":[]}}");
    free(s);
    json_decref(c);
}

static void
set_sign_produces_an_es256_jws_the_key_verifies(void **state)
{
    (void)state;
    cjose_err ce;
    cjose_jwk_t *k = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce);
    assert_non_null(k);
    char *priv = cjose_jwk_to_json(k, true, &ce);
    struct store_event e = event("user.deleted", STORE_RTYPE_USER, "{}");
    json_t *c = set_claims(&e, "i", "a");
    struct err err = { 0 };
    char *set = set_sign(c, priv, "kid-1", &err);
    assert_non_null(set);
    cjose_jws_t *jws = cjose_jws_import(set, strlen(set), &ce);
    assert_non_null(jws);
    assert_true(cjose_jws_verify(jws, k, &ce));
    cjose_header_t *h = cjose_jws_get_protected(jws);
    assert_string_equal(cjose_header_get(h, CJOSE_HDR_ALG, &ce), "ES256");
    assert_string_equal(cjose_header_get(h, CJOSE_HDR_KID, &ce), "kid-1");
    assert_string_equal(cjose_header_get(h, "typ", &ce), "secevent+jwt");
    cjose_jws_release(jws);
    assert_null(set_sign(c, "{\"kty\":\"nope\"}", "k", &err));
    assert_int_equal(err.code, ERR_INTERNAL);
    free(set);
    free(priv);
    json_decref(c);
    cjose_jwk_release(k);
}

static int
parse(const char *text, struct set_poll *p, struct err *err)
{
    *err = (struct err){ 0 };
    return set_poll_parse(text, strlen(text), 7, p, err);
}

static void
set_poll_parse_reads_every_member(void **state)
{
    (void)state;
    struct set_poll *p = calloc(1, sizeof(*p));
    struct err err;
    assert_int_equal(parse("{\"ack\":[\"7-3\",\"7-1\"],\"setErrs\":{\"7-9\":{\"err\":\"jwtAud\","
                           "\"description\":\"x\"}},\"maxEvents\":5,\"returnImmediately\":true}",
                           p, &err),
                     0);
    assert_int_equal(p->n_acks, 2);
    assert_int_equal(p->acks[0], 3);
    assert_int_equal(p->acks[1], 1);
    assert_int_equal(p->n_errs, 1);
    assert_int_equal(p->errs[0], 9);
    assert_int_equal(p->max_events, 5);
    assert_true(p->return_immediately);
    assert_int_equal(parse("{}", p, &err), 0);
    assert_int_equal(p->n_acks, 0);
    assert_int_equal(p->max_events, LIMIT_SET_POLL_EVENTS);
    assert_false(p->return_immediately);
    free(p);
}

static void
set_poll_parse_rejects_hostile_requests(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum err_code code;
    } cases[] = {
        { "", ERR_INVALID_SYNTAX },
        { "[]", ERR_INVALID_SYNTAX },
        { "{\"ack\":[],\"ack\":[]}", ERR_INVALID_SYNTAX },
        { "{\"ack\":{}}", ERR_INVALID_VALUE },
        { "{\"ack\":[7]}", ERR_INVALID_VALUE },
        { "{\"ack\":[\"8-1\"]}", ERR_INVALID_VALUE }, /* another tenant's */
        { "{\"ack\":[\"7-\"]}", ERR_INVALID_VALUE },
        { "{\"ack\":[\"7-0\"]}", ERR_INVALID_VALUE },
        { "{\"ack\":[\"7--1\"]}", ERR_INVALID_VALUE },
        { "{\"ack\":[\"7-1x\"]}", ERR_INVALID_VALUE },
        { "{\"ack\":[\"77-1\"]}", ERR_INVALID_VALUE },
        { "{\"ack\":[\"7-99999999999999999999\"]}", ERR_INVALID_VALUE },
        { "{\"ack\":[\"7-1\\u0000\"]}", ERR_INVALID_SYNTAX }, /* jansson refuses NUL */
        { "{\"setErrs\":[]}", ERR_INVALID_VALUE },
        { "{\"setErrs\":{\"7-1\":{}}}", ERR_INVALID_VALUE },
        { "{\"setErrs\":{\"x\":{\"err\":\"e\"}}}", ERR_INVALID_VALUE },
        { "{\"maxEvents\":101}", ERR_INVALID_VALUE },
        { "{\"maxEvents\":-1}", ERR_INVALID_VALUE },
        { "{\"maxEvents\":\"1\"}", ERR_INVALID_VALUE },
        { "{\"returnImmediately\":1}", ERR_INVALID_VALUE },
        { "{\"acks\":[]}", ERR_INVALID_VALUE },
    };
    struct set_poll *p = calloc(1, sizeof(*p));
    struct err err;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (parse(cases[i].text, p, &err) != -1 || err.code != cases[i].code)
            fail_msg("%s: got %d (%s)", cases[i].text, err.code, err.detail);
    }
    free(p);
}

static void
set_poll_parse_rejects_more_acks_than_the_limit(void **state)
{
    (void)state;
    size_t cap = 16 + (LIMIT_SET_POLL_ACKS + 1) * 8;
    char *text = calloc(1, cap);
    size_t n = (size_t)snprintf(text, cap, "{\"ack\":[");
    for (int i = 0; i <= LIMIT_SET_POLL_ACKS; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s\"7-1\"", i ? "," : "");
    snprintf(text + n, cap - n, "]}");
    struct set_poll *p = calloc(1, sizeof(*p));
    struct err err;
    assert_int_equal(parse(text, p, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_VALUE);
    free(p);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_claims_user_created_is_create_full_with_every_claim),
        cmocka_unit_test(set_claims_maps_each_kind_to_its_event_uri),
        cmocka_unit_test(set_claims_is_null_for_kinds_without_a_set),
        cmocka_unit_test(set_claims_survives_broken_event_data),
        cmocka_unit_test(set_sign_produces_an_es256_jws_the_key_verifies),
        cmocka_unit_test(set_poll_parse_reads_every_member),
        cmocka_unit_test(set_poll_parse_rejects_hostile_requests),
        cmocka_unit_test(set_poll_parse_rejects_more_acks_than_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
