"""Discovery endpoints (RFC 7644 §4, RFC 7643 §5-§7): /ServiceProviderConfig, /ResourceTypes,
/Schemas, as Okta, Entra and the Microsoft validator read them (IDP-QUIRKS.md 20, 22, 25)."""
import json

import pytest

from conftest import (ENTERPRISE_URN, LIST_URN, SCIM, USER_URN, assert_head_is_get,
                      assert_scim_error)

SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RT_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
TENANT_URN = "urn:scimd:params:scim:schemas:extension:tenant:2.0:User"
PUBLIC = "https://scim.example.com"


@pytest.fixture
def public_server(server_factory):
    """A daemon with a public URL, so meta.location values are predictable."""
    s = server_factory(extra_args=["--public-url", PUBLIC])
    s.make_tenant("acme")
    s.token = s.mint("acme")["token"]
    return s


def get_json(server, path, token):
    r = server.scim("GET", path, token)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(SCIM), r.headers["Content-Type"]
    return r.json()


def attr(schema, name):
    found = [a for a in schema["attributes"] if a["name"] == name]
    assert len(found) == 1, [a["name"] for a in schema["attributes"]]
    return found[0]


def sub(attribute, name):
    found = [a for a in attribute["subAttributes"] if a["name"] == name]
    assert len(found) == 1, [a["name"] for a in attribute["subAttributes"]]
    return found[0]


# ---- /ServiceProviderConfig (RFC 7643 §5) ----

@pytest.mark.parametrize("path", ["/ServiceProviderConfig", "/ResourceTypes",
                                  "/ResourceTypes/User", "/Schemas", "/Schemas/" + USER_URN])
def test_discovery_refuses_a_filter_with_403(server, tenant_token, path):
    # RFC 7644 §4: a filter here SHOULD get 403, so a client does not take the whole answer
    # for the matching part; without one the same path answers.
    r = server.scim("GET", path + '?filter=id eq "x"', tenant_token)
    assert_scim_error(r, 403)
    assert server.scim("GET", path, tenant_token).status_code == 200


def test_spc_is_scim_json_with_its_schema_and_absolute_location(public_server):
    spc = get_json(public_server, "/ServiceProviderConfig", public_server.token)
    assert spc["schemas"] == [SPC_URN]
    assert spc["meta"]["resourceType"] == "ServiceProviderConfig"
    assert spc["meta"]["location"] == PUBLIC + "/scim/v2/ServiceProviderConfig"
    assert spc["documentationUri"].startswith("https://")


def test_spc_patch_filter_sort_etag_supported_for_push_tenant(server, tenant_token):
    spc = get_json(server, "/ServiceProviderConfig", tenant_token)
    assert spc["patch"] == {"supported": True}
    assert spc["filter"]["supported"] is True
    assert spc["sort"] == {"supported": True}
    assert spc["etag"] == {"supported": True}
    assert spc["changePassword"] == {"supported": True}


def test_spc_security_events_rfc9967(server, tenant_token):
    # RFC 9967 §4: no asynchronous requests; the event URIs scimd's SETs carry, each once.
    ev = get_json(server, "/ServiceProviderConfig", tenant_token)["securityEvents"]
    assert ev["asyncRequest"] == "none"
    p = "urn:ietf:params:scim:event:prov:"
    assert ev["eventUris"] == [p + "create:full", p + "patch:notice", p + "deactivate",
                               p + "activate", p + "delete", "urn:x-scimd:event:role:change"]


def test_spc_bulk_supported_and_complete(server, tenant_token):
    # IDP-QUIRKS.md 25: maxOperations and maxPayloadSize must be present (RFC 7643 §5 REQUIRED);
    # /Bulk (RFC 7644 §3.7) is implemented, with the configured limits.
    spc = get_json(server, "/ServiceProviderConfig", tenant_token)
    assert spc["bulk"] == {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576}


def test_spc_filter_max_results_is_the_default_page_max(server, tenant_token):
    spc = get_json(server, "/ServiceProviderConfig", tenant_token)
    assert spc["filter"]["maxResults"] == 1000
    assert isinstance(spc["filter"]["maxResults"], int)


def test_spc_filter_max_results_follows_page_max_setting(server_factory):
    s = server_factory(extra_args=["--page-max", "5"])
    s.make_tenant("acme")
    spc = get_json(s, "/ServiceProviderConfig", s.mint("acme")["token"])
    assert spc["filter"] == {"supported": True, "maxResults": 5}


def test_spc_authentication_scheme_is_oauth_bearer_token(server, tenant_token):
    spc = get_json(server, "/ServiceProviderConfig", tenant_token)
    schemes = spc["authenticationSchemes"]
    assert len(schemes) == 1
    assert schemes[0]["type"] == "oauthbearertoken"
    assert schemes[0]["name"] and schemes[0]["description"]
    assert schemes[0]["primary"] is True


