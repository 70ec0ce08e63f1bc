#include "sso/saml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/app.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include "base/str.h"
#include "base/xmalloc.h"

#define NS_P  "urn:oasis:names:tc:SAML:2.0:protocol"
#define NS_A  "urn:oasis:names:tc:SAML:2.0:assertion"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define NS_MD "urn:oasis:names:tc:SAML:2.0:metadata"

#define BEARER  "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define SUCCESS "urn:oasis:names:tc:SAML:2.0:status:Success"

/* Depth cap for the tree walks (libxml2 itself stops at 256 without XML_PARSE_HUGE). */
#define MAX_DEPTH 64

int
sso_saml_global_init(struct err *err)
{
    xmlInitParser();
    if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0 ||
        xmlSecCryptoInit() < 0)
        return err_set(err, ERR_INTERNAL, "cannot initialise xmlsec");
    /* A forged signature is an expected event with a reason code, not a line of xmlsec's own
     * on stderr (STYLE.md §8: one key=value line per event). */
    xmlSecErrorsDefaultCallbackEnableOutput(0);
    return 0;
}

void
sso_saml_global_cleanup(void)
{
    xmlSecCryptoShutdown();
    xmlSecCryptoAppShutdown();
    xmlSecShutdown();
    xmlCleanupParser();
}

static int
fail(const char **reason, const char *code, struct err *err)
{
    *reason = code;
    return err_set(err, ERR_UNAUTHORIZED, "SAML response refused: %s", code);
}

static bool
is_el(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* The only child element (ns, name) of parent: NULL when none; *count says how many. */
static xmlNode *
child(const xmlNode *parent, const char *ns, const char *name, int *count)
{
    xmlNode *found = NULL;
    int n = 0;
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        if (is_el(c, ns, name)) {
            if (found == NULL)
                found = c;
            n++;
        }
    if (count)
        *count = n;
    return found;
}

static xmlNode *
one_child(const xmlNode *parent, const char *ns, const char *name)
{
    int n;
    xmlNode *c = child(parent, ns, name, &n);
    return n == 1 ? c : NULL;
}

/* An attribute without namespace, or NULL (the pointer is libxml2's: use before freeing). */
static const char *
attr(const xmlNode *n, const char *name)
{
    for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next)
        if (a->ns == NULL && strcmp((const char *)a->name, name) == 0 && a->children &&
            a->children->type == XML_TEXT_NODE && a->children->next == NULL)
            return (const char *)a->children->content;
    return NULL;
}

/* SSO.md (b): a text value is exactly one child, a text node; a comment, CDATA or element
 * child is refused (exc-c14n drops comments, so "a@x.test<!---->.evil.test" verifies). */
static const char *
text_of(const xmlNode *n)
{
    if (n == NULL || n->children == NULL || n->children->next != NULL ||
        n->children->type != XML_TEXT_NODE || n->children->content == NULL)
        return NULL;
    return (const char *)n->children->content;
}

/* xs:dateTime, strictly UTC: YYYY-MM-DDThh:mm:ss[.fraction]Z (SAML Core §1.3.3: "MUST be
 * expressed in UTC form, with no time zone component", so "+00:00" is refused). A value that
 * is not one is reason "bad_time", never read as a time out of range. */
static bool
parse_time(const char *s, int64_t *ms)
{
    int v[6] = { 0 };
    static const int width[6] = { 4, 2, 2, 2, 2, 2 };
    static const char sep[6] = { '-', '-', 'T', ':', ':', 0 };
    const char *p = s;
    if (s == NULL)
        return false;
    for (int i = 0; i < 6; i++) {
        for (int k = 0; k < width[i]; k++, p++) {
            if (*p < '0' || *p > '9')
                return false;
            v[i] = v[i] * 10 + (*p - '0');
        }
        if (sep[i] && *p++ != sep[i])
            return false;
    }
    int frac_ms = 0, digits = 0;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
        if (digits == 0 || digits > 9)
            return false;
        for (int d = digits; d < 3; d++)
            frac_ms *= 10;
    }
    if (p[0] != 'Z' || p[1] != '\0')
        return false;
    int y = v[0], mo = v[1], d = v[2];
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return false;
    /* Days from civil (Howard Hinnant's algorithm). */
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    *ms = ((days * 86400) + v[3] * 3600 + v[4] * 60 + v[5]) * 1000 + frac_ms;
    return true;
}

