/* The PostgreSQL backend: one libpq connection per worker thread, statements prepared on
 * first use, every write inside the caller's transaction. Several scimd instances may share
 * the database: uniqueness is the database's (unique indexes), updates and deletes are
 * guarded by the version column, and a lost connection is reset and retried once before
 * the caller sees ERR_UNAVAILABLE (503). docs/postgres.md has the design. */
#include "store/postgres/postgres.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "store/postgres/postgres_int.h"

/* Lock waits beyond this become ERR_UNAVAILABLE (503), as SQLite's busy timeout does. */
#define LOCK_TIMEOUT "5s"
/* Seconds a connection attempt may take before the request gets ERR_UNAVAILABLE. */
#define CONNECT_TIMEOUT "5"

/* The planner chooses by table statistics, which autovacuum refreshes only after a minute or
 * so; a first import of thousands of users would run that long with plans made for an empty
 * table (a userName filter scanning the tenant in seq order). So the store analyzes the table
 * itself whenever a tenant's users or groups reach this many times a power of two. */
#define ANALYZE_FIRST_ROWS 1000

#define RES_COLS                                                                     \
    "id, tenant_id, type, version, created_ms, modified_ms, user_name, external_id," \
    " display_name, active, doc_text"

static const char *const stmt_sql[PG__COUNT] = {
    [PG_PING] = "SELECT 1",
    /* Every request of a busy integration authenticates with the same token: an instance
     * that finds the row locked by another's update skips its own instead of queueing. */
    [PG_RES_INSERT] = "INSERT INTO resources(" RES_COLS ", doc, password_hash)"
                      " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11::text,$11::text::jsonb,$12)",
    [PG_RES_GET] = "SELECT " RES_COLS " FROM resources WHERE tenant_id=$1 AND type=$2 AND id=$3",
    [PG_RES_UPDATE] =
        "UPDATE resources SET version=$1, modified_ms=$2, user_name=$3,"
        " external_id=$4, display_name=$5, active=$6, doc_text=$7::text, doc=$7::text::jsonb,"
        " password_hash=coalesce($8, password_hash)"
        " WHERE tenant_id=$9 AND type=$10 AND id=$11 AND version=$12",
    [PG_RES_DELETE] = "DELETE FROM resources WHERE tenant_id=$1 AND type=$2 AND id=$3"
                      " AND ($4::bigint < 0 OR version = $4)",
    [PG_COUNT_ADD] =
        "INSERT INTO resource_counts(tenant_id, type, n) VALUES($1,$2,$3)"
        " ON CONFLICT(tenant_id, type) DO UPDATE SET n = resource_counts.n + excluded.n"
        " RETURNING n",
    [PG_COUNT_GET] = "SELECT n FROM resource_counts WHERE tenant_id=$1 AND type=$2",
    [PG_MEMBER_ADD] = "INSERT INTO members(tenant_id, group_id, member_id) VALUES($1,$2,$3)"
                      " ON CONFLICT DO NOTHING",
    [PG_MEMBER_REMOVE] = "DELETE FROM members WHERE tenant_id=$1 AND group_id=$2 AND member_id=$3",
    [PG_MEMBER_REMOVE_GROUP] = "DELETE FROM members WHERE tenant_id=$1 AND group_id=$2",
    [PG_MEMBER_REMOVE_MEMBER] = "DELETE FROM members WHERE tenant_id=$1 AND member_id=$2",
    [PG_MEMBER_LIST] = "SELECT m.member_id, coalesce(r.user_name, r.display_name) FROM members m"
                       " LEFT JOIN resources r ON r.tenant_id=m.tenant_id AND r.id=m.member_id"
                       " AND r.type IN (1, 2)"
                       " WHERE m.tenant_id=$1 AND m.group_id=$2 ORDER BY m.member_id",
    [PG_MEMBER_GROUPS] = "SELECT m.group_id, r.display_name FROM members m"
                         " JOIN resources r ON r.tenant_id=m.tenant_id AND r.type=2"
                         " AND r.id=m.group_id"
                         " WHERE m.tenant_id=$1 AND m.member_id=$2 ORDER BY m.group_id",
    [PG_MEMBER_COUNT] = "SELECT count(*) FROM members WHERE tenant_id=$1 AND group_id=$2",
    [PG_USER_EXISTS] = "SELECT 1 FROM resources WHERE tenant_id=$1 AND type=1 AND id=$2",
    [PG_CURSOR_GET] = "SELECT last_seq FROM page_cursors WHERE slot=$1 AND key=$2",
    [PG_CURSOR_PUT] =
        "INSERT INTO page_cursors(slot, key, last_seq) VALUES($1,$2,$3)"
        " ON CONFLICT(slot) DO UPDATE SET key=excluded.key, last_seq=excluded.last_seq",
};

