"""A small SAML identity provider for the SSO tests: builds Responses from a template and
signs them with the xmlsec1 command (Debian package xmlsec1), RSA-SHA256 and exc-c14n as
Okta and Entra do. Keys are made fresh per test session with openssl. No network."""
import base64
import datetime
import os
import secrets
import subprocess
import tempfile
import zlib

NS_P = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_A = "urn:oasis:names:tc:SAML:2.0:assertion"
IDP_ENTITY = "http://www.okta.com/exk-test-app"
SSO_URL = "https://idp.example.test/app/sso/saml"

SIG_TEMPLATE = """<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>\
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>\
<ds:SignatureMethod Algorithm="{sig_alg}"/>\
<ds:Reference URI="#{ref}"><ds:Transforms>\
<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>\
{extra_transform}<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>\
</ds:Transforms><ds:DigestMethod Algorithm="{digest_alg}"/><ds:DigestValue/></ds:Reference>\
</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"""

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def make_key(directory, name):
    key = os.path.join(directory, name + ".key")
    crt = os.path.join(directory, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "30", "-subj", f"/CN={name}"], check=True,
                   capture_output=True)
    return key, crt


class SamlIdP:
    def __init__(self):
        # Removed with the object or at exit (it holds private keys; mkdtemp left one per test).
        self._dir = tempfile.TemporaryDirectory(prefix="scimd-saml-")
        self.dir = self._dir.name
        self.key, self.crt = make_key(self.dir, "idp")
        self.evil_key, self.evil_crt = make_key(self.dir, "evil")

    def cert_pem(self):
        return open(self.crt).read()

    def metadata(self):
        body = "".join(self.cert_pem().strip().splitlines()[1:-1])
        return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP_ENTITY}">
 <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
   <ds:X509Data><ds:X509Certificate>{body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
  </md:KeyDescriptor>
  <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
  <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
     Location="{SSO_URL}"/>
 </md:IDPSSODescriptor>
</md:EntityDescriptor>"""

    @staticmethod
    def parse_request(location):
        """The AuthnRequest XML of an HTTP-Redirect URL."""
        from urllib.parse import parse_qs, urlsplit
        q = parse_qs(urlsplit(location).query)
        raw = base64.b64decode(q["SAMLRequest"][0])
        return zlib.decompress(raw, -15).decode()

    def response(self, acs, audience, email="alice@example.test", in_response_to=None,
                 issuer=IDP_ENTITY, destination=None, recipient=None, status="Success",
                 not_before=None, not_on_or_after=None, sign="assertion", key=None,
                 sig_alg=RSA_SHA256, digest_alg=SHA256, extra_transform="", name_id=None,
                 assertion_id=None, doctype="", transform=None):
        """A signed Response as XML text. `transform(xml)` edits the unsigned template;
        sign is "assertion", "response" or None."""
        now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
        rid = "_r" + secrets.token_hex(16)
        aid = assertion_id or ("_a" + secrets.token_hex(16))
        irt = f' InResponseTo="{in_response_to}"' if in_response_to else ""
        dest = destination if destination is not None else acs
        dest_attr = f' Destination="{dest}"' if dest else ""
        nb = iso(not_before if not_before is not None else now - 60)
        noa = iso(not_on_or_after if not_on_or_after is not None else now + 300)
        sig = lambda ref: SIG_TEMPLATE.format(sig_alg=sig_alg, digest_alg=digest_alg, ref=ref,
                                              extra_transform=extra_transform)
        xml = f"""{doctype}<samlp:Response xmlns:samlp="{NS_P}" xmlns:saml="{NS_A}" \
ID="{rid}" Version="2.0" IssueInstant="{iso(now)}"{dest_attr}{irt}>\
<saml:Issuer>{issuer}</saml:Issuer>{sig(rid) if sign == "response" else ""}\
<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:{status}"/></samlp:Status>\
<saml:Assertion ID="{aid}" Version="2.0" IssueInstant="{iso(now)}">\
<saml:Issuer>{issuer}</saml:Issuer>{sig(aid) if sign == "assertion" else ""}\
<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">\
{name_id if name_id is not None else email}</saml:NameID>\
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">\
<saml:SubjectConfirmationData Recipient="{recipient or acs}" NotOnOrAfter="{noa}"{irt}/>\
</saml:SubjectConfirmation></saml:Subject>\
<saml:Conditions NotBefore="{nb}" NotOnOrAfter="{noa}"><saml:AudienceRestriction>\
<saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>\
<saml:AuthnStatement AuthnInstant="{iso(now)}" SessionIndex="{aid}"><saml:AuthnContext>\
<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport\
</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement></saml:Assertion>\
</samlp:Response>"""
        if transform:
            xml = transform(xml)
        if sign:
            xml = self.sign(xml, key)
        return xml

    def sign(self, xml, key=None):
        key, crt = (self.key, self.crt) if key in (None, "idp") else (self.evil_key, self.evil_crt)
        src = os.path.join(self.dir, "in.xml")
        out = os.path.join(self.dir, "out.xml")
        with open(src, "w") as f:
            f.write(xml)
        p = subprocess.run(["xmlsec1", "--sign", "--privkey-pem", f"{key},{crt}",
                            "--id-attr:ID", f"{NS_P}:Response", "--id-attr:ID",
                            f"{NS_A}:Assertion", "--output", out, src],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        return open(out).read()


def encode(xml):
    return base64.b64encode(xml.encode()).decode()
