/* The store backend-conformance suite (issue 21): every public function of store/store.h,
 * through store.h only, with the same tests against each backend. Each test opens a fresh
 * store: on SQLite a new file in a mkdtemp directory; on PostgreSQL, when
 * SCIMD_TEST_PG_DSN names a database (tests/unit/store/run_pg.py starts a throwaway
 * cluster and sets it), a fresh schema of that database, reached with search_path. Exact
 * results and error kinds are asserted; a difference between the backends fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/arena.h"
#include "query/query.h"
#include "store/store.h"

/* ---- fixture: one fresh store per test ---- */

struct fx {
    struct store *s;
    char dir[256];   /* SQLite: the mkdtemp directory */
    char schema[64]; /* PostgreSQL: the test's schema */
    char dsn[1024];
};

static const char *
pg_base(void)
{
    const char *v = getenv("SCIMD_TEST_PG_DSN");
    return v && *v ? v : NULL;
}

static void
pg_exec(const char *sql)
{
    PGconn *db = PQconnectdb(pg_base());
    if (PQstatus(db) != CONNECTION_OK)
        fail_msg("connect to %s: %s", pg_base(), PQerrorMessage(db));
    PQclear(PQexec(db, "SET client_min_messages = warning")); /* no DROP … CASCADE notices */
    PGresult *res = PQexec(db, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(db));
    PQclear(res);
    PQfinish(db);
}

static int
setup(void **state)
{
    static int serial;
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    if (pg_base()) {
        snprintf(f->schema, sizeof(f->schema), "conf_%ld_%d", (long)getpid(), ++serial);
        char sql[128];
        snprintf(sql, sizeof(sql), "CREATE SCHEMA \"%s\"", f->schema);
        pg_exec(sql);
        snprintf(f->dsn, sizeof(f->dsn), "%s%soptions=-csearch_path%%3D%s", pg_base(),
                 strchr(pg_base(), '?') ? "&" : "?", f->schema);
    } else {
        snprintf(f->dir, sizeof(f->dir), "/tmp/scimd-conf-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->dsn, sizeof(f->dsn), "%s/scimd.db", f->dir);
    }
    struct err err = { 0 };
    if (store_open(f->dsn, &f->s, &err) < 0)
        fail_msg("store_open(%s): %s", f->dsn, err.detail);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    if (pg_base()) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP SCHEMA \"%s\" CASCADE", f->schema);
        pg_exec(sql);
    } else {
        static const char *const files[] = { "scimd.db", "scimd.db-wal", "scimd.db-shm" };
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            char path[300];
            snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
            unlink(path);
        }
        rmdir(f->dir);
    }
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* A call that must succeed (>= 0); the store's detail on failure. */
#define OK(call)                                                                          \
    do {                                                                                  \
        struct err ok_err_ = { 0 };                                                       \
        struct err *err = &ok_err_;                                                       \
        if ((call) < 0)                                                                   \
            fail_msg("%s failed: %s: %s", #call, err_name(ok_err_.code), ok_err_.detail); \
    } while (0)

/* A call that must fail with `code`. */
#define FAILS(want_code, call)                                                                  \
    do {                                                                                        \
        struct err ok_err_ = { 0 };                                                             \
        struct err *err = &ok_err_;                                                             \
        int rc_ = (call);                                                                       \
        if (rc_ >= 0)                                                                           \
            fail_msg("%s succeeded (%d), expected %s", #call, rc_, err_name(want_code));        \
        if (ok_err_.code != (want_code))                                                        \
            fail_msg("%s: %s (%s), expected %s", #call, err_name(ok_err_.code), ok_err_.detail, \
                     err_name(want_code));                                                      \
    } while (0)

/* A call whose int result must be `want`. */
#define RETURNS(want, call)                                                               \
    do {                                                                                  \
        struct err ok_err_ = { 0 };                                                       \
        struct err *err = &ok_err_;                                                       \
        int rc_ = (call);                                                                 \
        if (rc_ < 0)                                                                      \
            fail_msg("%s failed: %s: %s", #call, err_name(ok_err_.code), ok_err_.detail); \
        if (rc_ != (want))                                                                \
            fail_msg("%s returned %d, expected %d", #call, rc_, (int)(want));             \
    } while (0)

#define S(state) (((struct fx *)*(state))->s)

static void
begin(struct store *s)
{
    OK(store_tx_begin(s, err));
}

static void
commit(struct store *s)
{
    OK(store_tx_commit(s, err));
}

/* A writing call inside its own transaction that must fail with `code`; rolled back. */
#define TX_FAILS(s, want_code, call) \
    do {                             \
        begin(s);                    \
        FAILS(want_code, call);      \
        store_tx_rollback(s);        \
    } while (0)

/* A writing call inside its own transaction that must succeed. */
#define TX_OK(s, call) \
    do {               \
        begin(s);      \
        OK(call);      \
        commit(s);     \
    } while (0)

static void
assert_json_equal(const char *got, const char *want)
{
    assert_non_null(got);
    json_error_t je;
    json_t *a = json_loads(got, JSON_DECODE_ANY, &je);
    json_t *b = json_loads(want, JSON_DECODE_ANY, &je);
    assert_non_null(a);
    assert_non_null(b);
    if (!json_equal(a, b))
        fail_msg("JSON %s, expected %s", got, want);
    json_decref(a);
    json_decref(b);
}

/* The 36-character id number n of a kind: "u…" users, "g…" groups, "k…" tokens, "w…" hooks. */
static const char *
uid(char kind, int n)
{
    static char ring[64][37];
    static int next;
    char *out = ring[next++ % 64];
    snprintf(out, 37, "%c0000000-0000-4000-8000-%012d", kind, n);
    return out;
}

/* A membership removal's ids, sorted and joined by "," ("" when none), or NULL on an error
 * (then err is set); a static buffer. */
static int
cmp_member(const void *a, const void *b)
{
    return strcmp(((const struct store_member *)a)->id, ((const struct store_member *)b)->id);
}

static const char *
removed(int (*fn)(struct store *, int64_t, const char *, struct store_member **, size_t *,
                  struct err *),
        struct store *s, int64_t tenant, const char *key, struct err *err)
{
    static char out[512];
    struct store_member *v = NULL;
    size_t n = 0;
    if (fn(s, tenant, key, &v, &n, err) < 0)
        return NULL;
    if (n > 1) /* qsort of a NULL array is undefined even for n = 0 (UBSan) */
        qsort(v, n, sizeof(*v), cmp_member);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        assert_null(v[i].display);
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "", v[i].id);
    }
    store_members_free(v, n);
    return out;
}

/* A removal that must succeed and answer exactly `want`. */
#define REMOVES(want, fn, s, tenant, key)                                               \
    do {                                                                                \
        struct err rm_err_ = { 0 };                                                     \
        const char *got_ = removed(fn, s, tenant, key, &rm_err_);                       \
        if (got_ == NULL)                                                               \
            fail_msg("%s failed: %s: %s", #fn, err_name(rm_err_.code), rm_err_.detail); \
        assert_string_equal(got_, want);                                                \
    } while (0)

static int64_t
mk_tenant(struct store *s, const char *slug)
{
    struct store_tenant t = { .mode = STORE_MODE_PUSH,
                              .deactivation = STORE_DEACTIVATE_DISABLE,
                              .integration_enabled = true,
                              .created_ms = 1000,
                              .updated_ms = 1000 };
    snprintf(t.slug, sizeof(t.slug), "%s", slug);
    snprintf(t.display_name, sizeof(t.display_name), "Tenant %s", slug);
    snprintf(t.plan, sizeof(t.plan), "free");
    TX_OK(s, store_tenant_insert(s, &t, err));
    assert_true(t.id > 0);
    return t.id;
}

static struct store_resource
user_row(int64_t tid, const char *id, const char *user_name, const char *doc)
{
    (void)id; /* the caller copies it in: r.id is an array */
    return (struct store_resource){ .tenant_id = tid,
                                    .type = STORE_RTYPE_USER,
                                    .version = 1,
                                    .created_ms = 2000,
                                    .modified_ms = 2000,
                                    .user_name = (char *)user_name,
                                    .active = 1,
                                    .doc = (char *)(doc ? doc : "{}") };
}

static void
mk_user(struct store *s, int64_t tid, const char *id, const char *user_name, const char *doc)
{
    struct store_resource r = user_row(tid, id, user_name, doc);
    snprintf(r.id, sizeof(r.id), "%s", id);
    TX_OK(s, store_resource_insert(s, &r, err));
}

static void
mk_group(struct store *s, int64_t tid, const char *id, const char *display)
{
    struct store_resource r = { .tenant_id = tid,
                                .type = STORE_RTYPE_GROUP,
                                .version = 1,
                                .created_ms = 3000,
                                .modified_ms = 3000,
                                .display_name = (char *)display,
                                .active = 1,
                                .doc = "{}" };
    snprintf(r.id, sizeof(r.id), "%s", id);
    TX_OK(s, store_resource_insert(s, &r, err));
}

static void
mk_event(struct store *s, int64_t tid, const char *kind, const char *rid, int64_t at,
         const char *data)
{
    struct store_event e = { .tenant_id = tid, .created_ms = at, .rtype = STORE_RTYPE_USER };
    snprintf(e.actor, sizeof(e.actor), "operator");
    snprintf(e.kind, sizeof(e.kind), "%s", kind);
    snprintf(e.resource_id, sizeof(e.resource_id), "%s", rid);
    e.data = (char *)data;
    TX_OK(s, store_event_insert(s, &e, err));
}

/* ---- basics: open, ping, backend name, transactions ---- */

static void
basics(void **state)
{
    struct store *s = S(state);
    OK(store_ping(s, err));
    assert_string_equal(store_backend_name(s), pg_base() ? "postgres" : "sqlite");

    /* A rolled-back write leaves nothing. */
    struct store_tenant t = { .created_ms = 1, .updated_ms = 1 };
    snprintf(t.slug, sizeof(t.slug), "gone");
    begin(s);
    OK(store_tenant_insert(s, &t, err));
    store_tx_rollback(s);
    struct store_tenant got;
    FAILS(ERR_NOT_FOUND, store_tenant_get_by_slug(s, "gone", &got, err));

    /* A read unit of work sees committed rows. */
    int64_t a = mk_tenant(s, "acme");
    OK(store_read_begin(s, err));
    OK(store_tenant_get_by_id(s, a, &got, err));
    assert_string_equal(got.slug, "acme");
    store_read_end(s);

    /* The thread's connection is made again on the next use. */
    store_thread_done(s);
    OK(store_tenant_get_by_slug(s, "acme", &got, err));
    assert_int_equal(got.id, a);
}

/* ---- backup: SQLite copies online; PostgreSQL says pg_dump ---- */

static void
backup(void **state)
{
    struct fx *f = *state;
    struct store *s = f->s;
    int64_t a = mk_tenant(s, "acme");
    struct store_backup_report r;
    char path[300];
    if (pg_base()) {
        snprintf(path, sizeof(path), "/tmp/scimd-conf-backup-%ld.db", (long)getpid());
        FAILS(ERR_NOT_IMPLEMENTED, store_backup(s, path, &r, err));
        assert_int_equal(access(path, F_OK), -1); /* nothing written */
        return;
    }
    snprintf(path, sizeof(path), "%s/copy.db", f->dir);
    OK(store_backup(s, path, &r, err));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_true(r.pages > 0);
    assert_int_equal(r.bytes, (int64_t)sb.st_size);
    assert_int_equal(r.bytes % r.pages, 0); /* whole pages */
    assert_int_equal(r.restarts, 0);        /* nothing else wrote */
    assert_false(r.single_pass);

    /* The copy is a database with the same rows, the source goes on. */
    struct store *copy = NULL;
    OK(store_open(path, &copy, err));
    struct store_tenant got;
    OK(store_tenant_get_by_slug(copy, "acme", &got, err));
    assert_int_equal(got.id, a);
    store_close(copy);

    /* An existing file is never overwritten. */
    FAILS(ERR_CONFLICT, store_backup(s, path, &r, err));
    struct stat again;
    assert_int_equal(stat(path, &again), 0);
    assert_int_equal(again.st_size, sb.st_size);
    static const char *const files[] = { "copy.db", "copy.db-wal", "copy.db-shm" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
        unlink(path);
    }
}

/* ---- tenants ---- */

static void
tenants(void **state)
{
    struct store *s = S(state);
    struct store_tenant t = { .mode = STORE_MODE_IMPORT_ONLY,
                              .deactivation = STORE_DEACTIVATE_REMOVE,
                              .integration_enabled = false,
                              .saml_required = true,
                              .created_ms = 111,
                              .updated_ms = 222 };
    snprintf(t.slug, sizeof(t.slug), "zeta");
    snprintf(t.display_name, sizeof(t.display_name), "Zeta Corp");
    snprintf(t.plan, sizeof(t.plan), "enterprise");
    snprintf(t.public_url, sizeof(t.public_url), "https://zeta.id.example.com/z");
    TX_OK(s, store_tenant_insert(s, &t, err));
    assert_true(t.id > 0);
    int64_t alpha = mk_tenant(s, "alpha");
    int64_t mid = mk_tenant(s, "mid");
    assert_true(alpha != t.id && mid != t.id && alpha != mid);

    struct store_tenant got;
    OK(store_tenant_get_by_slug(s, "zeta", &got, err));
    assert_int_equal(got.id, t.id);
    assert_string_equal(got.slug, "zeta");
    assert_string_equal(got.display_name, "Zeta Corp");
    assert_string_equal(got.plan, "enterprise");
    assert_int_equal(got.mode, STORE_MODE_IMPORT_ONLY);
    assert_int_equal(got.deactivation, STORE_DEACTIVATE_REMOVE);
    assert_false(got.integration_enabled);
    assert_true(got.saml_required);
    assert_int_equal(got.created_ms, 111);
    assert_int_equal(got.updated_ms, 222);
    assert_string_equal(got.public_url, "https://zeta.id.example.com/z");
    assert_int_equal(got.group_count, -1);
    struct store_tenant by_id;
    OK(store_tenant_get_by_id(s, t.id, &by_id, err));
    assert_memory_equal(&by_id, &got, sizeof(got));

    FAILS(ERR_NOT_FOUND, store_tenant_get_by_slug(s, "nope", &got, err));
    FAILS(ERR_NOT_FOUND, store_tenant_get_by_id(s, 999999, &got, err));

    /* Listing: ordered by slug. */
    struct store_tenant *v = NULL;
    size_t n = 0;
    OK(store_tenant_list(s, &v, &n, err));
    assert_int_equal(n, 3);
    assert_string_equal(v[0].slug, "alpha");
    assert_string_equal(v[1].slug, "mid");
    assert_string_equal(v[2].slug, "zeta");
    assert_int_equal(v[2].id, t.id);
    assert_true(v[2].saml_required);
    assert_string_equal(v[2].public_url, "https://zeta.id.example.com/z");
    assert_string_equal(v[0].public_url, ""); /* none given: the deployment's */
    free(v);

    /* Slug uniqueness: ERR_UNIQUENESS, nothing added. */
    struct store_tenant dup = { .created_ms = 1, .updated_ms = 1 };
    snprintf(dup.slug, sizeof(dup.slug), "alpha");
    TX_FAILS(s, ERR_UNIQUENESS, store_tenant_insert(s, &dup, err));
    OK(store_tenant_list(s, &v, &n, err));
    assert_int_equal(n, 3);
    free(v);

    /* Update writes every field but the slug and created_ms. */
    struct store_tenant up = got;
    snprintf(up.slug, sizeof(up.slug), "ignored");
    snprintf(up.display_name, sizeof(up.display_name), "Zeta Two");
    snprintf(up.plan, sizeof(up.plan), "team");
    up.mode = STORE_MODE_PUSH;
    up.deactivation = STORE_DEACTIVATE_DISABLE;
    up.integration_enabled = true;
    up.saml_required = false;
    snprintf(up.public_url, sizeof(up.public_url), "https://zeta.example.net");
    up.created_ms = 5;
    up.updated_ms = 333;
    TX_OK(s, store_tenant_update(s, &up, err));
    OK(store_tenant_get_by_id(s, t.id, &got, err));
    assert_string_equal(got.slug, "zeta");
    assert_string_equal(got.display_name, "Zeta Two");
    assert_string_equal(got.plan, "team");
    assert_int_equal(got.mode, STORE_MODE_PUSH);
    assert_int_equal(got.deactivation, STORE_DEACTIVATE_DISABLE);
    assert_true(got.integration_enabled);
    assert_false(got.saml_required);
    assert_string_equal(got.public_url, "https://zeta.example.net");
    assert_int_equal(got.created_ms, 111);
    assert_int_equal(got.updated_ms, 333);
    /* Cleared: "" is stored and read back. */
    up.id = t.id;
    up.public_url[0] = '\0';
    TX_OK(s, store_tenant_update(s, &up, err));
    OK(store_tenant_get_by_id(s, t.id, &got, err));
    assert_string_equal(got.public_url, "");
    up.id = 999999;
    TX_FAILS(s, ERR_NOT_FOUND, store_tenant_update(s, &up, err));

    /* Delete. */
    TX_OK(s, store_tenant_delete(s, mid, err));
    FAILS(ERR_NOT_FOUND, store_tenant_get_by_id(s, mid, &got, err));
    TX_FAILS(s, ERR_NOT_FOUND, store_tenant_delete(s, mid, err));
    OK(store_tenant_list(s, &v, &n, err));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].slug, "alpha");
    assert_string_equal(v[1].slug, "zeta");
    free(v);
}

/* ---- tokens ---- */

static struct store_token
token_row(int64_t tid, int n, const char *hash, int64_t created)
{
    struct store_token t = { .tenant_id = tid, .created_ms = created };
    snprintf(t.id, sizeof(t.id), "%s", uid('k', n));
    snprintf(t.hash, sizeof(t.hash), "%s", hash);
    snprintf(t.prefix, sizeof(t.prefix), "scimd_%08d", n);
    snprintf(t.label, sizeof(t.label), "token %d", n);
    return t;
}

static void
tokens(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    struct store_token t1 = token_row(a, 1, "h1", 100);
    struct store_token t2 = token_row(a, 2, "h2", 300);
    struct store_token t3 = token_row(a, 3, "h3", 200);
    struct store_token t4 = token_row(b, 4, "h4", 400);
    t3.expires_ms = 9999;
    TX_OK(s, store_token_insert(s, &t1, err));
    TX_OK(s, store_token_insert(s, &t2, err));
    TX_OK(s, store_token_insert(s, &t3, err));
    TX_OK(s, store_token_insert(s, &t4, err));

    /* The hash and the id are unique. */
    struct store_token dup = token_row(a, 5, "h1", 500);
    TX_FAILS(s, ERR_UNIQUENESS, store_token_insert(s, &dup, err));
    dup = token_row(a, 1, "h5", 500);
    TX_FAILS(s, ERR_UNIQUENESS, store_token_insert(s, &dup, err));

    /* Auth lookup: the token, its tenant and the tenant's group count. */
    struct store_token tok;
    struct store_tenant ten;
    OK(store_token_auth_lookup(s, "h3", &tok, &ten, NULL, NULL, err));
    assert_string_equal(tok.id, t3.id);
    assert_int_equal(tok.tenant_id, a);
    assert_string_equal(tok.hash, "h3");
    assert_string_equal(tok.prefix, "scimd_00000003");
    assert_string_equal(tok.label, "token 3");
    assert_int_equal(tok.created_ms, 200);
    assert_int_equal(tok.last_used_ms, 0);
    assert_int_equal(tok.revoked_ms, 0);
    assert_int_equal(tok.expires_ms, 9999);
    assert_int_equal(ten.id, a);
    assert_string_equal(ten.slug, "a");
    assert_string_equal(ten.display_name, "Tenant a");
    assert_string_equal(ten.public_url, ""); /* read with the tenant on the hot path */
    assert_true(ten.integration_enabled);
    assert_int_equal(ten.group_count, 0);
    FAILS(ERR_NOT_FOUND, store_token_auth_lookup(s, "nope", &tok, &ten, NULL, NULL, err));

    mk_group(s, a, uid('g', 1), "G1");
    mk_group(s, a, uid('g', 2), "G2");
    mk_group(s, b, uid('g', 3), "G3");
    mk_user(s, a, uid('u', 1), "alice", NULL);
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, NULL, NULL, err));
    assert_int_equal(ten.group_count, 2);
    TX_OK(s, store_resource_delete(s, a, STORE_RTYPE_GROUP, uid('g', 1), -1, err));
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, NULL, NULL, err));
    assert_int_equal(ten.group_count, 1);
    OK(store_token_auth_lookup(s, "h4", &tok, &ten, NULL, NULL, err));
    assert_int_equal(ten.id, b);
    assert_int_equal(ten.group_count, 1);

    /* With a user to read: that user of the token's tenant and its groups (by id, with their
     * names), in the same read; another tenant's user is not found. */
    mk_group(s, a, uid('g', 4), "G4");
    mk_user(s, b, uid('u', 2), "bob", NULL);
    begin(s);
    RETURNS(1, store_member_add(s, a, uid('g', 4), uid('u', 1), err));
    RETURNS(1, store_member_add(s, a, uid('g', 2), uid('u', 1), err));
    commit(s);
    struct store_user_read ur = { .id = uid('u', 1) };
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, &ur, NULL, err));
    assert_string_equal(tok.id, t1.id);
    assert_int_equal(ten.id, a);
    assert_int_equal(ten.group_count, -1); /* not read: the user's groups came with it */
    assert_true(ur.found);
    assert_string_equal(ur.user.id, uid('u', 1));
    assert_string_equal(ur.user.user_name, "alice");
    assert_non_null(ur.user.doc);
    assert_int_equal(ur.n_groups, 2);
    assert_string_equal(ur.groups[0].id, uid('g', 2));
    assert_string_equal(ur.groups[0].display, "G2");
    assert_string_equal(ur.groups[1].id, uid('g', 4));
    assert_string_equal(ur.groups[1].display, "G4");
    store_user_read_cleanup(&ur);
    assert_false(ur.found);
    assert_int_equal(ur.n_groups, 0);
    ur.id = uid('u', 2);
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, &ur, NULL, err));
    assert_int_equal(ten.id, a);
    assert_false(ur.found);
    OK(store_token_auth_lookup(s, "h4", &tok, &ten, &ur, NULL, err));
    assert_true(ur.found);
    assert_string_equal(ur.user.user_name, "bob");
    assert_int_equal(ur.n_groups, 0);
    store_user_read_cleanup(&ur);
    ur.id = uid('u', 99);
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, &ur, NULL, err));
    assert_false(ur.found);
    FAILS(ERR_NOT_FOUND, store_token_auth_lookup(s, "nope", &tok, &ten, &ur, NULL, err));
    assert_false(ur.found);
    /* By userName: case-insensitive, as a `userName eq` filter; the token's tenant only. */
    ur = (struct store_user_read){ .user_name = "ALICE" };
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, &ur, NULL, err));
    assert_true(ur.found);
    assert_string_equal(ur.user.id, uid('u', 1));
    assert_int_equal(ur.n_groups, 2);
    assert_string_equal(ur.groups[0].display, "G2");
    store_user_read_cleanup(&ur);
    assert_string_equal(ur.user_name, "ALICE"); /* the question stays */
    ur.user_name = "bob";
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, &ur, NULL, err));
    assert_int_equal(ten.id, a);
    assert_false(ur.found);
    OK(store_token_auth_lookup(s, "h4", &tok, &ten, &ur, NULL, err));
    assert_true(ur.found);
    assert_string_equal(ur.user.id, uid('u', 2));
    store_user_read_cleanup(&ur);
    ur.user_name = "alic";
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, &ur, NULL, err));
    assert_false(ur.found);

    /* Get is per tenant. */
    OK(store_token_get(s, a, t2.id, &tok, err));
    assert_string_equal(tok.hash, "h2");
    assert_string_equal(tok.label, "token 2");
    FAILS(ERR_NOT_FOUND, store_token_get(s, b, t2.id, &tok, err));
    FAILS(ERR_NOT_FOUND, store_token_get(s, a, uid('k', 99), &tok, err));

    /* List: newest first, only the tenant's. */
    struct store_token *v = NULL;
    size_t n = 0;
    OK(store_token_list(s, a, &v, &n, err));
    assert_int_equal(n, 3);
    assert_string_equal(v[0].id, t2.id);
    assert_string_equal(v[1].id, t3.id);
    assert_string_equal(v[2].id, t1.id);
    free(v);
    OK(store_token_list(s, b, &v, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, t4.id);
    free(v);
    int64_t c = mk_tenant(s, "c");
    v = NULL;
    OK(store_token_list(s, c, &v, &n, err));
    assert_int_equal(n, 0);
    free(v);

    /* Touch stamps last use. */
    OK(store_token_touch(s, t1.id, 7777, err));
    OK(store_token_get(s, a, t1.id, &tok, err));
    assert_int_equal(tok.last_used_ms, 7777);

    /* Update writes label, revoked_ms and expires_ms only. */
    struct store_token up = tok;
    snprintf(up.label, sizeof(up.label), "renamed");
    snprintf(up.hash, sizeof(up.hash), "ignored");
    up.revoked_ms = 8888;
    up.expires_ms = 9000;
    up.last_used_ms = 1;
    TX_OK(s, store_token_update(s, &up, err));
    OK(store_token_get(s, a, t1.id, &tok, err));
    assert_string_equal(tok.label, "renamed");
    assert_string_equal(tok.hash, "h1");
    assert_int_equal(tok.revoked_ms, 8888);
    assert_int_equal(tok.expires_ms, 9000);
    assert_int_equal(tok.last_used_ms, 7777);
    assert_int_equal(tok.created_ms, 100);
    /* A revoked token is still found by hash (core refuses it). */
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, NULL, NULL, err));
    assert_int_equal(tok.revoked_ms, 8888);
    snprintf(up.id, sizeof(up.id), "%s", uid('k', 99));
    TX_FAILS(s, ERR_NOT_FOUND, store_token_update(s, &up, err));

    /* A tenant's tokens go with it. */
    TX_OK(s, store_tenant_delete(s, b, err));
    FAILS(ERR_NOT_FOUND, store_token_auth_lookup(s, "h4", &tok, &ten, NULL, NULL, err));
}