/* ---- parameters and values ---- */

void
pg_param_text(struct pg_params *p, const char *s)
{
    assert(p->n < PG_MAX_PARAMS);
    p->v[p->n++] = s;
}

void
pg_param_int(struct pg_params *p, int64_t i)
{
    assert(p->n < PG_MAX_PARAMS);
    snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)i);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

int64_t
pg_int(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

char *
pg_dup(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return xstrndup(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

static void
copy_col(const PGresult *res, int row, int col, char *dst, size_t size)
{
    str_copy(dst, size, PQgetvalue(res, row, col));
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
    memset(c->prepared, 0, sizeof(c->prepared));
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

static PGconn *
connect_db(const char *dsn, struct err *err)
{
    /* A DSN without connect_timeout would let a worker wait forever on an unreachable host
     * (libpq's default); the DSN's own setting, later in the list, wins over this one. */
    const char *const keys[] = { "connect_timeout", "dbname", NULL };
    const char *const values[] = { CONNECT_TIMEOUT, dsn, NULL };
    PGconn *db = PQconnectdbParams(keys, values, 1);
    if (db == NULL || PQstatus(db) != CONNECTION_OK) {
        /* PQerrorMessage names host and port, never the password. */
        log_warn("postgres: cannot connect: %s", db ? PQerrorMessage(db) : "out of memory");
        err_set(err, ERR_UNAVAILABLE, "database unavailable, retry later");
        PQfinish(db);
        return NULL;
    }
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

static int
prepare_fixed(struct pg_conn *c, enum pg_stmt id, const char *what, struct err *err)
{
    if (c->prepared[id])
        return 0;
    char name[16];
    snprintf(name, sizeof(name), "s%d", (int)id);
    PGresult *res = PQprepare(c->db, name, stmt_sql[id], 0, NULL);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(c->db, res, what, err);
    PQclear(res);
    c->prepared[id] = rc == 0;
    return rc;
}

/* One attempt: prepare if needed, execute. */
static PGresult *
attempt(struct pg_conn *c, int fixed, const char *sql, struct pg_handle *h, int n,
        const char *const *v, const char *what, struct err *err)
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
    } else if (fixed >= 0) {
        if (prepare_fixed(c, (enum pg_stmt)fixed, what, err) < 0)
            return NULL;
        snprintf(name, sizeof(name), "s%d", fixed);
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
run(struct pg_conn *c, int fixed, const char *sql, struct pg_handle *h, int n, const char *const *v,
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
    PGresult *res = attempt(c, fixed, sql, h, n, v, what, err);
    if (res || PQstatus(c->db) == CONNECTION_OK)
        return res;
    if (c->in_tx) {
        c->tx_broken = true;
        return NULL;
    }
    if (reconnect(c, err) < 0)
        return NULL;
    return attempt(c, fixed, sql, h, n, v, what, err);
}

PGresult *
pg_run_handle(struct pg_handle *h, const char *what, struct err *err)
{
    return run(h->c, -1, h->sql, h->fixed ? h : NULL, h->n, h->v, what, err);
}

PGresult *
pg_run(struct pg_conn *c, enum pg_stmt id, const struct pg_params *p, const char *what,
       struct err *err)
{
    return run(c, (int)id, NULL, NULL, p ? p->n : 0, p ? p->v : NULL, what, err);
}

PGresult *
pg_run_sql(struct pg_conn *c, const char *sql, int n, const char *const *values, const char *what,
           struct err *err)
{
    return run(c, -1, sql, NULL, n, values, what, err);
}

static struct pg_store *
self(struct store *s)
{
    return (struct pg_store *)s;
}

PGresult *
pg_query(struct store *s, const char *sql, const struct pg_params *p, const char *what,
         struct err *err)
{
    struct pg_conn *c = pg_conn(self(s), err);
    return c ? pg_run_sql(c, sql, p->n, p->v, what, err) : NULL;
}

int
pg_changed(struct store *s, const char *sql, const struct pg_params *p, const char *what,
           struct err *err)
{
    PGresult *res = pg_query(s, sql, p, what, err);
    if (res == NULL)
        return -1;
    int n = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}

int
pg_write(struct store *s, const char *sql, const struct pg_params *p, const char *what,
         struct err *err)
{
    return pg_changed(s, sql, p, what, err) < 0 ? -1 : 0;
}

/* Runs statement id on the calling thread's connection. */
static PGresult *
exec_stmt(struct store *s, enum pg_stmt id, const struct pg_params *p, const char *what,
          struct err *err)
{
    struct pg_conn *c = pg_conn(self(s), err);
    return c ? pg_run(c, id, p, what, err) : NULL;
}

/* Runs a write and returns the rows it changed, or -1 with err. */
static int
exec_write(struct store *s, enum pg_stmt id, const struct pg_params *p, const char *what,
           struct err *err)
{
    PGresult *res = exec_stmt(s, id, p, what, err);
    if (res == NULL)
        return -1;
    int n = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}

/* ---- the store ---- */

static int
pg_open(const char *dsn, struct store **out, struct err *err)
{
    if (PQisthreadsafe() == 0)
        return err_set(err, ERR_INTERNAL, "libpq was built without thread support");
    PGconn *db = connect_db(dsn, err);
    if (db == NULL)
        return -1;
    int rc = pg_migrate(db, err);
    PQfinish(db);
    if (rc < 0)
        return -1;
    struct pg_store *s = xcalloc(1, sizeof(*s));
    s->dsn = xstrdup(dsn);
    pthread_mutex_init(&s->mu, NULL);
    /* No key destructor: connections are closed by thread_done or close, under our lock. */
    pthread_key_create(&s->key, NULL);
    s->cursors = sqlgen_cursors_new(LIMIT_PAGE_CURSORS);
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
    pthread_mutex_unlock(&s->mu);
    while (c) {
        struct pg_conn *next = c->next;
        conn_close(c);
        c = next;
    }
    pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->mu);
    sqlgen_cursors_free(s->cursors);
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

static int
pg_ping(struct store *s, struct err *err)
{
    PGresult *res = exec_stmt(s, PG_PING, NULL, "ping", err);
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
    if (c->analyze_due) {
        /* Outside any transaction, so only this request waits (ANALYZE samples a bounded
         * number of rows and blocks no reader or writer). */
        c->analyze_due = false;
        PGresult *a = PQexec(c->db, "ANALYZE resources");
        if (PQresultStatus(a) != PGRES_COMMAND_OK)
            log_warn("postgres: analyze failed: %s", PQresultErrorMessage(a));
        PQclear(a);
    }
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
    c->tx_broken = false;
}

/* ---- resources ---- */

/* True when a tenant's count of one type reaches ANALYZE_FIRST_ROWS × 2^k. */
static bool
analyze_due(int64_t n)
{
    int64_t k = n / ANALYZE_FIRST_ROWS;
    return n >= ANALYZE_FIRST_ROWS && n % ANALYZE_FIRST_ROWS == 0 && (k & (k - 1)) == 0;
}

static int
count_add(struct store *s, int64_t tenant_id, enum store_rtype type, int delta, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_int(&p, (int64_t)type);
    pg_param_int(&p, delta);
    PGresult *res = exec_stmt(s, PG_COUNT_ADD, &p, "count resources", err);
    if (res == NULL)
        return -1;
    if (delta > 0 && analyze_due(pg_int(res, 0, 0))) {
        struct pg_conn *c = pthread_getspecific(self(s)->key);
        c->analyze_due = true;
    }
    PQclear(res);
    return 0;
}

/* The columns insert and update share, in their order ($n of insert from 7, of update 3). */
static void
resource_columns(struct pg_params *p, const struct store_resource *r)
{
    pg_param_text(p, r->user_name);
    pg_param_text(p, r->external_id);
    pg_param_text(p, r->display_name);
    pg_param_int(p, r->active);
    pg_param_text(p, r->doc);
}

static int
resource_insert(struct store *s, const struct store_resource *r, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, r->id);
    pg_param_int(&p, r->tenant_id);
    pg_param_int(&p, (int64_t)r->type);
    pg_param_int(&p, r->version);
    pg_param_int(&p, r->created_ms);
    pg_param_int(&p, r->modified_ms);
    resource_columns(&p, r);
    pg_param_text(&p, r->password_hash);
    if (exec_write(s, PG_RES_INSERT, &p, "insert resource", err) < 0)
        return -1;
    return count_add(s, r->tenant_id, r->type, 1, err);
}

void
pg_read_resource(const PGresult *res, int row, struct store_resource *r)
{
    *r = (struct store_resource){ 0 };
    copy_col(res, row, 0, r->id, sizeof(r->id));
    r->tenant_id = pg_int(res, row, 1);
    r->type = (enum store_rtype)pg_int(res, row, 2);
    r->version = pg_int(res, row, 3);
    r->created_ms = pg_int(res, row, 4);
    r->modified_ms = pg_int(res, row, 5);
    r->user_name = pg_dup(res, row, 6);
    r->external_id = pg_dup(res, row, 7);
    r->display_name = pg_dup(res, row, 8);
    r->active = (int)pg_int(res, row, 9);
    r->doc = pg_dup(res, row, 10);
}

static int
resource_get(struct store *s, int64_t tenant_id, enum store_rtype type, const char *id,
             struct store_resource *out, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_int(&p, (int64_t)type);
    pg_param_text(&p, id);
    PGresult *res = exec_stmt(s, PG_RES_GET, &p, "get resource", err);
    if (res == NULL)
        return -1;
    int rc = PQntuples(res) ? 0 : err_set(err, ERR_NOT_FOUND, "resource %s not found", id);
    if (rc == 0)
        pg_read_resource(res, 0, out);
    PQclear(res);
    return rc;
}

static int
resource_update(struct store *s, const struct store_resource *r, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, r->version);
    pg_param_int(&p, r->modified_ms);
    resource_columns(&p, r);
    pg_param_text(&p, r->password_hash);
    pg_param_int(&p, r->tenant_id);
    pg_param_int(&p, (int64_t)r->type);
    pg_param_text(&p, r->id);
    pg_param_int(&p, r->version - 1);
    int n = exec_write(s, PG_RES_UPDATE, &p, "update resource", err);
    if (n < 0)
        return -1;
    if (n == 0)
        return err_set(err, ERR_PRECONDITION, "resource %s was changed concurrently", r->id);
    return 0;
}

static int
resource_delete(struct store *s, int64_t tenant_id, enum store_rtype type, const char *id,
                int64_t version, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_int(&p, (int64_t)type);
    pg_param_text(&p, id);
    pg_param_int(&p, version);
    int n = exec_write(s, PG_RES_DELETE, &p, "delete resource", err);
    if (n < 0)
        return -1;
    if (n == 0) {
        /* Absent, or present with another version: the caller's answer differs (404/412). */
        struct store_resource cur;
        if (version >= 0 && resource_get(s, tenant_id, type, id, &cur, err) == 0) {
            store_resource_cleanup(&cur);
            return err_set(err, ERR_PRECONDITION, "resource %s was changed: version W/\"%lld\"", id,
                           (long long)cur.version);
        }
        return err_set(err, ERR_NOT_FOUND, "resource %s not found", id);
    }
    return count_add(s, tenant_id, type, -1, err);
}

/* ---- group membership ---- */

/* Runs a membership write bound to (tenant, a[, b]) and returns the rows it changed. */
static int
member_write(struct store *s, enum pg_stmt id, int64_t tenant_id, const char *a, const char *b,
             const char *what, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, a);
    if (b)
        pg_param_text(&p, b);
    return exec_write(s, id, &p, what, err);
}

static int
member_add(struct store *s, int64_t tenant_id, const char *group_id, const char *member_id,
           struct err *err)
{
    return member_write(s, PG_MEMBER_ADD, tenant_id, group_id, member_id, "add member", err);
}

static int
member_remove(struct store *s, int64_t tenant_id, const char *group_id, const char *member_id,
              struct err *err)
{
    return member_write(s, PG_MEMBER_REMOVE, tenant_id, group_id, member_id, "remove member", err);
}

static int
member_remove_group(struct store *s, int64_t tenant_id, const char *group_id, struct err *err)
{
    return member_write(s, PG_MEMBER_REMOVE_GROUP, tenant_id, group_id, NULL, "empty group", err);
}

static int
member_remove_member(struct store *s, int64_t tenant_id, const char *member_id, struct err *err)
{
    return member_write(s, PG_MEMBER_REMOVE_MEMBER, tenant_id, member_id, NULL,
                        "remove from groups", err);
}

/* Reads (id, display) rows of a membership query into a malloc'd array. */
static int
member_rows(struct store *s, enum pg_stmt id, int64_t tenant_id, const char *key,
            struct store_member **out, size_t *n, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, key);
    PGresult *res = exec_stmt(s, id, &p, "list members", err);
    if (res == NULL)
        return -1;
    size_t rows = (size_t)PQntuples(res);
    struct store_member *v = xmalloc((rows ? rows : 1) * sizeof(*v));
    for (size_t i = 0; i < rows; i++) {
        copy_col(res, (int)i, 0, v[i].id, sizeof(v[i].id));
        v[i].display = pg_dup(res, (int)i, 1);
    }
    PQclear(res);
    *out = v;
    *n = rows;
    return 0;
}

static int
member_list(struct store *s, int64_t tenant_id, const char *group_id, struct store_member **out,
            size_t *n, struct err *err)
{
    return member_rows(s, PG_MEMBER_LIST, tenant_id, group_id, out, n, err);
}

static int
member_groups(struct store *s, int64_t tenant_id, const char *member_id, struct store_member **out,
              size_t *n, struct err *err)
{
    return member_rows(s, PG_MEMBER_GROUPS, tenant_id, member_id, out, n, err);
}

static int
member_count(struct store *s, int64_t tenant_id, const char *group_id, int64_t *n, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, group_id);
    PGresult *res = exec_stmt(s, PG_MEMBER_COUNT, &p, "count members", err);
    if (res == NULL)
        return -1;
    *n = pg_int(res, 0, 0);
    PQclear(res);
    return 0;
}

static int
users_exist(struct store *s, int64_t tenant_id, const char *const *ids, size_t n,
            size_t *first_missing, struct err *err)
{
    *first_missing = n;
    for (size_t i = 0; i < n; i++) {
        struct pg_params p = { .n = 0 };
        pg_param_int(&p, tenant_id);
        pg_param_text(&p, ids[i]);
        PGresult *res = exec_stmt(s, PG_USER_EXISTS, &p, "check users", err);
        if (res == NULL)
            return -1;
        int rows = PQntuples(res);
        PQclear(res);
        if (rows == 0) {
            *first_missing = i;
            return 0;
        }
    }
    return 0;
}

const struct store_ops postgres_store_ops = {
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
    .resource_insert = resource_insert,
    .resource_get = resource_get,
    .resource_update = resource_update,
    .resource_delete = resource_delete,
    .resource_list = pg_resource_list,
    .member_add = member_add,
    .member_remove = member_remove,
    .member_remove_group = member_remove_group,
    .member_remove_member = member_remove_member,
    .member_list = member_list,
    .member_groups = member_groups,
    .member_groups_many = pg_member_groups_many,
    .member_count = member_count,
    .users_exist = users_exist,
};
