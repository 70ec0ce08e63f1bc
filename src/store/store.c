#include "store/store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/limits.h"
#include "store/db.h"
#include "store/postgres/postgres.h"
#include "store/sqlgen.h"
#include "store/sqlite/sqlite.h"
#include "store/store_int.h"

void
store_resource_cleanup(struct store_resource *r)
{
    if (r == NULL)
        return;
    free(r->user_name);
    free(r->external_id);
    free(r->display_name);
    free(r->doc);
    free(r->password_hash);
    r->user_name = r->external_id = r->display_name = r->doc = r->password_hash = NULL;
}

void
store_list_result_cleanup(struct store_list_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        store_resource_cleanup(&r->rows[i]);
    free(r->rows);
    r->rows = NULL;
    r->n = 0;
}

void
store_members_free(struct store_member *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].display);
    free(v);
}

void
store_memberships_free(struct store_membership *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].display);
    free(v);
}

static bool
is_postgres(const char *dsn)
{
    return strncmp(dsn, "postgres://", 11) == 0 || strncmp(dsn, "postgresql://", 13) == 0;
}

/* Appends up to n bytes of s to out[o..], keeping room for the NUL; returns the new length. */
static size_t
put(char *out, size_t size, size_t o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i] && o + 1 < size; i++)
        out[o++] = s[i];
    return o;
}

void
store_dsn_redact(const char *dsn, char *out, size_t size)
{
    if (size == 0)
        return;
    bool pg = is_postgres(dsn);
    const char *p = dsn;
    size_t o = 0;
    if (pg) {
        /* postgres://user:password@host/…: the password is between the first ':' and '@'. */
        const char *auth = strstr(dsn, "://") + 3;
        size_t auth_len = strcspn(auth, "/?");
        const char *at = memchr(auth, '@', auth_len);
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            o = put(out, size, o, dsn, (size_t)(colon + 1 - dsn));
            o = put(out, size, o, "***", 3);
            p = at;
        }
    }
    while (*p && o + 1 < size) {
        if (pg && p > dsn && (p[-1] == '?' || p[-1] == '&') && strncmp(p, "password=", 9) == 0) {
            o = put(out, size, o, "password=***", 12);
            p += 9 + strcspn(p + 9, "&");
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

int
store_open(const char *dsn, struct store **out, struct err *err)
{
    const struct store_backend *be = is_postgres(dsn) ? &postgres_backend : &sqlite_backend;
    if (be->open(dsn, out, err) < 0)
        return -1;
    (*out)->be = be;
    (*out)->db = be->db;
    (*out)->cursors = sqlgen_cursors_new(LIMIT_PAGE_CURSORS);
    return 0;
}

void
store_close(struct store *s)
{
    if (s == NULL)
        return;
    sqlgen_cursors_free(s->cursors);
    s->be->close(s);
}

void
store_thread_done(struct store *s)
{
    s->be->thread_done(s);
}

const char *
store_backend_name(const struct store *s)
{
    return s->be->name;
}

/* Connections and transactions are the backend's: one line each. */
int
store_ping(struct store *s, struct err *err)
{
    return s->be->ping(s, err);
}

void
store_generation_of_text(const char *text, struct store_generation *g)
{
    memset(g->bytes, 0, sizeof(g->bytes));
    crypto_sha256(text, strlen(text), g->bytes);
    g->known = true;
}

static void
read_generation(struct db_stmt *st, void *row)
{
    if (!db_is_null(st, 0))
        store_generation_of_text(db_text(st, 0), row);
}

bool
store_generation_is_local(const struct store *s)
{
    return s->be->generation != NULL;
}

int
store_generation(struct store *s, struct store_generation *g)
{
    g->known = false;
    if (s->be->generation)
        return s->be->generation(s, g);
    static struct db_sql q =
        DB_SQL2("SELECT " STORE_GENERATION_SQLITE, "SELECT " STORE_GENERATION_PG);
    struct err ignored;
    struct db_stmt *st = db_prepare(s, &q, &ignored);
    if (st == NULL || db_first(st, read_generation, g, &ignored) < 0)
        return -1;
    return g->known ? 0 : -1;
}

uint64_t
store_reprepares(struct store *s)
{
    return s->be->reprepares ? s->be->reprepares(s) : 0;
}

int
store_read_begin(struct store *s, struct err *err)
{
    return s->be->read_begin(s, err);
}

void
store_read_end(struct store *s)
{
    s->be->read_end(s);
}

int
store_tx_begin(struct store *s, struct err *err)
{
    return s->be->tx_begin(s, err);
}

int
store_tx_commit(struct store *s, struct err *err)
{
    return s->be->tx_commit(s, err);
}

void
store_tx_rollback(struct store *s)
{
    s->be->tx_rollback(s);
}

int
store_backup(struct store *s, const char *path, struct store_backup_report *out, struct err *err)
{
    *out = (struct store_backup_report){ 0 };
    return s->be->backup(s, path, out, err);
}
