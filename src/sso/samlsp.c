#include "sso/samlsp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <zlib.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/fields.h"
#include "core/signin.h"
#include "core/tenant.h"
#include "sso/fetch.h"
#include "sso/saml.h"
#include "sso/web.h"

#define PROTO       "saml"
#define SAML_COOKIE "__Host-scimd_saml"
#define MAX_CERTS   4

static const char *
get_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- configuration ---- */

/* The certificate's notAfter as ISO text, or false when pem is not one X.509 certificate. */
static bool
cert_not_after(const char *pem, char out[32])
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    bool ok = x != NULL;
    if (x) {
        struct tm tm;
        if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
            strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
        else
            str_copy(out, 32, "unknown");
    }
    X509_free(x);
    BIO_free(bio);
    return ok;
}

/* The certificate in one spelling (OpenSSL's PEM: 64-column lines, a final newline), or
 * NULL when pem is not one: the same certificate pasted with other line breaks, without its
 * last newline, or from metadata is then the same text, and not "another identity provider"
 * (which resets a connection's verified, sso/manage.c). malloc'd. */
static char *
cert_canonical(const char *pem)
{
    BIO *in = BIO_new_mem_buf(pem, -1);
    X509 *x = in ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;
    BIO *out = x ? BIO_new(BIO_s_mem()) : NULL;
    char *text = NULL;
    if (out && PEM_write_bio_X509(out, x) == 1) {
        char *data;
        long n = BIO_get_mem_data(out, &data);
        if (n > 0) {
            text = xmalloc((size_t)n + 1);
            memcpy(text, data, (size_t)n);
            text[n] = '\0';
        }
    }
    BIO_free(out);
    X509_free(x);
    BIO_free(in);
    return text;
}

/* certs as cert_canonical spells each (new reference), or NULL when one is no certificate. */
static json_t *
certs_canonical(const json_t *certs)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(certs, i, c) {
        char *text = json_is_string(c) ? cert_canonical(json_string_value(c)) : NULL;
        if (text == NULL) {
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, json_string(text));
        free(text);
    }
    return out;
}

bool
sso_saml_same_certs(const json_t *a, const json_t *b)
{
    json_t *ca = json_is_array(a) ? certs_canonical(a) : NULL;
    json_t *cb = json_is_array(b) ? certs_canonical(b) : NULL;
    bool same = ca && cb && json_equal(ca, cb);
    json_decref(ca);
    json_decref(cb);
    return same;
}

static json_t *
check_certs(const json_t *v, struct err *err)
{
    char when[32];
    size_t i;
    json_t *c;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_CERTS) {
        err_set(err, ERR_INVALID_VALUE,
                "certificates must hold 1 to %d PEM signing certificates of the IdP", MAX_CERTS);
        return NULL;
    }
    json_array_foreach(v, i, c) {
        if (!json_is_string(c) || json_string_length(c) > 16384 ||
            !cert_not_after(json_string_value(c), when)) {
            err_set(err, ERR_INVALID_VALUE, "certificates[%zu] is not a PEM X.509 certificate", i);
            return NULL;
        }
    }
    json_t *out = certs_canonical(v);
    if (out == NULL)
        err_set(err, ERR_INVALID_VALUE, "certificates must be PEM X.509 certificates");
    return out;
}

/* IdP metadata by URL: the same outbound rules as OIDC discovery (https, no redirects, 5 s,
 * size cap, no internal addresses outside test mode). */
static json_t *
fetch_metadata(const char *url, bool allow_http, struct err *err)
{
    struct sso_fetch f = { .url = url,
                           .max_bytes = SSO_SAML_RESPONSE_MAX,
                           .allow_http = allow_http };
    long status = 0;
    char *body = NULL;
    json_t *md = NULL;
    if (!sso_fetch_url_ok(url, allow_http, false)) {
        err_set(err, ERR_INVALID_VALUE, "metadataUrl must be an https URL");
        return NULL;
    }
    if (sso_fetch_run(&f, &status, &body, NULL, err) < 0)
        return NULL;
    if (status != 200)
        err_set(err, ERR_INVALID_VALUE, "metadataUrl answered %ld", status);
    else
        md = sso_saml_metadata_parse(body, strlen(body), err);
    free(body);
    return md;
}

