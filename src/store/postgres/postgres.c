/* The PostgreSQL backend: one libpq connection per worker thread, statements prepared on
 * first use, every write inside the caller's transaction. Several scimd instances may share
 * the database: uniqueness is the database's (unique indexes), updates and deletes are
 * guarded by the version column, and a lost connection is reset and retried once before
 * the caller sees ERR_UNAVAILABLE (503). docs/postgres.md has the design. */
#include "store/postgres/postgres.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "store/postgres/postgres_int.h"

/* Lock waits beyond this become ERR_UNAVAILABLE (503), as SQLite's busy timeout does. */
#define LOCK_TIMEOUT "5s"
/* Seconds a connection attempt may take before the request gets ERR_UNAVAILABLE. */
#define CONNECT_TIMEOUT "5"
/* A network path to the server that is lost (a partition, a host gone): TCP keepalives find
 * it on an idle connection, and data unacknowledged this long (ms) drops a busy one, so the
 * request gets ERR_UNAVAILABLE instead of waiting for the kernel's retransmissions (about
 * 15 minutes). The DSN's own settings win over these. */
#define TCP_USER_TIMEOUT_MS "15000"
/* How long /healthz waits for the server's answer (ms): a server that accepts but no longer
 * answers (stuck, stopped) is then reported unhealthy, so a load balancer takes the
 * instance out, instead of the probe itself hanging. */
#define PING_TIMEOUT_MS 3000

/* ---- values ---- */

int64_t
pg_int(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* ---- errors and connections ---- */

static bool
sqlstate_is(const PGresult *res, const char *state)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s && strncmp(s, state, strlen(state)) == 0;
}

int
pg_fail(PGconn *db, const PGresult *res, const char *what, struct err *err)
{
    if (sqlstate_is(res, "23505"))
        return err_set(err, ERR_UNIQUENESS, NULL);
    /* A row that names a tenant (or a resource) another transaction deleted meanwhile (a
     * tenant deleted under its identity provider's writes): gone, as the next request says. */
    if (sqlstate_is(res, "23503"))
        return err_set(err, ERR_NOT_FOUND, "%s", STORE_GONE_MEANWHILE);
    /* Lost or refused connections (class 08, shutdown 57P0x), lock timeouts (55P03),
     * deadlocks and serialisation failures (class 40): a retry later may succeed. */
    if (db == NULL || PQstatus(db) != CONNECTION_OK || sqlstate_is(res, "08") ||
        sqlstate_is(res, "57P") || sqlstate_is(res, "55P03") || sqlstate_is(res, "40")) {
        log_warn("postgres: %s failed: %s", what,
                 res  ? PQresultErrorMessage(res)
                 : db ? PQerrorMessage(db)
                      : "no connection");
        return err_set(err, ERR_UNAVAILABLE, "database unavailable, retry later");
    }
    /* Data exceptions (class 22: bytes that are not UTF-8, a value out of range) come from
     * what the client sent; SQLite would store or compare such a value without complaint. */
    if (sqlstate_is(res, "22"))
        return err_set(err, ERR_INVALID_VALUE, "a value cannot be stored or compared");
    log_error("postgres: %s failed: %s", what,
              res ? PQresultErrorMessage(res) : PQerrorMessage(db));
    return err_set(err, ERR_INTERNAL, NULL);
}

static void
forget_statements(struct pg_conn *c)
{
    for (int i = 0; i < DB_MAX_STATEMENTS; i++)
        if (c->fixed[i])
            c->fixed[i]->prepared = false;
    for (int i = 0; i < PG_CACHE_SLOTS; i++) {
        free(c->cache[i].sql);
        c->cache[i] = (struct pg_cached){ 0 };
    }
}

static void
conn_close(struct pg_conn *c)
{
    forget_statements(c);
    pg_handles_free(c);
    PQfinish(c->db);
    free(c);
}

/* Session settings every connection needs; 0 or -1 with err. */
static int
configure(PGconn *db, struct err *err)
{
    PGresult *res = PQexec(db, "SET lock_timeout = '" LOCK_TIMEOUT "'");
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(db, res, "configure", err);
    PQclear(res);
    return rc;
}

