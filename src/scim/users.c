/* /Users (RFC 7644 §3.3–§3.6): every handler of the User resource. */
#include "scim/scim.h"

#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/limits.h"
#include "base/xmalloc.h"
#include "core/group.h"
#include "core/user.h"
#include "scim/list.h"
#include "scim/patch.h"
#include "scim/render.h"
#include "scim/resource.h"

/* Hashes and wipes a password taken from a request; *hash stays NULL when there is none. */
static int
take_password(char **password, char hash[128], struct err *err)
{
    if (*password == NULL)
        return 0;
    int rc = crypto_password_hash(*password, hash, err);
    crypto_wipe(*password, strlen(*password));
    free(*password);
    *password = NULL;
    return rc;
}

/* RFC 7643 §4.1.2: "groups" is derived from membership rows and read-only; a response
 * carries only direct memberships (scimd has no nested groups). */
static json_t *
group_ref(const struct api_call *call, const char *id, const char *display)
{
    json_t *ref =
        json_sprintf("%s/scim/v2/Groups/%s", api_tenant_url(call->settings, &call->tenant), id);
    return json_pack("{s:s, s:o, s:s?, s:s}", "value", id, "$ref", ref, "display", display, "type",
                     "direct");
}

/* The "groups" value of n memberships (NULL for none). */
static json_t *
group_refs(const struct api_call *call, const struct store_member *v, size_t n)
{
    json_t *a = n ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *g = group_ref(call, v[i].id, v[i].display);
        if (g)
            json_array_append_new(a, g);
    }
    return a;
}

static int
load_groups(const struct api_call *call, const struct store_resource *r, json_t **out,
            struct err *err)
{
    struct store_member *v = NULL;
    size_t n = 0;
    *out = NULL;
    /* A tenant without groups has no memberships to read (the count came with the token). */
    if (call->tenant.group_count == 0)
        return 0;
    /* A GET by id read them with the token. */
    bool read =
        api_call_read_user(call) && call->user_read.id && strcmp(call->user_read.id, r->id) == 0;
    if (read) {
        v = call->user_read.groups;
        n = call->user_read.n_groups;
    } else if (user_groups_list(call->store, call->tenant.id, r->id, &v, &n, err) < 0) {
        return -1;
    }
    *out = group_refs(call, v, n);
    if (!read)
        group_members_free(v, n);
    return 0;
}

/* A page of users: one read for all their groups (an import's pages cost one query more,
 * not one per user). */
