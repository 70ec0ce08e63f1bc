/* Keys the server holds in its database, shared by every instance on it: the key signing
 * SCIM paging cursors when no sso_key is configured (scim/cursor.h), and the keys signing
 * Security Event Tokens (core/set.h). */
#include <stdlib.h>

#include "store/db.h"
#include "store/store_int.h"

static void
read_key(struct db_stmt *st, void *row)
{
    db_copy(st, 0, row, 65);
}

int
store_server_key_get(struct store *s, const char *name, const char *candidate, char out[65],
                     struct err *err)
{
    /* Two instances starting at once both insert: the first wins, the second reads its key. */
    static struct db_sql put =
        DB_SQL("INSERT INTO server_keys(name, secret) VALUES(?1, ?2) ON CONFLICT(name) DO NOTHING");
    static struct db_sql get = DB_SQL("SELECT secret FROM server_keys WHERE name=?1");
    struct db_stmt *st = db_prepare(s, &put, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, name);
    db_bind_text(st, 2, candidate);
    if (db_exec(st, err) < 0)
        return -1;
    if ((st = db_prepare(s, &get, err)) == NULL)
        return -1;
    db_bind_text(st, 1, name);
    int rc = db_first(st, read_key, out, err);
    if (rc == 0)
        return err_set(err, ERR_INTERNAL, "server key %s vanished", name);
    return rc < 0 ? -1 : 0;
}

void
store_set_keys_free(struct store_set_key *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].jwk);
    free(v);
}

int
store_set_key_add(struct store *s, const struct store_set_key *k, struct err *err)
{
    static struct db_sql q = DB_SQL("INSERT INTO set_keys(gen, kid, jwk, created_ms)"
                                    " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(gen) DO NOTHING");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, k->gen);
    db_bind_text(st, 2, k->kid);
    db_bind_text(st, 3, k->jwk);
    db_bind_int(st, 4, k->created_ms);
    int64_t n = db_exec(st, err);
    return n < 0 ? -1 : n > 0;
}

static void
read_set_key(struct db_stmt *st, void *row)
{
    struct store_set_key *k = row;
    k->gen = db_int(st, 0);
    db_copy(st, 1, k->kid, sizeof(k->kid));
    k->jwk = db_dup(st, 2);
    k->created_ms = db_int(st, 3);
}

static void
drop_set_key(void *row)
{
    free(((struct store_set_key *)row)->jwk);
}

int
store_set_keys_list(struct store *s, size_t limit, struct store_set_key **out, size_t *n,
                    struct err *err)
{
    static struct db_sql q =
        DB_SQL("SELECT gen, kid, jwk, created_ms FROM set_keys ORDER BY gen DESC LIMIT ?1");
    *out = NULL;
    *n = 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, (int64_t)limit);
    return db_collect(st, sizeof(**out), limit, read_set_key, drop_set_key, (void **)out, n, err);
}

int
store_set_key_reseal(struct store *s, int64_t gen, const char *old, const char *jwk,
                     struct err *err)
{
    static struct db_sql q = DB_SQL("UPDATE set_keys SET jwk = ?3 WHERE gen = ?1 AND jwk = ?2");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, gen);
    db_bind_text(st, 2, old);
    db_bind_text(st, 3, jwk);
    int64_t n = db_exec(st, err);
    return n < 0 ? -1 : n > 0;
}