json_t *
sso_saml_configure(const json_t *body, const json_t *current, const struct api_settings *settings,
                   struct err *err)
{
    static const char *const keys[] = {
        "metadataXml",    "metadataUrl",       "idpEntityId", "ssoUrl",
        "certificates",   "idpInitiated",      "enabled",     "acceptSignedResponse",
        "emailAttribute", "signInCompleteUrl", NULL
    };
    /* What sso_saml_describe adds: the values to paste at the IdP, certificate expiry. */
    static const char *const readonly[] = {
        SSO_READ_ONLY_COMMON,  "acsUrl", "audience", "spEntityId", "spMetadataUrl",
        "certificateNotAfter", NULL
    };
    json_t *md = NULL, *certs = NULL, *cfg = NULL;
    if (fields_check(body, keys, readonly, current, err) < 0)
        return NULL;
    static const char *const flags[] = { "idpInitiated", "enabled", "acceptSignedResponse" };
    for (size_t i = 0; i < 3; i++) {
        const json_t *f = json_object_get(body, flags[i]);
        if (f && !json_is_boolean(f)) {
            err_set(err, ERR_INVALID_VALUE, "%s must be true or false", flags[i]);
            return NULL;
        }
    }
    const char *xml = get_str(body, "metadataXml"), *md_url = get_str(body, "metadataUrl");
    if (xml && md_url) {
        err_set(err, ERR_INVALID_VALUE, "give metadataXml or metadataUrl, not both");
        return NULL;
    }
    /* Okta's admin console host is never the IdP (issue 14): checked on every field that may
     * name the Okta org, given or read from the metadata. */
    if (sso_okta_admin_check("metadataUrl", md_url, true, err) < 0)
        return NULL;
    if (xml && (md = sso_saml_metadata_parse(xml, strlen(xml), err)) == NULL)
        return NULL;
    if (md_url && (md = fetch_metadata(md_url, settings->sso_allow_http, err)) == NULL)
        return NULL;
    const char *entity = get_str(body, "idpEntityId");
    const char *sso = get_str(body, "ssoUrl");
    const json_t *certs_in = json_object_get(body, "certificates");
    if (entity == NULL)
        entity = get_str(md, "idpEntityId");
    if (sso == NULL)
        sso = get_str(md, "ssoUrl");
    if (certs_in == NULL)
        certs_in = json_object_get(md, "certificates");
    const char *complete = get_str(body, "signInCompleteUrl");
    const char *email_attr = get_str(body, "emailAttribute");
    if (entity == NULL || entity[0] == '\0' || strlen(entity) > 1000) {
        err_set(err, ERR_INVALID_VALUE, "idpEntityId (or metadataXml) is required");
    } else if (sso_okta_admin_check("idpEntityId", entity, true, err) < 0 ||
               sso_okta_admin_check("ssoUrl", sso, true, err) < 0) {
        /* err set */
    } else if (sso == NULL || !sso_fetch_url_ok(sso, settings->sso_allow_http, false)) {
        err_set(err, ERR_INVALID_VALUE, "ssoUrl must be the IdP's https single sign-on URL");
    } else if (complete && !sso_fetch_url_ok(complete, settings->sso_allow_http, false)) {
        err_set(err, ERR_INVALID_VALUE,
                "signInCompleteUrl must be the https URL of the host application that redeems "
                "sign-ins");
    } else if (email_attr && (email_attr[0] == '\0' || strlen(email_attr) > 256)) {
        err_set(err, ERR_INVALID_VALUE, "emailAttribute must be an attribute name");
    } else if ((certs = check_certs(certs_in, err)) != NULL) {
        cfg = json_pack("{s:s, s:s, s:o, s:b, s:b, s:b}", "idpEntityId", entity, "ssoUrl", sso,
                        "certificates", certs, "idpInitiated",
                        json_is_true(json_object_get(body, "idpInitiated")), "enabled",
                        !json_is_false(json_object_get(body, "enabled")), "acceptSignedResponse",
                        json_is_true(json_object_get(body, "acceptSignedResponse")));
        if (complete)
            json_object_set_new(cfg, "signInCompleteUrl", json_string(complete));
        if (email_attr)
            json_object_set_new(cfg, "emailAttribute", json_string(email_attr));
        if (md_url)
            json_object_set_new(cfg, "metadataUrl", json_string(md_url));
    }
    json_decref(md);
    return cfg;
}

static void
sp_urls(const char *public_url, const char *slug, char entity[600], char acs[600])
{
    snprintf(entity, 600, "%s/sso/%s/saml/metadata", public_url ? public_url : "", slug);
    snprintf(acs, 600, "%s/sso/%s/saml/acs", public_url ? public_url : "", slug);
}

