/* /Groups (RFC 7644 §3.3–§3.6, RFC 7643 §4.2): every handler of the Group resource. The
 * document holds displayName and externalId; members are rows (core/group.h), loaded only
 * when a response carries them, and changed one row per named member. */
#include "scim/scim.h"

#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "core/group.h"
#include "scim/list.h"
#include "scim/patch.h"
#include "scim/render.h"
#include "scim/resource.h"

static int
load_members(const struct api_call *call, const struct store_resource *r, json_t **out,
             struct err *err)
{
    struct store_member *v = NULL;
    size_t n = 0;
    *out = NULL;
    if (group_members_list(call->store, call->tenant.id, r->id, &v, &n, err) < 0)
        return -1;
    json_t *a = n ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *ref = json_sprintf("%s/scim/v2/Users/%s",
                                   api_tenant_url(call->settings, &call->tenant), v[i].id);
        json_t *m = json_pack("{s:s, s:o, s:s, s:s?}", "value", v[i].id, "$ref", ref, "type",
                              "User", "display", v[i].display);
        if (m)
            json_array_append_new(a, m);
    }
    group_members_free(v, n);
    *out = a;
    return 0;
}

static const struct scim_derived group_members = { "members", load_members, NULL };
static const struct scim_kind group_kind = { &scim_rt_group, STORE_RTYPE_GROUP, &group_members };

/* Takes "members" out of a normalised document: their ids go to *ids (in the arena, strings
 * borrowed from `members`, which the caller keeps until it is done with them). */
static int
take_members(struct api_call *call, json_t *doc, json_t **members, const char ***ids, size_t *n,
             struct err *err)
{
    json_t *m = json_object_get(doc, "members");
    *members = NULL;
    *ids = NULL;
    *n = 0;
    if (m == NULL)
        return 0;
    json_incref(m);
    json_object_del(doc, "members");
    *members = m;
    size_t len = json_array_size(m);
    if (len == 0)
        return 0;
    *ids = arena_alloc(call->arena, len * sizeof(**ids), err);
    if (*ids == NULL)
        return -1;
    size_t i;
    json_t *e;
    json_array_foreach(m, i, e) {
        const char *v = json_string_value(json_object_get(e, "value"));
        if (v == NULL || v[0] == '\0')
            return err_set(err, ERR_INVALID_VALUE, "members[%zu].value is required", i);
        (*ids)[(*n)++] = v;
    }
    return 0;
}

int
scim_groups_list(struct api_call *call, struct err *err)
{
    return scim_list_get(call, &group_kind, err);
}

int
scim_groups_search(struct api_call *call, struct err *err)
{
    return scim_list_search(call, &group_kind, err);
}

int
scim_groups_get(struct api_call *call, struct err *err)
{
    return scim_get_reply(call, &group_kind, err);
}

/* Okta may push a group with its members in the POST body (IDP-QUIRKS.md 8, 9). */
int
scim_groups_post(struct api_call *call, struct err *err)
{
    struct store_resource r;
    json_t *members = NULL;
    const char **ids;
    size_t n;
    if (scim_check_writable(call, err) < 0)
        return -1;
    json_t *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    json_t *doc = scim_resource_normalize(&scim_rt_group, body, SCIM_WRITE_CREATE, NULL, err);
    json_decref(body);
    if (doc == NULL)
        return -1;
    int rc = take_members(call, doc, &members, &ids, &n, err);
    if (rc == 0)
        rc = group_create(call->store, &call->tenant, call->actor, doc, ids, n, &r, err);
    json_decref(members);
    json_decref(doc);
    if (rc < 0)
        return -1;
    rc = scim_reply_resource(call, 201, &scim_rt_group, &r, &group_members, true, NULL, NULL, err);
    store_resource_cleanup(&r);
    return rc;
}

/* Computes the next document and membership change of a group from the stored document. */
typedef json_t *(*next_group_fn)(void *ctx, const json_t *old, struct group_members *delta,
                                 struct err *err);

/* The read-modify-write shared by PUT and PATCH: read, check If-Match and If-None-Match
 * against the version read, compute, write with that version; retry when another writer won. */