/* Structural checks over the whole tree: no DTD, entity or processing instruction; every ID
 * registered once (a duplicate is refused: XSW); Assertions and EncryptedAssertions counted. */
static int
walk(xmlDoc *doc, xmlNode *n, int depth, int *assertions, const char **reason, struct err *err)
{
    for (; n; n = n->next) {
        switch (n->type) {
        case XML_ELEMENT_NODE:
            break;
        case XML_TEXT_NODE:
        case XML_COMMENT_NODE:
        case XML_CDATA_SECTION_NODE:
            continue;
        default:
            return fail(reason, "forbidden_xml_node", err);
        }
        if (depth > MAX_DEPTH)
            return fail(reason, "too_deep", err);
        if (is_el(n, NS_A, "Assertion"))
            (*assertions)++;
        if (is_el(n, NS_A, "EncryptedAssertion"))
            return fail(reason, "encrypted_assertion", err);
        for (xmlAttr *a = n->properties; a; a = a->next) {
            if (a->ns != NULL || strcmp((const char *)a->name, "ID") != 0)
                continue;
            const char *id = attr(n, "ID");
            if (id == NULL || id[0] == '\0' || xmlGetID(doc, (const xmlChar *)id) != NULL)
                return fail(reason, "duplicate_id", err);
            if (xmlAddID(NULL, doc, (const xmlChar *)id, a) == NULL)
                return fail(reason, "duplicate_id", err);
        }
        if (walk(doc, n->children, depth + 1, assertions, reason, err) < 0)
            return -1;
    }
    return 0;
}

static bool
alg_in(const xmlNode *method, const char *const *allowed, size_t n)
{
    const char *alg = attr(method, "Algorithm");
    for (size_t i = 0; alg && i < n; i++)
        if (strcmp(alg, allowed[i]) == 0)
            return true;
    return false;
}

/* The shape of an enveloped signature over E (SSO.md (b) "XML Signature Wrapping"):
 * SignedInfo with an allowed method and exactly one Reference whose URI is "#" + E's ID. */
static int
check_signature_shape(const xmlNode *e, const xmlNode *sig, const char **reason, struct err *err)
{
    static const char *const sig_algs[] = {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    };
    static const char *const digests[] = {
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    };
    const xmlNode *si = one_child(sig, NS_DS, "SignedInfo");
    int nref = 0;
    const xmlNode *ref = child(si, NS_DS, "Reference", &nref);
    const char *uri = attr(ref, "URI"), *id = attr(e, "ID");
    if (si == NULL || nref != 1)
        return fail(reason, "signature_reference_count", err);
    if (!alg_in(one_child(si, NS_DS, "SignatureMethod"), sig_algs, 5) ||
        !alg_in(one_child(ref, NS_DS, "DigestMethod"), digests, 3))
        return fail(reason, "signature_algorithm_not_allowed", err);
    if (uri == NULL || id == NULL || uri[0] != '#' || strcmp(uri + 1, id) != 0)
        return fail(reason, "signature_reference_mismatch", err);
    return 0;
}

static int
enable_transforms(xmlSecDSigCtxPtr ctx)
{
    /* Only enveloped-signature and the canonicalisations in References; only the listed
     * signature and digest methods (no SHA-1, no XPath, no XSLT). */
    return xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) < 0 ||
                   xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
                   xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformInclC14NId) < 0 ||
                   xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha256Id) < 0 ||
                   xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha384Id) < 0 ||
                   xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha512Id) < 0 ||
                   xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
                   xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformInclC14NId) < 0 ||
                   xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha256Id) < 0 ||
                   xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha384Id) < 0 ||
                   xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha512Id) < 0 ||
                   xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformEcdsaSha256Id) < 0 ||
                   xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformEcdsaSha384Id) < 0
               ? -1
               : 0;
}

