/* SAML Response verification (SSO.md (b) "ACS" and the XML Signature Wrapping defences) on a
 * Response signed by the test IdP (saml_fixture.h) and on edits of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "saml_fixture.h"
#include "sso/saml.h"

static const char *const pins[] = { fixture_cert };

static struct sso_saml_expect
expect(void)
{
    return (struct sso_saml_expect){
        .idp_entity_id = "http://www.okta.com/exk-test-app",
        .acs_url = "https://id.example.test/sso/acme/saml/acs",
        .sp_entity_id = "https://id.example.test/sso/acme/saml/metadata",
        .certs_pem = pins,
        .n_certs = 1,
        .now_ms = FIXTURE_NOW_MS,
    };
}

static const char *
verify(const char *xml, const struct sso_saml_expect *x, struct sso_saml_result *r)
{
    struct err e = { 0 };
    const char *reason = "ok";
    return sso_saml_verify(xml, strlen(xml), x, r, &reason, &e) == 0 ? "ok" : reason;
}

/* xml with the first `from` replaced by `to` (malloc'd). */
static char *
edit(const char *xml, const char *from, const char *to)
{
    const char *at = strstr(xml, from);
    assert_non_null(at);
    size_t n = strlen(xml) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    size_t head = (size_t)(at - xml);
    memcpy(out, xml, head);
    memcpy(out + head, to, strlen(to));
    memcpy(out + head + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
    return out;
}

static int
setup(void **state)
{
    (void)state;
    struct err e = { 0 };
    return sso_saml_global_init(&e);
}

static void
saml_accepts_the_signed_fixture_and_reads_it(void **state)
{
    (void)state;
    struct sso_saml_expect x = expect();
    struct sso_saml_result r;
    assert_string_equal(verify(fixture_good, &x, &r), "ok");
    assert_string_equal(r.email, "alice@example.test");
    assert_string_equal(r.assertion_id, "_a1");
    assert_string_equal(r.in_response_to, "_req1");
    assert_string_equal(r.issuer, "http://www.okta.com/exk-test-app");
}

static void
saml_refuses_a_changed_name_id(void **state)
{
    (void)state;
    struct sso_saml_expect x = expect();
    struct sso_saml_result r;
    char *xml = edit(fixture_good, "alice@example.test", "admin@example.test");
    assert_string_equal(verify(xml, &x, &r), "bad_signature");
    free(xml);
}

static void
saml_refuses_a_comment_in_name_id_although_it_verifies(void **state)
{
    (void)state;
    struct sso_saml_expect x = expect();
    struct sso_saml_result r;
    /* CVE-2017-11427 family: exc-c14n drops the comment, so the signature holds. */
    assert_string_equal(verify(fixture_comment, &x, &r), "bad_name_id");
}

static void
saml_refuses_doctype_and_processing_instructions(void **state)
{
    (void)state;
    struct sso_saml_expect x = expect();
    struct sso_saml_result r;
    char *xml =
        edit(fixture_good, "<samlp:Response", "<!DOCTYPE r [<!ENTITY e \"x\">]><samlp:Response");
    assert_string_equal(verify(xml, &x, &r), "doctype");
    free(xml);
    xml = edit(fixture_good, "<samlp:Status>", "<?evil x?><samlp:Status>");
    assert_string_equal(verify(xml, &x, &r), "forbidden_xml_node");
    free(xml);
}

static void
saml_refuses_wrong_audience_recipient_and_time(void **state)
{
    (void)state;
    struct sso_saml_expect x = expect();
    struct sso_saml_result r;
    x.sp_entity_id = "https://other.example.test/metadata";
    assert_string_equal(verify(fixture_good, &x, &r), "wrong_audience");
    x = expect();
    x.acs_url = "https://other.example.test/acs";
    assert_string_equal(verify(fixture_good, &x, &r), "wrong_destination");
    /* NotOnOrAfter is one hour after the start; the skew is two minutes. */
    x = expect();
    x.now_ms = FIXTURE_NOW_MS - 60000 + 3600000 + SSO_SAML_SKEW_MS - 1000;
    assert_string_equal(verify(fixture_good, &x, &r), "ok");
    x.now_ms += 2000;
    assert_string_equal(verify(fixture_good, &x, &r), "confirmation_expired");
    x = expect();
    x.now_ms = FIXTURE_NOW_MS - 60000 - SSO_SAML_SKEW_MS - 1000;
    assert_string_equal(verify(fixture_good, &x, &r), "not_yet_valid");
}

static void
saml_refuses_an_unpinned_certificate(void **state)
{
    (void)state;
    struct sso_saml_expect x = expect();
    struct sso_saml_result r;
    x.n_certs = 0;
    assert_string_equal(verify(fixture_good, &x, &r), "bad_signature");
}

static void
saml_refuses_a_second_assertion(void **state)
{
    (void)state;
    struct sso_saml_expect x = expect();
    struct sso_saml_result r;
    char *xml = edit(fixture_good, "<samlp:Status>",
                     "<samlp:Extensions><saml:Assertion ID=\"_x\" Version=\"2.0\"/>"
                     "</samlp:Extensions><samlp:Status>");
    assert_string_equal(verify(xml, &x, &r), "assertion_count");
    free(xml);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(saml_accepts_the_signed_fixture_and_reads_it),
        cmocka_unit_test(saml_refuses_a_changed_name_id),
        cmocka_unit_test(saml_refuses_a_comment_in_name_id_although_it_verifies),
        cmocka_unit_test(saml_refuses_doctype_and_processing_instructions),
        cmocka_unit_test(saml_refuses_wrong_audience_recipient_and_time),
        cmocka_unit_test(saml_refuses_an_unpinned_certificate),
        cmocka_unit_test(saml_refuses_a_second_assertion),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
