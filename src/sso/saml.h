#ifndef SCIMD_SSO_SAML_H
#define SCIMD_SSO_SAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"

/* SAML 2.0 Response verification (issue 7; SSO.md (b) "ACS" and "Signature verification"):
 * pure, with libxml2 and xmlsec; the handlers are in samlsp.c. */

/* What a verified Response says, read only from the verified nodes. */
#define SSO_SAML_ATTRIBUTES 24

struct sso_saml_result {
    char assertion_id[256];
    char issuer[1024];
    char name_id[321];
    char name_id_format[256];
    char in_response_to[256];           /* "" when unsolicited */
    char email[321];                    /* from NameID or the configured attribute */
    int64_t not_on_or_after_ms;         /* replay cache lifetime */
    int64_t session_not_on_or_after_ms; /* 0 when absent */
    /* The assertion's attribute values, one entry per value, the first SSO_SAML_ATTRIBUTES
     * (what a test sign-in shows; longer names and values are cut). */
    struct {
        char name[128];
        char value[256];
    } attributes[SSO_SAML_ATTRIBUTES];
    size_t n_attributes;
};

/* What the ACS expects of a Response. */
struct sso_saml_expect {
    const char *idp_entity_id;
    const char *acs_url;
    const char *sp_entity_id;
    const char *const *certs_pem; /* pinned IdP signing certificates */
    size_t n_certs;
    bool accept_signed_response; /* a signed Response around an unsigned Assertion */
    const char *email_attribute; /* NULL: NameID */
    int64_t now_ms;
};

#define SSO_SAML_SKEW_MS      (120 * 1000)
#define SSO_SAML_RESPONSE_MAX (256 * 1024)

/* Parses and verifies a decoded SAMLResponse (SSO.md (b) "ACS" steps 1–9 and the XML
 * Signature Wrapping defences). Replay (step 10) and InResponseTo binding (step 6) are the
 * caller's. -1 with ERR_UNAUTHORIZED and *reason a code on any failure. Thread-safe once
 * sso_saml_global_init has run. */
int sso_saml_verify(const char *xml, size_t len, const struct sso_saml_expect *x,
                    struct sso_saml_result *out, const char **reason, struct err *err);

/* Parses IdP metadata XML into entity ID, HTTP-Redirect SSO URL and signing certificates
 * (PEM): new reference {"idpEntityId", "ssoUrl", "certificates": [...]}. */
json_t *sso_saml_metadata_parse(const char *xml, size_t len, struct err *err);

/* libxml2 and xmlsec start-up, once in main before any thread (SSO.md (b)). */
int sso_saml_global_init(struct err *err);
void sso_saml_global_cleanup(void);

#endif
