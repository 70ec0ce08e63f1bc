#include "store/sqlite/sqlite.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "store/sqlite/sqlite_int.h"

/* Lock waits beyond this become ERR_UNAVAILABLE (503): a client retries sooner than a
 * stuck request would time out. */

/* Set after an I/O error or a damaged page: the thread's connection is reopened before its
 * next use (outside a transaction), so the daemon recovers by itself once the fault is gone. */
static _Thread_local bool reopen_conn;

bool
sqlite_storage_failed(void)
{
    return reopen_conn;
}

/* Monotonic ms of the latest storage fault of any connection (a full disk, an I/O error):
 * /healthz fails for STORAGE_FAULT_HOLD_MS after it. Its own one-page write probe may still fit
 * where a request's write no longer does (a full disk with room left in the WAL), so the probe
 * alone said "healthy" for seconds while every write failed. */
static _Atomic int64_t storage_fault_ms = INT64_MIN / 2;
#define STORAGE_FAULT_HOLD_MS 5000

int
sqlite_fail(sqlite3 *db, int rc, const char *what, struct err *err)
{
    int ext = db ? sqlite3_extended_errcode(db) : rc;
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return err_set(err, ERR_UNIQUENESS, NULL);
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) /* as on PostgreSQL (postgres.c pg_fail) */
        return err_set(err, ERR_NOT_FOUND, "%s", STORE_GONE_MEANWHILE);
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        return err_set(err, ERR_UNAVAILABLE, "database is busy, retry later");
    /* Storage faults are the operator's, not the client's: 503 (retry elsewhere or later),
     * and /healthz fails while they last (sq_ping), as on PostgreSQL. */
    switch (ext & 0xff) {
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        log_error("sqlite: %s failed: %s (%d); answering 503 until storage recovers", what,
                  db ? sqlite3_errmsg(db) : "?", ext);
        atomic_store_explicit(&storage_fault_ms, clock_mono_ns() / 1000000, memory_order_relaxed);
        if ((ext & 0xff) != SQLITE_FULL && (ext & 0xff) != SQLITE_READONLY)
            reopen_conn = true;
        return err_set(err, ERR_UNAVAILABLE, "%s",
                       (ext & 0xff) == SQLITE_FULL ? "the database disk is full"
                       : (ext & 0xff) == SQLITE_READONLY
                           ? "the database is read-only"
                           : "the database cannot be read or written");
    default:
        break;
    }
    log_error("sqlite: %s failed: %s (%d)", what, db ? sqlite3_errmsg(db) : "?", ext);
    return err_set(err, ERR_INTERNAL, NULL);
}

sqlite3_stmt *
sqlite_cached_stmt(struct conn *c, const char *sql, size_t len, struct err *err)
{
    struct cached_stmt *victim = &c->cache[0];
    c->clock++;
    for (int i = 0; i < STMT_CACHE_SLOTS; i++) {
        struct cached_stmt *e = &c->cache[i];
        if (e->sql && e->len == len && memcmp(e->sql, sql, len) == 0) {
            e->last_used = c->clock;
            sqlite3_reset(e->st);
            sqlite3_clear_bindings(e->st);
            return e->st;
        }
        if (e->sql == NULL || e->last_used < victim->last_used)
            victim = e;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite_fail(c->db, rc, "prepare generated statement", err);
        return NULL;
    }
    sqlite3_finalize(victim->st);
    free(victim->sql);
    *victim = (struct cached_stmt){
        xstrndup(sql, len), len, st, c->clock, { { &sqlite_db_backend }, st, c->db, 0 }
    };
    return st;
}

sqlite3_stmt *
sqlite_prepared(struct store *s, struct conn **c, const char *sql, size_t len, struct err *err)
{
    *c = sqlite_conn((struct sqlite_store *)s, err);
    return *c ? sqlite_cached_stmt(*c, sql, len, err) : NULL;
}

void
sqlite_stmt_cache_clear(struct conn *c)
{
    for (int i = 0; i < STMT_CACHE_SLOTS; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
        c->cache[i] = (struct cached_stmt){ 0 };
    }
}

void
sqlite_conn_close(struct conn *c)
{
    sqlite_stmt_cache_clear(c);
    sqlite_fixed_clear(c);
    sqlite3_close(c->db);
    free(c);
}