static int
update_group(struct api_call *call, next_group_fn next, void *ctx, struct err *err)
{
    struct store_resource old = { 0 }, r = { 0 };
    bool given;
    int rc = -1;
    for (int attempt = 0; attempt < SCIM_WRITE_ATTEMPTS; attempt++) {
        scim_write_retry_pause(attempt);
        struct group_members delta = { 0 };
        store_resource_cleanup(&old);
        if (group_get(call->store, call->tenant.id, call->params[0], &old, err) < 0 ||
            scim_check_write(call, old.version, &given, err) < 0)
            goto out;
        json_t *old_doc = json_loads(old.doc, 0, NULL);
        if (old_doc == NULL) {
            err_set(err, ERR_INTERNAL, "stored document of %s does not parse", old.id);
            goto out;
        }
        json_t *doc = next(ctx, old_doc, &delta, err);
        json_decref(old_doc);
        if (doc == NULL)
            goto out;
        rc = group_update(call->store, &call->tenant, call->actor, &old, doc, &delta, &r, err);
        json_decref(doc);
        if (rc == 0 || err->code != ERR_PRECONDITION || given)
            break;
    }
    if (rc < 0)
        goto out;
    rc = scim_reply_resource(call, 200, &scim_rt_group, &r, &group_members, false, NULL, NULL, err);
out:
    store_resource_cleanup(&old);
    store_resource_cleanup(&r);
    return rc;
}

struct put_ctx {
    json_t *doc;      /* normalised body without members */
    bool has_members; /* the body named "members": it replaces the membership */
    const char **ids;
    size_t n;
};

static json_t *
put_next(void *ctx, const json_t *old, struct group_members *delta, struct err *err)
{
    struct put_ctx *p = ctx;
    if (scim_resource_check_immutable(&scim_rt_group, old, p->doc, err) < 0)
        return NULL;
    if (p->has_members)
        *delta = (struct group_members){ .replace_all = true, .add = p->ids, .n_add = p->n };
    return json_deep_copy(p->doc);
}

/* Whether a body names "members" at all ("members": [] empties the group; no key keeps it:
 * normalisation folds both into absence, so the raw body decides). */
static bool
body_has_members(const json_t *body)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        if (cstr_ieq(key, "members"))
            return true;
    }
    return false;
}

int
scim_groups_put(struct api_call *call, struct err *err)
{
    struct put_ctx ctx = { 0 };
    json_t *members = NULL;
    if (scim_check_writable(call, err) < 0)
        return -1;
    json_t *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    ctx.doc = scim_resource_normalize(&scim_rt_group, body, SCIM_WRITE_REPLACE, NULL, err);
    ctx.has_members = json_is_object(body) && body_has_members(body);
    json_decref(body);
    if (ctx.doc == NULL)
        return -1;
    int rc = take_members(call, ctx.doc, &members, &ctx.ids, &ctx.n, err);
    if (rc == 0)
        rc = update_group(call, put_next, &ctx, err);
    json_decref(members);
    json_decref(ctx.doc);
    return rc;
}

struct patch_ctx {
    struct api_call *call;
    json_t *body;
};

static json_t *
patch_next(void *ctx, const json_t *old, struct group_members *delta, struct err *err)
{
    struct patch_ctx *p = ctx;
    struct scim_patch_result res = { 0 };
    if (scim_patch_apply(&scim_rt_group, old, p->body, p->call->arena, &res, err) < 0)
        return NULL;
    json_t *doc = res.doc;
    res.doc = NULL;
    /* The member arrays live in the call's arena and outlive res. */
    *delta = (struct group_members){
        .replace_all = res.members.replace_all,
        .remove_all = res.members.remove_all,
        .add = res.members.add,
        .n_add = res.members.n_add,
        .remove = res.members.remove,
        .n_remove = res.members.n_remove,
    };
    scim_patch_result_cleanup(&res);
    return doc;
}

/* Okta's group push and Entra's membership changes arrive here (IDP-QUIRKS.md 8, 14): the
 * document part and the membership delta are written in one transaction. Answered with 200
 * and the group (Entra's validator prefers a body: IDP-QUIRKS.md 20). */
int
scim_groups_patch(struct api_call *call, struct err *err)
{
    struct patch_ctx ctx = { .call = call };
    if (scim_check_writable(call, err) < 0)
        return -1;
    ctx.body = api_call_body_json(call, err);
    if (ctx.body == NULL)
        return -1;
    int rc = update_group(call, patch_next, &ctx, err);
    json_decref(ctx.body);
    return rc;
}

int
scim_groups_delete(struct api_call *call, struct err *err)
{
    return scim_delete_resource(call, STORE_RTYPE_GROUP, group_delete, err);
}
