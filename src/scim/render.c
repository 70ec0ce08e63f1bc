#include "scim/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/str.h"
#include "core/directory.h"
#include "core/role.h"
#include "scim/project.h"

void
scim_etag(int64_t version, char *out, size_t size)
{
    snprintf(out, size, "W/\"%lld\"", (long long)version);
}

/* "meta" text. public_url is validated at start-up, and a tenant's publicUrl when set, to need
 * no JSON escaping. */
static int
append_meta(struct buf *out, const struct api_call *call, const struct scim_resource_type *rt,
            const struct store_resource *r, struct err *err)
{
    /* Pieces appended in order: this runs for every resource of every page. */
    char created[32], modified[32], version[24];
    clock_format_ms(r->created_ms, created);
    clock_format_ms(r->modified_ms, modified);
    snprintf(version, sizeof(version), "%lld", (long long)r->version);
    const char *parts[] = { "\"meta\":{\"resourceType\":\"",
                            rt->name,
                            "\",\"created\":\"",
                            created,
                            "\",\"lastModified\":\"",
                            modified,
                            "\",\"location\":\"",
                            api_tenant_url(call->settings, &call->tenant),
                            "/scim/v2",
                            rt->endpoint,
                            "/",
                            r->id,
                            "\",\"version\":\"W/\\\"",
                            version,
                            "\\\"\"}" };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (buf_append_cstr(out, parts[i], err) < 0)
            return -1;
    return 0;
}

int
scim_render_append_with(struct buf *out, const struct api_call *call,
                        const struct scim_resource_type *rt, const struct store_resource *r,
                        const char *name, const json_t *value, struct err *err)
{
    const char *doc = r->doc ? r->doc : "{}";
    size_t len = strlen(doc);
    if (len < 2 || doc[0] != '{')
        return err_set(err, ERR_INTERNAL, "stored document of %s is not an object", r->id);
    if (buf_append_cstr(out, "{\"id\":\"", err) < 0 || buf_append_cstr(out, r->id, err) < 0 ||
        buf_append_cstr(out, "\",", err) < 0 || append_meta(out, call, rt, r, err) < 0)
        return -1;
    if (value) {
        char *text = json_dumps(value, JSON_COMPACT);
        int rc = text ? buf_printf(out, err, ",\"%s\":%s", name, text)
                      : err_set(err, ERR_INTERNAL, "cannot render %s", name);
        free(text);
        if (rc < 0)
            return -1;
    }
    if (len > 2 && buf_append_cstr(out, ",", err) < 0)
        return -1;
    return buf_append(out, doc + 1, len - 1, err);
}

int
scim_render_append(struct buf *out, const struct api_call *call,
                   const struct scim_resource_type *rt, const struct store_resource *r,
                   struct err *err)
{
    return scim_render_append_with(out, call, rt, r, NULL, NULL, err);
}

json_t *
scim_render_json(const struct api_call *call, const struct scim_resource_type *rt,
                 const struct store_resource *r, struct err *err)
{
    struct buf b;
    buf_init(&b, 64 * 1024 * 1024);
    if (scim_render_append(&b, call, rt, r, err) < 0) {
        buf_cleanup(&b);
        return NULL;
    }
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    buf_cleanup(&b);
    if (j == NULL)
        err_set(err, ERR_INTERNAL, "stored document of %s does not parse", r->id);
    return j;
}

int
scim_render_row(struct buf *out, const struct api_call *call, const struct scim_resource_type *rt,
                const struct store_resource *r, const struct scim_derived *derived,
                const char *attributes, const char *excluded, struct err *err)
{
    json_t *value = NULL;
    if (derived && scim_project_wants(rt, attributes, excluded, derived->name) &&
        derived->load(call, r, &value, err) < 0)
        return -1;
    int rc = scim_render_row_loaded(out, call, rt, r, derived, value, attributes, excluded, err);
    json_decref(value);
    return rc;
}

/* The host application's view of a user (docs/api.md, "Users"): its effective role and where
 * that comes from, in the role extension beside the role set on the user. Read here, not
 * stored in the document: a group's membership moves it without writing the user. */
static int
add_host_role(const struct api_call *call, const struct store_resource *r, json_t *doc,
              struct err *err)
{
    struct store_user_role role;
    const char *urn = role_schema();
    if (role_catalogue_current()->n == 0) /* no roles: no role extension either */
        return 0;
    if (role_of_user(call->store, call->tenant.id, r->id, &role, err) < 0) {
        if (err->code != ERR_NOT_FOUND)
            return -1;
        role = call->removed_role; /* removed under the remove policy (empty otherwise) */
        err_clear(err);
    }
    json_t *ext = json_object_get(doc, urn);
    if (!json_is_object(ext)) {
        ext = json_object();
        json_object_set_new(doc, urn, ext);
        json_t *schemas = json_object_get(doc, "schemas");
        if (json_is_array(schemas))
            json_array_append_new(schemas, json_string(urn));
    }
    json_object_set_new(ext, "effectiveRole", role.role[0] ? json_string(role.role) : json_null());
    json_object_set_new(ext, "roleSource", role.role[0] ? json_string(role.source) : json_null());
    return 0;
}