/* SQLite counts every allocation of every connection under one process-wide mutex, for
 * statistics scimd never reads (sqlite3_memory_used); with a connection per worker thread that
 * mutex was the most contended lock of a read. Off before SQLite initialises itself. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void
sqlite_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct conn *
sqlite_conn_open(const char *path, struct err *err)
{
    pthread_once(&sqlite_once, sqlite_configure);
    struct conn *c = xcalloc(1, sizeof(*c));
    /* Never SQLITE_OPEN_CREATE: sq_open creates the file (0600) before the first connection;
     * a later connection finding no file must fail, not start an empty database at the path
     * (a file moved away mid-run). */
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        /* The path is the operator's to read (the log), never a client's (the 503 detail). */
        log_error("sqlite: cannot open database %s: %s", path,
                  c->db ? sqlite3_errmsg(c->db) : "out of memory");
        err_set(err, ERR_UNAVAILABLE, "the database cannot be read or written");
        sqlite_conn_close(c);
        return NULL;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, SQLITE_BUSY_TIMEOUT_MS);
    /* WAL lets readers run beside the writer; synchronous=NORMAL is durable across process
     * crashes in WAL mode (a power loss may drop the last commits): see docs/storage.md.
     * The 64 MiB page cache holds the hot part of a 100 000-user tenant. The WAL is
     * checkpointed every 1 000 pages and truncated back to 64 MiB after each checkpoint that
     * resets it (journal_size_limit): without the limit it kept its largest size (200 MB
     * beside a 121 MB database after 100 000 users). */
    rc = sqlite3_exec(c->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                      " PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
                      " PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=1000;"
                      " PRAGMA journal_size_limit=67108864;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite_fail(c->db, rc, "configure connection", err);
        sqlite_conn_close(c);
        return NULL;
    }
    return c;
}

