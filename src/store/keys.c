/* Keys the server holds in its database, shared by every instance on it: the key signing
 * SCIM paging cursors when no sso_key is configured (scim/cursor.h). */
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