/* libpq prints a server's notices (a migration's "already exists, skipping") to stderr
 * outside the log's format; they are the log's, at debug level. */
static void
log_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgres: %.*s", (int)strcspn(message, "\n"), message);
}

static PGconn *
connect_db(const char *dsn, struct err *err)
{
    /* A DSN without connect_timeout would let a worker wait forever on an unreachable host
     * (libpq's default); the DSN's own setting, later in the list, wins over this one. */
    const char *const keys[] = { "connect_timeout",  "keepalives",
                                 "keepalives_idle",  "keepalives_interval",
                                 "keepalives_count", "tcp_user_timeout",
                                 "dbname",           NULL };
    const char *const values[] = { CONNECT_TIMEOUT,     "1", "10", "5", "3",
                                   TCP_USER_TIMEOUT_MS, dsn, NULL };
    PGconn *db = PQconnectdbParams(keys, values, 1);
    if (db == NULL || PQstatus(db) != CONNECTION_OK) {
        /* PQerrorMessage names host and port, never the password. */
        log_warn("postgres: cannot connect: %s", db ? PQerrorMessage(db) : "out of memory");
        err_set(err, ERR_UNAVAILABLE, "database unavailable, retry later");
        PQfinish(db);
        return NULL;
    }
    PQsetNoticeProcessor(db, log_notice, NULL);
    if (configure(db, err) < 0) {
        PQfinish(db);
        return NULL;
    }
    return db;
}

/* Brings a lost connection back; its prepared statements are gone with the session. */
static int
reconnect(struct pg_conn *c, struct err *err)
{
    forget_statements(c);
    PQreset(c->db);
    if (PQstatus(c->db) != CONNECTION_OK) {
        log_warn("postgres: reconnect failed: %s", PQerrorMessage(c->db));
        return err_set(err, ERR_UNAVAILABLE, "database unavailable, retry later");
    }
    log_info("postgres: connection re-established");
    return configure(c->db, err);
}

struct pg_conn *
pg_conn(struct pg_store *s, struct err *err)
{
    struct pg_conn *c = pthread_getspecific(s->key);
    if (c)
        return c;
    PGconn *db = connect_db(s->dsn, err);
    if (db == NULL)
        return NULL;
    c = xcalloc(1, sizeof(*c));
    c->db = db;
    pthread_mutex_lock(&s->mu);
    c->next = s->conns;
    s->conns = c;
    pthread_mutex_unlock(&s->mu);
    pthread_setspecific(s->key, c);
    return c;
}

/* The cache slot holding sql, preparing it into the least recently used slot on a miss. */
static struct pg_cached *
cached(struct pg_conn *c, const char *sql, const char *what, struct err *err)
{
    struct pg_cached *victim = &c->cache[0];
    c->clock++;
    for (int i = 0; i < PG_CACHE_SLOTS; i++) {
        struct pg_cached *e = &c->cache[i];
        if (e->sql && strcmp(e->sql, sql) == 0) {
            e->last_used = c->clock;
            return e;
        }
        if (e->sql == NULL || (victim->sql && e->last_used < victim->last_used))
            victim = e;
    }
    char name[16];
    if (victim->sql) {
        char dealloc[32];
        snprintf(dealloc, sizeof(dealloc), "DEALLOCATE g%u", victim->name);
        PQclear(PQexec(c->db, dealloc));
        free(victim->sql);
        victim->sql = NULL;
    }
    unsigned id = ++c->next_name;
    snprintf(name, sizeof(name), "g%u", id);
    PGresult *res = PQprepare(c->db, name, sql, 0, NULL);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        pg_fail(c->db, res, what, err);
    PQclear(res);
    if (!ok)
        return NULL;
    *victim = (struct pg_cached){ xstrdup(sql), id, c->clock };
    return victim;
}

