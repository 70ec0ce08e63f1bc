/* Property test: for generated users and generated filters, the compiled filter
 * (store/sqlgen.c with the backend's dialect) selects exactly the users that query_eval
 * accepts. Both implement RFC 7644 §3.4.2.2 from one AST; this keeps them from drifting
 * apart. Deterministic: a fixed seed, so a failure prints a filter that reproduces it.
 * SQLite by default; SCIMD_TEST_DSN=postgresql://… runs it against PostgreSQL
 * (tests/integration/test_pg_filter_agreement.py does, in a throwaway cluster). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/arena.h"
#include "core/directory.h"
#include "core/tenant.h"
#include "core/user.h"
#include "query/query.h"
#include "scim/resource.h"
#include "scim/schema.h"
#include "sparkpost_roles.h"

#define N_USERS   150
#define N_FILTERS 1500

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *const words[] = {
    "alpha", "Alpha", "beta", "BETA",           "gamma",         "",
    "a",     "ALP",   "ta",   "zeta@x.example", "Zeta@X.example"
};
#define N_WORDS (sizeof(words) / sizeof(words[0]))

struct fixture {
    char dir[64], path[128];
    struct store *store;
    struct store_tenant tenant;
    json_t *docs[N_USERS]; /* stored documents with "id" added */
};

