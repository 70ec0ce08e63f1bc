#ifndef SCIMD_STORE_DB_H
#define SCIMD_STORE_DB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/sqlgen.h"

/* The few primitives a database backend gives the store (issue 21): the calling thread's
 * connection, prepare, bind, step, read a column, rows changed. Every store operation is
 * written once above them, in src/store/<resource>.c, with one SQL text for both databases.
 *
 * SQL texts use SQLite's placeholders, `?` (the next parameter) or `?N` (parameter N, which
 * may appear several times); PostgreSQL's backend rewrites them to `$N` when it prepares.
 * Where the databases really differ (RETURNING into a counter, SKIP LOCKED, jsonb) a
 * statement carries PostgreSQL's text beside the common one. */

struct store;

enum db_kind {
    DB_SQLITE,
    DB_POSTGRES,
};

/* A fixed statement: declared `static struct db_sql x = DB_SQL("…");` beside the operation
 * that runs it. `slot` numbers it once per process, so each connection finds its prepared
 * copy by index, not by comparing texts. */
struct db_sql {
    const char *text; /* both databases */
    const char *pg;   /* PostgreSQL's text when it differs, or NULL */
    _Atomic int slot; /* 0 until first used */
};

#define DB_SQL(t)   \
    {               \
        .text = (t) \
    }
#define DB_SQL2(t, pg_text)          \
    {                                \
        .text = (t), .pg = (pg_text) \
    }

/* The most fixed statements a process may declare (each connection keeps one table of them). */
#define DB_MAX_STATEMENTS 256
/* The most parameters of a fixed statement. Generated SQL (filters) may have more. */
#define DB_MAX_PARAMS 24

/* A statement on the calling thread's connection. Each backend's handle starts with this. */
struct db_stmt {
    const struct db_backend *be;
};

struct db_backend {
    enum db_kind kind;
    const struct sqlgen_dialect *dialect;
    /* The fixed statement q (text already chosen for this database) prepared on the calling
     * thread's connection, reset with no bindings. NULL with err. */
    struct db_stmt *(*prepare)(struct store *s, int slot, const char *text, struct err *err);
    /* The same for generated SQL, cached per connection by its text. */
    struct db_stmt *(*prepare_text)(struct store *s, const char *text, size_t len, struct err *err);
    /* Parameters are numbered from 1. Text is borrowed until the statement has run. */
    void (*bind_int)(struct db_stmt *st, int i, int64_t v);
    void (*bind_real)(struct db_stmt *st, int i, double v);
    void (*bind_text)(struct db_stmt *st, int i, const char *v); /* NULL binds NULL */
    /* 1: a row is ready; 0: done; -1: failed (err set). At 0 or -1 the statement is reset. */
    int (*step)(struct db_stmt *st, struct err *err);
    /* Ends a statement before its last row (releases its snapshot and result). */
    void (*reset)(struct db_stmt *st);
    int64_t (*col_int)(struct db_stmt *st, int i);
    /* Column i (from 0) as text, or NULL for SQL NULL; valid until the next step or reset. */
    const char *(*col_text)(struct db_stmt *st, int i, size_t *len);
    /* Rows changed by the last completed write. */
    int64_t (*changes)(struct db_stmt *st);
    /* Refreshes the planner's statistics of the resources table before the calling thread's
     * next transaction begins; NULL where the database needs no such help (SQLite). */
    void (*analyze_soon)(struct store *s);
};

/* The backend of a store (store_int.h keeps it with the store's handle). */
const struct db_backend *db_backend(struct store *s);
enum db_kind db_kind(struct store *s);
const struct sqlgen_dialect *db_dialect(struct store *s);
/* The backend's analyze_soon, if it has one. */
void db_analyze_soon(struct store *s);

/* The prepared statement q on the calling thread's connection; NULL with err. */
struct db_stmt *db_prepare(struct store *s, struct db_sql *q, struct err *err);
/* Generated SQL (a filter's listing), prepared once per connection and cached by text. */
struct db_stmt *db_prepare_text(struct store *s, const char *text, size_t len, struct err *err);

void db_bind_int(struct db_stmt *st, int i, int64_t v);
void db_bind_text(struct db_stmt *st, int i, const char *v);
/* Binds a generated statement's values b->v[0..n) from parameter `first` on. */
void db_bind_all(struct db_stmt *st, int first, const struct sql_binds *b, int n);

int db_step(struct db_stmt *st, struct err *err);
void db_reset(struct db_stmt *st);

int64_t db_int(struct db_stmt *st, int i);
/* Column i as text ("" for NULL). */
const char *db_text(struct db_stmt *st, int i);
bool db_is_null(struct db_stmt *st, int i);
/* Copies column i into dst ("" for NULL), truncating to size. */
void db_copy(struct db_stmt *st, int i, char *dst, size_t size);
/* Column i as a malloc'd string, or NULL for SQL NULL. */
char *db_dup(struct db_stmt *st, int i);

/* Runs a write to completion: the rows it changed, or -1 with err. */
int64_t db_exec(struct db_stmt *st, struct err *err);
/* Runs st and reads its first row with `read` into row: 1 when there was one, 0 when none,
 * -1 with err. The statement is reset either way. */
int db_first(struct db_stmt *st, void (*read)(struct db_stmt *st, void *row), void *row,
             struct err *err);
/* Reads at most `limit` rows of st with `read` into a malloc'd array of `size`-byte rows
 * (*out, *n; NULL and 0 when empty). On an error the rows read so far are released with
 * `drop` (NULL: rows own no memory) and freed. */
int db_collect(struct db_stmt *st, size_t size, size_t limit,
               void (*read)(struct db_stmt *st, void *row), void (*drop)(void *row), void **out,
               size_t *n, struct err *err);

#endif
