#ifndef SCIMD_STORE_STORE_INT_H
#define SCIMD_STORE_STORE_INT_H

#include "store/store.h"

struct sqlgen_cursors;
struct db_backend;

/* A database backend: its connections and transactions, and the statement primitives
 * (db.h) every operation in src/store/<resource>.c is written with. */
struct store_backend {
    const char *name;
    const struct db_backend *db;
    int (*open)(const char *dsn, struct store **out, struct err *err);
    void (*close)(struct store *s);
    void (*thread_done)(struct store *s);
    int (*ping)(struct store *s, struct err *err);
    /* store_generation read without a statement (SQLite's WAL index); NULL: the backend
     * tells it in a statement's column, STORE_GENERATION_PG (PostgreSQL). */
    int (*generation)(struct store *s, struct store_generation *g);
    /* Statements compiled again at an execution since start; NULL where there is no such
     * thing to count (PostgreSQL). */
    uint64_t (*reprepares)(struct store *s);
    int (*read_begin)(struct store *s, struct err *err);
    void (*read_end)(struct store *s);
    int (*tx_begin)(struct store *s, struct err *err);
    int (*tx_commit)(struct store *s, struct err *err);
    void (*tx_rollback)(struct store *s);
    int (*backup)(struct store *s, const char *path, struct store_backup_report *out,
                  struct err *err);
};

/* The column a statement reads the generation in (store_generation): PostgreSQL's snapshot
 * as text, SQL NULL on SQLite (whose backend reads it before the statement instead). */
#define STORE_GENERATION_SQLITE "NULL"
#define STORE_GENERATION_PG     "pg_current_snapshot()::text"

/* A write's foreign key found its tenant (or the resource it names) deleted by another
 * transaction since the request read it: ERR_NOT_FOUND with this detail, on both backends. */
#define STORE_GONE_MEANWHILE "the tenant or a resource this request names was deleted meanwhile"

/* Fills g from a generation column's text (hashed: a snapshot lists the transactions in
 * progress, without bound). */
void store_generation_of_text(const char *text, struct store_generation *g);

/* Every backend's handle starts with this header. */
struct store {
    const struct store_backend *be;
    const struct db_backend *db;
    struct sqlgen_cursors *cursors; /* remembered page positions of listings (list.c) */
};

#endif