/* ---- resources ---- */

static void
resources(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    struct store_resource r = user_row(a, NULL, "alice", "{\"userName\":\"alice\",\"x\":[1,2]}");
    snprintf(r.id, sizeof(r.id), "%s", uid('u', 1));
    r.external_id = "ext-1";
    r.display_name = "Alice A";
    r.password_hash = "$argon2id$x";
    r.created_ms = 10;
    r.modified_ms = 20;
    TX_OK(s, store_resource_insert(s, &r, err));

    struct store_resource got = { 0 };
    OK(store_resource_get(s, a, STORE_RTYPE_USER, r.id, &got, err));
    assert_string_equal(got.id, r.id);
    assert_int_equal(got.tenant_id, a);
    assert_int_equal(got.type, STORE_RTYPE_USER);
    assert_int_equal(got.version, 1);
    assert_int_equal(got.created_ms, 10);
    assert_int_equal(got.modified_ms, 20);
    assert_string_equal(got.user_name, "alice");
    assert_string_equal(got.external_id, "ext-1");
    assert_string_equal(got.display_name, "Alice A");
    assert_int_equal(got.active, 1);
    assert_json_equal(got.doc, "{\"userName\":\"alice\",\"x\":[1,2]}");
    assert_null(got.password_hash);
    store_resource_cleanup(&got);

    /* Per tenant and per type. */
    FAILS(ERR_NOT_FOUND, store_resource_get(s, b, STORE_RTYPE_USER, r.id, &got, err));
    FAILS(ERR_NOT_FOUND, store_resource_get(s, a, STORE_RTYPE_GROUP, r.id, &got, err));
    FAILS(ERR_NOT_FOUND, store_resource_get(s, a, STORE_RTYPE_USER, uid('u', 9), &got, err));

    /* Another tenant may hold the same userName. (Ids come from core, UUIDv7, unique across
     * tenants: whether the store accepts one id in two tenants is not part of its contract,
     * and the backends differ there: PostgreSQL indexes id alone, SQLite (tenant, type, id).) */
    struct store_resource rb = user_row(b, NULL, "alice", "{\"tenant\":\"b\"}");
    snprintf(rb.id, sizeof(rb.id), "%s", uid('u', 5));
    TX_OK(s, store_resource_insert(s, &rb, err));
    /* The same (tenant, type, id) twice is ERR_UNIQUENESS. */
    struct store_resource again = user_row(a, NULL, "other", NULL);
    snprintf(again.id, sizeof(again.id), "%s", r.id);
    TX_FAILS(s, ERR_UNIQUENESS, store_resource_insert(s, &again, err));

    /* userName is unique per tenant, case-insensitively; groups' displayName likewise. */
    struct store_resource dup = user_row(a, NULL, "ALICE", NULL);
    snprintf(dup.id, sizeof(dup.id), "%s", uid('u', 2));
    TX_FAILS(s, ERR_UNIQUENESS, store_resource_insert(s, &dup, err));
    FAILS(ERR_NOT_FOUND, store_resource_get(s, a, STORE_RTYPE_USER, uid('u', 2), &got, err));
    mk_group(s, a, uid('g', 1), "Admins");
    struct store_resource gdup = { .tenant_id = a,
                                   .type = STORE_RTYPE_GROUP,
                                   .version = 1,
                                   .display_name = "admins",
                                   .active = 1,
                                   .doc = "{}" };
    snprintf(gdup.id, sizeof(gdup.id), "%s", uid('g', 2));
    TX_FAILS(s, ERR_UNIQUENESS, store_resource_insert(s, &gdup, err));
    mk_group(s, b, uid('g', 2), "admins");
    /* A user and a group may share a name. */
    mk_user(s, a, uid('u', 3), "Admins", NULL);

    /* Update with the next version; a stale one is ERR_PRECONDITION and writes nothing. */
    struct store_resource up = r;
    up.version = 2;
    up.modified_ms = 30;
    up.user_name = "alice2";
    up.external_id = NULL;
    up.display_name = NULL;
    up.active = 0;
    up.doc = "{\"userName\":\"alice2\"}";
    up.password_hash = NULL;
    TX_OK(s, store_resource_update(s, &up, err));
    OK(store_resource_get(s, a, STORE_RTYPE_USER, r.id, &got, err));
    assert_int_equal(got.version, 2);
    assert_int_equal(got.created_ms, 10);
    assert_int_equal(got.modified_ms, 30);
    assert_string_equal(got.user_name, "alice2");
    assert_null(got.external_id);
    assert_null(got.display_name);
    assert_int_equal(got.active, 0);
    assert_json_equal(got.doc, "{\"userName\":\"alice2\"}");
    store_resource_cleanup(&got);
    struct store_resource stale = up;
    stale.doc = "{\"stale\":true}";
    stale.user_name = "stale";
    TX_FAILS(s, ERR_PRECONDITION, store_resource_update(s, &stale, err));
    stale.version = 5;
    TX_FAILS(s, ERR_PRECONDITION, store_resource_update(s, &stale, err));
    OK(store_resource_get(s, a, STORE_RTYPE_USER, r.id, &got, err));
    assert_int_equal(got.version, 2);
    assert_string_equal(got.user_name, "alice2");
    store_resource_cleanup(&got);
    /* The other tenant's row of the same userName is untouched. */
    OK(store_resource_get(s, b, STORE_RTYPE_USER, rb.id, &got, err));
    assert_int_equal(got.version, 1);
    assert_string_equal(got.user_name, "alice");
    assert_json_equal(got.doc, "{\"tenant\":\"b\"}");
    store_resource_cleanup(&got);
    /* An update to a name another user holds is ERR_UNIQUENESS. */
    struct store_resource clash = up;
    clash.version = 3;
    clash.user_name = "admins";
    TX_FAILS(s, ERR_UNIQUENESS, store_resource_update(s, &clash, err));
    /* An update of an absent resource matches no version: ERR_PRECONDITION. */
    struct store_resource absent = up;
    snprintf(absent.id, sizeof(absent.id), "%s", uid('u', 9));
    TX_FAILS(s, ERR_PRECONDITION, store_resource_update(s, &absent, err));

    /* Delete: another version is ERR_PRECONDITION, absent ERR_NOT_FOUND. */
    TX_FAILS(s, ERR_PRECONDITION, store_resource_delete(s, a, STORE_RTYPE_USER, r.id, 1, err));
    OK(store_resource_get(s, a, STORE_RTYPE_USER, r.id, &got, err));
    store_resource_cleanup(&got);
    TX_FAILS(s, ERR_NOT_FOUND, store_resource_delete(s, a, STORE_RTYPE_GROUP, r.id, 2, err));
    TX_FAILS(s, ERR_NOT_FOUND, store_resource_delete(s, a, STORE_RTYPE_USER, uid('u', 9), 1, err));
    TX_FAILS(s, ERR_NOT_FOUND, store_resource_delete(s, a, STORE_RTYPE_USER, uid('u', 9), -1, err));
    TX_OK(s, store_resource_delete(s, a, STORE_RTYPE_USER, r.id, 2, err));
    FAILS(ERR_NOT_FOUND, store_resource_get(s, a, STORE_RTYPE_USER, r.id, &got, err));
    TX_FAILS(s, ERR_NOT_FOUND, store_resource_delete(s, a, STORE_RTYPE_USER, r.id, 2, err));
    /* Any version with version < 0. */
    TX_OK(s, store_resource_delete(s, b, STORE_RTYPE_USER, rb.id, -1, err));
    FAILS(ERR_NOT_FOUND, store_resource_get(s, b, STORE_RTYPE_USER, rb.id, &got, err));
    /* The freed userName can be taken again. */
    mk_user(s, a, uid('u', 4), "Alice2", NULL);
}

/* ---- listing ---- */

static const struct query_attr_info attrs[] = {
    { "userName", QUERY_TYPE_STRING, false, false },
    { "displayName", QUERY_TYPE_STRING, false, false },
    { "externalId", QUERY_TYPE_STRING, false, true },
    { "active", QUERY_TYPE_BOOLEAN, false, false },
    { "title", QUERY_TYPE_STRING, false, false },
    { "emails", QUERY_TYPE_COMPLEX, true, false },
};
static const struct query_attr_info email_attrs[] = {
    { "value", QUERY_TYPE_STRING, false, false },
    { "type", QUERY_TYPE_STRING, false, false },
};

