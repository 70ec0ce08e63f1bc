#include "scim/list.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/limits.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/directory.h"
#include "core/role.h"
#include "query/query.h"
#include "scim/cursor.h"
#include "scim/project.h"
#include "scim/render.h"
#include "scim/scim.h"

/* The query of one listing, from the query string or a SearchRequest. */
struct scim_list_params {
    const char *filter;
    const char *sort_by;
    const char *sort_order;
    const char *attributes;
    const char *excluded;
    int64_t start_index; /* clamped to ≥ 1 */
    int64_t count;       /* clamped to [0, page_max] */
    /* RFC 9865: cursor paging when cursor is not NULL ("" asks for the first page). */
    const char *cursor;
    bool start_given;    /* startIndex was in the request */
    int64_t asked_count; /* count as given (the default when absent), not clamped */
};

static int
int_arg(const char *text, const char *name, int64_t dflt, int64_t *out, struct err *err)
{
    if (text == NULL || text[0] == '\0') {
        *out = dflt;
        return 0;
    }
    return str_to_i64(str_of(text), INT64_MIN / 2, INT64_MAX / 2, out, name, err);
}

/* The page size when the request names none (pagination.defaultPageSize). */
static int64_t
page_default(const struct api_call *call)
{
    return call->settings->page_max < LIMIT_PAGE_DEFAULT ? call->settings->page_max
                                                         : LIMIT_PAGE_DEFAULT;
}

static void
clamp(struct scim_list_params *p, int64_t page_max)
{
    p->asked_count = p->count;
    /* RFC 7644 §3.4.2.4: startIndex < 1 is read as 1; a negative count as 0; a count above
     * the maximum is lowered to it. */
    if (p->start_index < 1)
        p->start_index = 1;
    if (p->count < 0)
        p->count = 0;
    if (p->count > page_max)
        p->count = page_max;
}

static int
params_from_query(const struct api_call *call, struct scim_list_params *p, struct err *err)
{
    *p = (struct scim_list_params){
        .filter = api_call_arg(call, "filter"),
        .sort_by = api_call_arg(call, "sortBy"),
        .sort_order = api_call_arg(call, "sortOrder"),
        .attributes = api_call_arg(call, "attributes"),
        .excluded = api_call_arg(call, "excludedAttributes"),
        .cursor = api_call_arg(call, "cursor"),
        .start_given = api_call_arg(call, "startIndex") != NULL,
    };
    if (int_arg(api_call_arg(call, "startIndex"), "startIndex", 1, &p->start_index, err) < 0 ||
        int_arg(api_call_arg(call, "count"), "count", page_default(call), &p->count, err) < 0)
        return -1;
    clamp(p, call->settings->page_max);
    return 0;
}

/* Joins a JSON array of attribute names with commas, into the arena. */
static int
join_names(struct api_call *call, const json_t *v, const char *name, const char **out,
           struct err *err)
{
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) > LIMIT_ATTR_LIST)
        return err_set(err, ERR_INVALID_VALUE, "%s must be an array of at most %d names", name,
                       LIMIT_ATTR_LIST);
    struct buf b;
    buf_init(&b, LIMIT_ATTR_LIST * (LIMIT_PATH_BYTES + 1));
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) {
            buf_cleanup(&b);
            return err_set(err, ERR_INVALID_VALUE, "%s must hold strings", name);
        }
        if ((i && buf_append_cstr(&b, ",", err) < 0) ||
            buf_append_cstr(&b, json_string_value(e), err) < 0) {
            buf_cleanup(&b);
            return -1;
        }
    }
    *out = arena_strdup(call->arena, b.data ? b.data : "", err);
    buf_cleanup(&b);
    return *out ? 0 : -1;
}

static int
body_string(const json_t *body, const char *key, const char **out, struct err *err)
{
    json_t *v = json_object_get(body, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID_VALUE, "%s must be a string", key);
    *out = json_string_value(v);
    return 0;
}