void
sso_saml_sp_values(json_t *d, const char *public_url, const char *slug)
{
    char entity[600], acs[600];
    sp_urls(public_url, slug, entity, acs);
    /* The two values an Okta or Entra admin pastes, and where the SP metadata lives. */
    json_object_set_new(d, "acsUrl", json_string(acs));
    json_object_set_new(d, "audience", json_string(entity));
    json_object_set_new(d, "spEntityId", json_string(entity));
    json_object_set_new(d, "spMetadataUrl", json_string(entity));
}

json_t *
sso_saml_describe(const json_t *config, const char *public_url, const char *slug)
{
    char when[32];
    json_t *d = json_deep_copy(config), *expiry = json_array();
    size_t i;
    json_t *c;
    sso_saml_sp_values(d, public_url, slug);
    json_array_foreach(json_object_get(config, "certificates"), i, c) {
        /* Expiry is reported, not enforced (SSO.md (b) "IdP config"). */
        if (cert_not_after(json_string_value(c), when))
            json_array_append_new(expiry, json_string(when));
    }
    json_object_set_new(d, "certificateNotAfter", expiry);
    return d;
}

/* ---- SP metadata (SAML Metadata §2.4.4) ---- */

int
sso_saml_metadata(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    char entity[600], acs[600], doc[2048];
    if (tenant_get(call->store, call->params[0], &t, err) < 0)
        return -1;
    str_copy(call->log_tenant, sizeof(call->log_tenant), t.slug);
    sp_urls(api_tenant_url(call->settings, &t), t.slug, entity, acs);
    int n = snprintf(
        doc, sizeof(doc),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
        "entityID=\"%s\">\n"
        "  <md:SPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
        "AuthnRequestsSigned=\"false\" WantAssertionsSigned=\"true\">\n"
        "    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
        "</md:NameIDFormat>\n"
        "    <md:AssertionConsumerService "
        "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"%s\" index=\"0\" "
        "isDefault=\"true\"/>\n"
        "  </md:SPSSODescriptor>\n"
        "</md:EntityDescriptor>\n",
        entity, acs);
    if (n < 0 || (size_t)n >= sizeof(doc))
        return err_set(err, ERR_INTERNAL, "SP metadata does not fit");
    api_reply_text(call, 200, "application/samlmetadata+xml", doc);
    call->sso_headers = true;
    return 0;
}

/* ---- SP-initiated login (Profiles §4.1.4.1; Bindings §3.4) ---- */