static const struct query_attr_info *
find_attr(const struct query_attr_info *v, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcasecmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

#define N_OF(v) (sizeof(v) / sizeof((v)[0]))

/* A small resolver: the core User attributes the tests filter on. */
static int
resolve(void *ctx, const struct query_path *parent, struct query_path *p, struct err *err)
{
    (void)ctx;
    if (parent) {
        p->attr_info = find_attr(email_attrs, N_OF(email_attrs), p->attr);
        return p->attr_info ? 0 : err_set(err, ERR_INVALID_FILTER, "unknown %s", p->attr);
    }
    p->attr_info = find_attr(attrs, N_OF(attrs), p->attr);
    if (p->attr_info == NULL)
        return err_set(err, ERR_INVALID_FILTER, "unknown %s", p->attr);
    if (p->sub) {
        p->sub_info = p->attr_info->type == QUERY_TYPE_COMPLEX
                          ? find_attr(email_attrs, N_OF(email_attrs), p->sub)
                          : NULL;
        if (p->sub_info == NULL)
            return err_set(err, ERR_INVALID_FILTER, "unknown %s.%s", p->attr, p->sub);
    }
    return 0;
}

static const struct query_node *
filter(struct arena *ar, const char *text)
{
    struct err err = { 0 };
    struct query_node *n = query_filter_parse(ar, text, &err);
    if (n == NULL || query_resolve(n, resolve, NULL, &err) < 0)
        fail_msg("filter %s: %s", text, err.detail);
    return n;
}

static const struct query_path *
sort_path(struct arena *ar, const char *text)
{
    struct err err = { 0 };
    struct query_path *p = arena_alloc(ar, sizeof(*p), &err);
    assert_non_null(p);
    if (query_path_parse(ar, text, p, &err) < 0 || query_path_resolve(p, resolve, NULL, &err) < 0)
        fail_msg("path %s: %s", text, err.detail);
    return p;
}

/* Lists q and checks the total and the userNames (or displayNames) of the page, in order. */
static void
expect_page(struct store *s, struct store_list_query q, int64_t total, const char *const *names,
            size_t n)
{
    struct store_list_result res = { 0 };
    OK(store_resource_list(s, &q, &res, err));
    if (res.total != total || res.n != n)
        fail_msg("total %lld n %zu, expected %lld %zu", (long long)res.total, res.n,
                 (long long)total, n);
    for (size_t i = 0; i < n; i++) {
        const char *got =
            q.type == STORE_RTYPE_USER ? res.rows[i].user_name : res.rows[i].display_name;
        if (got == NULL || strcmp(got, names[i]) != 0)
            fail_msg("row %zu is %s, expected %s", i, got ? got : "(null)", names[i]);
        assert_int_equal(res.rows[i].tenant_id, q.tenant_id);
        assert_int_equal(res.rows[i].type, q.type);
        assert_non_null(res.rows[i].doc);
    }
    store_list_result_cleanup(&res);
}

#define PAGE(s, q, total, ...)                              \
    do {                                                    \
        static const char *const want_[] = { __VA_ARGS__ }; \
        expect_page(s, q, total, want_, N_OF(want_));       \
    } while (0)
#define EMPTY_PAGE(s, q, total) expect_page(s, q, total, NULL, 0)

/* ---- counts written from several connections at once (issue 20) ---- */

#define COUNT_WRITERS 4
#define COUNT_USERS   20 /* per writer; every fifth is deleted again */
#define COUNT_GROUPS  5  /* per writer; the first is deleted again */

struct count_writer {
    struct store *s;
    int64_t tenant;
    int k;
    int failures; /* calls that did not do what they should; asserted by the main thread */
};

/* One resource created (or deleted) in its own transaction; false on any failure. */
static bool
count_write(struct count_writer *w, enum store_rtype type, int n, bool create)
{
    char id[37], name[40];
    snprintf(id, sizeof(id), "%c%07u-0000-4000-8000-%012u", type == STORE_RTYPE_USER ? 'c' : 'd',
             (unsigned)w->k % 1000000u, (unsigned)n % 1000000u);
    snprintf(name, sizeof(name), "w%d-%d", w->k, n);
    struct store_resource r = user_row(w->tenant, id, name, NULL);
    memcpy(r.id, id, sizeof(id));
    if (type == STORE_RTYPE_GROUP) {
        r.type = type;
        r.user_name = NULL;
        r.display_name = name;
    }
    struct err err = { 0 };
    if (store_tx_begin(w->s, &err) < 0)
        return false;
    int rc = create ? store_resource_insert(w->s, &r, &err)
                    : store_resource_delete(w->s, w->tenant, type, id, -1, &err);
    if (rc < 0) {
        store_tx_rollback(w->s);
        return false;
    }
    return store_tx_commit(w->s, &err) == 0;
}

static void *
count_writer_run(void *arg)
{
    struct count_writer *w = arg;
    for (int i = 0; i < COUNT_USERS; i++)
        w->failures += !count_write(w, STORE_RTYPE_USER, i, true);
    for (int i = 0; i < COUNT_GROUPS; i++)
        w->failures += !count_write(w, STORE_RTYPE_GROUP, i, true);
    for (int i = 0; i < COUNT_USERS; i += 5)
        w->failures += !count_write(w, STORE_RTYPE_USER, i, false);
    w->failures += !count_write(w, STORE_RTYPE_GROUP, 0, false);
    /* A create refused (the same id again) and a delete of nothing change no count. */
    w->failures += count_write(w, STORE_RTYPE_USER, 1, true);
    w->failures += count_write(w, STORE_RTYPE_USER, 0, false);
    store_thread_done(w->s);
    return NULL;
}

static void
counts_concurrent(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    mk_user(s, b, uid('u', 1), "other", NULL);
    /* Each writer is its own thread, so on PostgreSQL its own connection and its own shard
     * of resource_counts (where the connections' shards differ); the totals are the sums. */
    struct count_writer w[COUNT_WRITERS];
    pthread_t th[COUNT_WRITERS];
    for (int k = 0; k < COUNT_WRITERS; k++) {
        w[k] = (struct count_writer){ .s = s, .tenant = a, .k = k };
        assert_int_equal(pthread_create(&th[k], NULL, count_writer_run, &w[k]), 0);
    }
    for (int k = 0; k < COUNT_WRITERS; k++) {
        assert_int_equal(pthread_join(th[k], NULL), 0);
        assert_int_equal(w[k].failures, 0);
    }
    struct store_list_query q = { .tenant_id = a, .type = STORE_RTYPE_USER, .start_index = 1 };
    expect_page(s, q, COUNT_WRITERS * (COUNT_USERS - COUNT_USERS / 5), NULL, 0);
    q.type = STORE_RTYPE_GROUP;
    expect_page(s, q, COUNT_WRITERS * (COUNT_GROUPS - 1), NULL, 0);
    q.tenant_id = b;
    q.type = STORE_RTYPE_USER;
    expect_page(s, q, 1, NULL, 0);
    /* The group count read on authentication is the same sum. */
    struct store_token t = token_row(a, 1, "h1", 100);
    TX_OK(s, store_token_insert(s, &t, err));
    struct store_token tok;
    struct store_tenant ten;
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, NULL, NULL, err));
    assert_int_equal(ten.group_count, COUNT_WRITERS * (COUNT_GROUPS - 1));
}

static void
listing(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    /* Inserted out of name order: the default order is insertion order. */
    static const char *const names[] = { "carol", "alice", "Dave", "bob", "erin" };
    static const char *const docs[] = {
        "{\"userName\":\"carol\",\"title\":\"Engineer\",\"emails\":[{\"value\":\"c@x.org\","
        "\"type\":\"work\"}]}",
        "{\"userName\":\"alice\",\"title\":\"Manager\",\"emails\":[{\"value\":\"a@y.org\","
        "\"type\":\"home\"}]}",
        "{\"userName\":\"Dave\",\"title\":\"engineer\"}",
        "{\"userName\":\"bob\"}",
        "{\"userName\":\"erin\",\"emails\":[{\"value\":\"e@x.org\",\"type\":\"work\"}]}",
    };
    for (int i = 0; i < 5; i++) {
        struct store_resource r = user_row(a, NULL, names[i], docs[i]);
        snprintf(r.id, sizeof(r.id), "%s", uid('u', 10 - i));
        r.active = i % 2 == 0;
        r.external_id = i == 3 ? "EXT-bob" : NULL;
        TX_OK(s, store_resource_insert(s, &r, err));
    }
    mk_user(s, b, uid('u', 20), "zed", "{\"userName\":\"zed\",\"title\":\"Engineer\"}");
    mk_group(s, a, uid('g', 1), "Staff");
    mk_group(s, a, uid('g', 2), "Admins");

    struct store_list_query q = {
        .tenant_id = a, .type = STORE_RTYPE_USER, .start_index = 1, .count = 100
    };
    PAGE(s, q, 5, "carol", "alice", "Dave", "bob", "erin");
    /* Groups are listed apart. */
    struct store_list_query g = q;
    g.type = STORE_RTYPE_GROUP;
    PAGE(s, g, 2, "Staff", "Admins");

    /* Paging: start_index is 1-based; count 0 gives only the total. */
    q.count = 2;
    PAGE(s, q, 5, "carol", "alice");
    q.start_index = 3;
    PAGE(s, q, 5, "Dave", "bob");
    q.start_index = 5;
    PAGE(s, q, 5, "erin");
    q.start_index = 6;
    EMPTY_PAGE(s, q, 5);
    q.start_index = 2;
    PAGE(s, q, 5, "alice", "Dave");
    q.start_index = 1;
    q.count = 0;
    EMPTY_PAGE(s, q, 5);
    /* The same pages again (a backend may remember where a page ended). */
    q.count = 2;
    q.start_index = 3;
    PAGE(s, q, 5, "Dave", "bob");
    q.start_index = 5;
    PAGE(s, q, 5, "erin");

    /* Sorting, ascending and descending; userName sorts case-insensitively. */
    struct arena *ar = arena_new(1 << 16);
    assert_non_null(ar);
    q.start_index = 1;
    q.count = 100;
    q.sort = sort_path(ar, "userName");
    PAGE(s, q, 5, "alice", "bob", "carol", "Dave", "erin");
    q.descending = true;
    PAGE(s, q, 5, "erin", "Dave", "carol", "bob", "alice");
    q.start_index = 2;
    q.count = 2;
    PAGE(s, q, 5, "Dave", "carol");
    q.descending = false;
    PAGE(s, q, 5, "bob", "carol");
    q.sort = NULL;

    /* Filters. */
    q.start_index = 1;
    q.count = 100;
    q.filter = filter(ar, "userName eq \"BOB\"");
    PAGE(s, q, 1, "bob");
    q.filter = filter(ar, "userName eq \"zed\"");
    EMPTY_PAGE(s, q, 0);
    q.filter = filter(ar, "userName sw \"d\"");
    PAGE(s, q, 1, "Dave");
    q.filter = filter(ar, "active eq true");
    PAGE(s, q, 3, "carol", "Dave", "erin");
    q.filter = filter(ar, "active eq false and userName co \"l\"");
    PAGE(s, q, 1, "alice");
    q.filter = filter(ar, "title eq \"engineer\"");
    PAGE(s, q, 2, "carol", "Dave");
    q.filter = filter(ar, "title pr");
    PAGE(s, q, 3, "carol", "alice", "Dave");
    q.filter = filter(ar, "not (title pr) or userName eq \"alice\"");
    PAGE(s, q, 3, "alice", "bob", "erin");
    q.filter = filter(ar, "emails[type eq \"work\" and value ew \"@x.org\"]");
    PAGE(s, q, 2, "carol", "erin");
    q.filter = filter(ar, "emails.value co \"Y.ORG\"");
    PAGE(s, q, 1, "alice");
    q.filter = filter(ar, "externalId eq \"EXT-bob\"");
    PAGE(s, q, 1, "bob");
    q.filter = filter(ar, "externalId eq \"ext-bob\""); /* caseExact */
    EMPTY_PAGE(s, q, 0);
    q.filter = filter(ar, "title eq \"engineer\"");
    q.count = 1;
    PAGE(s, q, 2, "carol");
    q.start_index = 2;
    PAGE(s, q, 2, "Dave");
    q.count = 0;
    q.start_index = 1;
    EMPTY_PAGE(s, q, 2);
    q.filter = filter(ar, "title eq \"engineer\"");
    q.sort = sort_path(ar, "userName");
    q.descending = true;
    q.count = 100;
    PAGE(s, q, 2, "Dave", "carol");
    q.sort = NULL;
    q.descending = false;
    q.filter = NULL;

    /* role=: users whose effective role it is. */
    TX_OK(s, store_user_role_set(s, a, uid('u', 9), "admin", NULL, err));
    TX_OK(s, store_user_role_set(s, a, uid('u', 7), "admin", NULL, err));
    TX_OK(s, store_user_role_set(s, a, uid('u', 6), NULL, "member", err));
    TX_OK(s, store_user_role_set(s, b, uid('u', 20), "admin", NULL, err));
    q.role = "admin";
    PAGE(s, q, 2, "alice", "bob");
    q.role = "member";
    PAGE(s, q, 1, "erin");
    q.role = "nobody";
    EMPTY_PAGE(s, q, 0);
    q.role = "admin";
    q.filter = filter(ar, "userName eq \"bob\"");
    PAGE(s, q, 1, "bob");
    q.role = NULL;
    q.filter = NULL;

    /* The other tenant sees only its own. */
    q.tenant_id = b;
    PAGE(s, q, 1, "zed");
    q.filter = filter(ar, "title eq \"engineer\"");
    PAGE(s, q, 1, "zed");
    g.tenant_id = b;
    EMPTY_PAGE(s, g, 0);
    arena_free(ar);
}

/* Lists q and returns its rows' userNames joined with commas, and the result's flags. */
static void
cursor_page(struct store *s, struct store_list_query q, const char *want, int64_t total, bool more,
            int64_t *last_seq)
{
    struct store_list_result res = { 0 };
    OK(store_resource_list(s, &q, &res, err));
    char got[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < res.n; i++)
        used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? "," : "",
                                 res.rows[i].user_name);
    if (strcmp(got, want) != 0 || res.total != total || res.more != more)
        fail_msg("page [%s] total %lld more %d, expected [%s] %lld %d", got, (long long)res.total,
                 res.more, want, (long long)total, more);
    assert_true(res.n == 0 || res.last_seq > 0);
    *last_seq = res.last_seq;
    store_list_result_cleanup(&res);
}

/* Keyset continuation (after_seq, RFC 9865 cursors): pages follow the default order from a
 * seq, whatever was added or removed before it, and `more` says whether a row follows. */
static void
listing_after_seq(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    mk_user(s, a, uid('u', 1), "u1", NULL);
    mk_user(s, b, uid('u', 50), "other", NULL);
    mk_user(s, a, uid('u', 2), "u2", NULL);
    mk_user(s, a, uid('u', 3), "u3", NULL);
    mk_user(s, a, uid('u', 4), "u4", NULL);
    mk_user(s, a, uid('u', 5), "u5", NULL);

    struct store_list_query q = {
        .tenant_id = a, .type = STORE_RTYPE_USER, .start_index = 1, .count = 2
    };
    int64_t p1, p2, p3, none;
    cursor_page(s, q, "u1,u2", 5, true, &p1);
    q.after_seq = p1;
    cursor_page(s, q, "u3,u4", 5, true, &p2);
    q.after_seq = p2;
    cursor_page(s, q, "u5", 5, false, &p3);
    q.after_seq = p3;
    cursor_page(s, q, "", 5, false, &none);
    /* A full last page says no row follows. */
    q.count = 3;
    q.after_seq = p1;
    cursor_page(s, q, "u3,u4,u5", 5, false, &none);

    /* Rows removed before the position and added after it: the next page neither repeats
     * nor skips; the total is the listing's whole, now. */
    q.count = 2;
    TX_OK(s, store_resource_delete(s, a, STORE_RTYPE_USER, uid('u', 1), -1, err));
    mk_user(s, a, uid('u', 6), "u6", NULL);
    q.after_seq = p2;
    cursor_page(s, q, "u5,u6", 5, false, &none);
    TX_OK(s, store_resource_delete(s, a, STORE_RTYPE_USER, uid('u', 3), -1, err));
    q.after_seq = p1;
    cursor_page(s, q, "u4,u5", 4, true, &none);

    /* With a filter the total counts the filter's matches, not the rest of the page. */
    struct arena *ar = arena_new(1 << 16);
    assert_non_null(ar);
    q.filter = filter(ar, "userName sw \"u\"");
    q.after_seq = p2;
    cursor_page(s, q, "u5,u6", 4, false, &none);
    q.count = 1;
    q.after_seq = 0;
    cursor_page(s, q, "u2", 4, true, &none);

    /* Another tenant's seq only moves the position: never another tenant's rows. */
    q.filter = NULL;
    q.count = 10;
    q.tenant_id = b;
    q.after_seq = p1;
    cursor_page(s, q, "", 1, false, &none);
    mk_user(s, b, uid('u', 51), "later", NULL);
    cursor_page(s, q, "later", 2, false, &none);

    /* count 0: the total only. */
    q.tenant_id = a;
    q.count = 0;
    q.after_seq = p1;
    cursor_page(s, q, "", 4, false, &none);

    /* A seq position has no meaning in a sorted order. */
    q.count = 2;
    q.sort = sort_path(ar, "userName");
    struct store_list_result res = { 0 };
    FAILS(ERR_INVALID_VALUE, store_resource_list(s, &q, &res, err));
    assert_int_equal(res.n, 0);
    arena_free(ar);
}

/* ---- server keys ---- */

