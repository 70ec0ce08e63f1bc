#ifndef SCIMD_STORE_SQLITE_SQLITE_INT_H
#define SCIMD_STORE_SQLITE_SQLITE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include <sqlite3.h>

#include "base/buf.h"
#include "store/db.h"
#include "store/sqlgen.h"
#include "store/store_int.h"

/* Generated statements (filters, sorts) kept prepared per connection, by exact SQL text. */
#define STMT_CACHE_SLOTS 32

/* A statement as the store's operations see it (db.h). */
struct sq_stmt {
    struct db_stmt base;
    sqlite3_stmt *st;
    sqlite3 *db;
    int64_t changes; /* of the last completed step */
};

struct cached_stmt {
    char *sql; /* owned */
    size_t len;
    sqlite3_stmt *st;
    uint64_t last_used;
    struct sq_stmt h;
};

struct conn {
    sqlite3 *db;
    struct sq_stmt *fixed[DB_MAX_STATEMENTS]; /* db_sql statements by slot, prepared on use */
    struct cached_stmt cache[STMT_CACHE_SLOTS];
    uint64_t clock;    /* ticks on each cache use, for LRU */
    struct conn *next; /* registry, under sqlite_store.mu */
};

struct sqlite_store {
    struct store base;
    char *path; /* owned */
    pthread_key_t key;
    pthread_mutex_t mu; /* guards conns */
    struct conn *conns;
    /* The database file as opened at start: when the path no longer names it (removed, moved
     * away, or another file renamed over it) every request is refused rather than written
     * into a file the operator took away, or into a new one beside the old one's WAL. */
    bool watch_file;
    int watch_fd;    /* held open so that its inode number is not reused */
    dev_t watch_dev; /* its device and inode */
    ino_t watch_ino;
    atomic_bool file_missing;    /* the last check found the path naming another file or none */
    _Atomic int64_t probe_ok_ms; /* monotonic time of the last write probe that succeeded */
    /* store_generation: a connection kept open only so that the WAL index stays mapped, and
     * that mapping (region 0 of the -shm file, shared with every process using the
     * database); NULL when SQLite would not hand it over. */
    struct conn *index_conn;
    const volatile unsigned char *wal_index;
    _Atomic int64_t file_checked_ms; /* monotonic time store_generation last ran the check */

    /* Group commit (group.c): every write transaction runs on wconn, one member at a
     * time under write_mu, in SAVEPOINTs of one open transaction committed for all. */
    pthread_mutex_t write_mu;
    struct conn *wconn;       /* under write_mu */
    bool group_open;          /* wconn has an open transaction; under write_mu */
    bool wconn_suspect;       /* a storage error: reopen before the next group; under write_mu */
    pthread_mutex_t group_mu; /* guards waiters, members; with group_cv */
    pthread_cond_t group_cv;
    struct group_waiter *waiters; /* members released into the open group, waiting */
    int members;
    atomic_int writers_queued; /* threads waiting for write_mu */
    _Atomic uint64_t group_commits, grouped_tx;
};

#define SQLITE_BUSY_TIMEOUT_MS 5000

/* The calling thread's connection, opened on first use (the writer connection while the
 * thread is in a write transaction); NULL with err on failure. */
struct conn *sqlite_conn(struct sqlite_store *s, struct err *err);
struct conn *sqlite_conn_open(const char *path, struct err *err);
void sqlite_conn_close(struct conn *c);
/* Runs a statement without parameters or rows (BEGIN, SAVEPOINT …), cached on c. */
int sqlite_conn_exec(struct conn *c, const char *sql, struct err *err);
/* ERR_UNAVAILABLE when the database file was removed or replaced under the daemon. */
int sqlite_file_check(struct sqlite_store *s, struct err *err);

/* Group commit (group.c): store_tx_begin/commit/rollback for SQLite. commit returns once
 * the transaction is durable (committed with its group) or failed. */
void sqlite_group_init(struct sqlite_store *s);
void sqlite_group_destroy(struct sqlite_store *s);
int sqlite_group_begin(struct sqlite_store *s, struct err *err);
int sqlite_group_commit(struct sqlite_store *s, struct err *err);
void sqlite_group_rollback(struct sqlite_store *s);
/* The writer connection when the calling thread is in a write transaction, else NULL. */
struct conn *sqlite_group_conn(struct sqlite_store *s);
/* True after an I/O error or a damaged page on this thread, until its connection is
 * reopened: the writer connection is reopened too before its next group. */
bool sqlite_storage_failed(void);
/* Maps a failed SQLite call to an err (busy → ERR_UNAVAILABLE, unique → ERR_UNIQUENESS)
 * and logs the cause for ERR_INTERNAL. Returns -1. */
int sqlite_fail(sqlite3 *db, int rc, const char *what, struct err *err);

/* Binds text, or NULL for a NULL pointer (SQLITE_STATIC: the caller keeps s alive). */
void sqlite_bind_text(sqlite3_stmt *st, int i, const char *s);

/* The primitives of db.h for SQLite (stmt.c). */
extern const struct db_backend sqlite_db_backend;
/* Executions at which SQLite had to compile a prepared statement again (stmt.c). */
uint64_t sqlite_reprepares(void);
extern const struct sqlgen_dialect sqlite_dialect;
void sqlite_fixed_clear(struct conn *c);

/* store_backup (store.h) for SQLite (backup.c). */
int sqlite_backup(struct store *s, const char *path, struct store_backup_report *out,
                  struct err *err);

/* Applies pending migrations in order, each in its own transaction. */
int sqlite_migrate(sqlite3 *db, struct err *err);

/* A prepared statement for generated SQL from the connection's cache (reset, bindings
 * cleared), preparing and caching it on a miss. NULL with err on failure. Not to be
 * finalized by the caller. */
sqlite3_stmt *sqlite_cached_stmt(struct conn *c, const char *sql, size_t len, struct err *err);
void sqlite_stmt_cache_clear(struct conn *c);
/* The calling thread's connection in *c and its cached statement for sql (len bytes): what
 * the primitives' prepare_text starts with. NULL with err on failure. */
sqlite3_stmt *sqlite_prepared(struct store *s, struct conn **c, const char *sql, size_t len,
                              struct err *err);

#endif