/* Raw DEFLATE (RFC 1951) of text, as the HTTP-Redirect binding wants (Bindings §3.4.4.1). */
static unsigned char *
deflate_raw(const char *text, size_t *out_len)
{
    z_stream z = { 0 };
    uLong bound = compressBound((uLong)strlen(text)) + 64;
    unsigned char *out = xmalloc(bound);
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(out);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = out;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

static int
load_enabled(struct api_call *call, struct store_tenant *t, struct store_sso_conn *conn,
             json_t **cfg, struct err *err)
{
    if (sso_conn_load(call, PROTO, t, conn, cfg, err) < 0) {
        if (err->code != ERR_NOT_FOUND)
            return -1;
        sso_reply_failure(call, 404, "Single sign-on is not set up for this workspace.");
        return 1;
    }
    if (!conn->enabled) {
        json_decref(*cfg);
        *cfg = NULL;
        store_sso_conn_cleanup(conn);
        sso_reply_failure(call, 404, "Single sign-on is not set up for this workspace.");
        return 1;
    }
    return 0;
}

static int
login(struct api_call *call, bool console, struct err *err)
{
    struct store_tenant t;
    struct store_sso_conn conn;
    json_t *cfg = NULL, *data = NULL;
    char entity[600], acs[600], now[32], idraw[44], id[66], handle[44], id_hash[65], hh[65];
    char *xml = NULL, *b64 = NULL;
    unsigned char *z = NULL, rnd[32];
    size_t zlen = 0;
    struct buf b;
    int rc = load_enabled(call, &t, &conn, &cfg, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    rc = -1;
    buf_init(&b, sizeof(call->location) - 1);
    sp_urls(api_tenant_url(call->settings, &t), t.slug, entity, acs);
    const char *sso = get_str(cfg, "ssoUrl");
    /* ID: "_" + 32 random bytes in hex (an xs:ID must not start with a digit). */
    if (crypto_random(rnd, sizeof(rnd), err) < 0 || sso_random_token(handle, err) < 0)
        goto out;
    id[0] = '_';
    for (int i = 0; i < 32; i++)
        snprintf(id + 1 + 2 * i, 3, "%02x", rnd[i]);
    (void)idraw;
    clock_format_ms(clock_now_ms(), now);
    size_t cap = 4096;
    xml = xmalloc(cap);
    int n = snprintf(
        xml, cap,
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
        "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"%s\" Version=\"2.0\" "
        "IssueInstant=\"%s\" Destination=\"%s\" AssertionConsumerServiceURL=\"%s\" "
        "ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\">"
        "<saml:Issuer>%s</saml:Issuer>"
        "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\" "
        "AllowCreate=\"true\"/></samlp:AuthnRequest>",
        id, now, sso, acs, entity);
    if (n < 0 || (size_t)n >= cap || (z = deflate_raw(xml, &zlen)) == NULL) {
        err_set(err, ERR_INTERNAL, "cannot build the AuthnRequest");
        goto out;
    }
    b64 = sso_base64_encode(z, zlen);
    sso_hash(id, id_hash);
    sso_hash(handle, hh);
    data = json_pack("{s:s}", "request_id", id);
    const char *rt =
        sso_return_to_check(api_call_arg(call, "return_to"), api_tenant_url(call->settings, &t));
    if (console)
        json_object_set_new(data, "console", json_true());
    else if (sso_test_asked(call))
        json_object_set_new(data, "test", json_true());
    else if (rt)
        json_object_set_new(data, "return_to", json_string(rt));
    if (signin_tx_begin(call->store, t.id, PROTO, id_hash, hh, data, err) < 0)
        goto out;
    if (buf_printf(&b, err, "%s%sSAMLRequest=", sso, strchr(sso, '?') ? "&" : "?") < 0 ||
        sso_url_encode(&b, b64, err) < 0)
        goto out;
    /* SameSite=None: the IdP's cross-site POST to the ACS never carries a Lax cookie. */
    sso_cookie_set(call, SAML_COOKIE, handle, "None", 600);
    rc = sso_reply_redirect(call, b.data, err);
out:
    free(xml);
    free(z);
    free(b64);
    json_decref(data);
    json_decref(cfg);
    store_sso_conn_cleanup(&conn);
    buf_cleanup(&b);
    return rc;
}

int
sso_saml_login(struct api_call *call, struct err *err)
{
    return login(call, false, err);
}

int
sso_saml_console_login(struct api_call *call, struct err *err)
{
    return login(call, true, err);
}

/* ---- ACS (HTTP-POST) ---- */

static void
refuse(struct api_call *call, const struct store_tenant *t, const char *initiated,
       const char *reason)
{
    sso_event(call, t, PROTO, initiated, SSO_RESULT_REJECTED, reason, NULL);
    sso_reply_failure(call, 403, "The sign-in could not be completed. Please start again.");
}

/* Step 6: InResponseTo names a stored, unexpired request of this browser (consumed); absent
 * means unsolicited, allowed only where the tenant enables IdP-initiated login. Returns the
 * transaction data (new reference, or an empty object when unsolicited) or NULL refusing. */
static json_t *
bind_request(struct api_call *call, const struct store_tenant *t, const json_t *cfg,
             const struct sso_saml_result *r, const char **reason, struct err *err)
{
    char handle[64], hh[65] = "", id_hash[65];
    if (r->in_response_to[0] == '\0') {
        if (!json_is_true(json_object_get(cfg, "idpInitiated"))) {
            *reason = "unsolicited_disabled";
            err_set(err, ERR_FORBIDDEN, "unsolicited response");
            return NULL;
        }
        return json_object();
    }
    if (sso_cookie_get(call->cookie, SAML_COOKIE, handle, sizeof(handle)))
        sso_hash(handle, hh);
    sso_hash(r->in_response_to, id_hash);
    json_t *tx = signin_tx_take(call->store, t->id, PROTO, id_hash, hh[0] ? hh : NULL, reason, err);
    if (tx && strcmp(get_str(tx, "request_id") ? get_str(tx, "request_id") : "",
                     r->in_response_to) != 0) {
        json_decref(tx);
        *reason = "in_response_to_unknown";
        return NULL;
    }
    if (tx == NULL && strcmp(*reason, "unknown_transaction") == 0)
        *reason = "in_response_to_unknown";
    if (tx == NULL && hh[0] == '\0' && strcmp(*reason, "transaction_cookie_mismatch") == 0)
        *reason = "request_cookie_missing";
    return tx;
}

/* Text of the assertion as a JSON string (whole characters; the XML parser gave UTF-8). */
static json_t *
text(const char *s)
{
    return json_stringn(s, str_utf8_prefix(s, strlen(s), strlen(s)));
}

/* A test sign-in's view of the assertion: the NameID and the attributes, as received. */
static json_t *
received_of(const struct sso_saml_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "NameID", text(r->name_id));
    json_object_set_new(o, "NameID Format", text(r->name_id_format));
    for (size_t i = 0; i < r->n_attributes; i++) {
        /* Names and values were cut to fit: whole characters only. */
        char name[128];
        const char *n = r->attributes[i].name;
        memcpy(name, n, str_utf8_prefix(n, strlen(n), sizeof(name) - 1));
        name[str_utf8_prefix(n, strlen(n), sizeof(name) - 1)] = '\0';
        json_t *value = text(r->attributes[i].value), *have = json_object_get(o, name);
        if (json_is_array(have)) {
            json_array_append_new(have, value);
        } else if (have) {
            json_t *both = json_array();
            json_array_append(both, have);
            json_array_append_new(both, value);
            json_object_set_new(o, name, both);
        } else {
            json_object_set_new(o, name, value);
        }
    }
    json_t *out = sso_received(o);
    json_decref(o);
    return out;
}

int
sso_saml_acs(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_sso_conn conn;
    struct sso_saml_result r;
    json_t *cfg = NULL, *tx = NULL;
    char *form = NULL;
    unsigned char *xml = NULL;
    size_t xml_len = 0;
    const char *reason = "ok";
    const char *pems[MAX_CERTS];
    char entity[600], acs[600];
    int rc = load_enabled(call, &t, &conn, &cfg, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    rc = 0;
    call->sso_headers = true;
    sso_cookie_set(call, SAML_COOKIE, "", "None", 0);
    form = call->body ? sso_form_get(call->body, call->body_len, "SAMLResponse") : NULL;
    /* Some IdPs post MIME-wrapped base64 (76-character lines): the line breaks go, any other
     * byte outside the alphabet is refused. */
    size_t form_len = form ? crypto_base64_unwrap(form) : 0;
    if (form == NULL || form_len > SSO_SAML_RESPONSE_MAX / 3 * 4 + 4 ||
        crypto_base64_decode(form, form_len, false, &xml, &xml_len, err) < 0) {
        refuse(call, &t, "-", "bad_encoding");
        goto out;
    }
    sp_urls(api_tenant_url(call->settings, &t), t.slug, entity, acs);
    size_t n_certs = 0, i;
    json_t *c;
    json_array_foreach(json_object_get(cfg, "certificates"), i, c) {
        if (n_certs < MAX_CERTS && json_is_string(c))
            pems[n_certs++] = json_string_value(c);
    }
    struct sso_saml_expect x = {
        .idp_entity_id = get_str(cfg, "idpEntityId"),
        .acs_url = acs,
        .sp_entity_id = entity,
        .certs_pem = pems,
        .n_certs = n_certs,
        .accept_signed_response = json_is_true(json_object_get(cfg, "acceptSignedResponse")),
        .email_attribute = get_str(cfg, "emailAttribute"),
        .now_ms = clock_now_ms(),
    };
    if (x.idp_entity_id == NULL ||
        sso_saml_verify((const char *)xml, xml_len, &x, &r, &reason, err) < 0) {
        if (err->code == ERR_INTERNAL) {
            rc = -1;
            goto out;
        }
        refuse(call, &t, "-", reason);
        goto out;
    }
    const char *initiated = r.in_response_to[0] ? "sp" : "idp";
    tx = bind_request(call, &t, cfg, &r, &reason, err);
    call->sso_console_flow = json_is_true(json_object_get(tx, "console"));
    if (tx == NULL) {
        if (err_status(err->code) >= 500) {
            rc = -1;
            goto out;
        }
        refuse(call, &t, initiated, reason);
        goto out;
    }
    /* Step 10: the assertion ID once per issuer, until it expires (+ skew). */
    if (signin_replay_check(call->store, t.id, r.issuer, r.assertion_id,
                            r.not_on_or_after_ms + SSO_SAML_SKEW_MS, err) < 0) {
        if (err->code != ERR_CONFLICT) {
            rc = -1;
            goto out;
        }
        refuse(call, &t, initiated, "assertion_replayed");
        goto out;
    }
    struct sso_flow flow = sso_flow_of(tx, initiated);
    json_t *received = flow.test ? received_of(&r) : NULL;
    flow.received = received;
    rc = sso_finish(call, &t, cfg, PROTO, r.issuer, r.name_id, r.email, &flow, err);
    json_decref(received);
out:
    free(form);
    free(xml);
    json_decref(tx);
    json_decref(cfg);
    store_sso_conn_cleanup(&conn);
    return rc;
}