static void
server_keys(void **state)
{
    struct store *s = S(state);
    static const char k1[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static const char k2[] = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    char got[65];
    /* The first candidate is kept; later ones (another instance's) read it. */
    TX_OK(s, store_server_key_get(s, "cursor", k1, got, err));
    assert_string_equal(got, k1);
    TX_OK(s, store_server_key_get(s, "cursor", k2, got, err));
    assert_string_equal(got, k1);
    TX_OK(s, store_server_key_get(s, "other", k2, got, err));
    assert_string_equal(got, k2);
}

/* The SET signing keys: a generation is inserted once (the first writer wins), the list is
 * newest first and limited. */
static void
set_keys(void **state)
{
    struct store *s = S(state);
    struct store_set_key k1 = { .gen = 1, .kid = "k1", .jwk = "{\"a\":1}", .created_ms = 10 };
    struct store_set_key k1b = { .gen = 1, .kid = "k1b", .jwk = "{\"b\":1}", .created_ms = 11 };
    struct store_set_key k2 = { .gen = 2, .kid = "k2", .jwk = "v1.sealed", .created_ms = 20 };
    struct store_set_key *v = NULL;
    size_t n = 0;
    OK(store_set_keys_list(s, 2, &v, &n, err));
    assert_int_equal(n, 0);
    store_set_keys_free(v, n);
    OK(store_tx_begin(s, err));
    RETURNS(1, store_set_key_add(s, &k1, err));
    RETURNS(0, store_set_key_add(s, &k1b, err));
    RETURNS(1, store_set_key_add(s, &k2, err));
    OK(store_tx_commit(s, err));
    OK(store_set_keys_list(s, 5, &v, &n, err));
    assert_int_equal(n, 2);
    assert_int_equal(v[0].gen, 2);
    assert_string_equal(v[0].kid, "k2");
    assert_string_equal(v[0].jwk, "v1.sealed");
    assert_int_equal(v[0].created_ms, 20);
    assert_string_equal(v[1].kid, "k1");
    assert_string_equal(v[1].jwk, "{\"a\":1}");
    store_set_keys_free(v, n);
    OK(store_set_keys_list(s, 1, &v, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].kid, "k2");
    store_set_keys_free(v, n);
    /* Re-sealing writes only over the value read. */
    OK(store_tx_begin(s, err));
    RETURNS(0, store_set_key_reseal(s, 1, "{\"stale\":1}", "v2.x", err));
    RETURNS(1, store_set_key_reseal(s, 1, "{\"a\":1}", "v2.x", err));
    RETURNS(0, store_set_key_reseal(s, 9, "v2.x", "v2.y", err));
    OK(store_tx_commit(s, err));
    OK(store_set_keys_list(s, 5, &v, &n, err));
    assert_string_equal(v[1].jwk, "v2.x");
    assert_string_equal(v[0].jwk, "v1.sealed");
    store_set_keys_free(v, n);
}

/* ---- group membership ---- */

static void
members(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    mk_user(s, a, uid('u', 2), "bob", NULL);
    mk_user(s, a, uid('u', 1), "alice", NULL);
    mk_user(s, a, uid('u', 3), "carol", NULL);
    mk_group(s, a, uid('g', 2), "Staff");
    mk_group(s, a, uid('g', 1), "Admins");
    mk_group(s, b, uid('g', 11), "Other");
    mk_user(s, b, uid('u', 11), "alice-b", NULL);

    begin(s);
    RETURNS(1, store_member_add(s, a, uid('g', 1), uid('u', 2), err));
    RETURNS(1, store_member_add(s, a, uid('g', 1), uid('u', 1), err));
    RETURNS(0, store_member_add(s, a, uid('g', 1), uid('u', 1), err));
    RETURNS(1, store_member_add(s, a, uid('g', 2), uid('u', 1), err));
    RETURNS(1, store_member_add(s, a, uid('g', 2), uid('u', 3), err));
    RETURNS(1, store_member_add(s, b, uid('g', 11), uid('u', 11), err));
    /* Membership rows are per tenant: the same pair of ids in b is b's own row. */
    RETURNS(1, store_member_add(s, b, uid('g', 1), uid('u', 1), err));
    /* The store does not check that ids exist. */
    RETURNS(1, store_member_add(s, a, uid('g', 2), uid('u', 99), err));
    commit(s);

    struct store_member *v = NULL;
    size_t n = 0;
    OK(store_member_list(s, a, uid('g', 1), &v, &n, err));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].id, uid('u', 1));
    assert_string_equal(v[0].display, "alice");
    assert_string_equal(v[1].id, uid('u', 2));
    assert_string_equal(v[1].display, "bob");
    store_members_free(v, n);
    OK(store_member_list(s, a, uid('g', 2), &v, &n, err));
    assert_int_equal(n, 3);
    assert_string_equal(v[0].id, uid('u', 1));
    assert_string_equal(v[1].id, uid('u', 3));
    assert_string_equal(v[1].display, "carol");
    assert_string_equal(v[2].id, uid('u', 99));
    assert_null(v[2].display);
    store_members_free(v, n);
    OK(store_member_list(s, b, uid('g', 11), &v, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, uid('u', 11));
    assert_string_equal(v[0].display, "alice-b");
    store_members_free(v, n);
    /* b's row of a's ids: no name from a's user. */
    OK(store_member_list(s, b, uid('g', 1), &v, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, uid('u', 1));
    assert_null(v[0].display);
    store_members_free(v, n);
    v = NULL;
    OK(store_member_list(s, a, uid('g', 9), &v, &n, err));
    assert_int_equal(n, 0);
    store_members_free(v, n);

    OK(store_member_groups(s, a, uid('u', 1), &v, &n, err));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].id, uid('g', 1));
    assert_string_equal(v[0].display, "Admins");
    assert_string_equal(v[1].id, uid('g', 2));
    assert_string_equal(v[1].display, "Staff");
    store_members_free(v, n);
    OK(store_member_groups(s, b, uid('u', 11), &v, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, uid('g', 11));
    assert_string_equal(v[0].display, "Other");
    store_members_free(v, n);
    /* Groups are read with their row in the tenant: a's group is not b's. */
    v = NULL;
    OK(store_member_groups(s, b, uid('u', 1), &v, &n, err));
    assert_int_equal(n, 0);
    store_members_free(v, n);

    const char *ids[] = { uid('u', 3), uid('u', 1), uid('u', 2), uid('u', 8) };
    struct store_membership *m = NULL;
    size_t nm = 0;
    OK(store_member_groups_many(s, a, ids, 4, &m, &nm, err));
    assert_int_equal(nm, 4);
    assert_string_equal(m[0].member_id, uid('u', 1));
    assert_string_equal(m[0].group_id, uid('g', 1));
    assert_string_equal(m[0].display, "Admins");
    assert_string_equal(m[1].member_id, uid('u', 1));
    assert_string_equal(m[1].group_id, uid('g', 2));
    assert_string_equal(m[1].display, "Staff");
    assert_string_equal(m[2].member_id, uid('u', 2));
    assert_string_equal(m[2].group_id, uid('g', 1));
    assert_string_equal(m[3].member_id, uid('u', 3));
    assert_string_equal(m[3].group_id, uid('g', 2));
    store_memberships_free(m, nm);
    m = NULL;
    OK(store_member_groups_many(s, b, ids + 2, 2, &m, &nm, err));
    assert_int_equal(nm, 0);
    store_memberships_free(m, nm);

    int64_t count = -1;
    OK(store_member_count(s, a, uid('g', 2), &count, err));
    assert_int_equal(count, 3);
    OK(store_member_count(s, b, uid('g', 2), &count, err));
    assert_int_equal(count, 0);

    size_t first = 99;
    const char *check[] = { uid('u', 1), uid('u', 2), uid('g', 1), uid('u', 3) };
    OK(store_users_exist(s, a, check, 4, &first, err));
    assert_int_equal(first, 2); /* a group is not a user */
    OK(store_users_exist(s, a, check, 2, &first, err));
    assert_int_equal(first, 2);
    OK(store_users_exist(s, a, check + 3, 1, &first, err));
    assert_int_equal(first, 1);
    OK(store_users_exist(s, b, check, 2, &first, err));
    assert_int_equal(first, 0); /* a's users are not b's */
    const char *check_b[] = { uid('u', 11), uid('u', 1) };
    OK(store_users_exist(s, b, check_b, 2, &first, err));
    assert_int_equal(first, 1);
    OK(store_users_exist(s, a, check, 0, &first, err));
    assert_int_equal(first, 0);

    begin(s);
    RETURNS(1, store_member_remove(s, a, uid('g', 1), uid('u', 2), err));
    RETURNS(0, store_member_remove(s, a, uid('g', 1), uid('u', 2), err));
    RETURNS(0, store_member_remove(s, b, uid('g', 2), uid('u', 1), err));
    {
        char want[128];
        snprintf(want, sizeof(want), "%s,%s,%s", uid('u', 1), uid('u', 3), uid('u', 99));
        REMOVES(want, store_member_remove_group, s, a, uid('g', 2));
    }
    REMOVES("", store_member_remove_group, s, a, uid('g', 2));
    commit(s);
    OK(store_member_count(s, a, uid('g', 2), &count, err));
    assert_int_equal(count, 0);
    OK(store_member_count(s, a, uid('g', 1), &count, err));
    assert_int_equal(count, 1);

    begin(s);
    RETURNS(1, store_member_add(s, a, uid('g', 2), uid('u', 1), err));
    {
        char want[128];
        snprintf(want, sizeof(want), "%s,%s", uid('g', 1), uid('g', 2));
        REMOVES(want, store_member_remove_member, s, a, uid('u', 1));
    }
    REMOVES("", store_member_remove_member, s, a, uid('u', 1));
    commit(s);
    v = NULL;
    OK(store_member_groups(s, a, uid('u', 1), &v, &n, err));
    assert_int_equal(n, 0);
    store_members_free(v, n);
    /* The other tenant's membership of the same ids stays. */
    OK(store_member_count(s, b, uid('g', 1), &count, err));
    assert_int_equal(count, 1);
}

/* The version and modified_ms of one resource. */
static void
expect_version(struct store *s, int64_t tid, enum store_rtype type, const char *id, int64_t version,
               int64_t modified_ms)
{
    struct store_resource r;
    OK(store_resource_get(s, tid, type, id, &r, err));
    if (r.version != version || r.modified_ms != modified_ms)
        fail_msg("%s: version %lld modified %lld, expected %lld %lld", id, (long long)r.version,
                 (long long)r.modified_ms, (long long)version, (long long)modified_ms);
    store_resource_cleanup(&r);
}

/* Bumps for derived attributes (RFC 7644 §3.14): exactly the rows named, by one version,
 * lastModified never back, the listing order unchanged, one tenant's calls blind to another's
 * rows. */
static void
member_bumps(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    mk_user(s, a, uid('u', 2), "bob", NULL);
    mk_user(s, a, uid('u', 1), "alice", NULL);
    mk_user(s, a, uid('u', 3), "carol", NULL);
    mk_group(s, a, uid('g', 1), "Admins");
    mk_group(s, a, uid('g', 2), "Staff");
    mk_user(s, b, uid('u', 11), "alice-b", NULL);
    begin(s);
    RETURNS(1, store_member_add(s, a, uid('g', 1), uid('u', 1), err));
    RETURNS(1, store_member_add(s, a, uid('g', 1), uid('u', 2), err));
    RETURNS(1, store_member_add(s, a, uid('g', 2), uid('u', 1), err));
    /* b's row of a's ids names none of b's resources. */
    RETURNS(1, store_member_add(s, b, uid('g', 1), uid('u', 1), err));
    commit(s);

    /* The members of a group: users at 2000 move to now. */
    TX_OK(s, store_member_bump(s, a, uid('g', 1), NULL, 0, 5000, err));
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 1), 2, 5000);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 2), 2, 5000);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 3), 1, 2000);
    expect_version(s, a, STORE_RTYPE_GROUP, uid('g', 1), 1, 3000);
    /* A clock behind the stored time: one millisecond later than stored, never earlier. */
    begin(s);
    RETURNS(2, store_member_bump(s, a, uid('g', 1), NULL, 0, 1000, err));
    RETURNS(0, store_member_bump(s, a, uid('g', 9), NULL, 0, 9000, err));
    RETURNS(0, store_member_bump(s, a, NULL, NULL, 0, 9000, err));
    commit(s);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 1), 3, 5001);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 2), 3, 5001);

    /* The groups of a member. */
    begin(s);
    RETURNS(2, store_member_bump_groups(s, a, uid('u', 1), 7000, err));
    RETURNS(0, store_member_bump_groups(s, a, uid('u', 3), 7000, err));
    commit(s);
    expect_version(s, a, STORE_RTYPE_GROUP, uid('g', 1), 2, 7000);
    expect_version(s, a, STORE_RTYPE_GROUP, uid('g', 2), 2, 7000);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 1), 3, 5001);

    /* A list of ids: users and groups of the tenant, an unknown id skipped, none is 0. */
    const char *ids[] = { uid('u', 3), uid('g', 2), uid('u', 99) };
    begin(s);
    RETURNS(2, store_member_bump(s, a, NULL, ids, 3, 8000, err));
    RETURNS(0, store_member_bump(s, a, NULL, ids, 0, 8000, err));
    commit(s);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 3), 2, 8000);
    expect_version(s, a, STORE_RTYPE_GROUP, uid('g', 2), 3, 8000);
    expect_version(s, a, STORE_RTYPE_GROUP, uid('g', 1), 2, 7000);
    /* A group's members and a list together: a row in both is bumped once. */
    const char *both[] = { uid('u', 1), uid('u', 3) };
    begin(s);
    RETURNS(3, store_member_bump(s, a, uid('g', 1), both, 2, 8500, err));
    commit(s);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 1), 4, 8500);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 2), 4, 8500);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 3), 3, 8500);

    /* Through tenant b nothing of a's moves. */
    const char *a_ids[] = { uid('u', 1), uid('g', 1) };
    begin(s);
    RETURNS(0, store_member_bump(s, b, uid('g', 1), a_ids, 2, 9000, err));
    RETURNS(0, store_member_bump_groups(s, b, uid('u', 1), 9000, err));
    commit(s);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 1), 4, 8500);
    expect_version(s, a, STORE_RTYPE_GROUP, uid('g', 1), 2, 7000);

    /* A rolled-back bump leaves nothing. */
    begin(s);
    RETURNS(2, store_member_bump(s, a, uid('g', 1), NULL, 0, 9000, err));
    store_tx_rollback(s);
    expect_version(s, a, STORE_RTYPE_USER, uid('u', 1), 4, 8500);

    /* seq, the default order and the cursor key, is not touched: still creation order. */
    struct store_list_query q = {
        .tenant_id = a, .type = STORE_RTYPE_USER, .start_index = 1, .count = 10
    };
    PAGE(s, q, 3, "bob", "alice", "carol");
    q.type = STORE_RTYPE_GROUP;
    PAGE(s, q, 2, "Admins", "Staff");
}

/* ---- audit events ---- */

