/* Single sign-on (issue 7): connections, sign-ins in progress, the replay cache, links of IdP
 * subjects to users and sign-in codes; tables from migration 5. Several instances may share
 * these rows (PostgreSQL), so every single-use take is one DELETE … RETURNING (two requests
 * with one handle or code cannot both get the row), and the replay cache and links rely on
 * their unique keys. Inserts that may meet a row of another instance say ON CONFLICT DO
 * NOTHING and report ERR_UNIQUENESS themselves, so a caller's transaction stays usable after
 * the refusal (PostgreSQL aborts a transaction on a failed statement). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/db.h"
#include "store/rows.h"
#include "store/store_int.h"

/* Purges a table's rows that expired by now (?1). On PostgreSQL rows another instance is
 * purging or taking are skipped, not waited for: two purges of one table never block or
 * deadlock each other (SQLite has one writer at a time anyway). */
#define PURGE(table, key, cols)                                                   \
    DB_SQL2("DELETE FROM " table " WHERE expires_ms <= ?1",                       \
            "DELETE FROM " table " WHERE " key " IN (SELECT " cols " FROM " table \
            " WHERE expires_ms <= ?1 FOR UPDATE SKIP LOCKED)")

static int
purge(struct store *s, struct db_sql *q, int64_t now_ms, struct err *err)
{
    struct db_stmt *st = db_prepare(s, q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, now_ms);
    return db_exec(st, err) < 0 ? -1 : 0;
}

/* An insert with ON CONFLICT DO NOTHING: ERR_UNIQUENESS when it found the row there. */
static int
insert_new(struct db_stmt *st, struct err *err)
{
    int64_t n = db_exec(st, err);
    if (n < 0)
        return -1;
    return n == 1 ? 0 : err_set(err, ERR_UNIQUENESS, NULL);
}

/* A write run for its effect only. */
static int
run(struct db_stmt *st, struct err *err)
{
    return db_exec(st, err) < 0 ? -1 : 0;
}

/* ---- connections ---- */

static void
read_conn(struct db_stmt *st, void *row)
{
    struct store_sso_conn *c = row;
    *c = (struct store_sso_conn){ 0 };
    c->tenant_id = db_int(st, 0);
    db_copy(st, 1, c->protocol, sizeof(c->protocol));
    c->config = db_dup(st, 2);
    c->secret = db_dup(st, 3);
    c->enabled = db_int(st, 4) != 0;
    c->verified_ms = db_int(st, 5);
    c->created_ms = db_int(st, 6);
    c->updated_ms = db_int(st, 7);
}

void
store_sso_conn_cleanup(struct store_sso_conn *c)
{
    if (c == NULL)
        return;
    free(c->config);
    free(c->secret);
    c->config = c->secret = NULL;
}

int
store_sso_conn_put(struct store *s, const struct store_sso_conn *c, struct err *err)
{
    static struct db_sql q =
        DB_SQL("INSERT INTO sso_connections(" SSO_CONN_COLS ") VALUES(?1,?2,?3,?4,?5,0,?6,?6)"
               " ON CONFLICT(tenant_id, protocol) DO UPDATE SET config=excluded.config,"
               " secret=excluded.secret, enabled=excluded.enabled,"
               " updated_ms=excluded.updated_ms,"
               " verified_ms=CASE WHEN ?7 = 1 THEN 0 ELSE sso_connections.verified_ms END");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, c->tenant_id);
    db_bind_text(st, 2, c->protocol);
    db_bind_text(st, 3, c->config);
    db_bind_text(st, 4, c->secret);
    db_bind_int(st, 5, c->enabled ? 1 : 0);
    db_bind_int(st, 6, c->updated_ms);
    db_bind_int(st, 7, c->reset_verified ? 1 : 0);
    return run(st, err);
}

int
store_sso_conn_get(struct store *s, int64_t tenant_id, const char *protocol,
                   struct store_sso_conn *out, struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " SSO_CONN_COLS " FROM sso_connections"
                                    " WHERE tenant_id=? AND protocol=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, protocol);
    int rc = db_first(st, read_conn, out, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "the tenant has no %s connection", protocol);
}

int
store_sso_conn_delete(struct store *s, int64_t tenant_id, const char *protocol, struct err *err)
{
    static struct db_sql q = DB_SQL("DELETE FROM sso_connections WHERE tenant_id=? AND protocol=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, protocol);
    int64_t n = db_exec(st, err);
    if (n < 0)
        return -1;
    return n ? 0 : err_set(err, ERR_NOT_FOUND, "the tenant has no %s connection", protocol);
}

int
store_sso_conn_reseal(struct store *s, int64_t tenant_id, const char *protocol, const char *old,
                      const char *secret, struct err *err)
{
    static struct db_sql q = DB_SQL("UPDATE sso_connections SET secret=?1"
                                    " WHERE tenant_id=?2 AND protocol=?3 AND secret=?4");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, secret);
    db_bind_int(st, 2, tenant_id);
    db_bind_text(st, 3, protocol);
    db_bind_text(st, 4, old);
    int64_t n = db_exec(st, err);
    return n < 0 ? -1 : n > 0;
}