/* Verifies the enveloped signature `sig` of E with one of the pinned certificates; KeyInfo
 * in the message is never used (signKey is set). 1 verified, 0 not, -1 error. */
static int
verify_with_pins(const xmlNode *sig, const struct sso_saml_expect *x)
{
    for (size_t i = 0; i < x->n_certs; i++) {
        const char *pem = x->certs_pem[i];
        xmlSecKeyPtr key =
            xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)pem, (xmlSecSize)strlen(pem),
                                         xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
        if (key == NULL)
            continue;
        xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
        if (ctx == NULL) {
            xmlSecKeyDestroy(key);
            return -1;
        }
        ctx->signKey = key; /* owned by ctx from here: xmlSecDSigCtxDestroy frees it */
        ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
        int ok = enable_transforms(ctx) == 0 && xmlSecDSigCtxVerify(ctx, (xmlNodePtr)sig) == 0 &&
                 ctx->status == xmlSecDSigStatusSucceeded &&
                 xmlSecPtrListGetSize(&ctx->signedInfoReferences) == 1;
        xmlSecDSigCtxDestroy(ctx);
        if (ok)
            return 1;
    }
    return 0;
}

/* Verifies E's signature when present: *signed_out tells whether E carried one. */
static int
verify_element(const xmlNode *e, const struct sso_saml_expect *x, bool *signed_out,
               const char **reason, struct err *err)
{
    int n;
    const xmlNode *sig = child(e, NS_DS, "Signature", &n);
    *signed_out = false;
    if (n == 0)
        return 0;
    if (n > 1)
        return fail(reason, "several_signatures", err);
    if (check_signature_shape(e, sig, reason, err) < 0)
        return -1;
    int v = verify_with_pins(sig, x);
    if (v < 0)
        return err_set(err, ERR_INTERNAL, "xmlsec context failed");
    if (v == 0)
        return fail(reason, "bad_signature", err);
    *signed_out = true;
    return 0;
}

static int
check_issuer(const xmlNode *parent, bool required, const struct sso_saml_expect *x,
             const char **reason, struct err *err)
{
    int n;
    const xmlNode *iss = child(parent, NS_A, "Issuer", &n);
    if (n == 0 && !required)
        return 0;
    const char *v = n == 1 ? text_of(iss) : NULL;
    if (v == NULL || strcmp(v, x->idp_entity_id) != 0)
        return fail(reason, "wrong_issuer", err);
    return 0;
}

/* SAML Profiles §4.1.4.2: one bearer SubjectConfirmation for us, in time, no NotBefore. */
static int
check_subject(const xmlNode *subject, const struct sso_saml_expect *x, struct sso_saml_result *out,
              const char **reason, struct err *err)
{
    const xmlNode *nameid = one_child(subject, NS_A, "NameID");
    const char *name = text_of(nameid);
    if (name == NULL || strlen(name) >= sizeof(out->name_id))
        return fail(reason, "bad_name_id", err);
    str_copy(out->name_id, sizeof(out->name_id), name);
    const char *fmt = attr(nameid, "Format");
    str_copy(out->name_id_format, sizeof(out->name_id_format), fmt ? fmt : "");
    int bearers = 0;
    const xmlNode *scd = NULL;
    for (xmlNode *c = subject->children; c; c = c->next) {
        if (!is_el(c, NS_A, "SubjectConfirmation"))
            continue;
        const char *m = attr(c, "Method");
        if (m && strcmp(m, BEARER) == 0) {
            bearers++;
            scd = one_child(c, NS_A, "SubjectConfirmationData");
        }
    }
    int64_t noa;
    const char *recipient = attr(scd, "Recipient"), *irt = attr(scd, "InResponseTo");
    if (bearers != 1 || scd == NULL)
        return fail(reason, "no_bearer_confirmation", err);
    if (recipient == NULL || strcmp(recipient, x->acs_url) != 0)
        return fail(reason, "wrong_recipient", err);
    if (attr(scd, "NotBefore"))
        return fail(reason, "confirmation_not_before", err);
    /* Profiles §4.1.4.2: a bearer confirmation carries NotOnOrAfter. */
    if (!parse_time(attr(scd, "NotOnOrAfter"), &noa))
        return fail(reason, "bad_time", err);
    if (noa <= x->now_ms - SSO_SAML_SKEW_MS)
        return fail(reason, "confirmation_expired", err);
    if (strcmp(irt ? irt : "", out->in_response_to) != 0)
        return fail(reason, "in_response_to_mismatch", err);
    out->not_on_or_after_ms = noa;
    return 0;
}

