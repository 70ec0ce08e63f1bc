/* POST /Bulk (RFC 7644 §3.7): the BulkRequest parser and planner, and the handler that runs
 * each operation through the same handler a single request reaches (scim/users.c,
 * scim/groups.c), so validation, import-only refusals, roles, audit events and webhooks see
 * every operation as they see a single request, each in its own transaction. */
#include "scim/bulk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "scim/resource.h"
#include "scim/scim.h"

struct scim_bulk_key {
    const char *id; /* without the prefix; borrowed from the body */
    size_t op;
    bool twice; /* another operation defines the same bulkId */
};

const char *
scim_bulk_method_name(enum scim_bulk_method m)
{
    switch (m) {
    case SCIM_BULK_POST:
        return "POST";
    case SCIM_BULK_PUT:
        return "PUT";
    case SCIM_BULK_PATCH:
        return "PATCH";
    case SCIM_BULK_DELETE:
        return "DELETE";
    case SCIM_BULK_NONE:
        break;
    }
    return NULL;
}

/* Refuses operation o with code and a printf-style detail; the first refusal stays. */
static void __attribute__((format(printf, 3, 4)))
refuse(struct scim_bulk_op *o, enum err_code code, const char *fmt, ...)
{
    if (o->code != ERR_OK)
        return;
    struct err e;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
    va_end(ap);
    o->code = code;
    o->detail = xstrdup(e.detail);
}

static bool
has_urn(const json_t *schemas, const char *urn)
{
    size_t i;
    json_t *v;
    if (!json_is_array(schemas))
        return false;
    json_array_foreach(schemas, i, v) {
        if (json_is_string(v) && cstr_ieq(json_string_value(v), urn))
            return true;
    }
    return false;
}

static enum scim_bulk_method
method_of(const char *m)
{
    if (m == NULL)
        return SCIM_BULK_NONE;
    if (cstr_ieq(m, "POST"))
        return SCIM_BULK_POST;
    if (cstr_ieq(m, "PUT"))
        return SCIM_BULK_PUT;
    if (cstr_ieq(m, "PATCH"))
        return SCIM_BULK_PATCH;
    if (cstr_ieq(m, "DELETE"))
        return SCIM_BULK_DELETE;
    return SCIM_BULK_NONE;
}

/* "/Users", "/Groups" for POST; "/Users/{id}", "/Groups/{id}" for the others (RFC 7644
 * §3.7: the path is relative to the service provider's base URI). */
static void
parse_path(struct scim_bulk_op *o, const char *path)
{
    const char *rest;
    if (path == NULL) {
        refuse(o, ERR_INVALID_SYNTAX, "operation needs a \"path\"");
        return;
    }
    if (strncmp(path, "/Users", 6) == 0) {
        rest = path + 6;
    } else if (strncmp(path, "/Groups", 7) == 0) {
        rest = path + 7;
        o->group = true;
    } else {
        refuse(o, ERR_INVALID_VALUE, "path must be /Users or /Groups, or one resource below them");
        return;
    }
    if (o->method == SCIM_BULK_POST) {
        if (rest[0] != '\0')
            refuse(o, ERR_INVALID_VALUE, "a POST path names a resource type: /Users or /Groups");
        return;
    }
    if (rest[0] != '/' || rest[1] == '\0' || strchr(rest + 1, '/') || strchr(rest + 1, '?') ||
        strlen(rest + 1) > LIMIT_USER_REF_BYTES) {
        refuse(o, ERR_INVALID_VALUE, "a %s path names one resource: /Users/{id} or /Groups/{id}",
               scim_bulk_method_name(o->method));
        return;
    }
    o->id = rest + 1;
}

