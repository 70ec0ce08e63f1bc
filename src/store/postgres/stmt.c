/* The primitives of db.h for PostgreSQL: SQLite's placeholders become $N once, at prepare;
 * parameters go as text (the server infers their types) and a result is read whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"
#include "store/postgres/postgres_int.h"

static struct pg_handle *
self(struct db_stmt *st)
{
    return (struct pg_handle *)st;
}

/* text with each `?N` written $N and each bare `?` numbered as SQLite numbers it (one past the
 * largest number so far); quoted literals are copied as they are. */
static char *
placeholders(const char *text, size_t len)
{
    char *out = xmalloc(len * 4 + 1);
    size_t o = 0;
    int largest = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == '\'')
            quoted = !quoted;
        if (quoted || ch != '?') {
            out[o++] = ch;
            continue;
        }
        int k = 0;
        while (i + 1 < len && text[i + 1] >= '0' && text[i + 1] <= '9' && k < 10000)
            k = k * 10 + (text[++i] - '0');
        if (k == 0)
            k = largest + 1;
        if (k > largest)
            largest = k;
        o += (size_t)snprintf(out + o, 8, "$%d", k);
    }
    out[o] = '\0';
    return out;
}

static void
clear(struct pg_handle *h)
{
    PQclear(h->res);
    h->res = NULL;
    for (int i = 0; i < h->n; i++)
        h->v[i] = NULL;
    h->n = 0;
}

static struct pg_handle *
handle_new(struct pg_conn *c)
{
    struct pg_handle *h = xcalloc(1, sizeof(*h));
    h->base.be = &pg_db_backend;
    h->c = c;
    return h;
}

static struct db_stmt *
prepare(struct store *s, int slot, const char *text, struct err *err)
{
    struct pg_conn *c = pg_conn((struct pg_store *)s, err);
    if (c == NULL)
        return NULL;
    struct pg_handle *h = c->fixed[slot];
    if (h == NULL) {
        h = c->fixed[slot] = handle_new(c);
        h->fixed = true;
        snprintf(h->name, sizeof(h->name), "f%d", slot);
        h->sql = placeholders(text, strlen(text));
    }
    clear(h);
    return &h->base;
}

static struct db_stmt *
prepare_text(struct store *s, const char *text, size_t len, struct err *err)
{
    struct pg_conn *c = pg_conn((struct pg_store *)s, err);
    if (c == NULL)
        return NULL;
    unsigned k = c->next_generated++ % PG_GENERATED_HANDLES;
    struct pg_handle *h = c->generated[k];
    if (h == NULL)
        h = c->generated[k] = handle_new(c);
    clear(h);
    free(h->sql);
    h->sql = placeholders(text, len);
    return &h->base;
}

static void
handle_free(struct pg_handle *h)
{
    if (h == NULL)
        return;
    PQclear(h->res);
    free(h->sql);
    free(h->v);
    free(h->num);
    free(h);
}

void
pg_handles_free(struct pg_conn *c)
{
    for (int i = 0; i < DB_MAX_STATEMENTS; i++)
        handle_free(c->fixed[i]);
    for (int i = 0; i < PG_GENERATED_HANDLES; i++)
        handle_free(c->generated[i]);
}

/* Parameter i (from 1), growing the arrays to hold it. */
static int
param(struct pg_handle *h, int i)
{
    if (i > h->cap) {
        int cap = h->cap ? h->cap : 16;
        while (cap < i)
            cap *= 2;
        h->v = xrealloc(h->v, (size_t)cap * sizeof(*h->v));
        /* Numbers already bound point into num: moved, they must follow (a generated
         * statement binds its tenant before its filter's values grow the arrays). */
        char(*num)[32] = xmalloc((size_t)cap * sizeof(*num));
        for (int k = 0; k < h->cap; k++) {
            memcpy(num[k], h->num[k], sizeof(num[k]));
            if (h->v[k] == h->num[k])
                h->v[k] = num[k];
        }
        free(h->num);
        h->num = num;
        for (int k = h->cap; k < cap; k++)
            h->v[k] = NULL;
        h->cap = cap;
    }
    if (i > h->n)
        h->n = i;
    return i - 1;
}

static void
bind_int(struct db_stmt *st, int i, int64_t v)
{
    struct pg_handle *h = self(st);
    int k = param(h, i);
    snprintf(h->num[k], sizeof(h->num[k]), "%lld", (long long)v);
    h->v[k] = h->num[k];
}

static void
bind_real(struct db_stmt *st, int i, double v)
{
    struct pg_handle *h = self(st);
    int k = param(h, i);
    snprintf(h->num[k], sizeof(h->num[k]), "%.17g", v);
    h->v[k] = h->num[k];
}

static void
bind_text(struct db_stmt *st, int i, const char *v)
{
    struct pg_handle *h = self(st);
    int k = param(h, i);
    h->v[k] = v;
}

static int
step(struct db_stmt *st, struct err *err)
{
    struct pg_handle *h = self(st);
    if (h->res == NULL) {
        h->res = pg_run_handle(h, h->fixed ? h->name : "generated statement", err);
        if (h->res == NULL) {
            clear(h);
            return -1;
        }
        h->row = -1;
        h->rows = PQntuples(h->res);
        h->changes = strtoll(PQcmdTuples(h->res), NULL, 10);
    }
    if (++h->row < h->rows)
        return 1;
    clear(h);
    return 0;
}

static void
reset(struct db_stmt *st)
{
    clear(self(st));
}

static int64_t
col_int(struct db_stmt *st, int i)
{
    struct pg_handle *h = self(st);
    return strtoll(PQgetvalue(h->res, h->row, i), NULL, 10);
}

static const char *
col_text(struct db_stmt *st, int i, size_t *len)
{
    struct pg_handle *h = self(st);
    if (PQgetisnull(h->res, h->row, i)) {
        *len = 0;
        return NULL;
    }
    *len = (size_t)PQgetlength(h->res, h->row, i);
    return PQgetvalue(h->res, h->row, i);
}

static int64_t
changes(struct db_stmt *st)
{
    return self(st)->changes;
}

/* Marks the connection's transaction: when it commits, the analyzer thread is asked for an
 * ANALYZE on its own connection (postgres.c), so no request waits for it. */
static void
analyze_soon(struct store *s)
{
    struct pg_conn *c = pthread_getspecific(((struct pg_store *)s)->key);
    if (c)
        c->analyze_due = true;
}

const struct db_backend pg_db_backend = {
    .kind = DB_POSTGRES,
    .dialect = &pg_dialect,
    .prepare = prepare,
    .prepare_text = prepare_text,
    .bind_int = bind_int,
    .bind_real = bind_real,
    .bind_text = bind_text,
    .step = step,
    .reset = reset,
    .col_int = col_int,
    .col_text = col_text,
    .changes = changes,
    .analyze_soon = analyze_soon,
};