/* SAML Core §2.5.1: time window and audience; unknown conditions are refused. */
static int
check_conditions(const xmlNode *cond, const struct sso_saml_expect *x, struct sso_saml_result *out,
                 const char **reason, struct err *err)
{
    int64_t nb = 0, noa = 0;
    const char *snb = attr(cond, "NotBefore"), *snoa = attr(cond, "NotOnOrAfter");
    int restrictions = 0;
    if (cond == NULL)
        return fail(reason, "no_conditions", err);
    if ((snb && !parse_time(snb, &nb)) || (snoa && !parse_time(snoa, &noa)))
        return fail(reason, "bad_time", err);
    if (snb && nb > x->now_ms + SSO_SAML_SKEW_MS)
        return fail(reason, "not_yet_valid", err);
    if (snoa && noa <= x->now_ms - SSO_SAML_SKEW_MS)
        return fail(reason, "expired", err);
    if (snoa && noa < out->not_on_or_after_ms)
        out->not_on_or_after_ms = noa;
    for (xmlNode *c = cond->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_el(c, NS_A, "OneTimeUse"))
            continue;
        if (!is_el(c, NS_A, "AudienceRestriction"))
            return fail(reason, "unknown_condition", err);
        bool ours = false;
        for (xmlNode *a = c->children; a; a = a->next) {
            if (!is_el(a, NS_A, "Audience"))
                continue;
            const char *v = text_of(a);
            if (v == NULL)
                return fail(reason, "bad_audience", err);
            ours |= strcmp(v, x->sp_entity_id) == 0;
        }
        if (!ours)
            return fail(reason, "wrong_audience", err);
        restrictions++;
    }
    if (restrictions == 0)
        return fail(reason, "no_audience_restriction", err);
    return 0;
}

/* The configured attribute's single text value. */
static const char *
attribute_value(const xmlNode *assertion, const char *name)
{
    const char *found = NULL;
    int seen = 0;
    for (xmlNode *st = assertion->children; st; st = st->next) {
        if (!is_el(st, NS_A, "AttributeStatement"))
            continue;
        for (xmlNode *a = st->children; a; a = a->next) {
            const char *n = attr(a, "Name");
            if (!is_el(a, NS_A, "Attribute") || n == NULL || strcmp(n, name) != 0)
                continue;
            int count;
            const xmlNode *v = child(a, NS_A, "AttributeValue", &count);
            found = count == 1 ? text_of(v) : NULL;
            seen++;
        }
    }
    return seen == 1 ? found : NULL;
}

/* Every attribute value of the assertion's statements, as far as out has room. */
static void
collect_attributes(const xmlNode *assertion, struct sso_saml_result *out)
{
    out->n_attributes = 0;
    for (xmlNode *st = assertion->children; st; st = st->next) {
        if (!is_el(st, NS_A, "AttributeStatement"))
            continue;
        for (xmlNode *a = st->children; a; a = a->next) {
            const char *n = attr(a, "Name");
            if (!is_el(a, NS_A, "Attribute") || n == NULL)
                continue;
            for (xmlNode *v = a->children; v; v = v->next) {
                if (!is_el(v, NS_A, "AttributeValue"))
                    continue;
                if (out->n_attributes == SSO_SAML_ATTRIBUTES)
                    return;
                const char *t = text_of(v);
                str_copy(out->attributes[out->n_attributes].name, sizeof(out->attributes[0].name),
                         n);
                str_copy(out->attributes[out->n_attributes].value, sizeof(out->attributes[0].value),
                         t ? t : "");
                out->n_attributes++;
            }
        }
    }
}

