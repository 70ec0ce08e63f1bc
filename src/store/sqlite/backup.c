/* `scimd backup` on SQLite: the online backup API (sqlite.org/backup.html) copies the database
 * page by page into a new file while the daemon, another process, keeps writing. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/limits.h"
#include "store/sqlite/sqlite_int.h"

/* How long a locked source or destination is waited for, in steps of BUSY_PAUSE_MS. */
#define BUSY_PAUSE_MS   50
#define BUSY_PAUSES_MAX 200

static int
fail_errno(const char *what, const char *path, struct err *err)
{
    char why[128];
    if (strerror_r(errno, why, sizeof(why)) != 0)
        why[0] = '\0';
    return err_set(err, errno == EEXIST ? ERR_CONFLICT : ERR_UNAVAILABLE, "cannot %s %.300s: %s",
                   what, path, why);
}

/* Copies src into dst in steps, counting restarts. A step that ends with fewer pages done than
 * the step before started again from page 1: another connection wrote to the source. */
static int
copy_steps(sqlite3 *dst, sqlite3 *src, struct store_backup_report *out, struct err *err)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL)
        return sqlite_fail(dst, sqlite3_errcode(dst), "backup init", err);
    int rc = SQLITE_OK, done_before = -1, pauses = 0;
    while (rc != SQLITE_DONE) {
        /* After LIMIT_BACKUP_RESTARTS the rest is one step: one read snapshot, which in WAL
         * mode writers do not wait for, so the copy ends however busy the daemon is. */
        int pages = out->single_pass ? -1 : LIMIT_BACKUP_STEP_PAGES;
        rc = sqlite3_backup_step(b, pages);
        if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
            if (++pauses > BUSY_PAUSES_MAX)
                break;
            sqlite3_sleep(BUSY_PAUSE_MS);
            continue;
        }
        if (rc != SQLITE_OK && rc != SQLITE_DONE)
            break;
        int done = sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b);
        if (rc == SQLITE_OK && done <= done_before && ++out->restarts >= LIMIT_BACKUP_RESTARTS)
            out->single_pass = true;
        done_before = done;
    }
    out->pages = sqlite3_backup_pagecount(b);
    int frc = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        return sqlite_fail(dst, frc != SQLITE_OK ? frc : rc, "backup step", err);
    return 0;
}

/* PRAGMA integrity_check answers one row "ok", or the problems found. */
static int
check_copy(sqlite3 *dst, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sqlite_fail(dst, rc, "integrity check", err);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return sqlite_fail(dst, rc, "integrity check", err);
    }
    const char *v = (const char *)sqlite3_column_text(st, 0);
    int ok = v != NULL && strcmp(v, "ok") == 0;
    if (!ok)
        err_set(err, ERR_INTERNAL, "the copy failed PRAGMA integrity_check: %.200s",
                v ? v : "(no answer)");
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

/* The copy's bytes on disk before it is renamed into place (a crash after the rename must not
 * leave a name pointing at pages still in the page cache). */
static int
sync_file(const char *path, struct store_backup_report *out, struct err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || fsync(fd) < 0) {
        fail_errno("sync", path, err);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    out->bytes = (int64_t)sb.st_size;
    return close(fd) < 0 ? fail_errno("close", path, err) : 0;
}

int
sqlite_backup(struct store *s, const char *path, struct store_backup_report *out, struct err *err)
{
    struct conn *src = sqlite_conn((struct sqlite_store *)s, err);
    if (src == NULL)
        return -1;
    if (!sqlite3_get_autocommit(src->db))
        return err_set(err, ERR_INTERNAL, "backup inside a transaction");
    /* Created here, 0600 and exclusive, so the copy of every identity is never readable by
     * others, not even for the moment before SQLite would create it with the umask's mode. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail_errno("create", path, err);
    close(fd);
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        err_set(err, ERR_UNAVAILABLE, "cannot open %.300s: %s", path,
                dst ? sqlite3_errmsg(dst) : "out of memory");
    } else {
        sqlite3_extended_result_codes(dst, 1);
        rc = copy_steps(dst, src->db, out, err) == 0 && check_copy(dst, err) == 0 ? SQLITE_OK
                                                                                  : SQLITE_ERROR;
    }
    /* Closing checkpoints and removes a -wal the check may have opened (the copy keeps the
     * source's WAL flag in its header). */
    if (sqlite3_close(dst) != SQLITE_OK && rc == SQLITE_OK)
        rc = err_set(err, ERR_UNAVAILABLE, "cannot close the copy %.300s", path);
    if (rc == SQLITE_OK && sync_file(path, out, err) == 0)
        return 0;
    unlink(path);
    return -1;
}