static void
parse_op(struct scim_bulk_op *o, const json_t *j)
{
    if (!json_is_object(j)) {
        refuse(o, ERR_INVALID_SYNTAX, "an operation must be an object");
        return;
    }
    json_t *m = json_object_get(j, "method");
    o->method = method_of(json_string_value(m));
    if (o->method == SCIM_BULK_NONE) {
        refuse(o, ERR_INVALID_VALUE, "method must be POST, PUT, PATCH or DELETE");
        return;
    }
    json_t *bid = json_object_get(j, "bulkId");
    if (bid && !json_is_null(bid)) {
        size_t len = json_string_length(bid);
        if (!json_is_string(bid) || len == 0 || len > LIMIT_BULK_ID_BYTES ||
            strlen(json_string_value(bid)) != len)
            refuse(o, ERR_INVALID_VALUE, "bulkId must be a string of 1 to %d bytes",
                   LIMIT_BULK_ID_BYTES);
        else
            o->bulk_id = json_string_value(bid);
    }
    json_t *path = json_object_get(j, "path");
    if (path && !json_is_string(path))
        refuse(o, ERR_INVALID_SYNTAX, "path must be a string");
    else
        parse_path(o, json_string_value(path));
    /* RFC 7644 §3.7: bulkId is REQUIRED with POST, so the response can say what was made. */
    if (o->method == SCIM_BULK_POST && o->bulk_id == NULL)
        refuse(o, ERR_INVALID_SYNTAX, "a POST operation needs a bulkId");
    json_t *v = json_object_get(j, "version");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v))
            refuse(o, ERR_INVALID_SYNTAX, "version must be a string (an ETag)");
        else
            o->version = json_string_value(v);
    }
    if (o->method != SCIM_BULK_DELETE) {
        json_t *d = json_object_get(j, "data");
        if (!json_is_object(d))
            refuse(o, ERR_INVALID_SYNTAX, "a %s operation needs \"data\", an object",
                   scim_bulk_method_name(o->method));
        else
            o->data = d;
    }
}

static int
key_cmp(const void *a, const void *b)
{
    const struct scim_bulk_key *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->op > y->op) - (x->op < y->op);
}

long
scim_bulk_find(const struct scim_bulk *b, const char *ref)
{
    size_t lo = 0, hi = b->n_keys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(b->keys[mid].id, ref) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == b->n_keys || strcmp(b->keys[lo].id, ref) != 0 || b->keys[lo].twice)
        return -1;
    return (long)b->keys[lo].op;
}

/* Sorts the bulkIds; every operation defining one that another also defines is refused. */
static void
index_keys(struct scim_bulk *b)
{
    b->keys = xcalloc(b->n ? b->n : 1, sizeof(*b->keys));
    for (size_t i = 0; i < b->n; i++)
        if (b->ops[i].bulk_id)
            b->keys[b->n_keys++] = (struct scim_bulk_key){ b->ops[i].bulk_id, i, false };
    qsort(b->keys, b->n_keys, sizeof(*b->keys), key_cmp);
    for (size_t i = 1; i < b->n_keys; i++) {
        if (strcmp(b->keys[i - 1].id, b->keys[i].id) == 0)
            b->keys[i - 1].twice = b->keys[i].twice = true;
    }
    for (size_t i = 0; i < b->n_keys; i++)
        if (b->keys[i].twice)
            refuse(&b->ops[b->keys[i].op], ERR_INVALID_VALUE,
                   "bulkId \"%.64s\" is defined by more than one operation", b->keys[i].id);
}

/* Records a reference from operation o (index self) to the bulkId in s ("bulkId:…"). */
static void
add_ref(struct scim_bulk *b, size_t self, const char *s, size_t *cap)
{
    struct scim_bulk_op *o = &b->ops[self];
    const char *ref = s + strlen(SCIM_BULK_REF);
    long k = scim_bulk_find(b, ref);
    if (k < 0) {
        refuse(o, ERR_INVALID_VALUE, "bulkId \"%.64s\" is not defined by exactly one operation",
               ref);
        return;
    }
    for (size_t i = 0; i < o->n_deps; i++)
        if (o->deps[i] == (size_t)k)
            return;
    if (o->n_deps == *cap)
        o->deps = xgrow(o->deps, cap, 4, sizeof(*o->deps));
    o->deps[o->n_deps++] = (size_t)k;
}

static bool
is_ref(const char *s)
{
    return s && strncmp(s, SCIM_BULK_REF, strlen(SCIM_BULK_REF)) == 0;
}

/* Every string value of j that is a reference; depth is bounded by the body's depth check. */
static void
collect_refs(struct scim_bulk *b, size_t self, const json_t *j, size_t *cap)
{
    if (json_is_string(j)) {
        if (is_ref(json_string_value(j)))
            add_ref(b, self, json_string_value(j), cap);
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            collect_refs(b, self, v, cap);
        }
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            collect_refs(b, self, v, cap);
        }
    }
}