static void
unregister(struct sqlite_store *s, struct conn *c)
{
    pthread_mutex_lock(&s->mu);
    for (struct conn **p = &s->conns; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

/* The path must still name the database file opened at start. A link count alone (fstat of
 * the held file) misses a file moved away, which keeps its link under another name: workers
 * then wrote into it, or opened a new file at the path beside the old one's WAL and reset that
 * WAL, losing acknowledged commits. One stat of the path (about 0.3 µs) per unit of work. */
int
sqlite_file_check(struct sqlite_store *s, struct err *err)
{
    struct stat sb;
    if (!s->watch_file)
        return 0;
    bool same = stat(s->path, &sb) == 0 && sb.st_dev == s->watch_dev && sb.st_ino == s->watch_ino;
    /* Said once when the file goes, once when it is back (not once per refused request). */
    if (atomic_exchange(&s->file_missing, !same) == same) {
        if (same)
            log_info("sqlite: the database file %s is back; serving again", s->path);
        else
            log_error("sqlite: the database file %s was removed, moved or replaced; refusing"
                      " every request until it is restored or scimd restarts",
                      s->path);
    }
    if (same)
        return 0;
    return err_set(err, ERR_UNAVAILABLE, "the database file is missing");
}

struct conn *
sqlite_conn(struct sqlite_store *s, struct err *err)
{
    struct conn *c = sqlite_group_conn(s);
    if (c)
        return c;
    c = pthread_getspecific(s->key);
    /* Checked when a unit of work begins (BEGIN runs outside a transaction) and for every
     * statement outside one, not again for each statement inside it. */
    if ((c == NULL || sqlite3_get_autocommit(c->db)) && sqlite_file_check(s, err) < 0)
        return NULL;
    if (c && reopen_conn && sqlite3_get_autocommit(c->db)) {
        unregister(s, c);
        sqlite_conn_close(c);
        pthread_setspecific(s->key, NULL);
        c = NULL;
    }
    reopen_conn = false;
    if (c)
        return c;
    c = sqlite_conn_open(s->path, err);
    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&s->mu);
    c->next = s->conns;
    s->conns = c;
    pthread_mutex_unlock(&s->mu);
    pthread_setspecific(s->key, c);
    return c;
}

static struct sqlite_store *
self(struct store *s)
{
    return (struct sqlite_store *)s;
}

/* The WAL index (https://www.sqlite.org/walformat.html §2): SQLite's unix VFS shares it
 * between every connection of every process through the -shm file, in regions of 32 KiB; its
 * header opens region 0. c has read the database, so the region is mapped; c stays open so
 * that it stays mapped (SQLite unmaps it when the last connection of the process closes). */
#define WAL_INDEX_REGION_BYTES 32768

static void
map_wal_index(struct sqlite_store *s, struct conn *c)
{
    sqlite3_file *f = NULL;
    void volatile *region = NULL;
    if (sqlite3_file_control(c->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK ||
        f == NULL || f->pMethods == NULL || f->pMethods->iVersion < 2 ||
        f->pMethods->xShmMap == NULL ||
        f->pMethods->xShmMap(f, 0, WAL_INDEX_REGION_BYTES, 0, &region) != SQLITE_OK ||
        region == NULL) {
        log_info("sqlite: the WAL index is not mapped; answers are not cached");
        sqlite_conn_close(c);
        return;
    }
    s->index_conn = c;
    s->wal_index = (const volatile unsigned char *)region;
}

/* The WAL-index header is 48 bytes that every commit changes (its change counter, last
 * frame and checksum), written twice: the second copy first, then the first. Reading the
 * first copy, then the second, and finding them equal means no commit was being published
 * meanwhile (walformat.html §2.1; SQLite's own readers do the same). */
#define WAL_INDEX_HEADER_BYTES 48
#define WAL_INDEX_IS_INIT      12 /* byte offset of isInit: 1 once the header is valid */

static int
sq_generation(struct store *st, struct store_generation *g)
{
    _Static_assert(sizeof(g->bytes) == WAL_INDEX_HEADER_BYTES, "one header copy");
    struct sqlite_store *s = self(st);
    if (s->wal_index == NULL)
        return -1;
    /* The file check's stat costs a tenth of serving a kept answer: here at most every
     * 100 ms (every write and every read of the database still checks). */
    int64_t now = clock_mono_ns() / 1000000;
    if (now - atomic_load_explicit(&s->file_checked_ms, memory_order_relaxed) >= 100) {
        struct err ignored;
        if (sqlite_file_check(s, &ignored) < 0)
            return -1;
        atomic_store_explicit(&s->file_checked_ms, now, memory_order_relaxed);
    }
    unsigned char second[WAL_INDEX_HEADER_BYTES];
    memcpy(g->bytes, (const void *)s->wal_index, WAL_INDEX_HEADER_BYTES);
    atomic_thread_fence(memory_order_acquire);
    memcpy(second, (const void *)(s->wal_index + WAL_INDEX_HEADER_BYTES), WAL_INDEX_HEADER_BYTES);
    g->known = g->bytes[WAL_INDEX_IS_INIT] == 1 && memcmp(g->bytes, second, sizeof(second)) == 0;
    return g->known ? 0 : -1;
}

static int
sq_open(const char *path, struct store **out, struct err *err)
{
    if (sqlite3_threadsafe() == 0)
        return err_set(err, ERR_INTERNAL, "SQLite was built without thread support");
    struct sqlite_store *s = xcalloc(1, sizeof(*s));
    s->watch_fd = -1;
    s->path = xstrdup(path);
    pthread_mutex_init(&s->mu, NULL);
    sqlite_group_init(s);
    /* No key destructor: connections are closed by thread_done or close, under our lock. */
    pthread_key_create(&s->key, NULL);
    /* A new database is created here, 0600, before SQLite would create it with the umask's
     * mode: it holds every identity and token hash. Its WAL and shared-memory files take the
     * database file's mode (SQLite does so). An existing file keeps the mode it has. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    struct conn *c = sqlite_conn_open(path, err);
    if (c == NULL || sqlite_migrate(c->db, err) < 0) {
        if (c)
            sqlite_conn_close(c);
        pthread_key_delete(s->key);
        pthread_mutex_destroy(&s->mu);
        sqlite_group_destroy(s);
        free(s->path);
        free(s);
        return -1;
    }
    map_wal_index(s, c);
    struct stat sb;
    s->watch_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->watch_fd >= 0 && fstat(s->watch_fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        s->watch_file = true;
        s->watch_dev = sb.st_dev;
        s->watch_ino = sb.st_ino;
    }
    *out = &s->base;
    return 0;
}

static void
sq_close(struct store *st)
{
    struct sqlite_store *s = self(st);
    pthread_mutex_lock(&s->mu);
    struct conn *c = s->conns;
    s->conns = NULL;
    pthread_mutex_unlock(&s->mu);
    while (c) {
        struct conn *next = c->next;
        sqlite_conn_close(c);
        c = next;
    }
    if (s->index_conn)
        sqlite_conn_close(s->index_conn);
    pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->mu);
    sqlite_group_destroy(s);
    if (s->watch_fd >= 0)
        close(s->watch_fd);
    free(s->path);
    free(s);
}

static void
sq_thread_done(struct store *st)
{
    struct sqlite_store *s = self(st);
    struct conn *c = pthread_getspecific(s->key);
    if (c == NULL)
        return;
    unregister(s, c);
    pthread_setspecific(s->key, NULL);
    sqlite_conn_close(c);
}

/* Runs a statement without parameters or rows (BEGIN, COMMIT), prepared once per
 * connection: they run on every request. */
int
sqlite_conn_exec(struct conn *c, const char *sql, struct err *err)
{
    sqlite3_stmt *s = sqlite_cached_stmt(c, sql, strlen(sql), err);
    if (s == NULL)
        return -1;
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : sqlite_fail(c->db, rc, sql, err);
}

static int
exec_simple(struct store *st, const char *sql, struct err *err)
{
    struct conn *c = sqlite_conn(self(st), err);
    return c ? sqlite_conn_exec(c, sql, err) : -1;
}

static uint64_t
sq_reprepares(struct store *st)
{
    (void)st;
    return sqlite_reprepares();
}

static int
sq_ping(struct store *st, struct err *err)
{
    struct conn *c = sqlite_conn(self(st), err);
    if (c == NULL)
        return -1;
    /* A read of the database file (a statement without a table would not touch it). */
    static const char probe[] = "SELECT n FROM resource_counts WHERE tenant_id=0 AND type=0";
    sqlite3_stmt *st2 = sqlite_cached_stmt(c, probe, sizeof(probe) - 1, err);
    if (st2 == NULL)
        return -1;
    int rc = sqlite3_step(st2);
    sqlite3_reset(st2);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_fail(c->db, rc, "ping", err);
    /* The health check must fail while writes would (a full disk, a read-only file), not only
     * reads: rewriting the header's user_version with its own value commits one page. At
     * most once a second after a success: /healthz needs no credentials, so a client polling
     * it must not turn into write load (a failed probe is retried at the next call). */
    int64_t now = clock_mono_ns() / 1000000;
    if (now - atomic_load_explicit(&storage_fault_ms, memory_order_relaxed) < STORAGE_FAULT_HOLD_MS)
        return err_set(err, ERR_UNAVAILABLE, "a write failed for storage moments ago");
    struct sqlite_store *ss = self(st);
    if (now - atomic_load_explicit(&ss->probe_ok_ms, memory_order_relaxed) < 1000)
        return 0;
    sqlite3_stmt *get = sqlite_cached_stmt(c, "PRAGMA user_version", 19, err);
    if (get == NULL)
        return -1;
    rc = sqlite3_step(get);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(get, 0) : 0;
    sqlite3_reset(get);
    if (rc != SQLITE_ROW)
        return sqlite_fail(c->db, rc, "ping", err);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", (long long)v);
    /* Through the writer queue, as every write: under a steady write load SQLite's busy
     * handler alone might not find the lock free. */
    if (sqlite_group_begin(ss, err) < 0)
        return -1;
    struct conn *w = sqlite_group_conn(ss);
    rc = sqlite3_exec(w->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite_fail(w->db, rc, "write probe", err);
        sqlite_group_rollback(ss);
        return -1;
    }
    if (sqlite_group_commit(ss, err) < 0) {
        sqlite_group_rollback(ss);
        return -1;
    }
    atomic_store_explicit(&ss->probe_ok_ms, now, memory_order_relaxed);
    return 0;
}

/* DEFERRED takes no lock until the first read, then holds that one snapshot to the end. */
static int
sq_read_begin(struct store *st, struct err *err)
{
    return exec_simple(st, "BEGIN", err);
}

static void
sq_read_end(struct store *st)
{
    struct conn *c = pthread_getspecific(self(st)->key);
    struct err ignored;
    if (c && !sqlite3_get_autocommit(c->db) && exec_simple(st, "COMMIT", &ignored) < 0)
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
sq_tx_begin(struct store *st, struct err *err)
{
    return sqlite_group_begin(self(st), err);
}

static int
sq_tx_commit(struct store *st, struct err *err)
{
    return sqlite_group_commit(self(st), err);
}

static void
sq_tx_rollback(struct store *st)
{
    sqlite_group_rollback(self(st));
}

/* ---- helpers for binding and reading columns ---- */

void
sqlite_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* ---- resources ---- */

const struct store_backend sqlite_backend = {
    .name = "sqlite",
    .db = &sqlite_db_backend,
    .open = sq_open,
    .close = sq_close,
    .thread_done = sq_thread_done,
    .ping = sq_ping,
    .generation = sq_generation,
    .reprepares = sq_reprepares,
    .read_begin = sq_read_begin,
    .read_end = sq_read_end,
    .tx_begin = sq_tx_begin,
    .tx_commit = sq_tx_commit,
    .tx_rollback = sq_tx_rollback,
    .backup = sqlite_backup,
};