int
store_sso_conn_verified(struct store *s, int64_t tenant_id, const char *protocol, int64_t now_ms,
                        struct err *err)
{
    static struct db_sql q = DB_SQL("UPDATE sso_connections SET verified_ms=?3"
                                    " WHERE tenant_id=?1 AND protocol=?2 AND verified_ms=0");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, protocol);
    db_bind_int(st, 3, now_ms);
    return run(st, err);
}

/* ---- sign-ins in progress ---- */

#define SSO_TX_COLS "handle, tenant_id, protocol, binding, data, expires_ms"

static void
read_tx(struct db_stmt *st, void *row)
{
    struct store_sso_tx *t = row;
    *t = (struct store_sso_tx){ 0 };
    db_copy(st, 0, t->handle, sizeof(t->handle));
    t->tenant_id = db_int(st, 1);
    db_copy(st, 2, t->protocol, sizeof(t->protocol));
    db_copy(st, 3, t->binding, sizeof(t->binding));
    t->data = db_dup(st, 4);
    t->expires_ms = db_int(st, 5);
}

int
store_sso_tx_insert(struct store *s, const struct store_sso_tx *t, struct err *err)
{
    static struct db_sql q =
        DB_SQL("INSERT INTO sso_transactions(" SSO_TX_COLS ") VALUES(?,?,?,?,?,?)");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, t->handle);
    db_bind_int(st, 2, t->tenant_id);
    db_bind_text(st, 3, t->protocol);
    db_bind_text(st, 4, t->binding);
    db_bind_text(st, 5, t->data);
    db_bind_int(st, 6, t->expires_ms);
    return run(st, err);
}

/* Runs a take (DELETE … RETURNING of the row whose key is ?1) after purging expired rows:
 * 0 with the row read, ERR_NOT_FOUND with `missing` when there was none. */
static int
take(struct store *s, struct db_sql *purge_q, struct db_sql *take_q, const char *key,
     int64_t now_ms, void (*read)(struct db_stmt *st, void *row), void *out, const char *missing,
     struct err *err)
{
    if (purge(s, purge_q, now_ms, err) < 0)
        return -1;
    struct db_stmt *st = db_prepare(s, take_q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, key);
    int rc = db_first(st, read, out, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "%s", missing);
}

int
store_sso_tx_take(struct store *s, const char *handle, int64_t now_ms, struct store_sso_tx *out,
                  struct err *err)
{
    static struct db_sql purge_q = PURGE("sso_transactions", "handle", "handle");
    /* DELETE … RETURNING: two requests with one handle cannot both get the row. */
    static struct db_sql q =
        DB_SQL("DELETE FROM sso_transactions WHERE handle=? RETURNING " SSO_TX_COLS);
    return take(s, &purge_q, &q, handle, now_ms, read_tx, out, "no such sign-in transaction", err);
}

/* ---- the replay cache ---- */

int
store_sso_replay_insert(struct store *s, int64_t tenant_id, const char *issuer, const char *id,
                        int64_t expires_ms, int64_t now_ms, struct err *err)
{
    static struct db_sql purge_q =
        PURGE("sso_replay", "(issuer, assertion_id)", "issuer, assertion_id");
    /* An instance inserting the same assertion at the same moment makes this one wait for its
     * commit, then find the row: one of them is accepted. */
    static struct db_sql q =
        DB_SQL("INSERT INTO sso_replay(issuer, assertion_id, tenant_id, expires_ms)"
               " VALUES(?,?,?,?) ON CONFLICT DO NOTHING");
    if (purge(s, &purge_q, now_ms, err) < 0)
        return -1;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, issuer);
    db_bind_text(st, 2, id);
    db_bind_int(st, 3, tenant_id);
    db_bind_int(st, 4, expires_ms);
    return insert_new(st, err);
}

/* ---- links of IdP subjects to users ---- */

#define SSO_LINK_COLS "issuer, subject, user_id, created_ms"

static void
read_link(struct db_stmt *st, void *row)
{
    struct store_sso_link *l = row;
    *l = (struct store_sso_link){ 0 };
    db_copy(st, 0, l->issuer, sizeof(l->issuer));
    db_copy(st, 1, l->subject, sizeof(l->subject));
    db_copy(st, 2, l->user_id, sizeof(l->user_id));
    l->created_ms = db_int(st, 3);
}

