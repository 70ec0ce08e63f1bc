"""Issue 15 item 6: input that RFC 7643/7644 calls an error is refused where no identity
provider needs leniency (docs/scim.md "What scimd accepts"): a bare value for a multi-valued
attribute in a POST or PUT body, a body that is not JSON by its Content-Type, and a NUL byte
(%00) in a query parameter."""
import json

import pytest

from conftest import OPERATOR_KEY, assert_scim_error, user_body

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.mark.parametrize("attr, value", [
    ("emails", "ada@acme.example"),
    ("emails", {"value": "ada@acme.example"}),
    ("phoneNumbers", "+1 555 0100"),
    ("roles", "admin"),
])
def test_bare_value_for_a_multi_valued_attribute_is_refused(server, tenant_token, attr, value):
    body = {**user_body("ada@acme.example"), attr: value}
    err = assert_scim_error(server.scim("POST", "/Users", tenant_token, body), 400, "invalidValue")
    assert f'"{attr}" is multi-valued' in err["detail"]
    assert server.scim("GET", "/Users", tenant_token).json()["totalResults"] == 0
    uid = server.scim("POST", "/Users", tenant_token, user_body("ada@acme.example")).json()["id"]
    assert_scim_error(server.scim("PUT", f"/Users/{uid}", tenant_token, body), 400, "invalidValue")
    got = server.scim("GET", f"/Users/{uid}", tenant_token).json()
    assert got["emails"] == [{"value": "ada@acme.example", "type": "work", "primary": True}]


def test_patch_may_add_one_value_to_a_multi_valued_attribute(server, tenant_token):
    """RFC 7644 §3.5.2.1: "add" puts "a new value" in a multi-valued attribute."""
    uid = server.scim("POST", "/Users", tenant_token, user_body("ada@acme.example")).json()["id"]
    r = server.scim("PATCH", f"/Users/{uid}", tenant_token, {"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "phoneNumbers", "value": {"value": "+1 555 0100", "type": "work"}}]})
    assert r.status_code == 200, r.text
    assert r.json()["phoneNumbers"] == [{"value": "+1 555 0100", "type": "work"}]


@pytest.mark.parametrize("ctype, status", [
    ("application/scim+json", 201),
    ("application/json", 201),
    ("Application/SCIM+JSON; charset=utf-8", 201),
    (None, 201),
    ("text/plain", 415),
    ("application/x-www-form-urlencoded", 415),
    ("application/jsonx", 415),
    ("application/json garbage", 415),
])
def test_a_body_must_be_json_by_its_content_type(server, tenant_token, ctype, status):
    headers = {"Authorization": f"Bearer {tenant_token}"}
    if ctype:
        headers["Content-Type"] = ctype
    r = server.request("POST", "/scim/v2/Users", data=json.dumps(user_body("ada@acme.example")),
                       headers=headers)
    if status == 415:
        assert_scim_error(r, 415)
        assert server.scim("GET", "/Users", tenant_token).json()["totalResults"] == 0
    else:
        assert r.status_code == 201, r.text


def test_the_management_api_refuses_a_body_that_is_not_json(server):
    r = server.request("POST", "/admin/v1/tenants", token=OPERATOR_KEY,
                       data=json.dumps({"slug": "acme"}), headers={"Content-Type": "text/plain"})
    assert r.status_code == 415, r.text
    assert r.json()["error"]["code"] == "UNSUPPORTED_MEDIA"
    assert server.admin("GET", "/tenants").json()["tenants"] == []


@pytest.mark.parametrize("query", [
    'filter=userName eq "ada@acme.example%00" or userName pr',
    "filter=userName%00 pr",
    "count=1%00",
    "x%00=1",
])
def test_a_nul_byte_in_a_query_parameter_is_refused(server, tenant_token, query):
    server.scim("POST", "/Users", tenant_token, user_body("ada@acme.example"))
    r = server.request("GET", "/scim/v2/Users?" + query.replace(" ", "%20"), token=tenant_token)
    err = assert_scim_error(r, 400, "invalidValue")
    assert "NUL" in err["detail"]
    r = server.request("GET", "/admin/v1/tenants/acme/users?" + query.replace(" ", "%20"),
                       token=OPERATOR_KEY)
    assert r.status_code == 400 and "NUL" in r.json()["error"]["message"], r.text