static int
read_assertion(const xmlNode *as, const struct sso_saml_expect *x, struct sso_saml_result *out,
               const char **reason, struct err *err)
{
    const char *id = attr(as, "ID"), *version = attr(as, "Version");
    if (id == NULL || strlen(id) >= sizeof(out->assertion_id) || version == NULL ||
        strcmp(version, "2.0") != 0)
        return fail(reason, "bad_assertion", err);
    str_copy(out->assertion_id, sizeof(out->assertion_id), id);
    if (check_issuer(as, true, x, reason, err) < 0)
        return -1;
    str_copy(out->issuer, sizeof(out->issuer), x->idp_entity_id);
    const xmlNode *subject = one_child(as, NS_A, "Subject");
    if (subject == NULL)
        return fail(reason, "no_subject", err);
    if (check_subject(subject, x, out, reason, err) < 0 ||
        check_conditions(one_child(as, NS_A, "Conditions"), x, out, reason, err) < 0)
        return -1;
    int n;
    const xmlNode *authn = child(as, NS_A, "AuthnStatement", &n);
    if (n < 1)
        return fail(reason, "no_authn_statement", err);
    /* Optional, but when present a time like every other (SAML Core §2.7.2, §1.3.3). */
    const char *sno = attr(authn, "SessionNotOnOrAfter");
    int64_t s;
    if (sno && !parse_time(sno, &s))
        return fail(reason, "bad_time", err);
    if (sno)
        out->session_not_on_or_after_ms = s;
    const char *email = x->email_attribute ? attribute_value(as, x->email_attribute) : out->name_id;
    if (email == NULL || strlen(email) >= sizeof(out->email) || strchr(email, '@') == NULL)
        return fail(reason, "no_email", err);
    str_copy(out->email, sizeof(out->email), email);
    collect_attributes(as, out);
    return 0;
}

static int
check_response(xmlDoc *doc, const struct sso_saml_expect *x, struct sso_saml_result *out,
               const char **reason, struct err *err)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    int assertions = 0;
    /* Step 1: no DTD at all (XXE, entity expansion), no processing instructions. */
    if (doc->intSubset || doc->extSubset)
        return fail(reason, "doctype", err);
    for (xmlNode *n = doc->children; n; n = n->next)
        if (n->type != XML_ELEMENT_NODE && n->type != XML_COMMENT_NODE)
            return fail(reason, "forbidden_xml_node", err);
    /* Step 2: a protocol Response with exactly one Assertion, its direct child. */
    if (!is_el(root, NS_P, "Response") || attr(root, "Version") == NULL ||
        strcmp(attr(root, "Version"), "2.0") != 0)
        return fail(reason, "not_a_response", err);
    if (walk(doc, root, 0, &assertions, reason, err) < 0)
        return -1;
    const xmlNode *as = one_child(root, NS_A, "Assertion");
    if (assertions != 1 || as == NULL)
        return fail(reason, "assertion_count", err);
    /* Step 3: signatures over the root Response and its single Assertion only. */
    bool response_signed, assertion_signed;
    if (verify_element(root, x, &response_signed, reason, err) < 0 ||
        verify_element(as, x, &assertion_signed, reason, err) < 0)
        return -1;
    if (!assertion_signed && !(response_signed && x->accept_signed_response))
        return fail(reason, response_signed ? "assertion_unsigned" : "unsigned", err);
    /* Step 4: issuers and status. */
    if (check_issuer(root, false, x, reason, err) < 0)
        return -1;
    const xmlNode *code = one_child(one_child(root, NS_P, "Status"), NS_P, "StatusCode");
    const char *status = attr(code, "Value");
    if (status == NULL || strcmp(status, SUCCESS) != 0)
        return fail(reason, "status_not_success", err);
    /* Step 5: Destination, required on a signed Response (Bindings §3.5.5.2). */
    const char *dest = attr(root, "Destination");
    if (dest ? strcmp(dest, x->acs_url) != 0 : response_signed)
        return fail(reason, "wrong_destination", err);
    const char *irt = attr(root, "InResponseTo");
    if (irt && strlen(irt) >= sizeof(out->in_response_to))
        return fail(reason, "bad_in_response_to", err);
    str_copy(out->in_response_to, sizeof(out->in_response_to), irt ? irt : "");
    return read_assertion(as, x, out, reason, err);
}

