/* Discovery endpoints (RFC 7644 §4): what this service provider implements, rendered from
 * the same schema tables that validation, filtering and PATCH use. */
#include "scim/scim.h"

#include <stdio.h>

#include "base/limits.h"
#include "base/str.h"
#include "core/set.h"
#include "scim/schema.h"

/* RFC 7644 §4: these endpoints are not filtered, and a filter SHOULD get 403 so that a client
 * cannot take the whole answer for the matching part of it. */
static int
refuse_filter(const struct api_call *call, struct err *err)
{
    if (api_call_arg(call, "filter") == NULL)
        return 0;
    return err_set(err, ERR_FORBIDDEN, "discovery endpoints take no filter (RFC 7644 section 4)");
}

int
scim_discovery_spc(struct api_call *call, struct err *err)
{
    if (refuse_filter(call, err) < 0)
        return -1;
    char base[API_SCIM_BASE_URL_MAX], loc[600];
    api_scim_base_url(call->settings, &call->tenant, base);
    snprintf(loc, sizeof(loc), "%s/ServiceProviderConfig", base);
    /* An import-only tenant's identity provider may only read: say so, so clients that read
     * this (IDP-QUIRKS.md 25) do not try PATCH. */
    bool writable = call->tenant.mode != STORE_MODE_IMPORT_ONLY;
    json_t *j = json_pack(
        "{s:[s], s:s, s:{s:b}, s:{s:b, s:I, s:I}, s:{s:b, s:I}, s:{s:b}, s:{s:b}, s:{s:b},"
        " s:[{s:s, s:s, s:s, s:s, s:b}], s:{s:s, s:s}}",
        "schemas", "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
        "documentationUri", "https://www.rfc-editor.org/rfc/rfc7644", "patch", "supported",
        writable, "bulk", "supported", writable, "maxOperations",
        (json_int_t)call->settings->bulk_max_ops, "maxPayloadSize",
        (json_int_t)call->settings->bulk_max_payload, "filter", "supported", 1, "maxResults",
        (json_int_t)call->settings->page_max, "changePassword", "supported", writable, "sort",
        "supported", 1, "etag", "supported", 1, "authenticationSchemes", "type", "oauthbearertoken",
        "name", "OAuth Bearer Token", "description",
        "A scimd token, minted per tenant by its administrator", "specUri",
        "https://www.rfc-editor.org/rfc/rfc6750", "primary", 1, "meta", "resourceType",
        "ServiceProviderConfig", "location", loc);
    /* RFC 9865 §4: both methods, index by default (§2.4: existing clients expect it). */
    json_object_set_new(j, "pagination",
                        json_pack("{s:b, s:b, s:s, s:I, s:I, s:I}", "cursor",
                                  call->settings->cursor_key != NULL, "index", 1,
                                  "defaultPaginationMethod", "index", "defaultPageSize",
                                  (json_int_t)(call->settings->page_max < LIMIT_PAGE_DEFAULT
                                                   ? call->settings->page_max
                                                   : LIMIT_PAGE_DEFAULT),
                                  "maxPageSize", (json_int_t)call->settings->page_max,
                                  "cursorTimeout", (json_int_t)call->settings->cursor_timeout_s));
    /* RFC 9967 §4: the events SET streams carry (streams are the host's to configure, through
     * the management API); every request completes before its answer, so no asynchronous
     * requests (docs/scim.md "SCIM events"). */
    json_object_set_new(
        j, "securityEvents",
        json_pack("{s:s, s:o}", "asyncRequest", "none", "eventUris", set_event_uris()));
    api_reply_json(call, 200, j);
    return 0;
}

static json_t *
list_response(json_t *resources)
{
    size_t n = json_array_size(resources);
    return json_pack("{s:[s], s:I, s:i, s:I, s:o}", "schemas", SCIM_URN_LIST, "totalResults",
                     (json_int_t)n, "startIndex", 1, "itemsPerPage", (json_int_t)n, "Resources",
                     resources);
}

int
scim_discovery_resource_types(struct api_call *call, struct err *err)
{
    if (refuse_filter(call, err) < 0)
        return -1;
    char base[API_SCIM_BASE_URL_MAX];
    api_scim_base_url(call->settings, &call->tenant, base);
    json_t *arr = json_array();
    for (size_t i = 0; i < scim_resource_type_count(); i++)
        json_array_append_new(arr, scim_resource_type_render(scim_resource_type_at(i), base));
    api_reply_json(call, 200, list_response(arr));
    return 0;
}

int
scim_discovery_resource_type(struct api_call *call, struct err *err)
{
    if (refuse_filter(call, err) < 0)
        return -1;
    char base[API_SCIM_BASE_URL_MAX];
    const struct scim_resource_type *rt = scim_resource_type_find(call->params[0]);
    if (rt == NULL)
        return err_set(err, ERR_NOT_FOUND, "no resource type \"%.64s\"", call->params[0]);
    api_scim_base_url(call->settings, &call->tenant, base);
    api_reply_json(call, 200, scim_resource_type_render(rt, base));
    return 0;
}

int
scim_discovery_schemas(struct api_call *call, struct err *err)
{
    if (refuse_filter(call, err) < 0)
        return -1;
    char base[API_SCIM_BASE_URL_MAX];
    api_scim_base_url(call->settings, &call->tenant, base);
    json_t *arr = json_array();
    for (size_t i = 0; i < scim_schema_count(); i++)
        json_array_append_new(arr, scim_schema_render(scim_schema_at(i), base));
    api_reply_json(call, 200, list_response(arr));
    return 0;
}

int
scim_discovery_schema(struct api_call *call, struct err *err)
{
    if (refuse_filter(call, err) < 0)
        return -1;
    char base[API_SCIM_BASE_URL_MAX];
    const struct scim_schema *s = scim_schema_find(call->params[0]);
    if (s == NULL)
        return err_set(err, ERR_NOT_FOUND, "no schema \"%.128s\"", call->params[0]);
    api_scim_base_url(call->settings, &call->tenant, base);
    api_reply_json(call, 200, scim_schema_render(s, base));
    return 0;
}