int
scim_render_row_loaded(struct buf *out, const struct api_call *call,
                       const struct scim_resource_type *rt, const struct store_resource *r,
                       const struct scim_derived *derived, json_t *value, const char *attributes,
                       const char *excluded, struct err *err)
{
    bool project = (attributes && attributes[0]) || (excluded && excluded[0]);
    bool host_user = call->host && rt == &scim_rt_user;
    int rc = -1;
    if (!project && !host_user)
        return scim_render_append_with(out, call, rt, r, derived ? derived->name : NULL, value,
                                       err);
    json_t *full = scim_render_json(call, rt, r, err);
    if (full && value)
        json_object_set(full, derived->name, value);
    json_t *p =
        full ? (project ? scim_project(rt, full, attributes, excluded, err) : json_incref(full))
             : NULL;
    if (p && host_user && add_host_role(call, r, p, err) < 0) {
        json_decref(p);
        p = NULL;
    }
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    if (text)
        rc = buf_append_cstr(out, text, err);
    else if (p)
        err_set(err, ERR_INTERNAL, "cannot render %s", r->id);
    free(text);
    json_decref(p);
    json_decref(full);
    return rc;
}

int
scim_reply_resource(struct api_call *call, int status, const struct scim_resource_type *rt,
                    const struct store_resource *r, const struct scim_derived *derived,
                    bool location, const char *attributes, const char *excluded, struct err *err)
{
    if (attributes == NULL)
        attributes = api_call_arg(call, "attributes");
    if (excluded == NULL)
        excluded = api_call_arg(call, "excludedAttributes");
    if (scim_project_check(rt, attributes, excluded, err) < 0)
        return -1;
    scim_etag(r->version, call->etag, sizeof(call->etag));
    if (location)
        snprintf(call->location, sizeof(call->location), "%s/scim/v2%s/%s",
                 api_tenant_url(call->settings, &call->tenant), rt->endpoint, r->id);
    struct buf b;
    buf_init(&b, 64 * 1024 * 1024);
    if (scim_render_row(&b, call, rt, r, derived, attributes, excluded, err) < 0) {
        buf_cleanup(&b);
        return -1;
    }
    api_reply_text(call, status, api_json_type(call), b.data);
    buf_cleanup(&b);
    return 0;
}

/* Reads the version out of an entity tag: W/"12", "12" → 12. */
static bool
etag_version(const char *tag, size_t len, int64_t *out)
{
    struct str s = { tag, len };
    struct err ignored;
    if (s.len >= 2 && s.ptr[0] == 'W' && s.ptr[1] == '/') {
        s.ptr += 2;
        s.len -= 2;
    }
    if (s.len < 2 || s.ptr[0] != '"' || s.ptr[s.len - 1] != '"')
        return false;
    s.ptr++;
    s.len -= 2;
    return str_to_i64(s, 0, INT64_MAX, out, "version", &ignored) == 0;
}

/* True when the list of tags has "*" or the tag of version. */
static bool
tags_match(const char *list, int64_t version)
{
    char tag[32];
    snprintf(tag, sizeof(tag), "\"%lld\"", (long long)version);
    return api_etag_listed(list, tag);
}

/* True for a list that is "*" alone (any current version). */
static bool
only_star(const char *list)
{
    while (*list == ' ' || *list == '\t')
        list++;
    if (*list++ != '*')
        return false;
    while (*list == ' ' || *list == '\t')
        list++;
    return *list == '\0';
}

/* RFC 9110 §13.1.1: If-Match holds when absent, "*" (the resource exists) or naming the
 * version. *given says whether a version was demanded ("*" demands none, so a write that
 * loses a race is retried as without If-Match). */
static int
check_if_match(const struct api_call *call, int64_t version, bool *given, struct err *err)
{
    bool present = call->if_match != NULL && call->if_match[0] != '\0';
    *given = present && !only_star(call->if_match);
    if (!present || tags_match(call->if_match, version))
        return 0;
    return err_set(err, ERR_PRECONDITION, "If-Match does not match the current version W/\"%lld\"",
                   (long long)version);
}

/* RFC 9110 §13.1.2: If-None-Match fails when it is "*" or names the version. */
static bool
if_none_match_fails(const struct api_call *call, int64_t version)
{
    return call->if_none_match && call->if_none_match[0] != '\0' &&
           tags_match(call->if_none_match, version);
}