static int
load_groups_page(const struct api_call *call, const struct store_resource *rows, size_t n,
                 json_t **values, struct err *err)
{
    if (call->tenant.group_count == 0)
        return 0;
    /* A userName listing's page is the user read with the token, groups and all. */
    if (api_call_read_user(call) && call->user_read.user_name) {
        if (n == 1)
            values[0] = group_refs(call, call->user_read.groups, call->user_read.n_groups);
        return 0;
    }
    const char **ids = xmalloc(n * sizeof(*ids));
    for (size_t i = 0; i < n; i++)
        ids[i] = rows[i].id;
    struct store_membership *m = NULL;
    size_t n_m = 0;
    int rc = user_groups_of_many(call->store, call->tenant.id, ids, n, &m, &n_m, err);
    free(ids);
    /* Rows come in page order, memberships sorted by user id: find each row's first. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t lo = 0, hi = n_m;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(m[mid].member_id, rows[i].id) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < n_m && strcmp(m[k].member_id, rows[i].id) == 0; k++) {
            json_t *g = group_ref(call, m[k].group_id, m[k].display);
            if (values[i] == NULL)
                values[i] = json_array();
            if (g)
                json_array_append_new(values[i], g);
        }
    }
    user_memberships_free(m, n_m);
    return rc;
}

static const struct scim_derived user_groups = { "groups", load_groups, load_groups_page };
static const struct scim_kind user_kind = { &scim_rt_user, STORE_RTYPE_USER, &user_groups };

int
scim_users_list(struct api_call *call, struct err *err)
{
    return scim_list_get(call, &user_kind, err);
}

void
scim_users_read_with_token(struct api_call *call, api_handler_fn handler)
{
    if (handler == scim_users_get)
        call->user_read.id = call->params[0];
    else if (handler == scim_users_list)
        call->user_read.user_name = scim_list_user_name(call);
}

int
scim_users_search(struct api_call *call, struct err *err)
{
    return scim_list_search(call, &user_kind, err);
}

int
scim_users_get(struct api_call *call, struct err *err)
{
    return scim_get_reply(call, &user_kind, err);
}

int
scim_users_post(struct api_call *call, struct err *err)
{
    struct store_resource r;
    struct user_outcome outcome;
    char *password = NULL;
    char hash[128] = "";
    if (scim_check_writable(call, err) < 0)
        return -1;
    json_t *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    json_t *doc = scim_resource_normalize(&scim_rt_user, body, SCIM_WRITE_CREATE, &password, err);
    json_decref(body);
    if (doc == NULL)
        return -1;
    int rc = take_password(&password, hash, err);
    if (rc == 0)
        rc = user_create(call->store, &call->tenant, call->actor, doc, hash[0] ? hash : NULL, &r,
                         &outcome, err);
    json_decref(doc);
    crypto_wipe(hash, sizeof(hash));
    if (rc < 0)
        return -1;
    if (outcome.removed)
        call->removed_role = outcome.role;
    rc = scim_reply_resource(call, 201, &scim_rt_user, &r, &user_groups, true, NULL, NULL, err);
    store_resource_cleanup(&r);
    return rc;
}

/* Computes the next document of a user from the stored one. */
typedef json_t *(*next_doc_fn)(void *ctx, const json_t *old, char **password, struct err *err);

/* The read-modify-write shared by PUT and PATCH: read, check If-Match and If-None-Match
 * against the version read, compute, hash any password once, write with that version; retry
 * when another writer won. */
static int
update_user(struct api_call *call, next_doc_fn next, void *ctx, struct err *err)
{
    struct store_resource old = { 0 }, r = { 0 };
    char hash[128] = "";
    struct user_outcome outcome;
    bool hashed = false, given;
    int rc = -1;
    if (scim_check_writable(call, err) < 0)
        return -1;
    for (int attempt = 0; attempt < SCIM_WRITE_ATTEMPTS; attempt++) {
        scim_write_retry_pause(attempt);
        char *password = NULL;
        store_resource_cleanup(&old);
        if (user_get(call->store, call->tenant.id, call->params[0], &old, err) < 0 ||
            scim_check_write(call, old.version, &given, err) < 0)
            goto out;
        json_t *old_doc = json_loads(old.doc, 0, NULL);
        if (old_doc == NULL) {
            err_set(err, ERR_INTERNAL, "stored document of %s does not parse", old.id);
            goto out;
        }
        json_t *doc = next(ctx, old_doc, &password, err);
        json_decref(old_doc);
        if (doc == NULL)
            goto out;
        if (password && !hashed) {
            hashed = true;
            if (take_password(&password, hash, err) < 0) {
                json_decref(doc);
                goto out;
            }
        }
        if (password) {
            crypto_wipe(password, strlen(password));
            free(password);
        }
        rc = user_update(call->store, &call->tenant, call->actor, &old, doc, hashed ? hash : NULL,
                         &r, &outcome, err);
        json_decref(doc);
        if (rc == 0 || err->code != ERR_PRECONDITION || given)
            break;
    }
    if (rc < 0)
        goto out;
    if (outcome.removed)
        call->removed_role = outcome.role;
    rc = scim_reply_resource(call, 200, &scim_rt_user, &r, &user_groups, false, NULL, NULL, err);
out:
    crypto_wipe(hash, sizeof(hash));
    store_resource_cleanup(&old);
    store_resource_cleanup(&r);
    return rc;
}

struct put_ctx {
    json_t *doc; /* normalised body */
    char *password;
};

static json_t *
put_next(void *ctx, const json_t *old, char **password, struct err *err)
{
    struct put_ctx *p = ctx;
    if (scim_resource_check_immutable(&scim_rt_user, old, p->doc, err) < 0)
        return NULL;
    json_t *doc = json_deep_copy(p->doc);
    /* A PUT that omits "active" keeps the stored value: Okta's profile PUTs do not carry it
     * and must not deactivate anyone (IDP-QUIRKS.md 5). */
    json_t *active = json_object_get(old, "active");
    if (json_object_get(doc, "active") == NULL && active)
        json_object_set(doc, "active", active);
    if (p->password)
        *password = xstrdup(p->password);
    return doc;
}

int
scim_users_put(struct api_call *call, struct err *err)
{
    struct put_ctx ctx = { 0 };
    if (scim_check_writable(call, err) < 0)
        return -1;
    json_t *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    ctx.doc = scim_resource_normalize(&scim_rt_user, body, SCIM_WRITE_REPLACE, &ctx.password, err);
    json_decref(body);
    if (ctx.doc == NULL)
        return -1;
    int rc = update_user(call, put_next, &ctx, err);
    json_decref(ctx.doc);
    if (ctx.password) {
        crypto_wipe(ctx.password, strlen(ctx.password));
        free(ctx.password);
    }
    return rc;
}

struct patch_ctx {
    struct api_call *call;
    json_t *body;
};

static json_t *
patch_next(void *ctx, const json_t *old, char **password, struct err *err)
{
    struct patch_ctx *p = ctx;
    struct scim_patch_result res = { 0 };
    if (scim_patch_apply(&scim_rt_user, old, p->body, p->call->arena, &res, err) < 0)
        return NULL;
    json_t *doc = res.doc;
    res.doc = NULL;
    *password = res.password;
    res.password = NULL;
    scim_patch_result_cleanup(&res);
    return doc;
}

int
scim_users_patch(struct api_call *call, struct err *err)
{
    struct patch_ctx ctx = { .call = call };
    if (scim_check_writable(call, err) < 0)
        return -1;
    ctx.body = api_call_body_json(call, err);
    if (ctx.body == NULL)
        return -1;
    int rc = update_user(call, patch_next, &ctx, err);
    json_decref(ctx.body);
    return rc;
}

int
scim_users_delete(struct api_call *call, struct err *err)
{
    return scim_delete_resource(call, STORE_RTYPE_USER, user_delete, err);
}