/* One attempt: prepare if needed, execute. */
static PGresult *
attempt(struct pg_conn *c, const char *sql, struct pg_handle *h, int n, const char *const *v,
        const char *what, struct err *err)
{
    char name[16];
    if (h) {
        if (!h->prepared) {
            PGresult *res = PQprepare(c->db, h->name, h->sql, 0, NULL);
            bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            if (!ok)
                pg_fail(c->db, res, what, err);
            PQclear(res);
            if (!ok)
                return NULL;
            h->prepared = true;
        }
        snprintf(name, sizeof(name), "%s", h->name);
    } else {
        const struct pg_cached *e = cached(c, sql, what, err);
        if (e == NULL)
            return NULL;
        snprintf(name, sizeof(name), "g%u", e->name);
    }
    PGresult *res = PQexecPrepared(c->db, name, n, v, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    pg_fail(c->db, res, what, err);
    PQclear(res);
    return NULL;
}

static PGresult *
run(struct pg_conn *c, const char *sql, struct pg_handle *h, int n, const char *const *v,
    const char *what, struct err *err)
{
    if (c->tx_broken)
        return err_set(err, ERR_UNAVAILABLE, "database connection lost"), NULL;
    /* A connection found lost before any statement of a transaction can be replaced: the
     * caller has lost nothing yet. Inside a transaction the work is gone, so it fails. */
    if (PQstatus(c->db) != CONNECTION_OK && (c->in_tx || reconnect(c, err) < 0)) {
        c->tx_broken = c->in_tx;
        if (c->in_tx)
            err_set(err, ERR_UNAVAILABLE, "database connection lost");
        return NULL;
    }
    PGresult *res = attempt(c, sql, h, n, v, what, err);
    if (res || PQstatus(c->db) == CONNECTION_OK)
        return res;
    if (c->in_tx) {
        c->tx_broken = true;
        return NULL;
    }
    if (reconnect(c, err) < 0)
        return NULL;
    return attempt(c, sql, h, n, v, what, err);
}

PGresult *
pg_run_handle(struct pg_handle *h, const char *what, struct err *err)
{
    return run(h->c, h->sql, h->fixed ? h : NULL, h->n, h->v, what, err);
}

PGresult *
pg_run_sql(struct pg_conn *c, const char *sql, int n, const char *const *values, const char *what,
           struct err *err)
{
    return run(c, sql, NULL, n, values, what, err);
}

static struct pg_store *
self(struct store *s)
{
    return (struct pg_store *)s;
}

/* ---- the analyzer ---- */

/* ANALYZE resources on the analyzer's own connection, outside any transaction (it samples a
 * bounded number of rows and blocks no reader or writer). Measured (bench/RESULTS.md): 0.2 s
 * at 20 000 rows; run on a worker thread it held up every client of that thread as long. */
static void
analyze_once(PGconn **db, const char *dsn)
{
    if (*db && PQstatus(*db) != CONNECTION_OK)
        PQreset(*db);
    if (*db == NULL) {
        struct err err = { 0 };
        *db = connect_db(dsn, &err); /* logged; the next request tries again */
    }
    if (*db == NULL || PQstatus(*db) != CONNECTION_OK)
        return;
    PGresult *a = PQexec(*db, "ANALYZE resources");
    if (PQresultStatus(a) != PGRES_COMMAND_OK)
        log_warn("postgres: analyze failed: %s", PQresultErrorMessage(a));
    PQclear(a);
}

static void *
analyzer_run(void *arg)
{
    struct pg_store *s = arg;
    PGconn *db = NULL;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        if (!s->analyze_wanted) {
            pthread_cond_wait(&s->analyze_cond, &s->mu);
            continue;
        }
        s->analyze_wanted = false; /* requests made while it runs ask for one more run */
        pthread_mutex_unlock(&s->mu);
        analyze_once(&db, s->dsn);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    PQfinish(db);
    return NULL;
}

/* Asks the analyzer for a run, starting it the first time; never waits for the run. */
static void
analyze_request(struct pg_store *s)
{
    pthread_mutex_lock(&s->mu);
    s->analyze_wanted = true;
    if (!s->analyzer_started && !s->stopping)
        s->analyzer_started = pthread_create(&s->analyzer, NULL, analyzer_run, s) == 0;
    pthread_cond_signal(&s->analyze_cond);
    pthread_mutex_unlock(&s->mu);
}

/* ---- the store ---- */

#define PG_VERSION_MIN 130000

static int
pg_open(const char *dsn, struct store **out, struct err *err)
{
    if (PQisthreadsafe() == 0)
        return err_set(err, ERR_INTERNAL, "libpq was built without thread support");
    PGconn *db = connect_db(dsn, err);
    if (db == NULL)
        return -1;
    /* The token's statement reads pg_current_snapshot() (13): refused at start, not at the
     * first request. */
    if (PQserverVersion(db) < PG_VERSION_MIN) {
        int v = PQserverVersion(db);
        PQfinish(db);
        return err_set(err, ERR_UNAVAILABLE,
                       "PostgreSQL %d.%d is too old: scimd needs PostgreSQL 13 or later", v / 10000,
                       v % 10000);
    }
    int rc = pg_migrate(db, err);
    PQfinish(db);
    if (rc < 0)
        return -1;
    struct pg_store *s = xcalloc(1, sizeof(*s));
    s->dsn = xstrdup(dsn);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->analyze_cond, NULL);
    /* No key destructor: connections are closed by thread_done or close, under our lock. */
    pthread_key_create(&s->key, NULL);
    *out = &s->base;
    return 0;
}