static int
body_int(const json_t *body, const char *key, int64_t dflt, int64_t *out, struct err *err)
{
    json_t *v = json_object_get(body, key);
    *out = dflt;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return err_set(err, ERR_INVALID_VALUE, "%s must be an integer", key);
    *out = json_integer_value(v);
    return 0;
}

static int
params_from_body(struct api_call *call, const json_t *body, struct scim_list_params *p,
                 struct err *err)
{
    *p = (struct scim_list_params){ 0 };
    if (!json_is_object(body))
        return err_set(err, ERR_INVALID_SYNTAX, "a SearchRequest must be a JSON object");
    if (body_string(body, "filter", &p->filter, err) < 0 ||
        body_string(body, "sortBy", &p->sort_by, err) < 0 ||
        body_string(body, "sortOrder", &p->sort_order, err) < 0 ||
        join_names(call, json_object_get(body, "attributes"), "attributes", &p->attributes, err) <
            0 ||
        join_names(call, json_object_get(body, "excludedAttributes"), "excludedAttributes",
                   &p->excluded, err) < 0 ||
        body_int(body, "startIndex", 1, &p->start_index, err) < 0 ||
        body_int(body, "count", page_default(call), &p->count, err) < 0)
        return -1;
    /* RFC 9865 §3: the cursor is a SearchRequest attribute on POST /.search. */
    json_t *cursor = json_object_get(body, "cursor");
    if (cursor && !json_is_null(cursor) && !json_is_string(cursor))
        return err_set(err, ERR_INVALID_CURSOR, "cursor must be a string");
    p->cursor = cursor && json_is_string(cursor) ? json_string_value(cursor) : NULL;
    json_t *start = json_object_get(body, "startIndex");
    p->start_given = start && !json_is_null(start);
    clamp(p, call->settings->page_max);
    return 0;
}

/* Entra sometimes URL-encodes filter values twice (IDP-QUIRKS.md 17): a filter that still
 * holds %20 or %22 and no blank after one decoding is decoded once more. */