enum mark {
    UNSEEN,
    ON_PATH,
    DONE
};

/* Appends op `root` and everything it depends on to b->order, dependencies first (a depth-first
 * walk with its own stack: a chain of references may be as long as the request). Members of a
 * circle are refused with ERR_CONFLICT (RFC 7644 §3.7.1). */
static void
plan_from(struct scim_bulk *b, size_t root, enum mark *mark, size_t *stack, size_t *next,
          size_t *n_order)
{
    size_t top = 0;
    stack[top] = root;
    next[top] = 0;
    mark[root] = ON_PATH;
    top++;
    while (top > 0) {
        size_t cur = stack[top - 1];
        struct scim_bulk_op *o = &b->ops[cur];
        if (next[top - 1] < o->n_deps) {
            size_t d = o->deps[next[top - 1]++];
            if (mark[d] == UNSEEN) {
                mark[d] = ON_PATH;
                stack[top] = d;
                next[top] = 0;
                top++;
            } else if (mark[d] == ON_PATH) {
                for (size_t i = top; i-- > 0;) {
                    refuse(&b->ops[stack[i]], ERR_CONFLICT,
                           "circular bulkId references: this operation depends on itself");
                    if (stack[i] == d)
                        break;
                }
            }
            continue;
        }
        mark[cur] = DONE;
        b->order[(*n_order)++] = cur;
        top--;
    }
}

int
scim_bulk_parse(const json_t *body, int64_t max_ops, struct scim_bulk *b, struct err *err)
{
    *b = (struct scim_bulk){ 0 };
    if (!json_is_object(body))
        return err_set(err, ERR_INVALID_SYNTAX, "a BulkRequest is a JSON object");
    /* Operations[i].data holds a resource or a PatchOp: three levels above its own limit. */
    if (scim_json_depth_check(body, LIMIT_JSON_DEPTH + 3, err) < 0)
        return -1;
    if (!has_urn(json_object_get(body, "schemas"), SCIM_URN_BULK_REQUEST))
        return err_set(err, ERR_INVALID_SYNTAX, "schemas must hold \"%s\"", SCIM_URN_BULK_REQUEST);
    json_t *ops = json_object_get(body, "Operations");
    if (!json_is_array(ops))
        return err_set(err, ERR_INVALID_SYNTAX, "Operations must be an array");
    /* RFC 7644 §3.7.4: more operations than maxOperations is 413, naming the limit. */
    if ((int64_t)json_array_size(ops) > max_ops)
        return err_set(err, ERR_TOO_LARGE,
                       "the bulk request has %zu operations; maxOperations is %lld",
                       json_array_size(ops), (long long)max_ops);
    json_t *foe = json_object_get(body, "failOnErrors");
    if (foe && !json_is_null(foe)) {
        if (!json_is_integer(foe) || json_integer_value(foe) < 1)
            return err_set(err, ERR_INVALID_VALUE, "failOnErrors must be an integer of at least 1");
        b->fail_on_errors = json_integer_value(foe);
    }
    b->n = json_array_size(ops);
    b->ops = xcalloc(b->n ? b->n : 1, sizeof(*b->ops));
    b->order = xcalloc(b->n ? b->n : 1, sizeof(*b->order));
    for (size_t i = 0; i < b->n; i++)
        parse_op(&b->ops[i], json_array_get(ops, i));
    index_keys(b);
    for (size_t i = 0; i < b->n; i++) {
        struct scim_bulk_op *o = &b->ops[i];
        size_t cap = 0;
        if (o->code != ERR_OK)
            continue;
        if (is_ref(o->id))
            add_ref(b, i, o->id, &cap);
        collect_refs(b, i, o->data, &cap);
    }
    enum mark *mark = xcalloc(b->n ? b->n : 1, sizeof(*mark));
    size_t *stack = xcalloc(b->n ? b->n : 1, sizeof(*stack));
    size_t *next = xcalloc(b->n ? b->n : 1, sizeof(*next));
    size_t n_order = 0;
    for (size_t i = 0; i < b->n; i++)
        if (mark[i] == UNSEEN)
            plan_from(b, i, mark, stack, next, &n_order);
    free(mark);
    free(stack);
    free(next);
    return 0;
}