int
scim_check_write(const struct api_call *call, int64_t version, bool *given, struct err *err)
{
    if (check_if_match(call, version, given, err) < 0)
        return -1;
    if (if_none_match_fails(call, version))
        return err_set(err, ERR_PRECONDITION,
                       "If-None-Match matches the current version W/\"%lld\"", (long long)version);
    return 0;
}

int
scim_get_reply(struct api_call *call, const struct scim_kind *k, struct err *err)
{
    struct store_resource r;
    if (api_call_read_user(call) && k->type == STORE_RTYPE_USER) {
        /* Read with the token (api_auth_bearer): r takes over the row. */
        if (!call->user_read.found)
            return err_set(err, ERR_NOT_FOUND, "resource %s not found", call->params[0]);
        r = call->user_read.user;
        call->user_read.user = (struct store_resource){ 0 };
    } else if (directory_get(call->store, call->tenant.id, k->type, call->params[0], &r, err) < 0) {
        return -1;
    }
    /* RFC 9110 §13.2.2: If-Match first (412: the method is not performed), then
     * If-None-Match (304 for a GET). */
    bool given;
    int rc = check_if_match(call, r.version, &given, err);
    if (rc < 0) {
        store_resource_cleanup(&r);
        return -1;
    }
    if (if_none_match_fails(call, r.version)) {
        api_reply_empty(call, 304);
        scim_etag(r.version, call->etag, sizeof(call->etag));
    } else {
        rc = scim_reply_resource(call, 200, k->rt, &r, k->derived, false, NULL, NULL, err);
        call->cacheable = rc == 0;
    }
    store_resource_cleanup(&r);
    return rc;
}

/* DELETE with If-Match alone: each listed version is handed to the store, whose delete
 * compares it in the same statement. */
static int
delete_if_match(struct api_call *call, scim_delete_fn del, struct err *err)
{
    const char *p = call->if_match;
    if (p == NULL || p[0] == '\0')
        return del(call->store, call->tenant.id, call->actor, call->params[0], -1, err);
    int rc = err_set(err, ERR_PRECONDITION, "If-Match names no current version");
    const char *t;
    size_t n;
    for (int i = 0; i < 64 && api_etag_next(&p, &t, &n); i++) {
        int64_t v = -2;
        if (n == 1 && t[0] == '*')
            v = -1;
        else if (!etag_version(t, n, &v))
            v = -2;
        if (v >= -1) {
            rc = del(call->store, call->tenant.id, call->actor, call->params[0], v, err);
            if (rc == 0 || err->code != ERR_PRECONDITION)
                break;
        }
    }
    return rc;
}

/* DELETE with If-None-Match: which versions it excludes is known only by reading, so read,
 * check both conditions against the version read, and delete that version only (the store
 * compares it in the delete statement): a writer in between makes the delete fail, and the
 * conditions are checked again against the new version, as update_user does. */
static int
delete_checked(struct api_call *call, enum store_rtype type, scim_delete_fn del, struct err *err)
{
    int rc = -1;
    bool given;
    for (int attempt = 0; attempt < SCIM_WRITE_ATTEMPTS; attempt++) {
        scim_write_retry_pause(attempt);
        struct store_resource r;
        if (directory_get(call->store, call->tenant.id, type, call->params[0], &r, err) < 0)
            return -1;
        int64_t version = r.version;
        store_resource_cleanup(&r);
        if (scim_check_write(call, version, &given, err) < 0)
            return -1;
        rc = del(call->store, call->tenant.id, call->actor, call->params[0], version, err);
        if (rc == 0 || err->code != ERR_PRECONDITION || given)
            break;
    }
    return rc;
}

int
scim_delete_resource(struct api_call *call, enum store_rtype type, scim_delete_fn del,
                     struct err *err)
{
    if (scim_check_writable(call, err) < 0)
        return -1;
    int rc = call->if_none_match && call->if_none_match[0] != '\0'
                 ? delete_checked(call, type, del, err)
                 : delete_if_match(call, del, err);
    if (rc < 0)
        return -1;
    api_reply_empty(call, 204);
    return 0;
}

void
scim_write_retry_pause(int attempt)
{
    if (attempt <= 0)
        return;
    unsigned char r[2];
    struct err ignored;
    unsigned max_ms = 1u << (attempt < 6 ? attempt : 6);
    unsigned ms = crypto_random(r, sizeof(r), &ignored) == 0 ? (r[0] | r[1] << 8) % max_ms : 1;
    struct timespec ts = { 0, (long)(ms + 1) * 1000000L };
    nanosleep(&ts, NULL);
}

int
scim_check_writable(const struct api_call *call, struct err *err)
{
    if (call->tenant.mode != STORE_MODE_IMPORT_ONLY || call->host)
        return 0;
    return err_set(err, ERR_FORBIDDEN,
                   "tenant \"%s\" is import-only: the application owns its users, so SCIM "
                   "clients may only read",
                   call->tenant.slug);
}