static void
events(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    int64_t seq = -1;
    OK(store_event_last_seq(s, a, &seq, err));
    assert_int_equal(seq, 0);

    mk_event(s, a, "user.created", uid('u', 1), 100, "{\"userName\":\"alice\"}");
    mk_event(s, b, "user.created", uid('u', 1), 150, "{\"b\":true}");
    mk_event(s, a, "group.created", uid('g', 1), 200, NULL);
    mk_event(s, a, "user.updated", uid('u', 1), 300, "{\"n\":1}");

    struct store_event *v = NULL;
    size_t n = 0;
    OK(store_event_list(s, a, 0, 10, &v, &n, err));
    assert_int_equal(n, 3);
    assert_true(v[0].seq > 0 && v[0].seq < v[1].seq && v[1].seq < v[2].seq);
    assert_int_equal(v[0].tenant_id, a);
    assert_int_equal(v[0].created_ms, 100);
    assert_string_equal(v[0].actor, "operator");
    assert_string_equal(v[0].kind, "user.created");
    assert_int_equal(v[0].rtype, STORE_RTYPE_USER);
    assert_string_equal(v[0].resource_id, uid('u', 1));
    assert_json_equal(v[0].data, "{\"userName\":\"alice\"}");
    assert_string_equal(v[1].kind, "group.created");
    assert_json_equal(v[1].data, "{}"); /* NULL data is stored as {} */
    assert_string_equal(v[2].kind, "user.updated");
    int64_t s1 = v[0].seq, s2 = v[1].seq, s3 = v[2].seq;
    store_events_free(v, n);

    OK(store_event_list(s, a, s1, 10, &v, &n, err));
    assert_int_equal(n, 2);
    assert_int_equal(v[0].seq, s2);
    assert_int_equal(v[1].seq, s3);
    store_events_free(v, n);
    OK(store_event_list(s, a, 0, 1, &v, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(v[0].seq, s1);
    store_events_free(v, n);
    v = NULL;
    OK(store_event_list(s, a, s3, 10, &v, &n, err));
    assert_int_equal(n, 0);
    store_events_free(v, n);
    OK(store_event_list(s, b, 0, 10, &v, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(v[0].tenant_id, b);
    assert_json_equal(v[0].data, "{\"b\":true}");
    int64_t sb = v[0].seq;
    assert_true(sb > s1 && sb < s2); /* one sequence over all tenants */
    store_events_free(v, n);

    OK(store_event_last_seq(s, a, &seq, err));
    assert_int_equal(seq, s3);
    OK(store_event_last_seq(s, b, &seq, err));
    assert_int_equal(seq, sb);
    int64_t cnt = -1;
    OK(store_event_count_after(s, a, 0, &cnt, err));
    assert_int_equal(cnt, 3);
    OK(store_event_count_after(s, a, s1, &cnt, err));
    assert_int_equal(cnt, 2);
    OK(store_event_count_after(s, a, s3, &cnt, err));
    assert_int_equal(cnt, 0);
    OK(store_event_count_after(s, b, 0, &cnt, err));
    assert_int_equal(cnt, 1);
}

static void
expect_events(struct store *s, struct store_event_query q, const int64_t *seqs, size_t n_want)
{
    struct store_event *v = NULL;
    size_t n = 0;
    OK(store_event_query(s, &q, &v, &n, err));
    if (n != n_want)
        fail_msg("%zu events, expected %zu", n, n_want);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(v[i].seq, seqs[i]);
        assert_int_equal(v[i].tenant_id, q.tenant_id);
    }
    store_events_free(v, n);
}

#define EVENTS(s, q, ...)                        \
    do {                                         \
        const int64_t want_[] = { __VA_ARGS__ }; \
        expect_events(s, q, want_, N_OF(want_)); \
    } while (0)
#define NO_EVENTS(s, q) expect_events(s, q, NULL, 0)

static void
event_query(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    mk_event(s, a, "user.created", uid('u', 1), 1, NULL);
    mk_event(s, a, "group.created", uid('g', 1), 2, NULL);
    mk_event(s, b, "user.created", uid('u', 1), 3, NULL);
    mk_event(s, a, "user.updated", uid('u', 2), 4, NULL);
    mk_event(s, a, "user.role_changed", uid('u', 1), 5, NULL);
    mk_event(s, a, "userx.created", uid('u', 1), 6, NULL);
    struct store_event *all = NULL;
    size_t n = 0;
    OK(store_event_list(s, a, 0, 100, &all, &n, err));
    assert_int_equal(n, 5);
    int64_t e[5];
    for (int i = 0; i < 5; i++)
        e[i] = all[i].seq;
    store_events_free(all, n);

    struct store_event_query q = { .tenant_id = a, .kind = "", .resource_id = "", .limit = 100 };
    EVENTS(s, q, e[0], e[1], e[2], e[3], e[4]);
    q.newest_first = true;
    EVENTS(s, q, e[4], e[3], e[2], e[1], e[0]);
    q.limit = 2;
    EVENTS(s, q, e[4], e[3]);
    q.newest_first = false;
    EVENTS(s, q, e[0], e[1]);
    q.limit = 100;
    /* A kind ending in '.' is a prefix; otherwise exact. */
    q.kind = "user.";
    EVENTS(s, q, e[0], e[2], e[3]);
    q.kind = "user.created";
    EVENTS(s, q, e[0]);
    q.kind = "user";
    NO_EVENTS(s, q);
    q.kind = "";
    q.resource_id = uid('u', 1);
    EVENTS(s, q, e[0], e[3], e[4]);
    q.kind = "user.";
    EVENTS(s, q, e[0], e[3]);
    q.resource_id = "";
    q.kind = "";
    q.after_seq = e[1];
    EVENTS(s, q, e[2], e[3], e[4]);
    q.before_seq = e[4];
    EVENTS(s, q, e[2], e[3]);
    q.newest_first = true;
    q.limit = 1;
    EVENTS(s, q, e[3]);
    q.after_seq = 0;
    q.limit = 100;
    EVENTS(s, q, e[3], e[2], e[1], e[0]);
    q.before_seq = e[0];
    NO_EVENTS(s, q);

    struct store_event_query qb = {
        .tenant_id = b, .kind = "user.", .resource_id = uid('u', 1), .limit = 100
    };
    struct store_event *v = NULL;
    OK(store_event_query(s, &qb, &v, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(v[0].tenant_id, b);
    assert_int_equal(v[0].created_ms, 3);
    store_events_free(v, n);
}

/* ---- roles ---- */

static struct store_role_rule
rule(const char *group, const char *role, int64_t priority)
{
    struct store_role_rule r = { .priority = priority };
    snprintf(r.group, sizeof(r.group), "%s", group);
    snprintf(r.role, sizeof(r.role), "%s", role);
    return r;
}

static void
role_map(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    struct store_role_rule *v = NULL;
    size_t n = 99;
    OK(store_role_map_get(s, a, &v, &n, err));
    assert_int_equal(n, 0);
    free(v);

    struct store_role_rule map[] = { rule("Staff", "member", 20), rule("Admins", "admin", 10) };
    TX_OK(s, store_role_map_set(s, a, map, 2, err));
    OK(store_role_map_get(s, a, &v, &n, err));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].group, "Admins");
    assert_string_equal(v[0].role, "admin");
    assert_int_equal(v[0].priority, 10);
    assert_string_equal(v[1].group, "Staff");
    assert_string_equal(v[1].role, "member");
    assert_int_equal(v[1].priority, 20);
    free(v);
    v = NULL;
    OK(store_role_map_get(s, b, &v, &n, err));
    assert_int_equal(n, 0);
    free(v);

    /* A repeated group (case-insensitively) or priority: ERR_CONFLICT, the old map stays. */
    struct store_role_rule dup_group[] = { rule("Ops", "admin", 1), rule("OPS", "member", 2) };
    TX_FAILS(s, ERR_CONFLICT, store_role_map_set(s, a, dup_group, 2, err));
    struct store_role_rule dup_prio[] = { rule("Ops", "admin", 1), rule("Dev", "member", 1) };
    TX_FAILS(s, ERR_CONFLICT, store_role_map_set(s, a, dup_prio, 2, err));
    OK(store_role_map_get(s, a, &v, &n, err));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].group, "Admins");
    free(v);

    /* Replacing: the other tenant's map is its own. */
    struct store_role_rule other[] = { rule("Admins", "owner", 10) };
    TX_OK(s, store_role_map_set(s, b, other, 1, err));
    struct store_role_rule one[] = { rule("Ops", "admin", 5) };
    TX_OK(s, store_role_map_set(s, a, one, 1, err));
    OK(store_role_map_get(s, a, &v, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].group, "Ops");
    assert_int_equal(v[0].priority, 5);
    free(v);
    TX_OK(s, store_role_map_set(s, a, NULL, 0, err));
    v = NULL;
    OK(store_role_map_get(s, a, &v, &n, err));
    assert_int_equal(n, 0);
    free(v);
    OK(store_role_map_get(s, b, &v, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].role, "owner");
    free(v);
}

static void
expect_role(struct store *s, int64_t tid, const char *user, const char *direct, const char *role,
            const char *source)
{
    struct store_user_role r;
    memset(&r, 'x', sizeof(r));
    OK(store_user_role_get(s, tid, user, &r, err));
    assert_string_equal(r.direct, direct);
    assert_string_equal(r.role, role);
    assert_string_equal(r.source, source);
}

/* The role_changed events after seq `after`: their user, before, after and source. */
static void
expect_role_event(const struct store_event *e, int64_t tid, const char *user, const char *before,
                  const char *after, const char *source, int64_t at)
{
    assert_int_equal(e->tenant_id, tid);
    assert_string_equal(e->kind, "user.role_changed");
    assert_string_equal(e->actor, "cli");
    assert_int_equal(e->rtype, STORE_RTYPE_USER);
    assert_string_equal(e->resource_id, user);
    assert_int_equal(e->created_ms, at);
    char want[256];
    snprintf(want, sizeof(want),
             "{\"role\":{\"before\":\"%s\",\"after\":\"%s\"},\"source\":\"%s\"}", before, after,
             source);
    assert_json_equal(e->data, want);
}

static void
roles(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    const char *u1 = uid('u', 1), *u2 = uid('u', 2), *u3 = uid('u', 3);
    char u1c[37], u2c[37], u3c[37];
    snprintf(u1c, sizeof(u1c), "%s", u1);
    snprintf(u2c, sizeof(u2c), "%s", u2);
    snprintf(u3c, sizeof(u3c), "%s", u3);
    mk_user(s, a, u1c, "alice", NULL);
    mk_user(s, a, u2c, "bob", NULL);
    mk_user(s, a, u3c, "carol", NULL);
    mk_group(s, a, uid('g', 1), "Admins");
    mk_group(s, a, uid('g', 2), "Staff");
    /* b's role row has a's user's id (role rows are keyed by tenant and need no resource). */

    struct store_user_role r;
    FAILS(ERR_NOT_FOUND, store_user_role_get(s, a, u1c, &r, err));

    /* First sight: the direct role, else the default, else "". */
    TX_OK(s, store_user_role_set(s, a, u1c, NULL, "viewer", err));
    TX_OK(s, store_user_role_set(s, a, u2c, "editor", "viewer", err));
    TX_OK(s, store_user_role_set(s, a, u3c, NULL, NULL, err));
    TX_OK(s, store_user_role_set(s, b, u1c, "owner", NULL, err));
    expect_role(s, a, u1c, "", "viewer", "default");
    expect_role(s, a, u2c, "editor", "editor", "direct");
    expect_role(s, a, u3c, "", "", "default");
    expect_role(s, b, u1c, "owner", "owner", "direct");

    /* Later sets change only the direct role; roles_refresh moves the effective one. */
    TX_OK(s, store_user_role_set(s, a, u1c, "editor", "viewer", err));
    expect_role(s, a, u1c, "editor", "viewer", "default");
    int64_t last = 0;
    OK(store_event_last_seq(s, a, &last, err));
    TX_OK(s, store_roles_refresh(s, a, u1c, "viewer", "cli", 5000, err));
    expect_role(s, a, u1c, "editor", "editor", "direct");
    expect_role(s, a, u3c, "", "", "default"); /* not in scope */
    struct store_event *v = NULL;
    size_t n = 0;
    OK(store_event_list(s, a, last, 100, &v, &n, err));
    assert_int_equal(n, 1);
    expect_role_event(&v[0], a, u1c, "viewer", "editor", "direct", 5000);
    last = v[0].seq;
    store_events_free(v, n);
    /* Nothing moves: no event. */
    TX_OK(s, store_roles_refresh(s, a, u1c, "viewer", "cli", 5001, err));
    v = NULL;
    OK(store_event_list(s, a, last, 100, &v, &n, err));
    assert_int_equal(n, 0);
    store_events_free(v, n);

    /* Group roles win over direct ones; the lowest priority number wins among groups;
     * groups match by displayName case-insensitively. */
    struct store_role_rule map[] = { rule("staff", "member", 20), rule("ADMINS", "admin", 10) };
    TX_OK(s, store_role_map_set(s, a, map, 2, err));
    begin(s);
    RETURNS(1, store_member_add(s, a, uid('g', 2), u1c, err));
    RETURNS(1, store_member_add(s, a, uid('g', 2), u2c, err));
    RETURNS(1, store_member_add(s, a, uid('g', 1), u2c, err));
    commit(s);
    /* Every user of the tenant (NULL), with the default now "guest": the three whose role
     * moves get a new version first, and after the refresh none is left to bump. */
    begin(s);
    RETURNS(3, store_roles_bump_moved(s, a, "guest", 6000, err));
    RETURNS(0, store_roles_bump_moved(s, b, "owner", 6000, err));
    commit(s);
    TX_OK(s, store_roles_refresh(s, a, NULL, "guest", "cli", 6000, err));
    begin(s);
    RETURNS(0, store_roles_bump_moved(s, a, "guest", 6001, err));
    commit(s);
    expect_role(s, a, u1c, "editor", "member", "group");
    expect_role(s, a, u2c, "editor", "admin", "group");
    expect_role(s, a, u3c, "", "guest", "default");
    expect_role(s, b, u1c, "owner", "owner", "direct"); /* other tenant untouched */
    OK(store_event_list(s, a, last, 100, &v, &n, err));
    assert_int_equal(n, 3); /* in user id order */
    expect_role_event(&v[0], a, u1c, "editor", "member", "group", 6000);
    expect_role_event(&v[1], a, u2c, "editor", "admin", "group", 6000);
    expect_role_event(&v[2], a, u3c, "", "guest", "default", 6000);
    last = v[2].seq;
    store_events_free(v, n);
    int64_t bcount = -1;
    OK(store_event_count_after(s, b, 0, &bcount, err));
    assert_int_equal(bcount, 0);

    /* Leaving the groups: back to direct; with neither, the default; NULL default is "". */
    begin(s);
    {
        struct err e = { 0 };
        const char *got = removed(store_member_remove_member, s, a, u2c, &e);
        assert_non_null(got);
        assert_non_null(strchr(got, ',')); /* its two groups */
        assert_null(strchr(strchr(got, ',') + 1, ','));
    }
    commit(s);
    TX_OK(s, store_user_role_set(s, a, u2c, NULL, "guest", err));
    TX_OK(s, store_roles_refresh(s, a, u2c, NULL, "cli", 7000, err));
    expect_role(s, a, u2c, "", "", "default");
    OK(store_event_list(s, a, last, 100, &v, &n, err));
    assert_int_equal(n, 1);
    expect_role_event(&v[0], a, u2c, "admin", "", "default", 7000);
    store_events_free(v, n);

    /* Delete. */
    TX_OK(s, store_user_role_delete(s, a, u1c, err));
    FAILS(ERR_NOT_FOUND, store_user_role_get(s, a, u1c, &r, err));
    expect_role(s, b, u1c, "owner", "owner", "direct");
    TX_OK(s, store_user_role_delete(s, a, u1c, err)); /* absent: no error */
}

/* ---- webhooks ---- */

static struct store_webhook
hook(int64_t tid, int n, int64_t created)
{
    struct store_webhook w = { .tenant_id = tid, .enabled = true, .created_ms = created };
    snprintf(w.id, sizeof(w.id), "%s", uid('w', n));
    snprintf(w.url, sizeof(w.url), "https://hooks.example/%d", n);
    snprintf(w.secret, sizeof(w.secret), "whsec_%d", n);
    return w;
}

static void
webhooks(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    struct store_webhook w2 = hook(a, 2, 200), w1 = hook(a, 1, 100), w3 = hook(b, 3, 50);
    w2.cursor = 7;
    TX_OK(s, store_webhook_insert(s, &w2, err));
    TX_OK(s, store_webhook_insert(s, &w1, err));
    TX_OK(s, store_webhook_insert(s, &w3, err));
    TX_FAILS(s, ERR_UNIQUENESS, store_webhook_insert(s, &w1, err));

    struct store_webhook got;
    OK(store_webhook_get(s, a, w2.id, &got, err));
    assert_string_equal(got.id, w2.id);
    assert_int_equal(got.tenant_id, a);
    assert_string_equal(got.url, "https://hooks.example/2");
    assert_string_equal(got.secret, "whsec_2");
    assert_true(got.enabled);
    assert_int_equal(got.cursor, 7);
    assert_int_equal(got.created_ms, 200);
    assert_int_equal(got.failures, 0);
    assert_int_equal(got.next_attempt_ms, 0);
    assert_int_equal(got.last_attempt_ms, 0);
    assert_int_equal(got.last_status, 0);
    assert_string_equal(got.last_error, "");
    FAILS(ERR_NOT_FOUND, store_webhook_get(s, b, w2.id, &got, err));

    struct store_webhook *v = NULL;
    size_t n = 0;
    OK(store_webhook_list(s, a, &v, &n, err));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].id, w1.id);
    assert_string_equal(v[1].id, w2.id);
    free(v);

    /* Update writes url, secret and enabled only, in the tenant only. */
    struct store_webhook up = w2;
    snprintf(up.url, sizeof(up.url), "https://new.example/");
    snprintf(up.secret, sizeof(up.secret), "v1.sealed");
    up.enabled = false;
    up.cursor = 99;
    up.failures = 4;
    TX_OK(s, store_webhook_update(s, &up, err));
    OK(store_webhook_get(s, a, w2.id, &got, err));
    assert_string_equal(got.url, "https://new.example/");
    assert_string_equal(got.secret, "v1.sealed");
    assert_false(got.enabled);
    assert_int_equal(got.cursor, 7);
    assert_int_equal(got.failures, 0);
    up.tenant_id = b;
    TX_FAILS(s, ERR_NOT_FOUND, store_webhook_update(s, &up, err));
    OK(store_webhook_get(s, a, w2.id, &got, err));
    assert_string_equal(got.url, "https://new.example/");

    /* Delete, in the tenant only. */
    TX_FAILS(s, ERR_NOT_FOUND, store_webhook_delete(s, b, w1.id, err));
    TX_OK(s, store_webhook_delete(s, a, w2.id, err));
    FAILS(ERR_NOT_FOUND, store_webhook_get(s, a, w2.id, &got, err));
    TX_FAILS(s, ERR_NOT_FOUND, store_webhook_delete(s, a, w2.id, err));
    OK(store_webhook_list(s, a, &v, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, w1.id);
    free(v);
}

/* A webhook's format, delivery and audience are written on insert and update; poll streams
 * are never due for push delivery; acknowledgements above the cursor are kept, listed in
 * order, and forgotten when the cursor passes them, which never moves back. */