static void
pg_close(struct store *st)
{
    struct pg_store *s = self(st);
    pthread_mutex_lock(&s->mu);
    struct pg_conn *c = s->conns;
    s->conns = NULL;
    s->stopping = true;
    bool analyzer = s->analyzer_started;
    pthread_cond_signal(&s->analyze_cond);
    pthread_mutex_unlock(&s->mu);
    if (analyzer) /* waits for a run in progress: a bounded sample */
        pthread_join(s->analyzer, NULL);
    while (c) {
        struct pg_conn *next = c->next;
        conn_close(c);
        c = next;
    }
    pthread_key_delete(s->key);
    pthread_cond_destroy(&s->analyze_cond);
    pthread_mutex_destroy(&s->mu);
    free(s->dsn);
    free(s);
}

static void
pg_thread_done(struct store *st)
{
    struct pg_store *s = self(st);
    struct pg_conn *c = pthread_getspecific(s->key);
    if (c == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    for (struct pg_conn **p = &s->conns; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    pthread_setspecific(s->key, NULL);
    conn_close(c);
}

/* SELECT 1 with a deadline (PING_TIMEOUT_MS). Past it the connection is shut down (a stuck
 * server would not answer a cancel either): the thread's next statement finds it lost and
 * connects again. */
static int
ping_within(struct pg_conn *c, struct err *err)
{
    if (PQsendQuery(c->db, "SELECT 1") != 1)
        return 1; /* the connection is lost: the ordinary path resets it */
    int64_t left = PING_TIMEOUT_MS;
    bool ok = false, done = false;
    for (int i = 0; i < 64 && !done && left > 0; i++) { /* bounded: each turn waits or reads */
        if (PQisBusy(c->db)) {
            struct pollfd p = { .fd = PQsocket(c->db), .events = POLLIN };
            int64_t t0 = clock_mono_ns();
            int n = poll(&p, 1, (int)left);
            left -= (clock_mono_ns() - t0) / 1000000;
            if (n < 0 || (n > 0 && PQconsumeInput(c->db) != 1))
                break;
            continue;
        }
        PGresult *res;
        while ((res = PQgetResult(c->db)) != NULL) {
            ok = ok || PQresultStatus(res) == PGRES_TUPLES_OK;
            PQclear(res);
        }
        done = true;
    }
    if (done && ok)
        return 0;
    if (left <= 0) {
        log_warn("postgres: the server did not answer /healthz's ping within %d ms",
                 PING_TIMEOUT_MS);
        shutdown(PQsocket(c->db), SHUT_RDWR);
    }
    return err_set(err, ERR_UNAVAILABLE, "database unavailable, retry later");
}

static int
pg_ping(struct store *s, struct err *err)
{
    struct pg_conn *c = pg_conn(self(s), err);
    if (c == NULL)
        return -1;
    int rc = PQstatus(c->db) == CONNECTION_OK ? ping_within(c, err) : 1;
    if (rc <= 0)
        return rc;
    PGresult *res = pg_run_sql(c, "SELECT 1", 0, NULL, "ping", err);
    PQclear(res);
    return res ? 0 : -1;
}

/* Every statement is its own snapshot already, and wrapping a request's reads in BEGIN and
 * COMMIT would only add two round trips. */
static int
pg_read_begin(struct store *s, struct err *err)
{
    (void)s;
    (void)err;
    return 0;
}

static void
pg_read_end(struct store *s)
{
    (void)s;
}

static int
pg_tx_begin(struct store *s, struct err *err)
{
    struct pg_conn *c = pg_conn(self(s), err);
    if (c == NULL)
        return -1;
    c->tx_broken = false;
    /* Not yet in the transaction: a connection lost since the last call is replaced. */
    if (PQstatus(c->db) != CONNECTION_OK && reconnect(c, err) < 0)
        return -1;
    PGresult *res = PQexec(c->db, "BEGIN");
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQstatus(c->db) != CONNECTION_OK &&
        reconnect(c, err) == 0) {
        PQclear(res);
        res = PQexec(c->db, "BEGIN");
    }
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(c->db, res, "begin", err);
    PQclear(res);
    c->in_tx = rc == 0;
    return rc;
}

static int
pg_tx_commit(struct store *s, struct err *err)
{
    struct pg_conn *c = pthread_getspecific(self(s)->key);
    if (c == NULL || !c->in_tx)
        return err_set(err, ERR_INTERNAL, "commit outside a transaction");
    if (c->tx_broken)
        return err_set(err, ERR_UNAVAILABLE, "database connection lost");
    PGresult *res = PQexec(c->db, "COMMIT");
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(c->db, res, "commit", err);
    /* A transaction that failed earlier ends in ROLLBACK, reported as success by COMMIT. */
    if (rc == 0 && strcmp(PQcmdStatus(res), "COMMIT") != 0)
        rc = err_set(err, ERR_INTERNAL, "transaction was rolled back");
    PQclear(res);
    c->in_tx = false;
    /* The rows that made statistics due are committed: the analyzer may see them now. */
    if (c->analyze_due && rc == 0)
        analyze_request(self(s));
    c->analyze_due = false;
    return rc;
}

static void
pg_tx_rollback(struct store *s)
{
    struct pg_conn *c = pthread_getspecific(self(s)->key);
    if (c == NULL || !c->in_tx)
        return;
    if (PQstatus(c->db) == CONNECTION_OK)
        PQclear(PQexec(c->db, "ROLLBACK"));
    c->in_tx = false;
    c->analyze_due = false; /* the rows that made it due are gone */
    c->tx_broken = false;
}

/* A consistent copy of a PostgreSQL database is pg_dump's job (or the cluster's base backups):
 * it runs beside scimd without stopping it, and restores into any server version. */
static int
pg_backup(struct store *s, const char *path, struct store_backup_report *out, struct err *err)
{
    (void)s;
    (void)path;
    (void)out;
    return err_set(err, ERR_NOT_IMPLEMENTED,
                   "scimd backup copies SQLite databases only; back up PostgreSQL with pg_dump "
                   "(docs/deploy.md, \"Backups\")");
}

const struct store_backend postgres_backend = {
    .name = "postgres",
    .db = &pg_db_backend,
    .open = pg_open,
    .close = pg_close,
    .thread_done = pg_thread_done,
    .ping = pg_ping,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .tx_begin = pg_tx_begin,
    .tx_commit = pg_tx_commit,
    .tx_rollback = pg_tx_rollback,
    .backup = pg_backup,
};
