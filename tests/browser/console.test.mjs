// End-to-end tests of the scimd console (issue 8, item 6): Debian's chromium, headless, driven
// by playwright-core against the real scimd binary on 127.0.0.1 with a fresh data directory.
//   SCIMD_BIN=build/scimd node --test tests/browser/
// Screenshots of each page go to $SCIMD_SCREENSHOTS (docs/screenshots to refresh the README's).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const KEY = "browser-test-operator-key-0123456789";
const SSO_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const IDP_DIR = new URL("../idp/oidc/", import.meta.url);
const BIN = path.resolve(process.env.SCIMD_BIN || "build/scimd");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.SCIMD_SCREENSHOTS || "";
const USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group";
const TENANT_URN = "urn:scimd:params:scim:schemas:extension:tenant:2.0:User";

let proc, base, dataDir, browser, seedToken;

async function startScimd() {
  dataDir = mkdtempSync(path.join(tmpdir(), "scimd-browser-"));
  // --sso-test-http: the local OpenID provider of the test-sign-in test speaks plain http.
  proc = spawn(BIN, ["serve", "--listen", "127.0.0.1", "--port", "0", "--data-dir", dataDir,
    "--operator-key", KEY, "--access-log", "on", "--sso-key", SSO_KEY, "--sso-test-http", "on",
    // The host's redemption page: tenant admins' SSO connections use it (issue 13 item 6).
    "--sso-complete-url", "https://app.example.test/sso/done"],
  { stdio: ["ignore", "ignore", "pipe"] });
  proc.log = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("scimd did not start:\n" + proc.log)), 10000);
    proc.stderr.on("data", (d) => {
      proc.log += d.toString();
      const m = /listening on http:\/\/[^ ]+:(\d+)/.exec(proc.log);
      if (m && !base) {
        base = `http://127.0.0.1:${m[1]}`;
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on("exit", (code, signal) => {
      proc.exited = { code, signal };
      // A crash (or a sanitizer's report) fails the run loudly, with scimd's log.
      if (!proc.stopping) console.error(`scimd exited (${code ?? signal}):\n${proc.log}`);
      reject(new Error(`scimd exited ${code ?? signal}:\n${proc.log}`));
    });
  });
}

async function call(method, p, { token = KEY, body } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined)
    headers["Content-Type"] = p.startsWith("/scim/") ? "application/scim+json" : "application/json";
  const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

function cli(...args) {
  return JSON.parse(execFileSync(BIN, [...args, "--data-dir", dataDir], { encoding: "utf8" }));
}

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  // A passing toast would cover the page in the docs' pictures.
  await page.evaluate(() => { const t = document.getElementById("toast"); if (t) t.textContent = ""; }).catch(() => {});
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function newPage(width = 1280) {
  const ctx = await browser.newContext({ viewport: { width, height: 800 } });
  const page = await ctx.newPage();
  page.on("dialog", (d) => d.accept());
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e));
  // Failed requests are the tests' own business (a 401 before signing in is expected).
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) page.errors.push(m.text());
  });
  return page;
}

async function operatorPage() {
  const page = await newPage();
  await page.goto(base + "/console/");
  await page.getByLabel("Operator key").fill(KEY);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  return page;
}