static void
webhook_sets(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    struct store_webhook w = hook(a, 1, 100), p = hook(a, 2, 200), got;
    snprintf(w.format, sizeof(w.format), "set");
    snprintf(w.delivery, sizeof(w.delivery), "push");
    snprintf(w.audience, sizeof(w.audience), "https://aud.example/");
    snprintf(p.format, sizeof(p.format), "set");
    snprintf(p.delivery, sizeof(p.delivery), "poll");
    p.url[0] = '\0';
    TX_OK(s, store_webhook_insert(s, &w, err));
    TX_OK(s, store_webhook_insert(s, &p, err));
    OK(store_webhook_get(s, a, w.id, &got, err));
    assert_string_equal(got.format, "set");
    assert_string_equal(got.delivery, "push");
    assert_string_equal(got.audience, "https://aud.example/");
    struct store_webhook d = hook(a, 3, 300);
    TX_OK(s, store_webhook_insert(s, &d, err));
    OK(store_webhook_get(s, a, d.id, &got, err));
    assert_string_equal(got.format, "scimd");
    assert_string_equal(got.delivery, "push");
    assert_string_equal(got.audience, "");
    snprintf(got.audience, sizeof(got.audience), "aud2");
    snprintf(got.format, sizeof(got.format), "set");
    TX_OK(s, store_webhook_update(s, &got, err));
    OK(store_webhook_get(s, a, d.id, &got, err));
    assert_string_equal(got.format, "set");
    assert_string_equal(got.audience, "aud2");

    mk_event(s, a, "user.created", "u1", 1, "{}");
    struct store_webhook *due = NULL;
    size_t n = 0;
    OK(store_webhook_due(s, 1000, 10, &due, &n, err));
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(due[i].id, p.id);
    assert_int_equal(n, 2);
    free(due);

    TX_OK(s, store_webhook_ack_add(s, p.id, 5, err));
    TX_OK(s, store_webhook_ack_add(s, p.id, 3, err));
    TX_OK(s, store_webhook_ack_add(s, p.id, 5, err));
    TX_OK(s, store_webhook_ack_add(s, p.id, 9, err));
    TX_OK(s, store_webhook_ack_add(s, w.id, 4, err));
    int64_t *acks = NULL;
    OK(store_webhook_acks(s, p.id, 0, 10, &acks, &n, err));
    assert_int_equal(n, 3);
    assert_int_equal(acks[0], 3);
    assert_int_equal(acks[1], 5);
    assert_int_equal(acks[2], 9);
    free(acks);
    OK(store_webhook_acks(s, p.id, 3, 1, &acks, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(acks[0], 5);
    free(acks);
    TX_OK(s, store_webhook_advance(s, p.id, 5, err));
    OK(store_webhook_get(s, a, p.id, &got, err));
    assert_int_equal(got.cursor, 5);
    OK(store_webhook_acks(s, p.id, 0, 10, &acks, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(acks[0], 9);
    free(acks);
    TX_OK(s, store_webhook_advance(s, p.id, 2, err));
    OK(store_webhook_get(s, a, p.id, &got, err));
    assert_int_equal(got.cursor, 5);
    /* A poll reads its stream locked, in its transaction: the same row, the tenant's only. */
    TX_OK(s, store_webhook_lock(s, a, p.id, &got, err));
    assert_string_equal(got.id, p.id);
    assert_int_equal(got.cursor, 5);
    assert_string_equal(got.delivery, "poll");
    int64_t other = mk_tenant(s, "other");
    TX_FAILS(s, ERR_NOT_FOUND, store_webhook_lock(s, other, p.id, &got, err));
    /* Another webhook's acknowledgements are its own. */
    OK(store_webhook_acks(s, w.id, 0, 10, &acks, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(acks[0], 4);
    free(acks);
}

/* The /metrics view: enabled webhooks, failing ones, the largest backlog (capped) and the
 * oldest undelivered event, over every tenant; disabled webhooks count for nothing. */
static void
webhook_stats(void **state)
{
    struct store *s = S(state);
    struct store_webhook_stats st;
    OK(store_webhook_stats(s, 1000, &st, err));
    assert_int_equal(st.enabled, 0);
    assert_int_equal(st.max_backlog, 0);
    assert_int_equal(st.oldest_undelivered_ms, 0);

    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    mk_event(s, a, "user.created", uid('u', 1), 500, NULL);
    int64_t first = 0;
    OK(store_event_last_seq(s, a, &first, err));
    mk_event(s, a, "user.created", uid('u', 2), 600, NULL);
    mk_event(s, a, "user.created", uid('u', 3), 700, NULL);
    mk_event(s, b, "user.created", uid('u', 4), 400, NULL);
    /* a1: all three of a's events pending; a2: only the last two, and failing; b1: disabled
     * with one pending (ignored). */
    struct store_webhook a1 = hook(a, 1, 100), a2 = hook(a, 2, 100), b1 = hook(b, 3, 100);
    a2.cursor = first;
    b1.enabled = false;
    TX_OK(s, store_webhook_insert(s, &a1, err));
    TX_OK(s, store_webhook_insert(s, &a2, err));
    TX_OK(s, store_webhook_insert(s, &b1, err));
    /* a2's last attempt failed (recorded as a deliverer records it). */
    a2.failures = 3;
    a2.next_attempt_ms = 5000;
    struct store_webhook_attempt at = { .at_ms = 900, .first_event = first + 1, .status = 500 };
    struct store_webhook leased;
    begin(s);
    RETURNS(1, store_webhook_claim(s, a2.id, "owner", 900, 2000, &leased, err));
    RETURNS(1, store_webhook_finish(s, &a2, "owner", &at, 0, err));
    commit(s);
    OK(store_webhook_stats(s, 1000, &st, err));
    assert_int_equal(st.enabled, 2);
    assert_int_equal(st.failing, 1);
    assert_int_equal(st.max_backlog, 3);
    assert_int_equal(st.oldest_undelivered_ms, 500);
    /* A backlog is counted up to the cap. */
    OK(store_webhook_stats(s, 2, &st, err));
    assert_int_equal(st.max_backlog, 2);
}

static void
expect_due(struct store *s, int64_t now, const char *const *ids, size_t n_want)
{
    struct store_webhook *v = NULL;
    size_t n = 0;
    OK(store_webhook_due(s, now, 10, &v, &n, err));
    if (n != n_want)
        fail_msg("%zu webhooks due at %lld, expected %zu", n, (long long)now, n_want);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(v[i].id, ids[i]);
    free(v);
}

static void
webhook_delivery(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    char h1[37], h2[37], h3[37];
    struct store_webhook w1 = hook(a, 1, 100), w2 = hook(a, 2, 200), w3 = hook(b, 3, 300);
    snprintf(h1, sizeof(h1), "%s", w1.id);
    snprintf(h2, sizeof(h2), "%s", w2.id);
    snprintf(h3, sizeof(h3), "%s", w3.id);
    w2.enabled = false;
    TX_OK(s, store_webhook_insert(s, &w1, err));
    TX_OK(s, store_webhook_insert(s, &w2, err));
    TX_OK(s, store_webhook_insert(s, &w3, err));

    /* Nothing to deliver: nothing due. */
    expect_due(s, 1000, NULL, 0);
    mk_event(s, a, "user.created", uid('u', 1), 1, NULL);
    mk_event(s, b, "user.created", uid('u', 1), 1, NULL);
    int64_t sa = 0;
    OK(store_event_last_seq(s, a, &sa, err));
    /* Enabled ones with undelivered events, by next_attempt_ms then id. */
    {
        const char *want[] = { h1, h3 };
        expect_due(s, 1000, want, 2);
    }
    struct store_webhook *one = NULL;
    size_t n = 0;
    OK(store_webhook_due(s, 1000, 1, &one, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(one[0].id, h1);
    free(one);

    /* One owner wins the claim, and gets the row as it stands; the holder may renew it. */
    struct store_webhook leased;
    begin(s);
    RETURNS(1, store_webhook_claim(s, h1, "owner-a", 1000, 2000, &leased, err));
    assert_string_equal(leased.id, h1);
    assert_int_equal(leased.cursor, 0);
    assert_string_equal(leased.url, w1.url);
    RETURNS(0, store_webhook_claim(s, h1, "owner-b", 1000, 2000, &leased, err));
    RETURNS(0, store_webhook_claim(s, h1, "owner-b", 1999, 3000, &leased, err));
    RETURNS(1, store_webhook_claim(s, h1, "owner-a", 1500, 2500, &leased, err));
    RETURNS(0, store_webhook_claim(s, uid('w', 9), "owner-a", 1000, 2000, &leased, err));
    commit(s);
    {
        const char *want[] = { h3 };
        expect_due(s, 1000, want, 1); /* leased: not due */
    }

    /* Finish by a non-owner writes nothing. */
    struct store_webhook fin = w1;
    fin.cursor = sa;
    fin.failures = 0;
    fin.next_attempt_ms = 0;
    fin.last_attempt_ms = 1100;
    fin.last_status = 204;
    snprintf(fin.last_error, sizeof(fin.last_error), "%s", "");
    struct store_webhook_attempt at = {
        .at_ms = 1100, .first_event = 1, .last_event = sa, .status = 204, .duration_ms = 12
    };
    begin(s);
    RETURNS(0, store_webhook_finish(s, &fin, "owner-b", &at, 0, err));
    commit(s);
    struct store_webhook got;
    OK(store_webhook_get(s, a, h1, &got, err));
    assert_int_equal(got.cursor, 0);
    assert_int_equal(got.last_status, 0);
    struct store_webhook_attempt *atts = NULL;
    OK(store_webhook_attempts(s, a, h1, 10, &atts, &n, err));
    assert_int_equal(n, 0);
    free(atts);

    /* Finish by the owner writes the state, records the attempt, releases the lease. */
    begin(s);
    RETURNS(1, store_webhook_finish(s, &fin, "owner-a", &at, 0, err));
    commit(s);
    OK(store_webhook_get(s, a, h1, &got, err));
    assert_int_equal(got.cursor, sa);
    assert_int_equal(got.last_attempt_ms, 1100);
    assert_int_equal(got.last_status, 204);
    assert_string_equal(got.url, w1.url);
    /* Delivered up to the last event: not due any more. */
    {
        const char *want[] = { h3 };
        expect_due(s, 1000, want, 1);
    }
    /* Nothing left to deliver: not claimed, even with the lease free (a deliverer whose
     * list was read before that delivery finds nothing to send again). */
    begin(s);
    RETURNS(0, store_webhook_claim(s, h1, "owner-b", 1200, 2200, &leased, err));
    commit(s);
    /* A new event: the lease is free, another owner may claim it at once, and the row it gets
     * has the cursor the last finish wrote, whatever the caller read before. */
    mk_event(s, a, "user.updated", uid('u', 1), 2, NULL);
    int64_t sa2 = 0;
    OK(store_event_last_seq(s, a, &sa2, err));
    begin(s);
    RETURNS(1, store_webhook_claim(s, h1, "owner-b", 1200, 2200, &leased, err));
    commit(s);
    assert_int_equal(leased.cursor, sa);
    assert_int_equal(leased.last_status, 204);

    /* A finish may keep the lease (a SET stream between two SETs): no one else claims it. The
     * cursor moves forward only: an older one written is ignored. */
    struct store_webhook_attempt at_old = { .at_ms = 1250, .first_event = 1, .last_event = 0 };
    struct store_webhook old = fin;
    old.cursor = 0;
    begin(s);
    RETURNS(1, store_webhook_finish(s, &old, "owner-b", &at_old, 2300, err));
    commit(s);
    OK(store_webhook_get(s, a, h1, &got, err));
    assert_int_equal(got.cursor, sa);
    begin(s);
    RETURNS(0, store_webhook_claim(s, h1, "owner-a", 1260, 2260, &leased, err));
    commit(s);

    /* A failure: the state says so, and next_attempt_ms holds it back. */
    fin.failures = 1;
    fin.next_attempt_ms = 5000;
    fin.last_attempt_ms = 1300;
    fin.last_status = 0;
    snprintf(fin.last_error, sizeof(fin.last_error), "connection refused");
    struct store_webhook_attempt at2 = {
        .at_ms = 1300, .first_event = sa + 1, .last_event = sa2, .status = 0, .duration_ms = 3
    };
    snprintf(at2.error, sizeof(at2.error), "connection refused");
    begin(s);
    RETURNS(1, store_webhook_finish(s, &fin, "owner-b", &at2, 0, err));
    commit(s);
    OK(store_webhook_get(s, a, h1, &got, err));
    assert_int_equal(got.failures, 1);
    assert_int_equal(got.next_attempt_ms, 5000);
    assert_string_equal(got.last_error, "connection refused");
    /* Released, but backing off: not claimed before next_attempt_ms, as not due. */
    begin(s);
    RETURNS(0, store_webhook_claim(s, h1, "owner-a", 4999, 6000, &leased, err));
    commit(s);
    {
        const char *want[] = { h3 };
        expect_due(s, 4999, want, 1);
    }
    {
        const char *want[] = { h3, h1 };
        expect_due(s, 5000, want, 2); /* h3 next_attempt 0 sorts first */
    }

    /* Attempts: newest first, limited, per tenant. */
    OK(store_webhook_attempts(s, a, h1, 10, &atts, &n, err));
    assert_int_equal(n, 3);
    assert_true(atts[0].seq > atts[1].seq && atts[1].seq > atts[2].seq);
    assert_int_equal(atts[0].at_ms, 1300);
    assert_int_equal(atts[0].first_event, sa + 1);
    assert_int_equal(atts[0].last_event, sa2);
    assert_int_equal(atts[0].status, 0);
    assert_int_equal(atts[0].duration_ms, 3);
    assert_string_equal(atts[0].error, "connection refused");
    assert_int_equal(atts[1].at_ms, 1250); /* the one that kept the lease */
    assert_int_equal(atts[2].at_ms, 1100);
    assert_int_equal(atts[2].status, 204);
    assert_int_equal(atts[2].duration_ms, 12);
    assert_string_equal(atts[2].error, "");
    free(atts);
    OK(store_webhook_attempts(s, a, h1, 1, &atts, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(atts[0].at_ms, 1300);
    free(atts);
    atts = NULL;
    OK(store_webhook_attempts(s, b, h1, 10, &atts, &n, err));
    assert_int_equal(n, 0);
    free(atts);

    /* The last 100 attempts are kept. */
    for (int i = 0; i < 101; i++) {
        begin(s);
        RETURNS(1, store_webhook_claim(s, h1, "owner-c", 10000 + i, 20000, &leased, err));
        struct store_webhook_attempt ai = { .at_ms = 10000 + i, .status = 500 };
        RETURNS(1, store_webhook_finish(s, &fin, "owner-c", &ai, 0, err));
        commit(s);
    }
    OK(store_webhook_attempts(s, a, h1, 500, &atts, &n, err));
    assert_int_equal(n, 100);
    assert_int_equal(atts[0].at_ms, 10100);
    assert_int_equal(atts[99].at_ms, 10001);
    free(atts);
}

/* ---- retention ---- */

/* The seqs of a tenant's events, oldest first, into out (at most 8); returns how many. */
static size_t
event_seqs(struct store *s, int64_t tid, int64_t out[8])
{
    struct store_event *v = NULL;
    size_t n = 0;
    OK(store_event_list(s, tid, 0, 8, &v, &n, err));
    for (size_t i = 0; i < n; i++)
        out[i] = v[i].seq;
    store_events_free(v, n);
    return n;
}

#define EXPECT_SEQS(s, tid, ...)                                   \
    do {                                                           \
        const int64_t want_[] = { __VA_ARGS__ };                   \
        int64_t got_[8];                                           \
        size_t n_ = event_seqs(s, tid, got_);                      \
        if (n_ != N_OF(want_))                                     \
            fail_msg("%zu events, expected %zu", n_, N_OF(want_)); \
        for (size_t i_ = 0; i_ < n_; i_++)                         \
            assert_int_equal(got_[i_], want_[i_]);                 \
    } while (0)

/* Prunes in one transaction; the number deleted must be `want`. */
static void
prune(struct store *s, int64_t before_ms, size_t limit, int64_t want)
{
    int64_t n = -1;
    TX_OK(s, store_event_prune(s, before_ms, limit, &n, err));
    assert_int_equal(n, want);
}

static void
event_prune(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a"), b = mk_tenant(s, "b"), c = mk_tenant(s, "c");
    mk_event(s, a, "user.created", uid('u', 1), 100, NULL); /* e1 */
    mk_event(s, b, "user.created", uid('u', 1), 110, NULL); /* f1 */
    mk_event(s, c, "user.created", uid('u', 1), 120, NULL); /* g1 */
    mk_event(s, b, "user.updated", uid('u', 1), 150, NULL); /* f2 */
    mk_event(s, a, "user.updated", uid('u', 1), 200, NULL); /* e2 */
    mk_event(s, a, "user.deleted", uid('u', 1), 900, NULL); /* e3 */
    int64_t ea[8], eb[8], ec[8];
    assert_int_equal(event_seqs(s, a, ea), 3);
    assert_int_equal(event_seqs(s, b, eb), 2);
    assert_int_equal(event_seqs(s, c, ec), 1);

    /* a: one webhook delivered through e2, a disabled one only through e1; c: a webhook
     * that has delivered nothing; b: none. */
    struct store_webhook w1 = hook(a, 1, 1), w2 = hook(a, 2, 1), w3 = hook(c, 3, 1);
    w1.cursor = ea[1];
    w2.cursor = ea[0];
    w2.enabled = false;
    w3.cursor = 0;
    TX_OK(s, store_webhook_insert(s, &w1, err));
    TX_OK(s, store_webhook_insert(s, &w2, err));
    TX_OK(s, store_webhook_insert(s, &w3, err));

    /* Nothing is older than the oldest event. */
    prune(s, 100, 10, 0);
    /* Oldest first, at most `limit`: e1 then f1. */
    prune(s, 500, 2, 2);
    EXPECT_SEQS(s, a, ea[1], ea[2]);
    EXPECT_SEQS(s, b, eb[1]);
    /* Then f2; e2 stays for the disabled webhook, g1 for c's, e3 is recent (strictly before
     * before_ms only). */
    prune(s, 900, 10, 1);
    EXPECT_SEQS(s, a, ea[1], ea[2]);
    assert_int_equal(event_seqs(s, b, eb), 0);
    EXPECT_SEQS(s, c, ec[0]);
    prune(s, 900, 10, 0);

    /* Once its last holder goes, the event goes too; other tenants' stay. */
    TX_OK(s, store_webhook_delete(s, a, w2.id, err));
    prune(s, 900, 10, 1);
    EXPECT_SEQS(s, a, ea[2]);
    EXPECT_SEQS(s, c, ec[0]);
    /* e3 is old enough now, but w1 has delivered only through e2. */
    int64_t last = ea[2];
    TX_OK(s, store_webhook_delete(s, c, w3.id, err));
    prune(s, 901, 10, 1);
    EXPECT_SEQS(s, a, last);
    assert_int_equal(event_seqs(s, c, ec), 0);
    TX_OK(s, store_webhook_delete(s, a, w1.id, err));
    prune(s, 901, 10, 1);
    assert_int_equal(event_seqs(s, a, ea), 0);
    /* Numbers are never reused: the next event comes after every pruned one. */
    mk_event(s, a, "user.created", uid('u', 2), 1000, NULL);
    assert_int_equal(event_seqs(s, a, ea), 1);
    assert_true(ea[0] > last);
}

/* ---- single sign-on ---- */

/* Re-sealing a secret under a new key (`scimd reseal`): only while it is still the old one. */
static void
reseal(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    struct store_webhook w1 = hook(a, 1, 100), w2 = hook(a, 2, 200);
    w1.cursor = 5;
    TX_OK(s, store_webhook_insert(s, &w1, err));
    TX_OK(s, store_webhook_insert(s, &w2, err));
    begin(s);
    RETURNS(1, store_webhook_reseal(s, w1.id, "whsec_1", "v2.k2.new", err));
    commit(s);
    struct store_webhook got;
    OK(store_webhook_get(s, a, w1.id, &got, err));
    assert_string_equal(got.secret, "v2.k2.new");
    assert_string_equal(got.url, "https://hooks.example/1");
    assert_int_equal(got.cursor, 5);
    OK(store_webhook_get(s, a, w2.id, &got, err));
    assert_string_equal(got.secret, "whsec_2");
    /* Changed meanwhile, or gone: 0 and nothing written. */
    begin(s);
    RETURNS(0, store_webhook_reseal(s, w1.id, "whsec_1", "v2.k3.x", err));
    RETURNS(0, store_webhook_reseal(s, uid('w', 99), "whsec_1", "v2.k3.x", err));
    commit(s);
    OK(store_webhook_get(s, a, w1.id, &got, err));
    assert_string_equal(got.secret, "v2.k2.new");

    struct store_sso_conn c = { .tenant_id = a,
                                .config = "{\"issuer\":\"https://idp\"}",
                                .secret = "v1.old",
                                .enabled = true,
                                .updated_ms = 100 };
    snprintf(c.protocol, sizeof(c.protocol), "oidc");
    TX_OK(s, store_sso_conn_put(s, &c, err));
    TX_OK(s, store_sso_conn_verified(s, a, "oidc", 150, err));
    c.tenant_id = b;
    TX_OK(s, store_sso_conn_put(s, &c, err));
    begin(s);
    RETURNS(1, store_sso_conn_reseal(s, a, "oidc", "v1.old", "v2.k2.new", err));
    RETURNS(0, store_sso_conn_reseal(s, a, "oidc", "v1.old", "v2.k3.x", err));
    RETURNS(0, store_sso_conn_reseal(s, a, "saml", "v1.old", "v2.k3.x", err));
    commit(s);
    struct store_sso_conn gc = { 0 };
    OK(store_sso_conn_get(s, a, "oidc", &gc, err));
    assert_string_equal(gc.secret, "v2.k2.new");
    assert_json_equal(gc.config, "{\"issuer\":\"https://idp\"}");
    assert_true(gc.enabled);
    assert_int_equal(gc.verified_ms, 150);
    assert_int_equal(gc.updated_ms, 100);
    store_sso_conn_cleanup(&gc);
    OK(store_sso_conn_get(s, b, "oidc", &gc, err)); /* the other tenant's: untouched */
    assert_string_equal(gc.secret, "v1.old");
    store_sso_conn_cleanup(&gc);
    TX_OK(s, store_sso_conn_delete(s, a, "oidc", err));
    begin(s);
    RETURNS(0, store_sso_conn_reseal(s, a, "oidc", "v2.k2.new", "v2.k3.x", err));
    commit(s);
    FAILS(ERR_NOT_FOUND, store_sso_conn_get(s, a, "oidc", &gc, err));
}

/* The tenant-free OIDC initiate-login endpoint: enabled connections of one protocol whose
 * config names exactly this issuer, lowest tenant first, only the verified ones once there
 * is one; disabled ones and other protocols, issuers differing in one byte or case are not
 * found. */
static void
sso_conn_tenants_by_issuer_finds_enabled_exact_matches(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a"), b = mk_tenant(s, "b"), c = mk_tenant(s, "c");
    int64_t d = mk_tenant(s, "d");
    struct store_sso_conn conn = { .config = "{\"issuer\":\"https://idp.example\"}",
                                   .enabled = true,
                                   .updated_ms = 100 };
    snprintf(conn.protocol, sizeof(conn.protocol), "oidc");
    int64_t ids[4] = { 0 };
    size_t n = 9;
    OK(store_sso_conn_tenants_by_issuer(s, "oidc", "https://idp.example", ids, 4, &n, err));
    assert_int_equal(n, 0);
    conn.tenant_id = b;
    TX_OK(s, store_sso_conn_put(s, &conn, err));
    conn.tenant_id = a;
    TX_OK(s, store_sso_conn_put(s, &conn, err));
    conn.tenant_id = c; /* disabled */
    conn.enabled = false;
    TX_OK(s, store_sso_conn_put(s, &conn, err));
    conn.tenant_id = d; /* another issuer (letter case) */
    conn.enabled = true;
    conn.config = "{\"issuer\":\"https://IDP.example\"}";
    TX_OK(s, store_sso_conn_put(s, &conn, err));
    struct store_sso_conn saml = { .tenant_id = d,
                                   .config = "{\"issuer\":\"https://idp.example\"}",
                                   .enabled = true,
                                   .updated_ms = 100 };
    snprintf(saml.protocol, sizeof(saml.protocol), "saml");
    TX_OK(s, store_sso_conn_put(s, &saml, err));

    OK(store_sso_conn_tenants_by_issuer(s, "oidc", "https://idp.example", ids, 4, &n, err));
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], a);
    assert_int_equal(ids[1], b);
    OK(store_sso_conn_tenants_by_issuer(s, "oidc", "https://idp.example", ids, 1, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], a);
    OK(store_sso_conn_tenants_by_issuer(s, "oidc", "https://IDP.example", ids, 4, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], d);
    OK(store_sso_conn_tenants_by_issuer(s, "oidc", "https://idp.example/", ids, 4, &n, err));
    assert_int_equal(n, 0);
    OK(store_sso_conn_tenants_by_issuer(s, "saml", "https://idp.example", ids, 4, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], d);
    /* Once b's connection signed someone in, a's unverified one no longer counts; c's
     * verified but disabled one never does. */
    TX_OK(s, store_sso_conn_verified(s, b, "oidc", 200, err));
    TX_OK(s, store_sso_conn_verified(s, c, "oidc", 200, err));
    OK(store_sso_conn_tenants_by_issuer(s, "oidc", "https://idp.example", ids, 4, &n, err));
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], b);
    TX_OK(s, store_sso_conn_verified(s, a, "oidc", 300, err));
    OK(store_sso_conn_tenants_by_issuer(s, "oidc", "https://idp.example", ids, 4, &n, err));
    assert_int_equal(n, 2);
}

static void
sso_connections(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    struct store_sso_conn c = { .tenant_id = a,
                                .config = "{\"issuer\":\"https://idp\"}",
                                .secret = "sealed-1",
                                .enabled = true,
                                .updated_ms = 100 };
    snprintf(c.protocol, sizeof(c.protocol), "oidc");
    struct store_sso_conn got = { 0 };
    FAILS(ERR_NOT_FOUND, store_sso_conn_get(s, a, "oidc", &got, err));
    TX_OK(s, store_sso_conn_put(s, &c, err));
    OK(store_sso_conn_get(s, a, "oidc", &got, err));
    assert_int_equal(got.tenant_id, a);
    assert_string_equal(got.protocol, "oidc");
    assert_json_equal(got.config, "{\"issuer\":\"https://idp\"}");
    assert_string_equal(got.secret, "sealed-1");
    assert_true(got.enabled);
    assert_int_equal(got.verified_ms, 0);
    assert_int_equal(got.created_ms, 100);
    assert_int_equal(got.updated_ms, 100);
    store_sso_conn_cleanup(&got);
    FAILS(ERR_NOT_FOUND, store_sso_conn_get(s, a, "saml", &got, err));
    FAILS(ERR_NOT_FOUND, store_sso_conn_get(s, b, "oidc", &got, err));

    /* Verified: the first time stays. */
    TX_OK(s, store_sso_conn_verified(s, a, "oidc", 500, err));
    TX_OK(s, store_sso_conn_verified(s, a, "oidc", 600, err));
    TX_OK(s, store_sso_conn_verified(s, b, "oidc", 700, err)); /* none: nothing */
    OK(store_sso_conn_get(s, a, "oidc", &got, err));
    assert_int_equal(got.verified_ms, 500);
    store_sso_conn_cleanup(&got);

    /* Replacing keeps verified_ms and created_ms, unless reset_verified. */
    c.config = "{\"issuer\":\"https://idp\",\"scope\":\"x\"}";
    c.secret = NULL;
    c.enabled = false;
    c.updated_ms = 800;
    TX_OK(s, store_sso_conn_put(s, &c, err));
    OK(store_sso_conn_get(s, a, "oidc", &got, err));
    assert_json_equal(got.config, "{\"issuer\":\"https://idp\",\"scope\":\"x\"}");
    assert_null(got.secret);
    assert_false(got.enabled);
    assert_int_equal(got.verified_ms, 500);
    assert_int_equal(got.created_ms, 100);
    assert_int_equal(got.updated_ms, 800);
    store_sso_conn_cleanup(&got);
    c.reset_verified = true;
    c.updated_ms = 900;
    TX_OK(s, store_sso_conn_put(s, &c, err));
    OK(store_sso_conn_get(s, a, "oidc", &got, err));
    assert_int_equal(got.verified_ms, 0);
    assert_int_equal(got.updated_ms, 900);
    store_sso_conn_cleanup(&got);

    /* One per protocol; the other tenant's own. */
    struct store_sso_conn saml = { .tenant_id = a,
                                   .config = "{\"entity\":\"e\"}",
                                   .updated_ms = 1 };
    snprintf(saml.protocol, sizeof(saml.protocol), "saml");
    TX_OK(s, store_sso_conn_put(s, &saml, err));
    struct store_sso_conn cb = { .tenant_id = b, .config = "{\"b\":1}", .updated_ms = 2 };
    snprintf(cb.protocol, sizeof(cb.protocol), "oidc");
    TX_OK(s, store_sso_conn_put(s, &cb, err));
    OK(store_sso_conn_get(s, a, "saml", &got, err));
    assert_json_equal(got.config, "{\"entity\":\"e\"}");
    assert_null(got.secret);
    store_sso_conn_cleanup(&got);

    TX_OK(s, store_sso_conn_delete(s, a, "oidc", err));
    FAILS(ERR_NOT_FOUND, store_sso_conn_get(s, a, "oidc", &got, err));
    TX_FAILS(s, ERR_NOT_FOUND, store_sso_conn_delete(s, a, "oidc", err));
    OK(store_sso_conn_get(s, a, "saml", &got, err));
    store_sso_conn_cleanup(&got);
    OK(store_sso_conn_get(s, b, "oidc", &got, err));
    assert_json_equal(got.config, "{\"b\":1}");
    store_sso_conn_cleanup(&got);
}

static void
sso_single_use(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");

    /* Sign-in transactions: taken once, not after expiry. */
    struct store_sso_tx t = { .tenant_id = a, .data = "{\"nonce\":\"n1\"}", .expires_ms = 1000 };
    snprintf(t.handle, sizeof(t.handle), "handle-1");
    snprintf(t.protocol, sizeof(t.protocol), "oidc");
    snprintf(t.binding, sizeof(t.binding), "binding-1");
    TX_OK(s, store_sso_tx_insert(s, &t, err));
    TX_FAILS(s, ERR_UNIQUENESS, store_sso_tx_insert(s, &t, err));
    struct store_sso_tx t2 = t;
    snprintf(t2.handle, sizeof(t2.handle), "handle-2");
    t2.tenant_id = b;
    t2.expires_ms = 500;
    TX_OK(s, store_sso_tx_insert(s, &t2, err));
    struct store_sso_tx got = { 0 };
    begin(s);
    OK(store_sso_tx_take(s, "handle-1", 999, &got, err));
    commit(s);
    assert_string_equal(got.handle, "handle-1");
    assert_int_equal(got.tenant_id, a);
    assert_string_equal(got.protocol, "oidc");
    assert_string_equal(got.binding, "binding-1");
    assert_json_equal(got.data, "{\"nonce\":\"n1\"}");
    assert_int_equal(got.expires_ms, 1000);
    free(got.data);
    TX_FAILS(s, ERR_NOT_FOUND, store_sso_tx_take(s, "handle-1", 999, &got, err));
    TX_FAILS(s, ERR_NOT_FOUND, store_sso_tx_take(s, "handle-2", 500, &got, err)); /* expired */
    TX_FAILS(s, ERR_NOT_FOUND, store_sso_tx_take(s, "nope", 0, &got, err));

    /* The replay cache: an (issuer, id) pair once until it expires. */
    TX_OK(s, store_sso_replay_insert(s, a, "https://idp", "_a1", 2000, 1000, err));
    TX_FAILS(s, ERR_UNIQUENESS,
             store_sso_replay_insert(s, a, "https://idp", "_a1", 3000, 1500, err));
    TX_FAILS(s, ERR_UNIQUENESS,
             store_sso_replay_insert(s, b, "https://idp", "_a1", 3000, 1500, err));
    TX_OK(s, store_sso_replay_insert(s, a, "https://other", "_a1", 2000, 1000, err));
    TX_OK(s, store_sso_replay_insert(s, a, "https://idp", "_a1", 3000, 2000, err)); /* purged */

    /* Hand-off codes: taken once, not after expiry. */
    struct store_sso_code c = { .tenant_id = a, .expires_ms = 1000 };
    snprintf(c.hash, sizeof(c.hash), "code-1");
    snprintf(c.user_id, sizeof(c.user_id), "%s", uid('u', 1));
    snprintf(c.protocol, sizeof(c.protocol), "saml");
    snprintf(c.initiated, sizeof(c.initiated), "idp");
    TX_OK(s, store_sso_code_insert(s, &c, err));
    TX_FAILS(s, ERR_UNIQUENESS, store_sso_code_insert(s, &c, err));
    struct store_sso_code c2 = c;
    snprintf(c2.hash, sizeof(c2.hash), "code-2");
    c2.expires_ms = 900;
    TX_OK(s, store_sso_code_insert(s, &c2, err));
    struct store_sso_code gc = { 0 };
    begin(s);
    OK(store_sso_code_take(s, "code-1", 999, &gc, err));
    commit(s);
    assert_string_equal(gc.hash, "code-1");
    assert_int_equal(gc.tenant_id, a);
    assert_string_equal(gc.user_id, uid('u', 1));
    assert_string_equal(gc.protocol, "saml");
    assert_string_equal(gc.initiated, "idp");
    assert_int_equal(gc.expires_ms, 1000);
    TX_FAILS(s, ERR_NOT_FOUND, store_sso_code_take(s, "code-1", 999, &gc, err));
    TX_FAILS(s, ERR_NOT_FOUND, store_sso_code_take(s, "code-2", 950, &gc, err));
}

static void
sso_links(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    char u1[37], u2[37];
    snprintf(u1, sizeof(u1), "%s", uid('u', 1));
    snprintf(u2, sizeof(u2), "%s", uid('u', 2));
    char user[37];
    char subject[256];
    FAILS(ERR_NOT_FOUND, store_sso_link_find(s, a, "https://idp", "sub-1", user, err));
    TX_OK(s, store_sso_link_insert(s, a, "https://idp", "sub-1", u1, 300, err));
    TX_OK(s, store_sso_link_insert(s, a, "https://b-idp", "sub-9", u1, 100, err));
    TX_OK(s, store_sso_link_insert(s, a, "https://a-idp", "sub-8", u1, 300, err));
    TX_OK(s, store_sso_link_insert(s, a, "https://idp", "sub-2", u2, 400, err));
    TX_OK(s, store_sso_link_insert(s, b, "https://idp", "sub-1", u2, 500, err));
    /* (issuer, subject) and (issuer, user) are unique in a tenant. */
    TX_FAILS(s, ERR_UNIQUENESS, store_sso_link_insert(s, a, "https://idp", "sub-1", u2, 1, err));
    TX_FAILS(s, ERR_UNIQUENESS, store_sso_link_insert(s, a, "https://idp", "sub-3", u1, 1, err));

    OK(store_sso_link_find(s, a, "https://idp", "sub-1", user, err));
    assert_string_equal(user, u1);
    OK(store_sso_link_find(s, b, "https://idp", "sub-1", user, err));
    assert_string_equal(user, u2);
    FAILS(ERR_NOT_FOUND, store_sso_link_find(s, b, "https://idp", "sub-2", user, err));
    FAILS(ERR_NOT_FOUND, store_sso_link_find(s, a, "https://idp", "SUB-1", user, err));
    OK(store_sso_link_of_user(s, a, "https://idp", u1, subject, err));
    assert_string_equal(subject, "sub-1");
    FAILS(ERR_NOT_FOUND, store_sso_link_of_user(s, b, "https://idp", u1, subject, err));
    FAILS(ERR_NOT_FOUND, store_sso_link_of_user(s, a, "https://nope", u1, subject, err));

    /* A user's links: oldest first, then by issuer; at most max. */
    struct store_sso_link links[4];
    size_t n = 99;
    OK(store_sso_links_of_user(s, a, u1, links, 4, &n, err));
    assert_int_equal(n, 3);
    assert_string_equal(links[0].issuer, "https://b-idp");
    assert_string_equal(links[0].subject, "sub-9");
    assert_string_equal(links[0].user_id, u1);
    assert_int_equal(links[0].created_ms, 100);
    assert_string_equal(links[1].issuer, "https://a-idp");
    assert_string_equal(links[2].issuer, "https://idp");
    assert_int_equal(links[2].created_ms, 300);
    OK(store_sso_links_of_user(s, a, u1, links, 2, &n, err));
    assert_int_equal(n, 2);
    assert_string_equal(links[1].issuer, "https://a-idp");
    OK(store_sso_links_of_user(s, b, u1, links, 4, &n, err));
    assert_int_equal(n, 0);

    begin(s);
    RETURNS(3, store_sso_links_delete(s, a, u1, err));
    RETURNS(0, store_sso_links_delete(s, a, u1, err));
    commit(s);
    FAILS(ERR_NOT_FOUND, store_sso_link_find(s, a, "https://idp", "sub-1", user, err));
    OK(store_sso_link_find(s, a, "https://idp", "sub-2", user, err));
    assert_string_equal(user, u2);
    OK(store_sso_link_find(s, b, "https://idp", "sub-1", user, err));
    /* Free again: the subject may be linked anew. */
    TX_OK(s, store_sso_link_insert(s, a, "https://idp", "sub-1", u1, 600, err));
}

static void
sso_users_by_email(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    mk_user(s, a, uid('u', 1), "Alice@Example.com", "{\"userName\":\"Alice@Example.com\"}");
    mk_user(s, a, uid('u', 2), "alice2",
            "{\"userName\":\"alice2\",\"emails\":[{\"value\":\"other@x\"},"
            "{\"value\":\"ALICE@example.COM\",\"type\":\"work\"}]}");
    mk_user(s, a, uid('u', 3), "bob",
            "{\"userName\":\"bob\",\"emails\":[{\"value\":\"bob@example.com\"}]}");
    mk_user(s, a, uid('u', 4), "carol", "{\"userName\":\"carol\",\"title\":\"alice@example.com\"}");
    mk_group(s, a, uid('g', 1), "alice@example.com");
    mk_user(s, b, uid('u', 5), "alice@example.com", "{}");

    struct store_resource out[4];
    size_t n = 99;
    OK(store_sso_users_by_email(s, a, "alice@example.com", out, 4, &n, err));
    assert_int_equal(n, 2);
    assert_string_equal(out[0].id, uid('u', 1));
    assert_string_equal(out[0].user_name, "Alice@Example.com");
    assert_int_equal(out[0].tenant_id, a);
    assert_int_equal(out[0].type, STORE_RTYPE_USER);
    assert_string_equal(out[1].id, uid('u', 2));
    assert_json_equal(out[1].doc, "{\"userName\":\"alice2\",\"emails\":[{\"value\":\"other@x\"},"
                                  "{\"value\":\"ALICE@example.COM\",\"type\":\"work\"}]}");
    for (size_t i = 0; i < n; i++)
        store_resource_cleanup(&out[i]);
    OK(store_sso_users_by_email(s, a, "alice@example.com", out, 1, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(out[0].id, uid('u', 1));
    store_resource_cleanup(&out[0]);
    OK(store_sso_users_by_email(s, b, "alice@example.com", out, 4, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(out[0].id, uid('u', 5));
    store_resource_cleanup(&out[0]);
    OK(store_sso_users_by_email(s, a, "nobody@example.com", out, 4, &n, err));
    assert_int_equal(n, 0);
}

static void
sso_users_by_email_lists_active_users_first(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    /* The older account is deactivated (a re-hire): a sign-in reading two rows must still see
     * the one active user first, and a second active one second. */
    struct store_resource old =
        user_row(a, NULL, "gus-old", "{\"emails\":[{\"value\":\"gus@example.com\"}]}");
    snprintf(old.id, sizeof(old.id), "%s", uid('u', 1));
    old.active = 0;
    TX_OK(s, store_resource_insert(s, &old, err));
    mk_user(s, a, uid('u', 2), "gus-new", "{\"emails\":[{\"value\":\"gus@example.com\"}]}");
    mk_user(s, a, uid('u', 3), "gus-third", "{\"emails\":[{\"value\":\"GUS@example.com\"}]}");

    struct store_resource out[4];
    size_t n = 99;
    OK(store_sso_users_by_email(s, a, "gus@example.com", out, 4, &n, err));
    assert_int_equal(n, 3);
    assert_string_equal(out[0].id, uid('u', 2));
    assert_string_equal(out[1].id, uid('u', 3));
    assert_string_equal(out[2].id, uid('u', 1));
    assert_int_equal(out[2].active, 0);
    for (size_t i = 0; i < n; i++)
        store_resource_cleanup(&out[i]);
}

/* ---- console ---- */

static void
console_sessions(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    struct store_console_session op = {
        .tenant_id = 0, .created_ms = 100, .last_seen_ms = 100, .idle_ms = 1000, .expires_ms = 10000
    };
    snprintf(op.id_hash, sizeof(op.id_hash), "op-hash");
    struct store_console_session adm = op;
    snprintf(adm.id_hash, sizeof(adm.id_hash), "admin-hash");
    adm.tenant_id = a;
    snprintf(adm.user_id, sizeof(adm.user_id), "%s", uid('u', 1));
    adm.idle_ms = 5000;
    adm.expires_ms = 3000;
    TX_OK(s, store_console_session_insert(s, &op, err));
    TX_OK(s, store_console_session_insert(s, &adm, err));
    TX_FAILS(s, ERR_UNIQUENESS, store_console_session_insert(s, &op, err));

    struct store_console_session got;
    OK(store_console_session_get(s, "op-hash", &got, err));
    assert_string_equal(got.id_hash, "op-hash");
    assert_int_equal(got.tenant_id, 0);
    assert_string_equal(got.user_id, "");
    assert_int_equal(got.created_ms, 100);
    assert_int_equal(got.last_seen_ms, 100);
    assert_int_equal(got.idle_ms, 1000);
    assert_int_equal(got.expires_ms, 10000);
    OK(store_console_session_get(s, "admin-hash", &got, err));
    assert_int_equal(got.tenant_id, a);
    assert_string_equal(got.user_id, uid('u', 1));
    FAILS(ERR_NOT_FOUND, store_console_session_get(s, "nope", &got, err));

    TX_OK(s, store_console_session_touch(s, "op-hash", 900, err));
    OK(store_console_session_get(s, "op-hash", &got, err));
    assert_int_equal(got.last_seen_ms, 900);
    assert_int_equal(got.created_ms, 100);

    /* Purge: idle (last_seen + idle <= now) or absolute (expires <= now). */
    TX_OK(s, store_console_session_purge(s, 1899, err));
    OK(store_console_session_get(s, "op-hash", &got, err));
    OK(store_console_session_get(s, "admin-hash", &got, err));
    TX_OK(s, store_console_session_purge(s, 1900, err));
    FAILS(ERR_NOT_FOUND, store_console_session_get(s, "op-hash", &got, err));
    OK(store_console_session_get(s, "admin-hash", &got, err));
    TX_OK(s, store_console_session_purge(s, 3000, err));
    FAILS(ERR_NOT_FOUND, store_console_session_get(s, "admin-hash", &got, err));

    TX_OK(s, store_console_session_insert(s, &op, err));
    TX_OK(s, store_console_session_delete(s, "op-hash", err));
    FAILS(ERR_NOT_FOUND, store_console_session_get(s, "op-hash", &got, err));
    TX_OK(s, store_console_session_delete(s, "op-hash", err)); /* absent: no error */

    /* A tenant's sessions go with it. */
    TX_OK(s, store_console_session_insert(s, &adm, err));
    TX_OK(s, store_tenant_delete(s, a, err));
    FAILS(ERR_NOT_FOUND, store_console_session_get(s, "admin-hash", &got, err));
}

static void
setup_links(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    struct store_setup_link l = { .tenant_id = a, .created_ms = 100, .expires_ms = 1000 };
    snprintf(l.hash, sizeof(l.hash), "link-1");
    snprintf(l.user_id, sizeof(l.user_id), "%s", uid('u', 1));
    TX_OK(s, store_setup_link_insert(s, &l, err));
    TX_FAILS(s, ERR_UNIQUENESS, store_setup_link_insert(s, &l, err));
    struct store_setup_link got;
    OK(store_setup_link_get(s, "link-1", &got, err));
    assert_string_equal(got.hash, "link-1");
    assert_int_equal(got.tenant_id, a);
    assert_string_equal(got.user_id, uid('u', 1));
    assert_int_equal(got.created_ms, 100);
    assert_int_equal(got.expires_ms, 1000);
    assert_int_equal(got.used_ms, 0);
    FAILS(ERR_NOT_FOUND, store_setup_link_get(s, "nope", &got, err));

    begin(s);
    RETURNS(1, store_setup_link_use(s, "link-1", 500, err));
    RETURNS(0, store_setup_link_use(s, "link-1", 600, err));
    RETURNS(0, store_setup_link_use(s, "nope", 600, err));
    commit(s);
    OK(store_setup_link_get(s, "link-1", &got, err));
    assert_int_equal(got.used_ms, 500);

    /* Expired links stay a day after expiry, so a late click reads "expired". */
    TX_OK(s, store_console_session_purge(s, 1000 + 86400 * 1000 - 1, err));
    OK(store_setup_link_get(s, "link-1", &got, err));
    TX_OK(s, store_console_session_purge(s, 1000 + 86400 * 1000, err));
    FAILS(ERR_NOT_FOUND, store_setup_link_get(s, "link-1", &got, err));
}

/* ---- tenant isolation: every tenant-scoped read, through the wrong tenant ---- */

static void
tenant_isolation(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    int64_t b = mk_tenant(s, "b");
    char u[37], g[37], w[37];
    snprintf(u, sizeof(u), "%s", uid('u', 1));
    snprintf(g, sizeof(g), "%s", uid('g', 1));
    snprintf(w, sizeof(w), "%s", uid('w', 1));
    mk_user(s, a, u, "alice", "{\"emails\":[{\"value\":\"a@x\"}]}");
    mk_group(s, a, g, "Admins");
    struct store_token tok = token_row(a, 1, "hash-a", 1);
    TX_OK(s, store_token_insert(s, &tok, err));
    begin(s);
    RETURNS(1, store_member_add(s, a, g, u, err));
    commit(s);
    TX_OK(s, store_user_role_set(s, a, u, "admin", NULL, err));
    struct store_role_rule map[] = { rule("Admins", "admin", 1) };
    TX_OK(s, store_role_map_set(s, a, map, 1, err));
    mk_event(s, a, "user.created", u, 1, NULL);
    struct store_webhook h = hook(a, 1, 1);
    TX_OK(s, store_webhook_insert(s, &h, err));
    struct store_webhook leased;
    begin(s);
    RETURNS(1, store_webhook_claim(s, w, "o", 1, 2, &leased, err));
    struct store_webhook_attempt at = { .at_ms = 1, .status = 200 };
    RETURNS(1, store_webhook_finish(s, &h, "o", &at, 0, err));
    commit(s);
    struct store_sso_conn c = { .tenant_id = a, .config = "{}", .updated_ms = 1 };
    snprintf(c.protocol, sizeof(c.protocol), "oidc");
    TX_OK(s, store_sso_conn_put(s, &c, err));
    TX_OK(s, store_sso_link_insert(s, a, "iss", "sub", u, 1, err));

    /* Tenant b sees none of it. */
    struct store_token t;
    FAILS(ERR_NOT_FOUND, store_token_get(s, b, tok.id, &t, err));
    struct store_token *tv = NULL;
    size_t n = 99;
    OK(store_token_list(s, b, &tv, &n, err));
    assert_int_equal(n, 0);
    free(tv);
    struct store_resource r;
    FAILS(ERR_NOT_FOUND, store_resource_get(s, b, STORE_RTYPE_USER, u, &r, err));
    FAILS(ERR_NOT_FOUND, store_resource_get(s, b, STORE_RTYPE_GROUP, g, &r, err));
    struct store_list_query q = {
        .tenant_id = b, .type = STORE_RTYPE_USER, .start_index = 1, .count = 10
    };
    EMPTY_PAGE(s, q, 0);
    q.type = STORE_RTYPE_GROUP;
    EMPTY_PAGE(s, q, 0);
    struct store_member *mv = NULL;
    OK(store_member_list(s, b, g, &mv, &n, err));
    assert_int_equal(n, 0);
    store_members_free(mv, n);
    mv = NULL;
    OK(store_member_groups(s, b, u, &mv, &n, err));
    assert_int_equal(n, 0);
    store_members_free(mv, n);
    struct store_membership *ms = NULL;
    const char *ids[] = { u };
    OK(store_member_groups_many(s, b, ids, 1, &ms, &n, err));
    assert_int_equal(n, 0);
    store_memberships_free(ms, n);
    int64_t cnt = -1;
    OK(store_member_count(s, b, g, &cnt, err));
    assert_int_equal(cnt, 0);
    size_t first = 9;
    OK(store_users_exist(s, b, ids, 1, &first, err));
    assert_int_equal(first, 0);
    struct store_user_role ur;
    FAILS(ERR_NOT_FOUND, store_user_role_get(s, b, u, &ur, err));
    struct store_role_rule *rv = NULL;
    OK(store_role_map_get(s, b, &rv, &n, err));
    assert_int_equal(n, 0);
    free(rv);
    struct store_event *ev = NULL;
    OK(store_event_list(s, b, 0, 10, &ev, &n, err));
    assert_int_equal(n, 0);
    store_events_free(ev, n);
    struct store_event_query eq = { .tenant_id = b, .kind = "", .resource_id = "", .limit = 10 };
    ev = NULL;
    OK(store_event_query(s, &eq, &ev, &n, err));
    assert_int_equal(n, 0);
    store_events_free(ev, n);
    int64_t seq = -1;
    OK(store_event_last_seq(s, b, &seq, err));
    assert_int_equal(seq, 0);
    OK(store_event_count_after(s, b, 0, &cnt, err));
    assert_int_equal(cnt, 0);
    struct store_webhook wh;
    FAILS(ERR_NOT_FOUND, store_webhook_get(s, b, w, &wh, err));
    struct store_webhook *wv = NULL;
    OK(store_webhook_list(s, b, &wv, &n, err));
    assert_int_equal(n, 0);
    free(wv);
    struct store_webhook_attempt *av = NULL;
    OK(store_webhook_attempts(s, b, w, 10, &av, &n, err));
    assert_int_equal(n, 0);
    free(av);
    struct store_sso_conn sc;
    FAILS(ERR_NOT_FOUND, store_sso_conn_get(s, b, "oidc", &sc, err));
    char user[37], subject[256];
    FAILS(ERR_NOT_FOUND, store_sso_link_find(s, b, "iss", "sub", user, err));
    FAILS(ERR_NOT_FOUND, store_sso_link_of_user(s, b, "iss", u, subject, err));
    struct store_sso_link links[2];
    OK(store_sso_links_of_user(s, b, u, links, 2, &n, err));
    assert_int_equal(n, 0);
    struct store_resource found[2];
    OK(store_sso_users_by_email(s, b, "a@x", found, 2, &n, err));
    assert_int_equal(n, 0);
    OK(store_sso_users_by_email(s, b, "alice", found, 2, &n, err));
    assert_int_equal(n, 0);

    /* Writes through tenant b change nothing of a's. */
    begin(s);
    RETURNS(0, store_member_remove(s, b, g, u, err));
    REMOVES("", store_member_remove_group, s, b, g);
    REMOVES("", store_member_remove_member, s, b, u);
    RETURNS(0, store_sso_links_delete(s, b, u, err));
    OK(store_user_role_delete(s, b, u, err));
    OK(store_role_map_set(s, b, NULL, 0, err));
    commit(s);
    TX_FAILS(s, ERR_NOT_FOUND, store_resource_delete(s, b, STORE_RTYPE_USER, u, -1, err));
    TX_FAILS(s, ERR_NOT_FOUND, store_webhook_delete(s, b, w, err));
    TX_FAILS(s, ERR_NOT_FOUND, store_sso_conn_delete(s, b, "oidc", err));
    OK(store_member_count(s, a, g, &cnt, err));
    assert_int_equal(cnt, 1);
    expect_role(s, a, u, "admin", "admin", "direct");
    OK(store_role_map_get(s, a, &rv, &n, err));
    assert_int_equal(n, 1);
    free(rv);
    OK(store_sso_link_find(s, a, "iss", "sub", user, err));
    OK(store_resource_get(s, a, STORE_RTYPE_USER, u, &r, err));
    store_resource_cleanup(&r);
    OK(store_webhook_get(s, a, w, &wh, err));
    OK(store_sso_conn_get(s, a, "oidc", &sc, err));
    store_sso_conn_cleanup(&sc);
    /* Refreshing b's roles moves none of a's and writes no event. */
    TX_OK(s, store_roles_refresh(s, b, NULL, "x", "cli", 9, err));
    expect_role(s, a, u, "admin", "admin", "direct");
    OK(store_event_count_after(s, a, 0, &cnt, err));
    assert_int_equal(cnt, 1);
}

/* The generation (store_generation): the same while nothing commits, another after any
 * commit; the token's read tells the one it saw. PostgreSQL's is the whole server's, where
 * other tests may commit meanwhile (ctest -j): a comparison that needs quiet is retried until
 * the generation read before and after it is the same. */
#define QUIET_TRIES 200

/* Reads the generation around read (the token's lookup); true when nothing committed from
 * before to after, *seen then the lookup's. */
static bool
quiet_lookup(struct store *s, struct store_user_read *ur, struct store_generation *before,
             struct store_generation *seen)
{
    struct store_generation after;
    struct store_token tok;
    struct store_tenant ten;
    assert_int_equal(store_generation(s, before), 0);
    OK(store_token_auth_lookup(s, "h1", &tok, &ten, ur, seen, err));
    store_user_read_cleanup(ur);
    assert_int_equal(store_generation(s, &after), 0);
    return memcmp(before->bytes, after.bytes, sizeof(after.bytes)) == 0;
}

static void
generation(void **state)
{
    struct store *s = S(state);
    int64_t a = mk_tenant(s, "a");
    struct store_token t1 = token_row(a, 1, "h1", 100);
    TX_OK(s, store_token_insert(s, &t1, err));
    struct store_generation g1, g2, seen;
    struct store_user_read ur = { .id = uid('u', 1) };
    for (int with_user = 0; with_user < 2; with_user++) {
        int tries = 0;
        while (!quiet_lookup(s, with_user ? &ur : NULL, &g1, &seen))
            assert_true(++tries < QUIET_TRIES);
        assert_true(g1.known && seen.known);
        assert_memory_equal(g1.bytes, seen.bytes, sizeof(g1.bytes));
    }
    /* A commit, even one of a single timestamp, is another generation. */
    assert_int_equal(store_generation(s, &g1), 0);
    OK(store_token_touch(s, t1.id, 200, err));
    assert_int_equal(store_generation(s, &g2), 0);
    assert_memory_not_equal(g1.bytes, g2.bytes, sizeof(g1.bytes));
    mk_user(s, a, uid('u', 1), "alice", NULL);
    assert_int_equal(store_generation(s, &g1), 0);
    assert_memory_not_equal(g1.bytes, g2.bytes, sizeof(g1.bytes));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(basics),
        T(tenants),
        T(tokens),
        T(generation),
        T(resources),
        T(listing),
        T(counts_concurrent),
        T(listing_after_seq),
        T(server_keys),
        T(set_keys),
        T(members),
        T(member_bumps),
        T(events),
        T(event_query),
        T(role_map),
        T(roles),
        T(webhooks),
        T(webhook_delivery),
        T(webhook_stats),
        T(webhook_sets),
        T(sso_connections),
        T(sso_conn_tenants_by_issuer_finds_enabled_exact_matches),
        T(sso_single_use),
        T(sso_links),
        T(sso_users_by_email),
        T(sso_users_by_email_lists_active_users_first),
        T(console_sessions),
        T(setup_links),
        T(tenant_isolation),
        T(backup),
        T(event_prune),
        T(reseal),
#undef T
    };
    const char *name = pg_base() ? "store conformance (postgres)" : "store conformance (sqlite)";
    return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}