def test_spc_import_only_tenant_reports_patch_unsupported(server):
    server.make_tenant("ro", provisioningMode="import-only")
    token = server.mint("ro")["token"]
    spc = get_json(server, "/ServiceProviderConfig", token)
    assert spc["patch"] == {"supported": False}
    assert spc["changePassword"] == {"supported": False}
    assert spc["bulk"]["supported"] is False
    assert spc["filter"]["supported"] is True  # reading stays possible


def test_spc_requires_a_token(server, tenant_token):
    assert_scim_error(server.scim("GET", "/ServiceProviderConfig", None), 401)


# ---- /ResourceTypes (RFC 7643 §6) ----

def test_resource_types_list_is_a_list_response_with_user_and_group(public_server):
    body = get_json(public_server, "/ResourceTypes", public_server.token)
    assert body["schemas"] == [LIST_URN]
    assert body["totalResults"] == 2 and body["itemsPerPage"] == 2 and body["startIndex"] == 1
    assert sorted(rt["id"] for rt in body["Resources"]) == ["Group", "User"]


def test_resource_types_user_has_enterprise_and_tenant_extensions(public_server):
    body = get_json(public_server, "/ResourceTypes", public_server.token)
    user = [rt for rt in body["Resources"] if rt["id"] == "User"][0]
    assert user["schemas"] == [RT_URN]
    assert user["name"] == "User"
    assert user["endpoint"] == "/Users"
    assert user["schema"] == USER_URN
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE_URN, "required": False},
                                        {"schema": TENANT_URN, "required": False}]
    assert user["meta"] == {"resourceType": "ResourceType",
                            "location": PUBLIC + "/scim/v2/ResourceTypes/User"}


def test_resource_type_user_by_id(public_server):
    user = get_json(public_server, "/ResourceTypes/User", public_server.token)
    assert user["id"] == "User" and user["endpoint"] == "/Users" and user["schema"] == USER_URN
    assert [e["schema"] for e in user["schemaExtensions"]] == [ENTERPRISE_URN, TENANT_URN]


def test_resource_type_group_by_id_has_no_extensions(public_server):
    group = get_json(public_server, "/ResourceTypes/Group", public_server.token)
    assert group["endpoint"] == "/Groups" and group["schema"] == GROUP_URN
    assert "schemaExtensions" not in group


def test_resource_type_unknown_is_404_scim_error(server, tenant_token):
    body = assert_scim_error(server.scim("GET", "/ResourceTypes/Device", tenant_token), 404)
    assert "Device" in body["detail"]
    assert "scimType" not in body


# ---- /Schemas (RFC 7643 §7) ----

def test_schemas_list_holds_user_enterprise_tenant_and_group(server, tenant_token):
    body = get_json(server, "/Schemas", tenant_token)
    assert body["schemas"] == [LIST_URN]
    ids = [s["id"] for s in body["Resources"]]
    assert sorted(ids) == sorted([USER_URN, ENTERPRISE_URN, TENANT_URN, GROUP_URN])
    assert body["totalResults"] == 4 == body["itemsPerPage"]
    assert all(s["schemas"] == [SCHEMA_URN] for s in body["Resources"])


def test_schema_core_user_by_urn_has_location(public_server):
    s = get_json(public_server, f"/Schemas/{USER_URN}", public_server.token)
    assert s["id"] == USER_URN and s["name"] == "User"
    assert s["meta"] == {"resourceType": "Schema",
                         "location": f"{PUBLIC}/scim/v2/Schemas/{USER_URN}"}


def test_schema_core_user_username_is_required_server_unique_case_insensitive(server,
                                                                               tenant_token):
    a = attr(get_json(server, f"/Schemas/{USER_URN}", tenant_token), "userName")
    assert a["type"] == "string" and a["multiValued"] is False
    assert a["required"] is True
    assert a["caseExact"] is False
    assert a["uniqueness"] == "server"
    assert a["mutability"] == "readWrite" and a["returned"] == "default"


def test_schema_core_user_password_is_write_only_and_never_returned(server, tenant_token):
    a = attr(get_json(server, f"/Schemas/{USER_URN}", tenant_token), "password")
    assert a["mutability"] == "writeOnly"
    assert a["returned"] == "never"
    assert a["required"] is False


def test_schema_core_user_groups_is_read_only(server, tenant_token):
    a = attr(get_json(server, f"/Schemas/{USER_URN}", tenant_token), "groups")
    assert a["mutability"] == "readOnly"
    assert a["multiValued"] is True and a["type"] == "complex"
    assert {s["name"] for s in a["subAttributes"]} == {"value", "$ref", "display", "type"}
    assert all(s["mutability"] == "readOnly" for s in a["subAttributes"])