async function makeAdmin(slug, userName) {
  const r = await call("POST", "/scim/v2/Users", { token: seedToken[slug], body: {
    schemas: [USER_URN, TENANT_URN], userName, [TENANT_URN]: { role: "admin" } } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

async function setupLink(slug, admin) {
  const r = await call("POST", `/admin/v1/tenants/${slug}/setup-links`, { body: { actingUser: admin } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.url;
}

const state = {};

before(async () => {
  await startScimd();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  seedToken = {};
});

after(async () => {
  if (browser) await browser.close();
  if (proc && !proc.exited) {
    proc.stopping = true;
    const done = new Promise((resolve) => proc.on("exit", resolve));
    proc.kill("SIGTERM");
    await done;
    // Under ASan a leak or an error at shutdown makes the exit status non-zero.
    assert.equal(proc.exited.code, 0, `scimd stopped with ${proc.exited.code ?? proc.exited.signal}:\n${proc.log}`);
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("operator signs in, creates a tenant and enables the integration", async () => {
  const page = await operatorPage();
  await shot(page, "01-sign-in-tenants");
  await page.getByLabel("Slug").fill("acme");
  await page.getByLabel("Display name").fill("Acme Inc.");
  await page.getByRole("button", { name: "Create tenant" }).click();
  await page.getByRole("heading", { name: /Acme Inc\. — overview/ }).waitFor();
  // The integration starts off: the overview says so, and the operator switches it on.
  await page.locator(".steps li.todo", { hasText: "integration is enabled" }).waitFor();
  await page.getByLabel("Integration enabled").check();
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.locator(".steps li.ok", { hasText: "integration is enabled" }).waitFor();
  // The operator needs no acting admin: that line is a tenant admin's only.
  assert.equal(await page.getByText("You are an active admin").count(), 0);
  await page.locator("#setup-steps li.todo", { hasText: "Single sign-on works" }).getByText("No connection yet.").waitFor();
  await shot(page, "02-operator-tenant-overview");
  assert.equal((await call("GET", "/admin/v1/tenants/acme")).body.integrationEnabled, true);
  // The key was never kept by the browser.
  const stored = await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie);
  assert.ok(!stored.includes(KEY));
  await page.goto(base + "/console/#/tenants");
  await page.getByRole("link", { name: "acme" }).waitFor();
  await shot(page, "03-tenants");
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // A second tenant, and seed data through SCIM: admins and users.
  await call("POST", "/admin/v1/tenants", { body: { slug: "globex", displayName: "Globex", integrationEnabled: true } });
  seedToken.acme = cli("token", "mint", "acme", "--label", "seed").token;
  seedToken.globex = cli("token", "mint", "globex", "--label", "seed").token;
  state.admin = await makeAdmin("acme", "ada@acme.example");
  state.globexAdmin = await makeAdmin("globex", "grace@globex.example");
  await call("POST", "/scim/v2/Users", { token: seedToken.globex, body: { schemas: [USER_URN], userName: "secret-user@globex.example" } });
});

test("a set-up link opens the tenant; the admin generates, uses and revokes a token", async () => {
  const url = await setupLink("acme", state.admin);
  state.usedLink = url;
  const page = await newPage();
  await page.goto(url);
  await page.getByRole("heading", { name: /Acme Inc\. — overview/ }).waitFor();
  assert.ok(!page.url().includes("setup="), "the token is dropped from the address bar");
  await page.getByText("Admin of Acme Inc. (acme)").waitFor();
  await shot(page, "04-tenant-admin-overview");
  state.adminPage = page;

  await page.getByRole("link", { name: "SCIM", exact: true }).click();
  await page.getByRole("heading", { name: "SCIM provisioning" }).waitFor();
  await page.locator("#scim-base").getByText(base + "/scim/v2").waitFor();
  await page.getByLabel("Label").fill("okta");
  await page.getByRole("button", { name: "Generate token" }).click();
  const token = (await page.locator("#new-token").textContent()).trim();
  assert.match(token, /^scimd_[A-Za-z0-9_-]{43}$/);
  await page.getByText("it is shown once").waitFor();
  await shot(page, "05-scim-token-shown-once");

  // Gone after reload, and never in storage or the URL.
  await page.reload();
  await page.getByRole("heading", { name: "SCIM provisioning" }).waitFor();
  await page.locator("table").getByText("okta").waitFor();
  assert.equal(await page.locator("#new-token").count(), 0);
  assert.ok(!(await page.content()).includes(token));
  const stored = await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + location.href);
  assert.ok(!stored.includes(token));
  assert.ok(!proc.log.includes(token), "the token is not in the log");
  await shot(page, "06-scim-tokens");

  // It works against /scim/v2 ...
  assert.equal((await call("GET", "/scim/v2/Users", { token })).status, 200);
  // ... until it is revoked from the page.
  const row = page.locator("tr", { hasText: "okta" });
  await row.getByRole("button", { name: "Revoke" }).click();
  await row.getByText("revoked").waitFor();
  assert.equal((await call("GET", "/scim/v2/Users", { token })).status, 401);
  // Events name the acting admin.
  assert.deepEqual(page.errors, []);
});

test("the SSO page shows the values to paste and refuses an -admin Okta org URL", async () => {
  const page = state.adminPage;
  await page.getByRole("link", { name: "SSO" }).click();
  // One identity provider and one protocol at a time: no form before the choice.
  await page.getByRole("radio", { name: "Okta" }).click();
  assert.equal(await page.locator("form").count(), 0);
  await page.getByRole("radio", { name: /^OpenID Connect/ }).click();
  const guide = page.locator("#guide-okta-oidc");
  await guide.getByRole("heading", { name: "Okta: single sign-on with OpenID Connect" }).waitFor();
  // The value sits at the step where it is pasted, with its copy button.
  const step = guide.locator("li", { hasText: "Sign-in redirect URIs" });
  await step.getByText(base + "/sso/acme/oidc/callback", { exact: true }).waitFor();
  await step.getByRole("button", { name: "Copy" }).waitFor();
  await guide.locator("li", { hasText: "Initiate login URI" }).getByText(base + "/sso/acme/oidc/initiate").waitFor();
  assert.equal(await page.getByRole("heading", { name: "SAML 2.0" }).count(), 0, "one protocol at a time");
  // Every value at once, folded away.
  await page.getByText("All values to paste, at once").click();
  await page.locator("details").getByText(base + "/sso/acme/saml/acs").waitFor();
  await page.locator("details").getByText(base + "/console/sso/acme").waitFor();
  const md = page.getByRole("link", { name: /Download the SP metadata/ });
  assert.equal(await md.getAttribute("href"), "/sso/acme/saml/metadata");
  await page.getByText("All values to paste, at once").click();
  const oidc = page.locator("section", { has: page.getByRole("heading", { name: /OpenID Connect/ }) });
  // Algorithms are under "Advanced", with the safe default.
  assert.equal(await oidc.getByLabel("RS256").isVisible(), false);
  await oidc.getByText("Advanced").click();
  assert.equal(await oidc.getByLabel("RS256").isChecked(), true);
  assert.equal(await oidc.getByLabel("ES512").isChecked(), false);
  await oidc.getByText("Not configured.").waitFor();
  const issuer = oidc.getByLabel("Issuer or Okta org URL");
  await issuer.fill("https://acme-admin.okta.com");
  await oidc.getByLabel("Client ID").fill("0oa-browser-test");
  await oidc.getByLabel("Client secret").fill("a-secret-never-shown");
  // The sign-in complete URL is the host application's: a tenant admin's form has no such field.
  assert.equal(await page.getByLabel("Sign-in complete URL").count(), 0);
  // The refusal comes from the real API (PUT …/sso/oidc), shown next to the field.
  const put = page.waitForResponse((r) => r.url().endsWith("/admin/v1/tenants/acme/sso/oidc") &&
    r.request().method() === "PUT");
  await oidc.getByRole("button", { name: "Create OIDC connection" }).click();
  const r = await put;
  assert.equal(r.status(), 400);
  assert.match((await r.json()).error.message, /Okta admin console URL; use https:\/\/acme\.okta\.com instead/);
  const msg = oidc.locator(".field", { has: page.getByLabel("Issuer or Okta org URL") }).locator(".error");
  await msg.getByText(/admin console URL; use https:\/\/acme\.okta\.com instead/).waitFor();
  assert.equal(await issuer.getAttribute("aria-invalid"), "true");
  await shot(page, "07-sso-connections");
  // A SAML connection by hand: entity ID, SSO URL and a pinned certificate.
  const certDir = mkdtempSync(path.join(tmpdir(), "scimd-cert-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
    "-subj", "/CN=idp.example.test", "-keyout", path.join(certDir, "k.pem"),
    "-out", path.join(certDir, "c.pem")], { stdio: "ignore" });
  const pem = readFileSync(path.join(certDir, "c.pem"), "utf8");
  rmSync(certDir, { recursive: true, force: true });
  await page.getByRole("radio", { name: /^SAML 2\.0/ }).click();
  await page.locator("#guide-okta-saml li", { hasText: "Single sign-on URL" }).getByText(base + "/sso/acme/saml/acs").waitFor();
  await page.locator("#guide-okta-saml li", { hasText: "Audience URI" }).getByText(base + "/sso/acme/saml/metadata").waitFor();
  let saml = page.locator("section", { has: page.getByRole("heading", { name: "SAML 2.0" }) });
  await saml.getByLabel("Upload IdP metadata file").waitFor();
  await saml.getByText("Or enter the identity provider's details by hand").click();
  await saml.getByLabel("IdP entity ID").fill("https://idp.example.test/entity");
  await saml.getByLabel("IdP SSO URL").fill("https://idp.example.test/sso");
  await saml.getByLabel("IdP signing certificates (PEM)").fill("not a certificate");
  await saml.getByRole("button", { name: "Create SAML connection" }).click();
  await saml.locator(".field", { has: page.getByLabel("IdP signing certificates (PEM)") })
    .getByText(/certificates must hold/).waitFor();
  await saml.getByLabel("IdP signing certificates (PEM)").fill(pem);
  await saml.getByRole("button", { name: "Create SAML connection" }).click();
  await page.getByRole("button", { name: "Save SAML connection" }).waitFor();
  saml = page.locator("section", { has: page.getByRole("heading", { name: "SAML 2.0" }) });
  await saml.getByText("enabled", { exact: true }).waitFor();
  await saml.getByText("not verified", { exact: true }).waitFor();
  assert.equal(await saml.getByLabel("IdP entity ID").inputValue(), "https://idp.example.test/entity");
  const got = await call("GET", "/admin/v1/tenants/acme/sso/saml");
  assert.equal(got.status, 200);
  assert.equal(got.body.enabled, true);
  assert.equal(got.body.verified, false);
  assert.equal(got.body.acsUrl, base + "/sso/acme/saml/acs");
  assert.equal(got.body.signInCompleteUrl, null, "the server's sso_complete_url serves");
  // The client secret is write-only: nothing the page fetched carries it.
  assert.equal(await page.content().then((c) => c.includes("a-secret-never-shown")), false);
  assert.deepEqual(page.errors, []);
});

test("guided set-up: Entra ID and any IdP, for SSO and SCIM, at 1280 and 390 px", async () => {
  const page = state.adminPage;
  await page.goto(base + "/console/#/t/acme/sso");
  await page.getByRole("radio", { name: "Microsoft Entra ID" }).click();
  await page.getByRole("radio", { name: /^OpenID Connect/ }).click();
  const eo = page.locator("#guide-entra-oidc");
  await eo.locator("li", { hasText: "App registrations" }).first().waitFor();
  await eo.locator("li", { hasText: "Redirect URI" }).getByText(base + "/sso/acme/oidc/callback").waitFor();
  await eo.locator("li", { hasText: "Token configuration" }).getByText("email").first().waitFor();
  await page.getByRole("radio", { name: /^SAML 2\.0/ }).click();
  const es = page.locator("#guide-entra-saml");
  await es.locator("li", { hasText: "Identifier (Entity ID)" }).getByText(base + "/sso/acme/saml/metadata").waitFor();
  await es.locator("li", { hasText: "Reply URL" }).getByText(base + "/sso/acme/saml/acs").waitFor();
  await page.locator("#test-saml").getByText("No sign-in through this connection yet.").waitFor();
  await shot(page, "17-guide-entra-saml");
  await page.setViewportSize({ width: 390, height: 800 });
  await shot(page, "17-guide-entra-saml-390px");
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true,
    "no horizontal scrolling at 390 px");
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole("radio", { name: "Another identity provider" }).click();
  await page.locator("#guide-saml li", { hasText: "ACS URL" }).getByText(base + "/sso/acme/saml/acs").waitFor();
  await page.getByRole("radio", { name: /^OpenID Connect/ }).click();
  await page.locator("#guide-oidc li", { hasText: "redirect URI" }).getByText(base + "/sso/acme/oidc/callback").waitFor();

  // SCIM: the guide of the chosen IdP, with the base URL and the role attribute to paste.
  await page.getByRole("link", { name: "SCIM", exact: true }).click();
  await page.getByRole("radio", { name: "Okta" }).click();
  const os = page.locator("#guide-okta-scim");
  await os.locator("li", { hasText: "SCIM connector base URL" }).getByText(base + "/scim/v2").waitFor();
  await os.locator("li", { hasText: "SCIM connector base URL" }).getByRole("button", { name: "Copy" }).waitFor();
  const or = page.locator("#guide-okta-roles");
  await or.locator("li", { hasText: "External namespace" })
    .getByText("urn:scimd:params:scim:schemas:extension:tenant:2.0:User", { exact: true }).waitFor();
  await or.locator("li", { hasText: "enumerated list" }).getByText("admin, developer, templates, reporting").waitFor();
  await or.locator("li", { hasText: "highest priority" }).waitFor();
  await shot(page, "18-guide-okta-scim");
  await page.getByRole("radio", { name: "Microsoft Entra ID" }).click();
  await page.locator("#guide-entra-scim li", { hasText: "Tenant URL" }).getByText(base + "/scim/v2").waitFor();
  await page.locator("#guide-entra-roles").getByText("SingleAppRoleAssignment([appRoleAssignments])").waitFor();
  await page.setViewportSize({ width: 390, height: 800 });
  await shot(page, "18-guide-entra-scim-390px");
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
  await page.setViewportSize({ width: 1280, height: 800 });
  // An import-only tenant is told to import, never to push (its SCIM writes are refused).
  await call("PATCH", "/admin/v1/tenants/acme", { body: { provisioningMode: "import-only" } });
  await page.reload();
  await page.getByRole("radio", { name: "Okta" }).click();
  await page.locator("#guide-okta-import li", { hasText: "Import New Users and Profile Updates" }).waitFor();
  assert.equal(await page.locator("#guide-okta-scim").count(), 0);
  assert.equal(await page.locator("#guide-okta-roles").count(), 0);
  await page.getByRole("radio", { name: "Microsoft Entra ID" }).click();
  await page.locator("#guide-entra-import").waitFor();
  assert.equal(await page.locator("#guide-entra-scim").count(), 0);
  await call("PATCH", "/admin/v1/tenants/acme", { body: { provisioningMode: "push" } });
  // The words are docs/idp-setup.md's: the console serves that very file.
  const served = await page.evaluate(async () =>
    (await fetch(document.querySelector('meta[name="scimd-guides"]').content)).text());
  assert.equal(served, readFileSync(new URL("../../docs/idp-setup.md", import.meta.url), "utf8"));
  assert.deepEqual(page.errors, []);
});

async function save(page) {
  const done = page.waitForResponse((r) => r.url().endsWith("/role-map") && r.request().method() === "PUT");
  await page.getByRole("button", { name: "Save role mapping" }).click();
  assert.equal((await done).status(), 200);
}

test("reordering the role mapping changes a user's effective role", async () => {
  const lin = { schemas: [USER_URN], userName: "lin@acme.example", name: { givenName: "Lin", familyName: "Chen" } };
  const user = (await call("POST", "/scim/v2/Users", { token: seedToken.acme, body: lin })).body.id;
  assert.equal((await call("POST", "/scim/v2/Users", { token: seedToken.acme, body: lin })).status, 409);
  for (const name of ["Engineering", "Support"])
    await call("POST", "/scim/v2/Groups", { token: seedToken.acme, body: {
      schemas: [GROUP_URN], displayName: name, members: [{ value: user }] } });
  const page = state.adminPage;
  await page.getByRole("link", { name: "Role mapping" }).click();
  await page.getByRole("heading", { name: "Role mapping" }).waitFor();
  for (const [group, role] of [["Engineering", "developer"], ["Support", "reporting"]]) {
    await page.getByLabel("Group name").fill(group);
    await page.locator("form").getByLabel("Role").selectOption(role);
    await page.getByRole("button", { name: "Add mapping" }).click();
  }
  // The pushed groups are offered; a name not pushed yet is allowed, with a warning.
  const offered = await page.locator("#pushed-groups option").evaluateAll((o) => o.map((x) => x.value).sort());
  assert.deepEqual(offered, ["Engineering", "Support"]);
  for (const row of ["Engineering", "Support"])
    assert.equal(await page.locator("tr", { hasText: row }).getByText("not pushed yet").count(), 0);
  await page.getByLabel("Group name").fill("Contractors");
  await page.getByRole("button", { name: "Add mapping" }).click();
  await page.locator("tr", { hasText: "Contractors" }).getByText("not pushed yet").waitFor();
  await page.locator("tr", { hasText: "Contractors" }).getByRole("button", { name: "Remove" }).click();
  await save(page);
  assert.deepEqual((await call("GET", "/admin/v1/tenants/acme/role-map")).body.rules.map((r) => r.group),
    ["Engineering", "Support"]);
  const role = async () => (await call("GET", `/admin/v1/tenants/acme/users/${user}/role`)).body.role;
  assert.equal(await role(), "developer");
  await page.getByRole("button", { name: "Move Support up" }).click();
  await save(page);
  assert.equal(await role(), "reporting");
  await shot(page, "08-role-mapping");

  // The user's page shows the role and its history.
  await page.goto(`${base}/console/#/t/acme/users/${user}`);
  await page.locator("#user-role").getByText("reporting").waitFor();
  await page.getByRole("cell", { name: "user.role_changed" }).first().waitFor();
  await shot(page, "09-user-detail");
  await page.getByRole("link", { name: "Users" }).click();
  // The user's page (its activity links to Lin too) is replaced first: then Lin is the list's.
  await page.getByRole("heading", { name: "Users", exact: true, level: 1 }).waitFor();
  await page.getByRole("link", { name: "lin@acme.example" }).waitFor();
  await shot(page, "10-users");
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("cell", { name: "Engineering" }).waitFor();
  await shot(page, "11-groups");
  await page.getByRole("link", { name: "Activity" }).click();
  await page.getByLabel("Kind").selectOption("role_map.changed");
  // Who and what by name: the admin's userName, not console:<id>.
  await page.getByRole("cell", { name: "ada@acme.example", exact: true }).first().waitFor();
  assert.equal(await page.getByRole("cell", { name: `console:${state.admin}` }).count(), 0);
  await page.getByLabel("Kind").selectOption("user.");
  await page.locator("tr", { hasText: "user.role_changed" }).getByRole("cell", { name: "lin@acme.example" }).first().waitFor();
  await page.locator("tr", { hasText: "user.created" }).getByRole("cell", { name: /SCIM token “seed”/ }).first().waitFor();
  await page.getByLabel("Kind").selectOption("group.");
  await page.locator("tr", { hasText: "group.created" }).getByRole("cell", { name: "Engineering", exact: true }).waitFor();
  // The requests name each token by its label.
  await page.getByRole("cell", { name: /^seed \(scimd_/ }).first().waitFor();
  // The last SCIM requests, with the error a failed one got (a duplicate userName here).
  await page.getByRole("cell", { name: "POST /scim/v2/Users" }).first().waitFor();
  await page.getByRole("cell", { name: /already in use/ }).first().waitFor();
  await shot(page, "12-activity");
  // Webhooks are the host application's: a tenant admin has no such page ...
  assert.equal(await page.getByRole("link", { name: "Webhooks" }).count(), 0);
  assert.deepEqual(page.errors, []);
  // ... the operator's console has it, and the sign-in complete URL with it.
  const op = await operatorPage();
  await op.goto(`${base}/console/#/t/acme/sso`);
  await op.getByRole("radio", { name: "Okta" }).click();
  await op.getByRole("radio", { name: /^SAML 2\.0/ }).click();
  const saml = op.locator("section", { has: op.getByRole("heading", { name: "SAML 2.0" }) });
  assert.equal(await saml.getByLabel("Sign-in complete URL").inputValue(), "");
  await op.getByRole("link", { name: "Webhooks" }).click();
  // Wait for the Webhooks page to replace the SSO page (whose URL fields would match too).
  await op.getByRole("heading", { name: "Add a webhook" }).waitFor();
  await op.getByLabel("URL", { exact: true }).fill("https://127.0.0.1:9/scimd-hook");
  await op.getByRole("button", { name: "Add webhook" }).click();
  await op.getByText("shown once").waitFor();
  await shot(op, "13-webhooks");
  assert.deepEqual(op.errors, []);
  await op.context().close();
});

test("a tenant admin never reaches another tenant's data", async () => {
  const page = state.adminPage;
  for (const p of ["/admin/v1/tenants/globex", "/admin/v1/tenants/globex/users",
    "/admin/v1/tenants/globex/tokens", "/admin/v1/tenants/globex/events", "/admin/v1/tenants"]) {
    const r = await page.evaluate(async (u) => { const x = await fetch(u); return { s: x.status, t: await x.text() }; }, p);
    assert.equal(r.s, 403, p);
    assert.ok(!r.t.includes("secret-user"), p);
  }
  // The page itself sends it back to its own tenant.
  await page.goto(base + "/console/#/t/globex/users");
  await page.waitForFunction(() => location.hash === "#/t/acme");
  await page.getByRole("heading", { name: /Acme Inc\. — overview/ }).waitFor();
  assert.ok(!(await page.content()).includes("secret-user"));
  // At 360 px the overview still works.
  await page.setViewportSize({ width: 360, height: 740 });
  await shot(page, "14-overview-360px");
  // Tables become cards: Rotate and Revoke stay on screen, nothing scrolls sideways.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.getByRole("link", { name: "SCIM", exact: true }).click();
  const rotate = page.locator("tr", { hasText: "seed" }).getByRole("button", { name: "Rotate" });
  await rotate.waitFor();
  for (const b of [rotate, page.locator("tr", { hasText: "seed" }).getByRole("button", { name: "Revoke" })]) {
    const box = await b.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, JSON.stringify(box));
  }
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
  await shot(page, "21-scim-tokens-390px");
  await page.getByRole("link", { name: "Role mapping" }).click();
  const sel = page.getByLabel("Role for Support");
  await sel.waitFor();
  const sb = await sel.boundingBox();
  assert.ok(sb.x + sb.width <= 390, JSON.stringify(sb));
  await shot(page, "22-role-mapping-390px");
  await page.context().close();
});

test("the overview says what is done and what is next; the operator mints a set-up link", async () => {
  const page = await operatorPage();
  await page.goto(base + "/console/#/t/acme");
  await page.getByRole("heading", { name: /Acme Inc\. — overview/ }).waitFor();
  const steps = page.locator("#setup-steps");
  // SAML is saved but nobody signed in through it yet.
  await steps.locator("li.todo", { hasText: "Single sign-on works" }).getByText(/SAML: enabled, not verified/).waitFor();
  await steps.locator("li.todo", { hasText: "Single sign-on works" }).getByText(/Test sign-in/).waitFor();
  // The identity provider's last request, with its status (the seed token made it).
  const scim = steps.locator("li", { hasText: "Provisioning (SCIM) is connected" });
  await scim.getByText(/GET \/scim\/v2\/Users|POST \/scim\/v2\/(Users|Groups)/).waitFor();
  const users = (await call("GET", "/admin/v1/tenants/acme/users?count=1")).body.totalResults;
  const groups = (await call("GET", "/admin/v1/tenants/acme/groups?count=1")).body.totalResults;
  await steps.locator("li.ok", { hasText: "People are provisioned" })
    .getByText(`${users} users, ${groups} groups.`).waitFor();
  await page.getByText("Not done yet").waitFor();

  // A set-up link for the customer's admin, named by userName.
  await page.getByLabel("Admin (userName, externalId or user id)").fill("nobody@acme.example");
  await page.getByRole("button", { name: "Create set-up link" }).click();
  await page.locator(".field", { hasText: "Admin (userName" }).locator(".error").getByText(/./).waitFor();
  assert.equal(await page.locator("#setup-link").count(), 0);
  await page.getByLabel("Admin (userName, externalId or user id)").fill("ada@acme.example");
  await page.getByRole("button", { name: "Create set-up link" }).click();
  const url = (await page.locator("#setup-link").textContent()).trim();
  assert.match(url, /\/console\/#setup=[A-Za-z0-9_-]+$/);
  await shot(page, "19-operator-setup-link");
  await page.context().close();
  const admin = await newPage(390);
  await admin.goto(url);
  await admin.getByRole("heading", { name: /Acme Inc\. — overview/ }).waitFor();
  await admin.locator(".steps li.ok", { hasText: "You are an active admin of this tenant" }).waitFor();
  await shot(admin, "20-tenant-admin-overview-390px");
  assert.equal(await admin.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
  assert.deepEqual(admin.errors, []);
  await admin.context().close();
});

// Test sign-in against the local OpenID provider the SSO tests use (tests/idp/oidc,
// oidc-provider from npm; no login UI: the login hint picks the person).
test("Test sign-in runs the real flow and shows the outcome; a success verifies the connection",
  { skip: !existsSync(new URL("node_modules/oidc-provider", IDP_DIR)) && "npm ci in tests/idp/oidc" }, async () => {
  const clientId = "scimd-browser-client", secret = "browser-client-secret";
  const idp = spawn("node", [new URL("idp.mjs", IDP_DIR).pathname, `${base}/sso/acme/oidc/callback`, clientId, secret],
    { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const issuer = await new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error("the local IdP did not start: " + out)), 10000);
      idp.stdout.on("data", (d) => {
        out += d.toString();
        const m = /issuer (\S+)/.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
    });
    const alice = await call("POST", "/scim/v2/Users", { token: seedToken.acme, body: {
      schemas: [USER_URN], userName: "alice@example.test", emails: [{ value: "alice@example.test", primary: true }] } });
    assert.equal(alice.status, 201, JSON.stringify(alice.body));
    const put = await call("PUT", "/admin/v1/tenants/acme/sso/oidc", { body: { issuer, clientId, clientSecret: secret,
      signInCompleteUrl: base + "/console/", enabled: true } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.verified, false);

    const page = await newPage();
    await page.goto(await setupLink("acme", state.admin));
    await page.getByRole("heading", { name: /Acme Inc\. — overview/ }).waitFor();
    await page.getByRole("link", { name: "SSO" }).click();
    await page.getByRole("radio", { name: "Another identity provider" }).click();
    await page.getByRole("radio", { name: /^OpenID Connect/ }).click();
    const box = page.locator("#test-oidc");
    await box.getByText("No sign-in through this connection yet.").waitFor();

    // Someone the IdP knows but who is not a user of this tenant: refused, in plain words.
    await box.getByLabel("Sign in as (optional)").fill("mallory");
    let popup = page.waitForEvent("popup");
    await box.getByRole("button", { name: "Test sign-in" }).click();
    await (await popup).close();
    await box.locator(".outcome.bad").getByText(/belongs to no active user of this tenant/).waitFor();
    await box.locator(".outcome.bad").getByText("refused").waitFor();
    assert.equal((await call("GET", "/admin/v1/tenants/acme/sso/oidc")).body.verified, false);

    // Alice is a user: signed in, matched, and the connection is verified. (The IdP's own
    // session cookies go first, or it would sign mallory in again; scimd's stay.)
    const kept = (await page.context().cookies()).filter((c) => c.name.startsWith("scimd") || c.name.includes("scimd_"));
    await page.context().clearCookies();
    await page.context().addCookies(kept);
    await box.getByLabel("Sign in as (optional)").fill("alice");
    popup = page.waitForEvent("popup");
    await box.getByRole("button", { name: "Test sign-in" }).click();
    const win = await popup;
    const ok = box.locator(".outcome.ok");
    await ok.getByText("signed in", { exact: true }).waitFor({ timeout: 8000 }).catch(async (e) => {
      throw new Error(e.message + "\n" + await box.textContent() + "\npopup at " + win.url() + "\n" +
        JSON.stringify((await call("GET", "/admin/v1/tenants/acme/events?order=desc&limit=3&kind=sso.signin")).body));
    });
    // A test ends on scimd's own page (no hand-off to the host): the outcome and the claims.
    assert.match(win.url(), new RegExp("^" + base + "/sso/acme/oidc/callback\\?"));
    await win.getByText(/matched the user alice@example\.test/).waitFor();
    await win.locator("dl.received dd", { hasText: "alice@example.test" }).first().waitFor();
    await shot(win, "25-test-sign-in-window");
    await win.close();
    // The console shows what the identity provider sent, from the event.
    await ok.locator("dl.received dt").getByText("email", { exact: true }).waitFor();
    assert.equal(await ok.getByRole("link", { name: "alice@example.test" }).getAttribute("href"), `#/t/acme/users/${alice.body.id}`);
    await ok.getByText("This connection is verified.").waitFor();
    await shot(page, "25-test-sign-in");
    assert.equal((await call("GET", "/admin/v1/tenants/acme/sso/oidc")).body.verified, true);
    // The overview now says single sign-on works, with its last sign-in.
    await page.getByRole("link", { name: "Overview" }).click();
    await page.locator("#setup-steps li.ok", { hasText: "Single sign-on works" }).getByText(/OpenID Connect: enabled, verified/).waitFor();
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    idp.kill("SIGTERM");
    // acme's console sign-in stays SAML for the next test.
    await call("DELETE", "/admin/v1/tenants/acme/sso/oidc");
  }
});

test("a reused or expired set-up link is refused with a clear page", async () => {
  const page = await newPage();
  await page.goto(state.usedLink);
  await page.getByRole("heading", { name: "This set-up link cannot be used" }).waitFor();
  await page.getByText(/already used/).waitFor();
  await shot(page, "15-setup-link-refused");
  const url = await setupLink("acme", state.admin);
  execFileSync("sqlite3", [path.join(dataDir, "scimd.db"), "UPDATE setup_links SET expires_ms = 1 WHERE used_ms = 0"]);
  await page.goto(url);
  await page.getByText(/expired/).waitFor();
  await page.context().close();
});

test("'Sign in with SSO' starts the tenant's console sign-in", async () => {
  let page = await newPage();
  // acme's only connection is SAML to an identity provider that does not exist: the browser
  // is sent there with an AuthnRequest (scimd's part ends at the redirect).
  await page.route("https://idp.example.test/**", (r) => r.abort());
  await page.goto(base + "/console/");
  await page.getByLabel("Your organisation's tenant ID").fill("acme");
  await shot(page, "16-sign-in-with-sso");
  const req = page.waitForRequest((r) => r.url().startsWith("https://idp.example.test/sso?SAMLRequest="));
  await page.getByRole("button", { name: "Sign in with SSO" }).click();
  assert.match((await req).url(), /^https:\/\/idp\.example\.test\/sso\?SAMLRequest=/);
  // A tenant without SSO (or none at all) gets a page saying so. (A fresh page: the aborted
  // navigation to the IdP would race a goto on this one.)
  await page.context().close();
  page = await newPage();
  await page.goto(base + "/console/");
  await page.getByLabel("Your organisation's tenant ID").fill("nobody");
  await page.getByRole("button", { name: "Sign in with SSO" }).click();
  await page.waitForURL(base + "/console/sso/nobody");
  await page.getByText(/Single sign-on is not set up for this tenant yet/).waitFor();
  await page.context().close();
});

test("branding from the configuration on the console and the styled SSO error page", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "scimd-brand-"));
  const logo = "data:image/svg+xml;base64," + Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" rx="6" fill="#0f766e"/>' +
    '<path d="M9 17l5 5 9-11" stroke="#fff" stroke-width="3" fill="none"/></svg>').toString("base64");
  const p = spawn(BIN, ["serve", "--listen", "127.0.0.1", "--port", "0", "--data-dir", dir, "--operator-key", KEY,
    "--brand-name", "Acme Identity", "--brand-logo-url", logo, "--brand-color", "#0f766e"],
  { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("branded scimd did not start:\n" + log)), 10000);
    p.stderr.on("data", (d) => {
      log += d.toString();
      const m = /listening on http:\/\/[^ ]+:(\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(`http://127.0.0.1:${m[1]}`); }
    });
  });
  try {
    for (const width of [1280, 390]) {
      const page = await newPage(width);
      await page.goto(url + "/console/");
      await page.locator("#brand-name").getByText("Acme Identity").waitFor();
      assert.equal(await page.locator("#brand-logo").isVisible(), true);
      await page.waitForFunction(() => document.title.endsWith("Acme Identity console"));
      const accent = await page.evaluate(() => getComputedStyle(document.querySelector("button[type=submit]")).backgroundColor);
      assert.equal(accent, "rgb(15, 118, 110)");
      if (width === 1280) await shot(page, "23-branded-sign-in");
      // The sign-in error page: same stylesheet, brand and a way back.
      await page.goto(url + "/console/sso/nobody");
      await page.getByRole("heading", { name: "Sign-in failed" }).waitFor();
      await page.getByText("Acme Identity").waitFor();
      assert.equal(await page.locator("img.logo").isVisible(), true);
      const back = page.getByRole("link", { name: "Back to the console sign-in" });
      assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector("a.button")).backgroundColor), "rgb(15, 118, 110)");
      await shot(page, width === 1280 ? "24-sso-error-page" : "24-sso-error-page-390px");
      await back.click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      assert.deepEqual(page.errors, []);
      await page.context().close();
    }
  } finally {
    const done = new Promise((resolve) => p.on("exit", resolve));
    p.kill("SIGTERM");
    await done;
    rmSync(dir, { recursive: true, force: true });
  }
});