static const char *
undo_double_encoding(struct api_call *call, const char *f)
{
    if (strchr(f, ' ') || !(strstr(f, "%20") || strstr(f, "%22")))
        return f;
    size_t n = strlen(f);
    char *out = arena_alloc(call->arena, n + 1, NULL);
    if (out == NULL)
        return f;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (f[i] == '%' && i + 2 < n + 1 && (hi = str_hex_value(f[i + 1])) >= 0 &&
            (lo = str_hex_value(f[i + 2])) >= 0 && (hi || lo)) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = f[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* The ListResponse of one page. next_cursor is NULL for index paging (startIndex is then
 * given), "" for the last page of cursor paging, else the cursor of the next page: RFC 9865
 * §2 (Table 2) omits nextCursor only on the last page, and a cursor page has no
 * startIndex. */
static int
reply_page(struct api_call *call, const struct scim_resource_type *rt,
           const struct scim_derived *derived, const struct scim_list_params *p,
           const struct store_list_result *res, const char *next_cursor, struct err *err)
{
    struct buf b;
    buf_init(&b, 256 * 1024 * 1024);
    int rc = buf_printf(&b, err, "{\"schemas\":[\"" SCIM_URN_LIST "\"],\"totalResults\":%lld,",
                        (long long)res->total);
    if (rc == 0)
        rc = next_cursor == NULL
                 ? buf_printf(&b, err, "\"startIndex\":%lld,", (long long)p->start_index)
             : next_cursor[0] ? buf_printf(&b, err, "\"nextCursor\":\"%s\",", next_cursor)
                              : 0;
    if (rc == 0)
        rc = buf_printf(&b, err, "\"itemsPerPage\":%zu,\"Resources\":[", res->n);
    /* A derived attribute the page wants is read once for all its rows when it can be. */
    json_t **values = NULL;
    if (rc == 0 && derived && derived->load_page && res->n &&
        scim_project_wants(rt, p->attributes, p->excluded, derived->name)) {
        values = xcalloc(res->n, sizeof(*values));
        rc = derived->load_page(call, res->rows, res->n, values, err);
    }
    for (size_t i = 0; rc == 0 && i < res->n; i++) {
        if (i && (rc = buf_append_cstr(&b, ",", err)) < 0)
            break;
        rc = values ? scim_render_row_loaded(&b, call, rt, &res->rows[i], derived, values[i],
                                             p->attributes, p->excluded, err)
                    : scim_render_row(&b, call, rt, &res->rows[i], derived, p->attributes,
                                      p->excluded, err);
    }
    for (size_t i = 0; values && i < res->n; i++)
        json_decref(values[i]);
    free(values);
    if (rc == 0)
        rc = buf_append_cstr(&b, "]}", err);
    if (rc == 0)
        api_reply_text(call, 200, api_json_type(call), b.data);
    buf_cleanup(&b);
    return rc;
}

/* Cursor paging (RFC 9865): checks the request, sets q's page size and position, and *cur
 * to the cursor the next page will carry (all but its position and time). */
static int
cursor_start(struct api_call *call, const struct scim_kind *k, const struct scim_list_params *p,
             const char *role, struct store_list_query *q, struct scim_cursor *cur, struct err *err)
{
    const struct api_settings *set = call->settings;
    /* RFC 9865 §2.4: startIndex asks for index paging, cursor for cursor paging; both at
     * once ask for neither. */
    if (p->start_given)
        return err_set(err, ERR_INVALID_VALUE,
                       "cursor and startIndex cannot be used together: send cursor (empty for "
                       "the first page) or startIndex, not both");
    /* The position is a seq in the default order (docs/scim.md "Cursor paging"). */
    if (p->sort_by && p->sort_by[0])
        return err_set(err, ERR_INVALID_VALUE,
                       "sortBy cannot be used with cursor paging: cursor pages follow the "
                       "stable default order; use startIndex to page a sorted listing");
    if (set->cursor_key == NULL)
        return err_set(err, ERR_INVALID_CURSOR, "cursor paging is not available here");
    /* RFC 9865 §2, Table 1: a negative count is 0; Table 3: above maxPageSize is
     * invalidCount (index paging lowers it instead, RFC 7644 §3.4.2.4). */
    if (p->asked_count > set->page_max)
        return err_set(err, ERR_INVALID_COUNT, "count must be between 0 and %lld (maxPageSize)",
                       (long long)set->page_max);
    q->count = p->asked_count < 0 ? 0 : p->asked_count;
    q->start_index = 1;
    *cur = (struct scim_cursor){
        .tenant_id = call->tenant.id,
        .type = (int)k->type,
        .listing = scim_cursor_listing((int)k->type, p->filter, role),
        .count = q->count,
    };
    if (p->cursor[0] == '\0')
        return 0;
    struct scim_cursor got;
    if (scim_cursor_decode(set->cursor_key, p->cursor, clock_now_ms(), set->cursor_timeout_s * 1000,
                           &got, err) < 0)
        return -1;
    /* Another tenant's, another resource type's or another filter's cursor is refused
     * before anything is read. */
    if (got.tenant_id != cur->tenant_id || got.type != cur->type || got.listing != cur->listing)
        return err_set(err, ERR_INVALID_CURSOR,
                       "cursor belongs to another listing: send the same filter as the first "
                       "page, or an empty cursor to start again");
    /* RFC 9865 §2.1, Table 3: the count must be the initial query's. */
    if (got.count != cur->count)
        return err_set(err, ERR_INVALID_COUNT,
                       "count must be the same as on the first page of this listing (%lld)",
                       (long long)got.count);
    q->after_seq = got.seq;
    return 0;
}

/* True when list_reply's page is the user the token's statement read: scim_list_user_name,
 * the one place that decides, named it only for the first page of a `userName eq "…"`
 * listing, unsorted, by index, with room for a row (at most that one user). */
static bool
page_is_user_read(const struct api_call *call, const struct scim_kind *k)
{
    return api_call_read_user(call) && call->user_read.user_name && k->type == STORE_RTYPE_USER;
}

/* The page of that user: it, or nothing when the tenant has no such userName. */
static void
take_user_read(struct api_call *call, struct store_list_result *res)
{
    *res = (struct store_list_result){ 0 };
    if (!call->user_read.found)
        return;
    res->rows = xmalloc(sizeof(*res->rows));
    res->rows[0] = call->user_read.user;
    call->user_read.user = (struct store_resource){ 0 };
    res->n = 1;
    res->total = 1;
}

static int
list_reply(struct api_call *call, const struct scim_kind *k, const struct scim_list_params *p,
           struct err *err)
{
    const struct scim_resource_type *rt = k->rt;
    struct query_node *filter = NULL;
    struct query_path sort = { 0 };
    struct store_list_result res = { 0 };
    struct store_list_query q = {
        .tenant_id = call->tenant.id,
        .type = k->type,
        .start_index = p->start_index,
        .count = p->count,
        .reader = call->token.id[0] ? call->token.id : NULL,
    };
    if (scim_project_check(rt, p->attributes, p->excluded, err) < 0)
        return -1;
    /* The host application may list the users of one effective role (docs/api.md). */
    const char *role =
        call->host && k->type == STORE_RTYPE_USER ? api_call_arg(call, "role") : NULL;
    if (role && (q.role = role_canonical(role)) == NULL)
        return err_set(err, ERR_INVALID_VALUE, "role \"%.100s\" is not a role of this service",
                       role);
    if (p->filter && p->filter[0]) {
        filter = query_filter_parse(call->arena, undo_double_encoding(call, p->filter), err);
        if (filter == NULL || query_resolve(filter, scim_schema_resolve, (void *)rt, err) < 0)
            return -1;
        q.filter = filter;
    }
    if (p->sort_by && p->sort_by[0]) {
        if (query_path_parse(call->arena, p->sort_by, &sort, err) < 0 ||
            query_path_resolve(&sort, scim_schema_resolve, (void *)rt, err) < 0 ||
            sort.filter != NULL) {
            return err_set(err, ERR_INVALID_VALUE, "sortBy \"%.100s\" is not an attribute",
                           p->sort_by);
        }
        q.sort = &sort;
    }
    if (p->sort_order && p->sort_order[0]) {
        if (cstr_ieq(p->sort_order, "descending"))
            q.descending = true;
        else if (!cstr_ieq(p->sort_order, "ascending"))
            return err_set(err, ERR_INVALID_VALUE,
                           "sortOrder must be \"ascending\" or \"descending\"");
    }
    struct scim_cursor cur = { 0 };
    if (p->cursor && cursor_start(call, k, p, q.role, &q, &cur, err) < 0)
        return -1;
    if (page_is_user_read(call, k))
        take_user_read(call, &res);
    else if (directory_list(call->store, &q, &res, err) < 0)
        return -1;
    /* RFC 9865 §2, Table 2: nextCursor on every page but the last. */
    char next[SCIM_CURSOR_TEXT] = "";
    if (p->cursor && res.more && res.n > 0) {
        cur.seq = res.last_seq;
        cur.issued_ms = clock_now_ms();
        scim_cursor_encode(call->settings->cursor_key, &cur, next);
    }
    int rc = reply_page(call, rt, k->derived, p, &res, p->cursor ? next : NULL, err);
    store_list_result_cleanup(&res);
    return rc;
}

const char *
scim_list_user_name(struct api_call *call)
{
    struct scim_list_params p;
    struct err ignored;
    /* Anything else, or anything wrong (answered by list_reply after the token), reads
     * nothing with the token. */
    if (params_from_query(call, &p, &ignored) < 0 || p.filter == NULL || p.cursor ||
        (p.sort_by && p.sort_by[0]) || p.start_index != 1 || p.count < 1)
        return NULL;
    struct query_node *f =
        query_filter_parse(call->arena, undo_double_encoding(call, p.filter), &ignored);
    if (f == NULL || query_resolve(f, scim_schema_resolve, &scim_rt_user, &ignored) < 0 ||
        f->kind != QUERY_EQ || f->value.type != QUERY_VAL_STRING || f->path.ext_urn ||
        f->path.sub_info || f->path.attr_info == NULL ||
        strcmp(f->path.attr_info->name, "userName") != 0)
        return NULL;
    return f->value.string;
}

int
scim_list_get(struct api_call *call, const struct scim_kind *k, struct err *err)
{
    struct scim_list_params p;
    if (params_from_query(call, &p, err) < 0 || list_reply(call, k, &p, err) < 0)
        return -1;
    /* Never kept: a cursor page (its signed cursor expires), and a later startIndex page,
     * which continues where this process remembers the page before it ended (store/list.c):
     * that memory changes with reads, not commits. */
    call->cacheable = p.cursor == NULL && p.start_index <= 1;
    return 0;
}

int
scim_list_search(struct api_call *call, const struct scim_kind *k, struct err *err)
{
    struct scim_list_params p;
    json_t *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    int rc = params_from_body(call, body, &p, err);
    if (rc == 0)
        rc = list_reply(call, k, &p, err);
    json_decref(body);
    return rc;
}

/* One `attr eq "value"` match among the tenant's users: 0 and its id, ERR_NOT_FOUND for none,
 * ERR_CONFLICT for several (externalId is not unique). */
static int
find_by(struct api_call *call, int64_t tenant_id, const char *attr, const char *value, char id[37],
        struct err *err)
{
    json_t *quoted = json_string(value);
    char *text = quoted ? json_dumps(quoted, JSON_ENCODE_ANY) : NULL;
    json_decref(quoted);
    if (text == NULL)
        return err_set(err, ERR_INVALID_VALUE, "a user reference must be UTF-8 text");
    struct buf f;
    buf_init(&f, LIMIT_FILTER_BYTES);
    int rc = buf_printf(&f, err, "%s eq %s", attr, text);
    free(text);
    struct query_node *filter = rc == 0 ? query_filter_parse(call->arena, f.data, err) : NULL;
    buf_cleanup(&f);
    if (filter == NULL ||
        query_resolve(filter, scim_schema_resolve, (void *)&scim_rt_user, err) < 0)
        return -1;
    struct store_list_result res = { 0 };
    const struct store_list_query q = { .tenant_id = tenant_id,
                                        .type = STORE_RTYPE_USER,
                                        .filter = filter,
                                        .start_index = 1,
                                        .count = 2 };
    if (directory_list(call->store, &q, &res, err) < 0)
        return -1;
    if (res.n == 1)
        str_copy(id, 37, res.rows[0].id);
    rc = res.n == 1 ? 0
         : res.n == 0
             ? err_set(err, ERR_NOT_FOUND, "no user with %s \"%.100s\"", attr, value)
             : err_set(err, ERR_CONFLICT, "%s \"%.100s\" names more than one user", attr, value);
    store_list_result_cleanup(&res);
    return rc;
}

int
scim_users_find(struct api_call *call, int64_t tenant_id, const char *ref, char id[37],
                struct err *err)
{
    struct store_resource r;
    if (ref == NULL || ref[0] == '\0' || strlen(ref) > LIMIT_USER_REF_BYTES)
        return err_set(err, ERR_NOT_FOUND, "no such user");
    if (directory_get(call->store, tenant_id, STORE_RTYPE_USER, ref, &r, err) == 0) {
        str_copy(id, 37, r.id);
        store_resource_cleanup(&r);
        return 0;
    }
    if (err->code != ERR_NOT_FOUND)
        return -1;
    if (find_by(call, tenant_id, "userName", ref, id, err) == 0)
        return 0;
    if (err->code != ERR_NOT_FOUND)
        return -1;
    return find_by(call, tenant_id, "externalId", ref, id, err);
}