static json_t *
gen_user(int i)
{
    char name[64];
    snprintf(name, sizeof(name), "%s%d@%s", words[rnd(N_WORDS - 1)], i,
             rnd(2) ? "x.example" : "Y.example");
    json_t *u = json_pack("{s:s, s:b}", "userName", name, "active", rnd(3) != 0);
    if (rnd(3))
        json_object_set_new(u, "externalId", json_string(words[rnd(N_WORDS)]));
    if (rnd(2))
        json_object_set_new(u, "title", json_string(words[rnd(N_WORDS)]));
    if (rnd(2))
        json_object_set_new(u, "name", json_pack("{s:s}", "givenName", words[rnd(N_WORDS)]));
    int n_emails = (int)rnd(4);
    if (n_emails) {
        json_t *emails = json_array();
        for (int k = 0; k < n_emails; k++)
            json_array_append_new(emails,
                                  json_pack("{s:s, s:s, s:b}", "value", words[rnd(N_WORDS)], "type",
                                            rnd(2) ? "work" : "home", "primary", k == 0));
        json_object_set_new(u, "emails", emails);
    }
    if (rnd(2))
        json_object_set_new(u, SCIM_URN_ENTERPRISE,
                            json_pack("{s:s}", "department", words[rnd(N_WORDS)]));
    return u;
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct err e;
    snprintf(f->dir, sizeof(f->dir), "/tmp/scimd-agree-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    const char *dsn = getenv("SCIMD_TEST_DSN");
    assert_int_equal(store_open(dsn && dsn[0] ? dsn : f->path, &f->store, &e), 0);
    struct tenant_fields tf = TENANT_FIELDS_UNSET;
    assert_int_equal(tenant_create(f->store, &(struct gate_policy){ "enterprise", NULL }, "agree",
                                   &tf, &f->tenant, &e),
                     0);
    for (int i = 0; i < N_USERS; i++) {
        json_t *in = gen_user(i);
        json_t *doc = scim_resource_normalize(&scim_rt_user, in, SCIM_WRITE_CREATE, NULL, &e);
        json_decref(in);
        assert_non_null(doc);
        struct store_resource r;
        assert_int_equal(user_create(f->store, &f->tenant, "test", doc, NULL, &r, NULL, &e), 0);
        json_t *stored = json_loads(r.doc, 0, NULL);
        json_object_set_new(stored, "id", json_string(r.id));
        f->docs[i] = stored;
        store_resource_cleanup(&r);
        json_decref(doc);
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char p[160];
    for (int i = 0; i < N_USERS; i++)
        json_decref(f->docs[i]);
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

static const char *const attrs[] = {
    "userName",
    "externalId",
    "title",
    "name.givenName",
    "emails.value",
    "emails.type",
    "emails",
    "active",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "EMAILS.VALUE",
    "id"
};
static const char *const ops[] = { "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr" };

static void
gen_value(char *out, size_t size, const char *attr)
{
    if (strcmp(attr, "active") == 0) {
        const char *b[] = { "true", "false", "\"True\"", "null" };
        snprintf(out, size, "%s", b[rnd(4)]);
    } else if (rnd(10) == 0) {
        snprintf(out, size, "null");
    } else {
        snprintf(out, size, "\"%s\"", words[rnd(N_WORDS)]);
    }
}

static void
gen_leaf(char *out, size_t size)
{
    char v[64];
    if (rnd(6) == 0) {
        const char *inner_attr = rnd(2) ? "type" : "value";
        gen_value(v, sizeof(v), inner_attr);
        snprintf(out, size, "emails[%s %s %s and primary eq %s]", inner_attr, ops[rnd(9)],
                 strcmp(v, "null") == 0 ? "\"work\"" : v, rnd(2) ? "true" : "false");
        return;
    }
    const char *a = attrs[rnd(sizeof(attrs) / sizeof(attrs[0]))];
    const char *op = ops[rnd(sizeof(ops) / sizeof(ops[0]))];
    if (strcmp(op, "pr") == 0) {
        snprintf(out, size, "%s pr", a);
        return;
    }
    gen_value(v, sizeof(v), a);
    snprintf(out, size, "%s %s %s", a, op, v);
}

static void
gen_filter(char *out, size_t size, int depth)
{
    char a[512], b[512];
    unsigned k = depth > 2 ? 0 : rnd(5);
    if (k <= 1) {
        gen_leaf(out, size);
    } else if (k == 2) {
        gen_filter(a, sizeof(a), depth + 1);
        snprintf(out, size, "not (%s)", a);
    } else {
        gen_filter(a, sizeof(a), depth + 1);
        gen_filter(b, sizeof(b), depth + 1);
        snprintf(out, size, "(%s) %s (%s)", a, k == 3 ? "and" : "or", b);
    }
}

static void
sql_and_eval_select_the_same_users(void **state)
{
    struct fixture *f = *state;
    int checked = 0, nonempty = 0;
    for (int n = 0; n < N_FILTERS; n++) {
        char text[2048];
        struct err e = { 0 };
        gen_filter(text, sizeof(text), 0);
        struct arena *a = arena_new(1 << 20);
        struct query_node *q = query_filter_parse(a, text, &e);
        if (q == NULL || query_resolve(q, scim_schema_resolve, (void *)&scim_rt_user, &e) < 0) {
            arena_free(a);
            continue; /* generated an invalid combination (e.g. co on a boolean): skip */
        }
        struct store_list_query lq = { .tenant_id = f->tenant.id,
                                       .type = STORE_RTYPE_USER,
                                       .filter = q,
                                       .start_index = 1,
                                       .count = N_USERS };
        struct store_list_result res = { 0 };
        if (directory_list(f->store, &lq, &res, &e) < 0) {
            arena_free(a);
            if (e.code == ERR_INVALID_FILTER)
                continue;
            fail_msg("list failed for %s: %s", text, e.detail);
        }
        int expected = 0;
        for (int i = 0; i < N_USERS; i++) {
            bool want = query_eval(q, f->docs[i]);
            const char *id = json_string_value(json_object_get(f->docs[i], "id"));
            bool got = false;
            for (size_t j = 0; j < res.n; j++)
                got = got || strcmp(res.rows[j].id, id) == 0;
            if (want != got) {
                char *doc = json_dumps(f->docs[i], JSON_COMPACT);
                fail_msg("filter %s: eval=%d sql=%d on %s", text, want, got, doc);
            }
            expected += want;
        }
        assert_int_equal((int)res.total, expected);
        nonempty += expected > 0;
        checked++;
        store_list_result_cleanup(&res);
        arena_free(a);
    }
    /* The generator must exercise real matches, not only empty results. */
    assert_true(checked > N_FILTERS / 2);
    assert_true(nonempty > checked / 4);
    print_message("checked %d filters, %d with matches\n", checked, nonempty);
}

int
main(void)
{
    sparkpost_schema_use();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sql_and_eval_select_the_same_users, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
