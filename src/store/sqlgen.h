#ifndef SCIMD_STORE_SQLGEN_H
#define SCIMD_STORE_SQLGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include "base/buf.h"
#include "base/err.h"
#include "query/query.h"
#include "store/store.h"

/* The filter compiler shared by the SQL backends: a resolved filter AST becomes a WHERE
 * fragment (RFC 7644 §3.4.2.2 semantics, matching query_eval). The text is built only from
 * fixed fragments of a dialect; every value, including JSON paths made from schema names, is
 * a bound parameter, so no request text ever becomes SQL. Parameters are written "?" in the
 * order they are bound; a backend with numbered parameters ($n) renumbers them in order. */

/* Value bound to a "?" of generated SQL. */
struct sql_bind {
    enum {
        BIND_TEXT,
        BIND_INT,
        BIND_REAL,
        BIND_NULL
    } type;
    const char *text; /* borrowed from the AST or the pool */
    int64_t i;
    double r;
};

struct sql_binds {
    struct sql_bind v[4 * 256 + 8];
    int n;
    char pool[16384]; /* copies of generated JSON paths */
    size_t pool_used;
};

/* A case-folded string value v (a placeholder) in each database's SQL: a filter's (ph_fold) and
 * the token statement's read of a user by userName (store/tokens.c) use this one text, so both
 * find the same user through the lower(user_name) index. */
#define SQLGEN_FOLD_SQLITE(v) "lower(" v ")"
#define SQLGEN_FOLD_PG(v)     "lower(" v "::text COLLATE \"C\")"

/* How one SQL dialect spells what the compiler needs. Expressions with a JSON path hold one
 * "?" for it; "text" forms yield SQL text, "typed" forms a value that compares with
 * ph_number / ph_bool (SQLite's json_extract is both). The element of a multi-valued
 * attribute is the row "e" with a column "value". */
struct sqlgen_dialect {
    const char *true_sql, *false_sql;
    /* Writes the JSON path of names[0..n) as bound text (SQLite '$."a"."b"', PG '{"a","b"}'). */
    int (*path)(char *dst, size_t size, const char *const *names, int n, struct err *err);
    const char *doc_text, *doc_typed;   /* value at a path of r.doc */
    const char *elem_text, *elem_typed; /* value at a path of the element */
    const char *self_text, *self_typed; /* the element itself */
    const char *ph_fold;                /* a case-folded string value */
    const char *ph_number, *ph_bool;
    const char *contains_open;              /* + operand + ", ph) > 0)" */
    const char *prefix_open, *prefix_close; /* the operand's first length(?) characters */
    const char *suffix_open, *suffix_close; /* the operand's last length(?) characters */
    const char *length_param;               /* the length of a bound string */
    /* "EXISTS (… e … WHERE " over the elements of the array at a bound path, or over the one
     * value of a single-valued complex attribute. */
    const char *exists_multi, *exists_single;
    /* The sort key of a multi-valued attribute: binds the sub-attribute path, then the path. */
    const char *sort_multi;
    /* "Present" (query_eval's rule) of a column, of a path of `doc` (binding the path
     * present_path_binds times) and of the element itself. */
    int (*present_column)(struct buf *sql, const char *col, struct err *err);
    int (*present_path)(struct buf *sql, const char *doc, struct err *err);
    int present_path_binds;
    const char *present_self;
};

/* Binds a copy of text (kept in the pool) as the next parameter. */
int sqlgen_binds_keep(struct sql_binds *b, const char *text, struct err *err);

/* Appends a WHERE fragment for a resolved filter; values go to binds, never into the text.
 * ERR_INVALID_FILTER for filters that cannot be expressed (bad dateTime literal). */
int sqlgen_filter(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *binds,
                  const struct query_node *n, struct err *err);

/* Appends the WHERE condition of a listing: its filter (sqlgen_filter) and its effective-role
 * condition, or the dialect's true when it has neither. */
int sqlgen_where(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *binds,
                 const struct store_list_query *q, struct err *err);

/* True when the filter can match at most one resource of `type`: `id eq`, or `userName eq`
 * (users) / `displayName eq` (groups), which unique indexes guard. Such a listing needs no
 * ORDER BY and no remembered page position: the existence checks identity providers send
 * before every create (IDP-QUIRKS.md 17) then cost one index probe. */
bool sqlgen_unique_match(const struct query_node *f, enum store_rtype type);

/* ids[0..n) as the text of one JSON array (malloc'd; NULL when out of memory): how a list of
 * ids is bound as one parameter, so a statement's text does not depend on the list's length. */
char *sqlgen_json_ids(const char *const *ids, size_t n);

/* Appends the SQL expression whose value sorts by the resolved path (binding its paths). */
int sqlgen_sort_expr(const struct sqlgen_dialect *d, struct buf *sql, const struct query_path *p,
                     struct sql_binds *binds, struct err *err);

/* Keyset continuation of listings (shared by the SQL backends). Paging by startIndex must
 * stay linear over a whole import (Okta walks startIndex=1,101,201,… to the end), so when a
 * page ends the position (seq) of its last row is remembered under the identity of the
 * listing and the startIndex that continues it; the next page seeks past it instead of
 * scanning OFFSET rows. The cache is per process: another instance falls back to OFFSET. */
struct sqlgen_cursors;

/* A cache of n_slots remembered positions; sqlgen_cursors_free(NULL) is a no-op. */
struct sqlgen_cursors *sqlgen_cursors_new(size_t n_slots);
void sqlgen_cursors_free(struct sqlgen_cursors *c);

/* The identity of a listing: tenant, type, reader, WHERE text and every bound value. */
uint64_t sqlgen_list_key(const struct store_list_query *q, const struct buf *where,
                         const struct sql_binds *b, int n_binds);
/* The slot key of a listing continued at start_index (never 0). */
uint64_t sqlgen_slot_key(uint64_t list_key, int64_t start_index);
/* *last_seq of the remembered position under key; false when none. */
bool sqlgen_cursor_find(struct sqlgen_cursors *c, uint64_t key, int64_t *last_seq);
void sqlgen_cursor_put(struct sqlgen_cursors *c, uint64_t key, int64_t last_seq);

#endif