void
scim_bulk_cleanup(struct scim_bulk *b)
{
    for (size_t i = 0; b->ops && i < b->n; i++) {
        free(b->ops[i].detail);
        free(b->ops[i].deps);
    }
    free(b->ops);
    free(b->order);
    free(b->keys);
    *b = (struct scim_bulk){ 0 };
}

/* What the operations of one request share while they run. */
struct run {
    struct api_call *call;
    struct scim_bulk *b;
    struct store_tenant tenant; /* the call's, with group_count kept current */
    char (*ids)[64];            /* the resource id each successful operation acted on */
};

/* The error entry of an operation that did not run, or whose handler failed. */
static json_t *
error_response(struct run *r, const struct err *e)
{
    struct api_call c = { .style = API_STYLE_SCIM, .settings = r->call->settings };
    api_reply_error(&c, e);
    json_t *j = c.json;
    c.json = NULL;
    api_call_cleanup(&c);
    return j;
}

/* The id the operation named by reference s ("bulkId:…") acted on; NULL with err
 * (ERR_CONFLICT) when that operation failed or did not run. */
static const char *
ref_id(struct run *r, const char *s, struct err *err)
{
    const char *ref = s + strlen(SCIM_BULK_REF);
    long k = scim_bulk_find(r->b, ref);
    if (k < 0 || r->ids[k][0] == '\0') {
        err_set(err, ERR_CONFLICT,
                "bulkId \"%.64s\" names no resource: its operation failed or did not run", ref);
        return NULL;
    }
    return r->ids[k];
}

/* A copy of v with every reference replaced by the id its operation acted on; NULL with err
 * (ERR_CONFLICT) when that operation failed. */
static json_t *
resolve(struct run *r, const json_t *v, struct err *err)
{
    if (json_is_string(v) && is_ref(json_string_value(v))) {
        const char *id = ref_id(r, json_string_value(v), err);
        return id ? json_string(id) : NULL;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            json_t *x = resolve(r, e, err);
            if (x == NULL) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, x);
        }
        return out;
    }
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            json_t *x = resolve(r, e, err);
            if (x == NULL) {
                json_decref(out);
                return NULL;
            }
            json_object_set_new(out, k, x);
        }
        return out;
    }
    return json_deep_copy(v);
}

static api_handler_fn
handler_of(const struct scim_bulk_op *o)
{
    switch (o->method) {
    case SCIM_BULK_POST:
        return o->group ? scim_groups_post : scim_users_post;
    case SCIM_BULK_PUT:
        return o->group ? scim_groups_put : scim_users_put;
    case SCIM_BULK_PATCH:
        return o->group ? scim_groups_patch : scim_users_patch;
    case SCIM_BULK_DELETE:
        return o->group ? scim_groups_delete : scim_users_delete;
    case SCIM_BULK_NONE:
        break;
    }
    return NULL;
}

/* Runs operation i as the single request it stands for: a call with the bulk's credentials,
 * the resolved path and body, and "version" as If-Match. Fills *status and the response
 * entry's "location", "version" and, on failure, "response". */
