/* The web console's sessions and set-up links (issue 8); tables from migration 6. Both hold
 * only SHA-256 hashes of their secrets, so a copy of the database lets no one in. A set-up
 * link is used by one UPDATE … WHERE used_ms = 0: of two instances using one link at once,
 * the second waits for the first's row lock and then finds it used. */
#include <stdint.h>

#include "store/db.h"
#include "store/store_int.h"

/* ---- sessions ---- */

#define SESSION_COLS "id_hash, tenant_id, user_id, created_ms, last_seen_ms, idle_ms, expires_ms"

static void
read_session(struct db_stmt *st, void *row)
{
    struct store_console_session *cs = row;
    *cs = (struct store_console_session){ 0 };
    db_copy(st, 0, cs->id_hash, sizeof(cs->id_hash));
    cs->tenant_id = db_int(st, 1); /* NULL (an operator session) reads as 0 */
    db_copy(st, 2, cs->user_id, sizeof(cs->user_id));
    cs->created_ms = db_int(st, 3);
    cs->last_seen_ms = db_int(st, 4);
    cs->idle_ms = db_int(st, 5);
    cs->expires_ms = db_int(st, 6);
}

int
store_console_session_insert(struct store *s, const struct store_console_session *cs,
                             struct err *err)
{
    static struct db_sql q =
        DB_SQL("INSERT INTO console_sessions(" SESSION_COLS ") VALUES(?,?,?,?,?,?,?)");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, cs->id_hash);
    if (cs->tenant_id > 0)
        db_bind_int(st, 2, cs->tenant_id);
    else
        db_bind_text(st, 2, NULL); /* an operator session */
    db_bind_text(st, 3, cs->user_id);
    db_bind_int(st, 4, cs->created_ms);
    db_bind_int(st, 5, cs->last_seen_ms);
    db_bind_int(st, 6, cs->idle_ms);
    db_bind_int(st, 7, cs->expires_ms);
    return db_exec(st, err) < 0 ? -1 : 0;
}

int
store_console_session_get(struct store *s, const char *id_hash, struct store_console_session *out,
                          struct err *err)
{
    static struct db_sql q =
        DB_SQL("SELECT " SESSION_COLS " FROM console_sessions WHERE id_hash = ?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, id_hash);
    int rc = db_first(st, read_session, out, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "no such session");
}

/* Runs a write that binds (int ?1, text ?2) and wants nothing back. */
static int
write_int_text(struct store *s, struct db_sql *q, int64_t v, const char *text, struct err *err)
{
    struct db_stmt *st = db_prepare(s, q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, v);
    db_bind_text(st, 2, text);
    return db_exec(st, err) < 0 ? -1 : 0;
}

int
store_console_session_touch(struct store *s, const char *id_hash, int64_t now_ms, struct err *err)
{
    static struct db_sql q =
        DB_SQL("UPDATE console_sessions SET last_seen_ms = ? WHERE id_hash = ?");
    return write_int_text(s, &q, now_ms, id_hash, err);
}

int
store_console_session_delete(struct store *s, const char *id_hash, struct err *err)
{
    static struct db_sql q = DB_SQL("DELETE FROM console_sessions WHERE id_hash = ?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, id_hash);
    return db_exec(st, err) < 0 ? -1 : 0;
}

/* Runs a purge with its bound ?1. */
static int
purge(struct store *s, struct db_sql *q, int64_t bound_ms, struct err *err)
{
    struct db_stmt *st = db_prepare(s, q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, bound_ms);
    return db_exec(st, err) < 0 ? -1 : 0;
}

int
store_console_session_purge(struct store *s, int64_t now_ms, struct err *err)
{
    /* Every sign-in purges: on PostgreSQL rows another instance is purging at the same moment
     * are skipped, not waited for, so two purges never block or deadlock each other. */
    static struct db_sql sessions =
        DB_SQL2("DELETE FROM console_sessions WHERE expires_ms <= ?1"
                " OR last_seen_ms + idle_ms <= ?1",
                "DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash"
                " FROM console_sessions WHERE expires_ms <= ?1 OR last_seen_ms + idle_ms <= ?1"
                " FOR UPDATE SKIP LOCKED)");
    static struct db_sql links =
        DB_SQL2("DELETE FROM setup_links WHERE expires_ms <= ?1",
                "DELETE FROM setup_links WHERE hash IN (SELECT hash FROM setup_links"
                " WHERE expires_ms <= ?1 FOR UPDATE SKIP LOCKED)");
    if (purge(s, &sessions, now_ms, err) < 0)
        return -1;
    /* Expired links stay a day, so opening one late says "expired", not "unknown". */
    return purge(s, &links, now_ms - 86400 * 1000, err);
}

/* ---- set-up links ---- */

#define SETUP_LINK_COLS "hash, tenant_id, user_id, created_ms, expires_ms, used_ms"

static void
read_setup_link(struct db_stmt *st, void *row)
{
    struct store_setup_link *l = row;
    *l = (struct store_setup_link){ 0 };
    db_copy(st, 0, l->hash, sizeof(l->hash));
    l->tenant_id = db_int(st, 1);
    db_copy(st, 2, l->user_id, sizeof(l->user_id));
    l->created_ms = db_int(st, 3);
    l->expires_ms = db_int(st, 4);
    l->used_ms = db_int(st, 5);
}

int
store_setup_link_insert(struct store *s, const struct store_setup_link *l, struct err *err)
{
    static struct db_sql q =
        DB_SQL("INSERT INTO setup_links(" SETUP_LINK_COLS ") VALUES(?,?,?,?,?,?)");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, l->hash);
    db_bind_int(st, 2, l->tenant_id);
    db_bind_text(st, 3, l->user_id);
    db_bind_int(st, 4, l->created_ms);
    db_bind_int(st, 5, l->expires_ms);
    db_bind_int(st, 6, l->used_ms);
    return db_exec(st, err) < 0 ? -1 : 0;
}

int
store_setup_link_get(struct store *s, const char *hash, struct store_setup_link *out,
                     struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " SETUP_LINK_COLS " FROM setup_links WHERE hash = ?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, hash);
    int rc = db_first(st, read_setup_link, out, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "no such set-up link");
}

int
store_setup_link_use(struct store *s, const char *hash, int64_t now_ms, struct err *err)
{
    static struct db_sql q =
        DB_SQL("UPDATE setup_links SET used_ms = ? WHERE hash = ? AND used_ms = 0");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, now_ms);
    db_bind_text(st, 2, hash);
    int64_t n = db_exec(st, err);
    return n < 0 ? -1 : n == 1;
}