/* The link of the tenant and issuer whose column (subject or user_id, as q says) is ?3:
 * 0 with it in *out, ERR_NOT_FOUND with `missing` when there is none. */
static int
link_one(struct store *s, struct db_sql *q, int64_t tenant_id, const char *issuer, const char *key,
         struct store_sso_link *out, const char *missing, struct err *err)
{
    struct db_stmt *st = db_prepare(s, q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, issuer);
    db_bind_text(st, 3, key);
    int rc = db_first(st, read_link, out, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "%s", missing);
}

int
store_sso_link_find(struct store *s, int64_t tenant_id, const char *issuer, const char *subject,
                    char user_id[37], struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " SSO_LINK_COLS " FROM sso_links"
                                    " WHERE tenant_id=? AND issuer=? AND subject=?");
    struct store_sso_link l;
    if (link_one(s, &q, tenant_id, issuer, subject, &l, "no linked user", err) < 0)
        return -1;
    str_copy(user_id, 37, l.user_id);
    return 0;
}

int
store_sso_link_of_user(struct store *s, int64_t tenant_id, const char *issuer, const char *user_id,
                       char subject[256], struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " SSO_LINK_COLS " FROM sso_links"
                                    " WHERE tenant_id=? AND issuer=? AND user_id=?");
    struct store_sso_link l;
    if (link_one(s, &q, tenant_id, issuer, user_id, &l, "user not linked", err) < 0)
        return -1;
    str_copy(subject, 256, l.subject);
    return 0;
}

int
store_sso_link_insert(struct store *s, int64_t tenant_id, const char *issuer, const char *subject,
                      const char *user_id, int64_t now_ms, struct err *err)
{
    /* Both unique keys (the subject's and the user's link) count as a conflict. */
    static struct db_sql q = DB_SQL("INSERT INTO sso_links(tenant_id, " SSO_LINK_COLS ")"
                                    " VALUES(?,?,?,?,?) ON CONFLICT DO NOTHING");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, issuer);
    db_bind_text(st, 3, subject);
    db_bind_text(st, 4, user_id);
    db_bind_int(st, 5, now_ms);
    return insert_new(st, err);
}

/* Reads at most max rows of st into the caller's array out (*n how many). */
static int
fill(struct db_stmt *st, void *out, size_t size, size_t max,
     void (*read)(struct db_stmt *st, void *row), void (*drop)(void *row), size_t *n,
     struct err *err)
{
    void *rows;
    if (db_collect(st, size, max, read, drop, &rows, n, err) < 0)
        return -1;
    if (*n)
        memcpy(out, rows, *n * size);
    free(rows);
    return 0;
}

static void
read_tenant_id(struct db_stmt *st, void *row)
{
    *(int64_t *)row = db_int(st, 0);
}

int
store_sso_conn_tenants_by_issuer(struct store *s, const char *protocol, const char *issuer,
                                 int64_t *tenant_ids, size_t max, size_t *n, struct err *err)
{
    /* config is JSON text in both databases; only the member access differs. A scan of the
     * enabled connections of one protocol: one row per tenant, read at an IdP-initiated
     * sign-in only. Once a connection with the issuer has signed someone in (verified: its
     * tenant holds a client of that IdP org), unverified ones no longer count: any tenant's
     * admin may save a connection naming any public issuer, and one that never worked must
     * not make the issuer ambiguous for the tenant that really uses it. */
#define BY_ISSUER(issuer_of)                                                                  \
    "SELECT tenant_id FROM sso_connections c WHERE protocol=?1 AND enabled=1 AND " issuer_of( \
        "c") "=?2 AND (verified_ms > 0 OR NOT EXISTS (SELECT 1 FROM sso_connections v"        \
             " WHERE v.protocol=?1 AND v.enabled=1 AND v.verified_ms > 0 AND " issuer_of(     \
                 "v") "=?2)) ORDER BY tenant_id LIMIT ?3"
#define ISSUER_SQLITE(t) "json_extract(" t ".config, '$.issuer')"
#define ISSUER_PG(t)     "(" t ".config::jsonb ->> 'issuer') COLLATE \"C\""
    static struct db_sql q = DB_SQL2(BY_ISSUER(ISSUER_SQLITE), BY_ISSUER(ISSUER_PG));
    *n = 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, protocol);
    db_bind_text(st, 2, issuer);
    db_bind_int(st, 3, (int64_t)max);
    return fill(st, tenant_ids, sizeof(*tenant_ids), max, read_tenant_id, NULL, n, err);
}

