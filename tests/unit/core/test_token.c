/* core/token: format checks and the mint → authenticate → revoke cycle on a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/audit.h"
#include "core/tenant.h"
#include "core/token.h"

static const struct gate_policy policy = { "premier, enterprise,test", NULL };

struct fixture {
    char dir[64];
    char path[128];
    struct store *store;
    struct store_tenant tenant;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct err e;
    strcpy(f->dir, "/tmp/scimd-test-XXXXXX"); /* checksrc: tests are not scanned */
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    assert_int_equal(store_open(f->path, &f->store, &e), 0);
    struct tenant_fields tf = TENANT_FIELDS_UNSET;
    tf.integration_enabled = 1;
    assert_int_equal(tenant_create(f->store, &policy, "acme", &tf, &f->tenant, &e), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char p[160];
    store_close(f->store);
    const char *suffix[] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
token_well_formed_checks_prefix_length_and_alphabet(void **state)
{
    (void)state;
    char good[TOKEN_LEN + 1] = TOKEN_PREFIX;
    memset(good + 6, 'a', TOKEN_RANDOM_LEN);
    good[TOKEN_LEN] = '\0';
    assert_true(token_is_well_formed(good, TOKEN_LEN));
    assert_false(token_is_well_formed(good, TOKEN_LEN - 1));
    good[10] = '+';
    assert_false(token_is_well_formed(good, TOKEN_LEN));
    assert_false(token_is_well_formed("Scimd_", 6));
}

static void
token_mint_authenticate_revoke(void **state)
{
    struct fixture *f = *state;
    struct err e;
    struct store_token tok, seen;
    struct store_tenant tenant;
    struct token_secret secret;
    const struct token_request req = { &f->tenant, &policy, NULL, NULL, "cli" };
    assert_int_equal(token_mint(f->store, &req, "okta", &tok, &secret, &e), 0);
    char text[TOKEN_LEN + 1];
    memcpy(text, secret.text, sizeof(text));
    token_secret_wipe(&secret);
    assert_int_equal(
        token_authenticate(f->store, text, strlen(text), &seen, &tenant, NULL, NULL, &e), 0);
    assert_string_equal(tenant.slug, "acme");
    assert_string_equal(seen.id, tok.id);
    assert_int_equal(token_revoke(f->store, &req, tok.id, NULL, &e), 0);
    /* Both writes are in the audit trail, with their actor, and a second revoke adds none. */
    assert_int_equal(token_revoke(f->store, &req, tok.id, NULL, &e), 0);
    struct store_event *ev;
    size_t n;
    assert_int_equal(audit_list(f->store, f->tenant.id, 0, 10, &ev, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].kind, "token.created");
    assert_string_equal(ev[1].kind, "token.revoked");
    assert_string_equal(ev[1].actor, "cli");
    assert_non_null(strstr(ev[1].data, tok.id));
    assert_null(strstr(ev[1].data, tok.hash));
    audit_events_free(ev, n);
    assert_int_equal(
        token_authenticate(f->store, text, strlen(text), &seen, &tenant, NULL, NULL, &e), -1);
    assert_int_equal(e.code, ERR_UNAUTHORIZED);
    assert_non_null(strstr(e.detail, "revoked"));
    /* A token of the right shape that was never minted. */
    text[20] = text[20] == 'A' ? 'B' : 'A';
    assert_int_equal(
        token_authenticate(f->store, text, strlen(text), &seen, &tenant, NULL, NULL, &e), -1);
    assert_int_equal(e.code, ERR_UNAUTHORIZED);
}

static void
token_revoke_of_another_tenants_token_is_not_found(void **state)
{
    struct fixture *f = *state;
    struct err e;
    struct store_token tok;
    struct store_tenant other;
    struct token_secret secret;
    struct tenant_fields tf = TENANT_FIELDS_UNSET;
    tf.integration_enabled = 1;
    assert_int_equal(tenant_create(f->store, &policy, "other", &tf, &other, &e), 0);
    const struct token_request req = { &f->tenant, &policy, NULL, NULL, "cli" };
    assert_int_equal(token_mint(f->store, &req, NULL, &tok, &secret, &e), 0);
    token_secret_wipe(&secret);
    const struct token_request theirs = { &other, &policy, NULL, NULL, "cli" };
    assert_int_equal(token_revoke(f->store, &theirs, tok.id, NULL, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
}

/* Each gate refuses on its own and the refusal names it; the operator (no acting user)
 * skips only the acting-admin gate. */
static void
token_gates_refuse_and_name_the_condition(void **state)
{
    struct fixture *f = *state;
    struct err e;
    struct store_token tok;
    struct token_secret secret;
    struct store_tenant t = f->tenant;
    static const struct {
        const char *plan;
        bool integration, saml;
        const char *acting, *fragment;
    } cases[] = {
        { "basic", true, false, NULL, "plan \"basic\" does not include SCIM" },
        { "enterprise", false, false, NULL, "integration is not enabled" },
        { "enterprise", true, true, NULL, "requires SAML" },
        { "enterprise", true, false, "", "no acting user was given" },
        { "enterprise", true, false, "nobody", "acting user nobody is not a user" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        strcpy(t.plan, cases[i].plan);
        t.integration_enabled = cases[i].integration;
        t.saml_required = cases[i].saml;
        const struct token_request req = { &t, &policy, cases[i].acting, NULL, "operator" };
        assert_int_equal(token_mint(f->store, &req, NULL, &tok, &secret, &e), -1);
        assert_int_equal(e.code, ERR_FORBIDDEN);
        if (strstr(e.detail, cases[i].fragment) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.detail, cases[i].fragment);
    }
    /* Two conditions missing: both named. */
    strcpy(t.plan, "free");
    t.integration_enabled = false;
    t.saml_required = false;
    const struct token_request req = { &t, &policy, NULL, NULL, "cli" };
    assert_int_equal(token_mint(f->store, &req, NULL, &tok, &secret, &e), -1);
    assert_non_null(strstr(e.detail, "plan"));
    assert_non_null(strstr(e.detail, "integration"));
    /* Using a token: plan and integration at the time of use. */
    assert_int_equal(gate_token_use(&policy, &t, &e), -1);
    assert_int_equal(e.code, ERR_UNAUTHORIZED);
    assert_true(gate_plan_includes_scim(policy.scim_plans, "premier"));
    assert_true(gate_plan_includes_scim(policy.scim_plans, "enterprise"));
    assert_false(gate_plan_includes_scim(policy.scim_plans, "enter"));
    assert_false(gate_plan_includes_scim(policy.scim_plans, ""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_well_formed_checks_prefix_length_and_alphabet),
        cmocka_unit_test_setup_teardown(token_mint_authenticate_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(token_gates_refuse_and_name_the_condition, setup, teardown),
        cmocka_unit_test_setup_teardown(token_revoke_of_another_tenants_token_is_not_found, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