static int
run_op(struct run *r, size_t i, json_t *entry, struct err *err)
{
    struct scim_bulk_op *o = &r->b->ops[i];
    const struct api_settings *set = r->call->settings;
    char id[LIMIT_USER_REF_BYTES + 1] = "";
    if (o->code != ERR_OK)
        return err_set(err, o->code, "%s", o->detail);
    if (o->id) {
        const char *target = is_ref(o->id) ? ref_id(r, o->id, err) : o->id;
        if (target == NULL)
            return -1;
        str_copy(id, sizeof(id), target);
    }
    char *body = NULL;
    if (o->data) {
        json_t *d = o->n_deps ? resolve(r, o->data, err) : json_incref((json_t *)o->data);
        if (d == NULL)
            return -1;
        body = json_dumps(d, JSON_COMPACT);
        json_decref(d);
    }
    struct arena *arena = arena_new(LIMIT_REQUEST_ARENA_BYTES);
    struct api_call c = {
        .method = scim_bulk_method_name(o->method),
        .path = r->call->path,
        .params = { id[0] ? id : NULL },
        /* Only the id is rendered: the bulk response carries no resource bodies, and a group's
         * members need not be read back. */
        .args = { { "attributes", "id" } },
        .n_args = 1,
        .content_type = "application/scim+json",
        .if_match = o->version,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .settings = set,
        .store = r->call->store,
        .arena = arena,
        .style = API_STYLE_SCIM,
        .authenticated = true,
        .tenant = r->tenant,
        .token = r->call->token,
        .host = r->call->host,
    };
    str_copy(c.actor, sizeof(c.actor), r->call->actor);
    int rc = handler_of(o)(&c, err);
    if (rc == 0) {
        if (o->method == SCIM_BULK_POST) {
            const char *slash = strrchr(c.location, '/');
            str_copy(id, sizeof(id), slash ? slash + 1 : "");
            if (o->group)
                r->tenant.group_count++;
        }
        str_copy(r->ids[i], sizeof(r->ids[i]), id);
        if (c.etag[0])
            json_object_set_new(entry, "version", json_string(c.etag));
        json_object_set_new(entry, "status", json_sprintf("%d", c.status));
    }
    if (id[0])
        json_object_set_new(
            entry, "location",
            json_sprintf("%s/scim/v2%s/%s", set->public_url, o->group ? "/Groups" : "/Users", id));
    api_call_cleanup(&c);
    arena_free(arena);
    free(body);
    return rc;
}

/* The response entry of operation i: run, or refused. Returns whether it failed. */
static bool
entry_of(struct run *r, size_t i, json_t **out)
{
    struct scim_bulk_op *o = &r->b->ops[i];
    struct err e = { 0 };
    json_t *entry = json_object();
    const char *m = scim_bulk_method_name(o->method);
    if (m)
        json_object_set_new(entry, "method", json_string(m));
    if (o->bulk_id)
        json_object_set_new(entry, "bulkId", json_string(o->bulk_id));
    bool failed = run_op(r, i, entry, &e) < 0;
    if (failed) {
        if (e.code == ERR_OK)
            err_set(&e, ERR_INTERNAL, NULL);
        /* As for a single request: the cause goes to the log, never to the client. */
        if (e.code == ERR_INTERNAL) {
            log_error("tenant=%s bulk operation %zu internal error: %s", r->tenant.slug, i,
                      e.detail);
            err_set(&e, ERR_INTERNAL, "internal error (bulk operation %zu)", i);
        }
        json_object_set_new(entry, "status", json_sprintf("%d", err_status(e.code)));
        json_object_set_new(entry, "response", error_response(r, &e));
    }
    *out = entry;
    return failed;
}

int
scim_bulk_post(struct api_call *call, struct err *err)
{
    struct scim_bulk b;
    /* RFC 7644 §3.7.4: a payload over maxPayloadSize is 413, naming the limit. */
    if ((int64_t)call->body_len > call->settings->bulk_max_payload)
        return err_set(err, ERR_TOO_LARGE, "the bulk request is %zu bytes; maxPayloadSize is %lld",
                       call->body_len, (long long)call->settings->bulk_max_payload);
    json_t *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    if (scim_bulk_parse(body, call->settings->bulk_max_ops, &b, err) < 0) {
        json_decref(body);
        return -1;
    }
    struct run r = { .call = call, .b = &b, .tenant = call->tenant };
    r.ids = xcalloc(b.n ? b.n : 1, sizeof(*r.ids));
    json_t **entries = xcalloc(b.n ? b.n : 1, sizeof(*entries));
    int64_t errors = 0;
    /* Operations run in plan order (references first); failOnErrors stops the run, and the
     * operations not run are absent from the response (RFC 7644 §3.7.3). */
    for (size_t k = 0; k < b.n; k++) {
        size_t i = b.order[k];
        if (entry_of(&r, i, &entries[i]))
            errors++;
        if (b.fail_on_errors && errors >= b.fail_on_errors)
            break;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < b.n; i++)
        if (entries[i])
            json_array_append_new(list, entries[i]);
    free(entries);
    free(r.ids);
    scim_bulk_cleanup(&b);
    json_decref(body);
    api_reply_json(
        call, 200,
        json_pack("{s:[s], s:o}", "schemas", SCIM_URN_BULK_RESPONSE, "Operations", list));
    return 0;
}