int
store_sso_links_of_user(struct store *s, int64_t tenant_id, const char *user_id,
                        struct store_sso_link *out, size_t max, size_t *n, struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " SSO_LINK_COLS " FROM sso_links"
                                    " WHERE tenant_id=?1 AND user_id=?2"
                                    " ORDER BY created_ms, issuer LIMIT ?3");
    *n = 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, user_id);
    db_bind_int(st, 3, (int64_t)max);
    return fill(st, out, sizeof(*out), max, read_link, NULL, n, err);
}

int
store_sso_links_delete(struct store *s, int64_t tenant_id, const char *user_id, struct err *err)
{
    static struct db_sql q = DB_SQL("DELETE FROM sso_links WHERE tenant_id=? AND user_id=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, user_id);
    int64_t n = db_exec(st, err);
    return n < 0 ? -1 : (int)n;
}

/* ---- sign-in codes ---- */

#define SSO_CODE_COLS "hash, tenant_id, user_id, protocol, initiated, expires_ms"

static void
read_code(struct db_stmt *st, void *row)
{
    struct store_sso_code *c = row;
    *c = (struct store_sso_code){ 0 };
    db_copy(st, 0, c->hash, sizeof(c->hash));
    c->tenant_id = db_int(st, 1);
    db_copy(st, 2, c->user_id, sizeof(c->user_id));
    db_copy(st, 3, c->protocol, sizeof(c->protocol));
    db_copy(st, 4, c->initiated, sizeof(c->initiated));
    c->expires_ms = db_int(st, 5);
}

int
store_sso_code_insert(struct store *s, const struct store_sso_code *c, struct err *err)
{
    static struct db_sql q = DB_SQL("INSERT INTO sso_codes(" SSO_CODE_COLS ") VALUES(?,?,?,?,?,?)");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, c->hash);
    db_bind_int(st, 2, c->tenant_id);
    db_bind_text(st, 3, c->user_id);
    db_bind_text(st, 4, c->protocol);
    db_bind_text(st, 5, c->initiated);
    db_bind_int(st, 6, c->expires_ms);
    return run(st, err);
}

int
store_sso_code_take(struct store *s, const char *hash, int64_t now_ms, struct store_sso_code *out,
                    struct err *err)
{
    static struct db_sql purge_q = PURGE("sso_codes", "hash", "hash");
    static struct db_sql q = DB_SQL("DELETE FROM sso_codes WHERE hash=? RETURNING " SSO_CODE_COLS);
    return take(s, &purge_q, &q, hash, now_ms, read_code, out,
                "unknown, used or expired sign-in code", err);
}

/* ---- users by email ---- */

static void
read_user(struct db_stmt *st, void *row)
{
    rows_read_resource(st, 0, row);
}

static void
drop_user(void *row)
{
    store_resource_cleanup(row);
}

int
store_sso_users_by_email(struct store *s, int64_t tenant_id, const char *email,
                         struct store_resource *out, size_t max, size_t *n, struct err *err)
{
    /* Known cost (docs/sso.md): the emails[] half scans the tenant's users; an email index
     * table would make it a lookup. userName is indexed (lower(user_name)). On PostgreSQL,
     * lower() of COLLATE "C" text folds ASCII only, as SQLite's does. Active users come
     * first: a sign-in reads two rows and must see whether a second *active* user holds the
     * email, however many deactivated ones share it. */
    static struct db_sql q = DB_SQL2(
        "SELECT " RESOURCE_COLS_OF(
            "r.",
            "doc") " FROM resources r WHERE r.tenant_id=?1 AND r.type=1 AND"
                   " (lower(r.user_name)=?2 OR EXISTS (SELECT 1 FROM json_each(r.doc, '$.emails') e"
                   " WHERE lower(json_extract(e.value, '$.value'))=?2))"
                   " ORDER BY r.active DESC, r.seq LIMIT ?3",
        "SELECT " RESOURCE_COLS_OF(
            "r.",
            "doc_text") " FROM resources r WHERE r.tenant_id=?1 AND r.type=1 AND"
                        " (lower(r.user_name)=?2::text OR EXISTS (SELECT 1 FROM jsonb_array_elements("
                        "CASE jsonb_typeof(r.doc -> 'emails') WHEN 'array' THEN r.doc -> 'emails' END) AS e(value)"
                        " WHERE lower((e.value ->> 'value') COLLATE \"C\") = ?2::text))"
                        " ORDER BY r.active DESC, r.seq LIMIT ?3");
    *n = 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, email);
    db_bind_int(st, 3, (int64_t)max);
    return fill(st, out, sizeof(*out), max, read_user, drop_user, n, err);
}
