#ifndef SCIMD_STORE_POSTGRES_POSTGRES_INT_H
#define SCIMD_STORE_POSTGRES_POSTGRES_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"
#include "store/sqlgen.h"
#include "store/store_int.h"

/* Generated statements (filters, sorts) kept prepared per connection, by exact SQL text. */
#define PG_CACHE_SLOTS 32

struct pg_cached {
    char *sql; /* owned; NULL = empty slot */
    unsigned name;
    uint64_t last_used;
};

/* A statement as the store's operations see it (db.h): parameters are sent as text, and the
 * whole result is read on the first step. */
struct pg_handle {
    struct db_stmt base;
    struct pg_conn *c;
    bool fixed;    /* a db_sql statement, prepared as `name`; else generated (cached by text) */
    bool prepared; /* on this session (a reconnect forgets it) */
    char name[16];
    char *sql; /* owned, with $N placeholders */
    const char **v;
    char (*num)[32]; /* numbers formatted for v */
    int n, cap;
    PGresult *res;
    int row, rows;
    int64_t changes;
};

#define PG_GENERATED_HANDLES 4

/* One worker thread's connection. After a lost connection it is reset (and its statements
 * prepared again) on the next call outside a transaction. */
struct pg_conn {
    PGconn *db;
    struct pg_cached cache[PG_CACHE_SLOTS];
    unsigned next_name;
    uint64_t clock;
    bool in_tx;
    bool tx_broken;   /* the connection was lost inside the transaction */
    bool analyze_due; /* the transaction made statistics due: ask the analyzer on commit */
    struct pg_handle *fixed[DB_MAX_STATEMENTS];        /* db_sql statements by slot */
    struct pg_handle *generated[PG_GENERATED_HANDLES]; /* reused in turn */
    unsigned next_generated;
    struct pg_conn *next; /* registry, under pg_store.mu */
};

struct pg_store {
    struct store base;
    char *dsn; /* owned */
    pthread_key_t key;
    pthread_mutex_t mu; /* guards conns and the analyzer's fields */
    struct pg_conn *conns;
    /* The analyzer: a thread with its own connection, started on the first request for
     * fresh statistics, so that no worker thread (and none of its clients) waits on ANALYZE. */
    pthread_t analyzer;
    pthread_cond_t analyze_cond;
    bool analyzer_started;
    bool analyze_wanted;
    bool stopping;
};

/* The calling thread's connection, opened on first use; NULL with err on failure. */
struct pg_conn *pg_conn(struct pg_store *s, struct err *err);

/* Runs SQL ($n parameters) with values, prepared once per connection and cached by text;
 * returns the result (PQclear it) or NULL with err. A connection lost outside a transaction
 * is reset and the call retried once. */
PGresult *pg_run_sql(struct pg_conn *c, const char *sql, int n, const char *const *values,
                     const char *what, struct err *err);

int64_t pg_int(const PGresult *res, int row, int col);

/* Runs a handle's statement with its parameters (reconnecting as pg_run_sql does). */
PGresult *pg_run_handle(struct pg_handle *h, const char *what, struct err *err);
/* The primitives of db.h for PostgreSQL (stmt.c). */
extern const struct db_backend pg_db_backend;
void pg_handles_free(struct pg_conn *c);

/* Applies pending migrations under an advisory lock. */
int pg_migrate(PGconn *db, struct err *err);
/* Maps a failed result (or a lost connection when res is NULL) to an err: unique violation →
 * ERR_UNIQUENESS, connection and lock problems → ERR_UNAVAILABLE, else ERR_INTERNAL (logged).
 * Returns -1. */
int pg_fail(PGconn *db, const PGresult *res, const char *what, struct err *err);

/* The PostgreSQL dialect of the filter compiler. */
extern const struct sqlgen_dialect pg_dialect;

#endif
