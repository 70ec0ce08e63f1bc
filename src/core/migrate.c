#include "core/migrate.h"

#include <string.h>
#include <sys/stat.h>

static bool
is_postgres_uri(const char *s)
{
    return strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0;
}

int
migrate_sqlite_to_postgres(const char *from_path, const char *to_dsn, struct store_copy_report *out,
                           struct err *err)
{
    *out = (struct store_copy_report){ 0 };
    if (is_postgres_uri(from_path))
        return err_set(err, ERR_INVALID_VALUE, "--from is a SQLite database file, not a URI");
    if (!is_postgres_uri(to_dsn))
        return err_set(err, ERR_INVALID_VALUE,
                       "--to is a PostgreSQL URI (postgresql://user@host/database)");
    /* store_open would create a missing file: an empty database is never what was meant. */
    struct stat st;
    if (stat(from_path, &st) < 0 || !S_ISREG(st.st_mode))
        return err_set(err, ERR_NOT_FOUND, "no SQLite database at %.400s", from_path);
    struct store *from = NULL, *to = NULL;
    int rc = -1;
    if (store_open(from_path, &from, err) == 0 && store_open(to_dsn, &to, err) == 0)
        rc = store_copy(from, to, out, err);
    store_close(to);
    store_close(from);
    return rc;
}