def test_schema_core_user_emails_subattributes_and_canonical_types(server, tenant_token):
    a = attr(get_json(server, f"/Schemas/{USER_URN}", tenant_token), "emails")
    assert a["type"] == "complex" and a["multiValued"] is True
    assert "caseExact" not in a  # complex attributes have no caseExact (RFC 7643 §8.7.1)
    assert sub(a, "type")["canonicalValues"] == ["work", "home", "other"]
    assert sub(a, "primary")["type"] == "boolean"
    assert sub(a, "value")["type"] == "string"


def test_schema_core_user_active_is_boolean(server, tenant_token):
    a = attr(get_json(server, f"/Schemas/{USER_URN}", tenant_token), "active")
    assert a["type"] == "boolean" and a["multiValued"] is False
    assert "caseExact" not in a


def test_schema_lookup_is_case_insensitive(server, tenant_token):
    s = get_json(server, f"/Schemas/{USER_URN.upper()}", tenant_token)
    assert s["id"] == USER_URN


def test_schema_enterprise_has_employee_number_department_and_manager(server, tenant_token):
    s = get_json(server, f"/Schemas/{ENTERPRISE_URN}", tenant_token)
    assert s["id"] == ENTERPRISE_URN and s["name"] == "EnterpriseUser"
    names = [a["name"] for a in s["attributes"]]
    for n in ["employeeNumber", "costCenter", "organization", "division", "department",
              "manager"]:
        assert n in names, n
    manager = attr(s, "manager")
    assert manager["type"] == "complex"
    assert sub(manager, "value")["mutability"] == "readWrite"
    assert sub(manager, "$ref")["referenceTypes"] == ["User"]
    assert sub(manager, "displayName")["mutability"] == "readOnly"


def test_schema_tenant_extension_role_has_canonical_values(server, tenant_token):
    s = get_json(server, f"/Schemas/{TENANT_URN}", tenant_token)
    role = attr(s, "role")
    assert role["type"] == "string" and role["multiValued"] is False
    assert role["canonicalValues"] == ["admin", "developer", "templates", "reporting"]


def test_schema_group_display_name_is_required(server, tenant_token):
    s = get_json(server, f"/Schemas/{GROUP_URN}", tenant_token)
    a = attr(s, "displayName")
    assert a["required"] is True
    members = attr(s, "members")
    assert members["multiValued"] is True
    assert {x["name"] for x in members["subAttributes"]} >= {"value", "$ref", "type"}


def test_schema_unknown_urn_is_404_scim_error(server, tenant_token):
    body = assert_scim_error(
        server.scim("GET", "/Schemas/urn:example:params:scim:schemas:nope:2.0:Thing",
                    tenant_token), 404)
    assert "urn:example" in body["detail"]


# ---- Paths ----

def test_lowercase_paths_work_like_microsoft_test_collection(server, tenant_token):
    # IDP-QUIRKS.md 22: Microsoft's test collection uses /users.
    for path in ["/scim/v2/users", "/scim/v2/serviceproviderconfig",
                 "/scim/v2/resourcetypes/user", "/scim/v2/schemas"]:
        r = server.request("GET", path, token=tenant_token)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["Content-Type"].startswith(SCIM)
    body = server.request("GET", "/scim/v2/users", token=tenant_token).json()
    assert body["schemas"] == [LIST_URN] and body["totalResults"] == 0


def test_trailing_slash_on_collection_path_is_accepted(server, tenant_token):
    r = server.request("GET", "/scim/v2/Users/", token=tenant_token)
    assert r.status_code == 200, r.text
    assert r.json()["schemas"] == [LIST_URN]


def test_discovery_endpoints_are_read_only_405(server, tenant_token):
    r = server.scim("POST", "/ServiceProviderConfig", tenant_token, {"x": 1})
    body = assert_scim_error(r, 405)
    assert "GET" in body["detail"]


def test_discovery_405_allow_lists_get_and_head(server, tenant_token):
    # RFC 9110 §15.5.6: a 405 carries Allow; HEAD is served wherever GET is (§9.3.2).
    r = server.scim("DELETE", "/ServiceProviderConfig", tenant_token)
    assert_scim_error(r, 405)
    assert r.headers["Allow"] == "GET, HEAD"


def test_service_provider_config_head_is_get_without_body(server, tenant_token):
    _, body = assert_head_is_get(server, "/scim/v2/ServiceProviderConfig", tenant_token)
    assert json.loads(body)["etag"]["supported"] is True