int
sso_saml_verify(const char *xml, size_t len, const struct sso_saml_expect *x,
                struct sso_saml_result *out, const char **reason, struct err *err)
{
    *out = (struct sso_saml_result){ 0 };
    if (len == 0 || len > SSO_SAML_RESPONSE_MAX)
        return fail(reason, "size", err);
    /* NONET and nothing else: never NOENT, DTDLOAD, DTDATTR or HUGE. */
    xmlDoc *doc = xmlReadMemory(xml, (int)len, "response.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL)
        return fail(reason, "malformed_xml", err);
    int rc = check_response(doc, x, out, reason, err);
    xmlFreeDoc(doc);
    return rc;
}

/* ---- IdP metadata ---- */

static char *
pem_of(const char *b64)
{
    size_t n = strlen(b64), w = 0;
    char *clean = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        if (b64[i] != ' ' && b64[i] != '\n' && b64[i] != '\r' && b64[i] != '\t')
            clean[w++] = b64[i];
    clean[w] = '\0';
    size_t lines = w / 64 + 1;
    char *pem = xmalloc(w + lines + 64);
    size_t o = (size_t)snprintf(pem, 64, "-----BEGIN CERTIFICATE-----\n");
    for (size_t i = 0; i < w; i += 64) {
        size_t k = w - i < 64 ? w - i : 64;
        memcpy(pem + o, clean + i, k);
        o += k;
        pem[o++] = '\n';
    }
    memcpy(pem + o, "-----END CERTIFICATE-----\n", 27);
    free(clean);
    return pem;
}

static void
collect_certs(const xmlNode *idp, json_t *certs)
{
    for (xmlNode *kd = idp->children; kd; kd = kd->next) {
        const char *use = attr(kd, "use");
        if (!is_el(kd, NS_MD, "KeyDescriptor") || (use && strcmp(use, "signing") != 0))
            continue;
        const xmlNode *x509 =
            one_child(one_child(one_child(kd, NS_DS, "KeyInfo"), NS_DS, "X509Data"), NS_DS,
                      "X509Certificate");
        const char *b64 = text_of(x509);
        if (b64 && json_array_size(certs) < 4) {
            char *pem = pem_of(b64);
            json_array_append_new(certs, json_string(pem));
            free(pem);
        }
    }
}

json_t *
sso_saml_metadata_parse(const char *xml, size_t len, struct err *err)
{
    if (len == 0 || len > SSO_SAML_RESPONSE_MAX) {
        err_set(err, ERR_INVALID_VALUE, "metadataXml is empty or too large");
        return NULL;
    }
    xmlDoc *doc = xmlReadMemory(xml, (int)len, "metadata.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    json_t *out = NULL;
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    const xmlNode *idp = one_child(root, NS_MD, "IDPSSODescriptor");
    const char *entity = attr(root, "entityID"), *sso = NULL;
    if (doc == NULL || doc->intSubset || doc->extSubset ||
        !is_el(root, NS_MD, "EntityDescriptor") || entity == NULL || idp == NULL) {
        err_set(err, ERR_INVALID_VALUE,
                "metadataXml is not one SAML EntityDescriptor with an IDPSSODescriptor");
        goto out;
    }
    for (xmlNode *s = idp->children; s; s = s->next) {
        const char *b = attr(s, "Binding");
        if (is_el(s, NS_MD, "SingleSignOnService") && b &&
            strcmp(b, "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect") == 0 && sso == NULL)
            sso = attr(s, "Location");
    }
    if (sso == NULL) {
        err_set(err, ERR_INVALID_VALUE,
                "the IdP metadata has no HTTP-Redirect SingleSignOnService");
        goto out;
    }
    json_t *certs = json_array();
    collect_certs(idp, certs);
    out = json_pack("{s:s, s:s, s:o}", "idpEntityId", entity, "ssoUrl", sso, "certificates", certs);
out:
    xmlFreeDoc(doc);
    return out;
}
