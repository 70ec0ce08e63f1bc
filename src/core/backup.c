#include "core/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
is_postgres_uri(const char *s)
{
    return strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0;
}

static int
fail_errno(const char *what, const char *path, struct err *err)
{
    char why[128];
    if (strerror_r(errno, why, sizeof(why)) != 0)
        why[0] = '\0';
    return err_set(err, ERR_UNAVAILABLE, "cannot %s %.300s: %s", what, path, why);
}

/* Makes the rename durable: the new directory entry is on disk once the directory is synced. */
static int
sync_dir_of(const char *path, struct err *err)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        fail_errno("sync the directory", dir, err);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* The checks a SQLite backup makes before it starts, so nothing is copied in vain. */
static int
check_paths(const char *dsn, const char *path, const char *tmp, bool force, struct err *err)
{
    /* store_open would create a missing file: an empty backup is never what was meant. */
    struct stat db, dst;
    if (stat(dsn, &db) < 0 || !S_ISREG(db.st_mode))
        return err_set(err, ERR_NOT_FOUND, "no SQLite database at %.400s", dsn);
    if (stat(path, &dst) == 0) {
        if (dst.st_dev == db.st_dev && dst.st_ino == db.st_ino)
            return err_set(err, ERR_CONFLICT, "%.400s is the database itself", path);
        if (!force)
            return err_set(err, ERR_CONFLICT, "%.400s exists; --force replaces it", path);
    }
    if (!force && access(tmp, F_OK) == 0)
        return err_set(err, ERR_CONFLICT,
                       "%.400s exists: a backup is running or was interrupted; remove it, or "
                       "--force replaces it",
                       tmp);
    if (force && unlink(tmp) < 0 && errno != ENOENT)
        return fail_errno("remove", tmp, err);
    return 0;
}

int
backup_database(const char *dsn, const char *path, bool force, struct store_backup_report *out,
                struct err *err)
{
    *out = (struct store_backup_report){ 0 };
    bool pg = is_postgres_uri(dsn);
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return err_set(err, ERR_INVALID_VALUE, "the backup file's name is too long");
    /* PostgreSQL's store says why not (pg_dump) before any file is looked at. */
    if (!pg && check_paths(dsn, path, tmp, force, err) < 0)
        return -1;
    struct store *s = NULL;
    if (store_open(dsn, &s, err) < 0)
        return -1;
    int rc = store_backup(s, tmp, out, err);
    store_close(s);
    if (rc < 0)
        return -1;
    if (rename(tmp, path) < 0) {
        fail_errno("rename the copy to", path, err);
        unlink(tmp);
        return -1;
    }
    return sync_dir_of(path, err);
}
