/* scimd console: vanilla JavaScript, no framework, no inline script (the CSP forbids it).
 * Every page reads and writes through the management API /admin/v1 with the session cookie;
 * the CSRF token of the session goes in X-CSRF-Token on every state-changing request. The
 * shown-once SCIM token and webhook secrets live only in the DOM of the page that shows them:
 * never in storage, the URL or a log. */
"use strict";

(function () {
  var session = null; /* {scope, tenant, userId, csrf, expires, publicUrl, scimBaseUrl} */
  var main = document.getElementById("main");

  /* ---- DOM helpers: text only through textContent, so data never becomes markup ---- */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : v);
    });
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(function (x) { append(el, x); });
    else el.appendChild(typeof c === "string" || typeof c === "number" ?
      document.createTextNode(String(c)) : c);
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  function toast(msg) {
    var t = document.getElementById("toast");
    t.textContent = msg;
    setTimeout(function () { if (t.textContent === msg) t.textContent = ""; }, 4000);
  }
  function enc(s) { return encodeURIComponent(s); }
  /* Goes to a page: a new hash routes through hashchange, the same hash routes now. */
  function go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  /* Relative and absolute time: "5 min ago" with the UTC time beside it. */
  function when(iso) {
    if (!iso) return h("span", { class: "muted" }, "never");
    var d = new Date(iso), s = (Date.now() - d.getTime()) / 1000, rel;
    var a = Math.abs(s), fut = s < 0;
    if (a < 45) rel = "just now";
    else if (a < 3600) rel = Math.round(a / 60) + " min";
    else if (a < 86400) rel = Math.round(a / 3600) + " h";
    else rel = Math.round(a / 86400) + " d";
    if (rel !== "just now") rel = fut ? "in " + rel : rel + " ago";
    var abs = iso.replace("T", " ").replace(/\.\d+Z$/, " UTC");
    return h("time", { datetime: iso, title: abs }, rel + " (" + abs + ")");
  }

  /* ---- the API ---- */
  function ApiError(status, message, body) {
    this.status = status; this.message = message; this.body = body;
  }
  /* The public URL's path ("" or "/api/v1"), which the server wrote into the page: every
   * request and link of the console starts with it (docs/deploy.md, a path in public_url). */
  var BASE = (document.querySelector('meta[name="scimd-base"]') || { content: "" }).content;
  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (session && method !== "GET") headers["X-CSRF-Token"] = session.csrf;
    return fetch(BASE + path, {
      method: method, headers: headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.ok) return j;
        var msg = (j.error && j.error.message) || j.detail || ("HTTP " + r.status);
        if (r.status === 401 && session && path.indexOf("/console/api/") !== 0) {
          session = null;
          renderSignIn("Your session ended: " + msg);
        }
        throw new ApiError(r.status, msg, j);
      });
    });
  }
  function admin(path) { return "/admin/v1/tenants/" + enc(currentTenant) + path; }

  /* Runs a slow action with the button disabled and busy, errors shown next to it. */
  function busy(button, errEl, fn) {
    var label = button.textContent;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = "Working…";
    if (errEl) errEl.textContent = "";
    return Promise.resolve().then(fn).catch(function (e) {
      if (errEl) errEl.textContent = e.message || String(e);
      else toast(e.message || String(e));
    }).then(function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = label;
    });
  }

  /* A labelled field with its error slot; returns {wrap, input, error}. */
  var fieldSeq = 0;
  function field(label, input, hint) {
    var id = "f" + (++fieldSeq);
    input.id = id;
    var err = h("p", { class: "error", id: id + "-err", "aria-live": "polite" });
    input.setAttribute("aria-describedby", id + "-err" + (hint ? " " + id + "-hint" : ""));
    var isCheck = input.type === "checkbox";
    var wrap = h("div", { class: "field" + (isCheck ? " check" : "") },
      isCheck ? [input, h("label", { for: id }, label)] : [h("label", { for: id }, label), input],
      hint ? h("span", { class: "muted", id: id + "-hint" }, hint) : null, err);
    return { wrap: wrap, input: input, error: err };
  }
  function select(options, value) {
    var s = h("select");
    options.forEach(function (o) {
      var opt = h("option", { value: o[0] }, o[1]);
      if (o[0] === value) opt.selected = true;
      s.appendChild(opt);
    });
    return s;
  }
  function copyButton(getText, label) {
    return h("button", { type: "button", class: "secondary", onclick: function () {
      var text = getText();
      (navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject())
        .then(function () { toast("Copied"); }, function () { toast("Select the text and copy it"); });
    } }, label || "Copy");
  }
  function table(headers, rows, empty) {
    if (!rows.length) return h("p", { class: "muted" }, empty || "Nothing yet.");
    /* Explicit roles keep the table a table for assistive technology when narrow screens
     * lay its rows out as cards (app.css); data-label names each cell there. */
    return h("div", { class: "table-wrap" }, h("table", { role: "table" },
      h("thead", null, h("tr", { role: "row" }, headers.map(function (x) { return h("th", { scope: "col", role: "columnheader" }, x); }))),
      h("tbody", null, rows.map(function (r) {
        return h("tr", { role: "row" }, r.map(function (c, i) {
          return h("td", { role: "cell", "data-label": headers[i] || "" }, c);
        }));
      }))));
  }
  function badge(ok, yes, no) { return h("span", { class: "badge " + (ok ? "ok" : "off") }, ok ? yes : no); }
  /* Branding from the server's configuration (GET /console/api/brand): the product name and
   * logo; the accent colour comes with /console/brand.css. */
  var brand = { name: "scimd", logoUrl: null };
  function brandName() { return brand.name + " console"; }
  function page(title) {
    clear(main);
    document.title = title + " \u00b7 " + brandName();
    main.appendChild(h("h1", null, title));
    return main;
  }
  function loading() { return h("p", { class: "loading", role: "status" }, "Loading…"); }
  function failed(el, e) { clear(el).appendChild(h("p", { class: "error", role: "alert" }, e.message)); }

  /* ---- navigation ---- */
  var currentTenant = null;
  /* The tenant's own public URL (docs/deploy.md "A tenant on its own host") once a tenant page
   * has read the tenant; its SCIM and SSO values are under it, else under public_url. A tenant
   * admin's session names its tenant's SCIM base URL from the start. */
  var tenantUrl = null;
  function tenantBase() {
    if (tenantUrl) return tenantUrl;
    return session.scope === "tenant" ? session.scimBaseUrl.replace(/\/scim\/v2$/, "") : session.publicUrl;
  }
  function scimBase() { return tenantBase() + "/scim/v2"; }
  function tenantNav(slug) {
    var base = "#/t/" + enc(slug);
    var items = [["", "Overview"], ["/scim", "SCIM"], ["/sso", "SSO"], ["/users", "Users"],
      ["/groups", "Groups"], ["/roles", "Role mapping"], ["/activity", "Activity"]];
    /* Webhooks are the host application's plumbing (docs/api.md "Who may change what"). */
    if (isHost()) items.push(["/webhooks", "Webhooks"]);
    var nav = clear(document.getElementById("nav"));
    if (session.scope === "operator") nav.appendChild(h("a", { href: "#/tenants" }, "All tenants"));
    items.forEach(function (it) {
      var href = base + it[0];
      nav.appendChild(h("a", { href: href, "aria-current": location.hash === href ? "page" : null }, it[1]));
    });
    nav.hidden = false;
  }
  /* The operator's session acts for the host application; a tenant admin's does not. */
  function isHost() { return !!session && session.scope === "operator"; }
  function showWho() {
    var who = document.getElementById("who");
    who.textContent = !session ? "" : session.scope === "operator" ? "Operator" :
      "Admin of " + session.tenant.displayName + " (" + session.tenant.slug + ")";
    document.getElementById("signout").hidden = !session;
  }

  function route() {
    var link = /^#setup=([A-Za-z0-9_-]+)$/.exec(location.hash);
    if (link) return redeemSetupLink(link[1]);
    if (!session) return;
    var parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    showWho();
    if (parts[0] === "t" && parts[1]) {
      if (session.scope === "tenant" && parts[1] !== session.tenant.slug) {
        location.hash = "#/t/" + enc(session.tenant.slug);
        return;
      }
      if (currentTenant !== parts[1]) tenantUrl = null;
      currentTenant = parts[1];
      tenantNav(currentTenant);
      var pages = { "": overview, scim: scimPage, sso: ssoPage, users: usersPage, groups: groupsPage,
        roles: rolesPage, activity: activityPage };
      if (isHost()) pages.webhooks = webhooksPage;
      var fn = pages[parts[2] || ""] || overview;
      fn(parts[3]);
    } else if (session.scope === "operator") {
      document.getElementById("nav").hidden = true;
      tenantsPage();
    } else {
      location.hash = "#/t/" + enc(session.tenant.slug);
      return;
    }
    main.focus();
  }

  /* ---- signing in ---- */
  function renderSignIn(notice) {
    session = null;
    showWho();
    document.getElementById("nav").hidden = true;
    page("Sign in");
    if (notice) main.appendChild(h("p", { class: "error", role: "alert" }, notice));
    var key = field("Operator key", h("input", { type: "password", autocomplete: "off", required: true }),
      "The host application's operator key. It is exchanged for a session once and not kept in the browser.");
    var btn = h("button", { type: "submit" }, "Sign in");
    var form = h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      busy(btn, key.error, function () {
        return api("POST", "/console/api/session", { operatorKey: key.input.value }).then(function (s) {
          key.input.value = "";
          session = s;
          go("#/tenants");
        }, function (e) { key.input.setAttribute("aria-invalid", "true"); throw e; });
      });
    } }, key.wrap, btn);
    main.appendChild(form);
    main.appendChild(h("h2", null, "Tenant admins"));
    var slug = field("Your organisation's tenant ID", h("input", { type: "text", autocomplete: "organization",
      pattern: "[a-z0-9\\-]+", placeholder: "acme" }),
      "Signs you in through your company's single sign-on. Only the tenant's admins get in.");
    main.appendChild(h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      var t = slug.input.value.trim().toLowerCase();
      if (!/^[a-z0-9-]+$/.test(t)) {
        slug.error.textContent = "Enter the tenant ID your application gave you, e.g. acme";
        slug.input.setAttribute("aria-invalid", "true");
        return;
      }
      location.assign(BASE + "/console/sso/" + enc(t));
    } }, slug.wrap, h("button", { type: "submit", class: "secondary" }, "Sign in with SSO")));
    main.appendChild(h("p", { class: "muted" },
      "Or open the set-up link your application gave you."));
    key.input.focus();
  }

  function renderRefused(message) {
    page("This set-up link cannot be used");
    main.appendChild(h("div", { class: "card refused", role: "alert" },
      h("p", null, message),
      h("p", null, "Set-up links work once and for a short time. Ask your application for a new one.")));
  }

  function redeemSetupLink(token) {
    /* Drop the token from the address bar and history before anything else. */
    history.replaceState(null, "", location.pathname + "#/");
    page("Opening your set-up link");
    main.appendChild(loading());
    return api("POST", "/console/api/setup", { token: token }).then(function (s) {
      session = s;
      go("#/t/" + enc(s.tenant.slug));
    }, function (e) { renderRefused(e.message); });
  }

  document.getElementById("signout").addEventListener("click", function () {
    api("DELETE", "/console/api/session").catch(function () {}).then(function () {
      renderSignIn("You signed out.");
    });
  });
  window.addEventListener("hashchange", route);

  /* ---- operator: tenants ---- */
  var modes = [["push", "Push (the identity provider writes)"], ["import-only", "Import only (the application owns users)"]];
  var policies = [["disable", "Disable"], ["remove", "Remove"]];

  function tenantsPage() {
    page("Tenants");
    var search = field("Search tenants", h("input", { type: "search", placeholder: "slug or name" }));
    var list = h("div", null, loading());
    main.appendChild(h("div", { class: "card" }, search.wrap));
    main.appendChild(list);
    var all = [];
    function draw() {
      var q = search.input.value.trim().toLowerCase();
      var rows = all.filter(function (t) {
        return !q || t.slug.indexOf(q) >= 0 || t.displayName.toLowerCase().indexOf(q) >= 0;
      }).map(function (t) {
        return [h("a", { href: "#/t/" + enc(t.slug) }, t.slug), t.displayName, t.plan,
          t.provisioningMode, badge(t.integrationEnabled, "enabled", "off"), when(t.created)];
      });
      clear(list).appendChild(table(["Slug", "Name", "Plan", "Mode", "Integration", "Created"], rows,
        q ? "No tenant matches." : "No tenants yet."));
    }
    search.input.addEventListener("input", draw);
    api("GET", "/admin/v1/tenants").then(function (r) { all = r.tenants; draw(); },
      function (e) { failed(list, e); });

    main.appendChild(h("h2", null, "Create a tenant"));
    var slug = field("Slug", h("input", { type: "text", required: true, pattern: "[a-z0-9\\-]+", autocomplete: "off" }),
      "Lower-case letters, digits and -");
    var name = field("Display name", h("input", { type: "text" }));
    var plan = field("Plan", h("input", { type: "text", value: "enterprise" }));
    var mode = field("Provisioning mode", select(modes, "push"));
    var integ = field("Integration enabled", h("input", { type: "checkbox" }));
    var btn = h("button", { type: "submit" }, "Create tenant");
    main.appendChild(h("form", { class: "grid card", onsubmit: function (ev) {
      ev.preventDefault();
      busy(btn, slug.error, function () {
        var body = { slug: slug.input.value.trim(), plan: plan.input.value.trim(),
          provisioningMode: mode.input.value, integrationEnabled: integ.input.checked };
        if (name.input.value.trim()) body.displayName = name.input.value.trim();
        return api("POST", "/admin/v1/tenants", body).then(function (t) {
          toast("Tenant " + t.slug + " created");
          location.hash = "#/t/" + enc(t.slug);
        });
      });
    } }, slug.wrap, name.wrap, plan.wrap, mode.wrap, integ.wrap, btn));
  }

  function tenantSettings(t, box) {
    var name = field("Display name", h("input", { type: "text", value: t.displayName }));
    var plan = field("Plan", h("input", { type: "text", value: t.plan }));
    var mode = field("Provisioning mode", select(modes, t.provisioningMode));
    var pol = field("Deactivation policy", select(policies, t.deactivationPolicy));
    var integ = field("Integration enabled", h("input", { type: "checkbox" }));
    integ.input.checked = t.integrationEnabled;
    var saml = field("SAML SSO required", h("input", { type: "checkbox" }));
    saml.input.checked = t.samlRequired;
    var btn = h("button", { type: "submit" }, "Save settings");
    box.appendChild(h("h2", null, "Tenant settings (operator)"));
    box.appendChild(h("form", { class: "grid card", onsubmit: function (ev) {
      ev.preventDefault();
      busy(btn, plan.error, function () {
        return api("PATCH", "/admin/v1/tenants/" + enc(t.slug), {
          displayName: name.input.value, plan: plan.input.value.trim(),
          provisioningMode: mode.input.value, deactivationPolicy: pol.input.value,
          integrationEnabled: integ.input.checked, samlRequired: saml.input.checked
        }).then(function () { toast("Saved"); overview(); });
      });
    } }, name.wrap, plan.wrap, mode.wrap, pol.wrap, integ.wrap, saml.wrap, btn));

    var confirm = field("Type the slug \u201c" + t.slug + "\u201d to delete this tenant",
      h("input", { type: "text", autocomplete: "off" }));
    var del = h("button", { type: "submit", class: "danger" }, "Delete tenant");
    box.appendChild(h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      if (confirm.input.value !== t.slug) {
        confirm.error.textContent = "Type the slug exactly to confirm; its users, groups and tokens go with it.";
        confirm.input.setAttribute("aria-invalid", "true");
        return;
      }
      busy(del, confirm.error, function () {
        return api("DELETE", "/admin/v1/tenants/" + enc(t.slug)).then(function () {
          toast("Tenant deleted");
          location.hash = "#/tenants";
        });
      });
    } }, confirm.wrap, del));
  }

  /* ---- tenant: overview ---- */
  /* "Am I done?": the prerequisites, then SSO, SCIM, users and groups, each with its state
   * and the next step. */
  function overview() {
    page("Overview");
    var box = h("div", null, loading());
    main.appendChild(box);
    var soft = function (p) { return p.catch(function (e) { if (e.status === 404 || e.status === 403) return null; throw e; }); };
    Promise.all([api("GET", admin("")), api("GET", admin("/token-gate")), api("GET", admin("/tokens")),
      soft(api("GET", admin("/sso/oidc"))), soft(api("GET", admin("/sso/saml"))),
      api("GET", admin("/events?order=desc&limit=20&kind=sso.signin")),
      api("GET", admin("/requests?limit=1")),
      api("GET", admin("/users?count=1")), api("GET", admin("/groups?count=1"))])
      .then(function (r) {
        var t = r[0], gate = r[1], toks = r[2].tokens.filter(function (x) { return x.active; });
        var conns = [r[3], r[4]].filter(Boolean), signins = r[5].events, last = r[6].requests[0];
        var nUsers = r[7].totalResults, nGroups = r[8].totalResults;
        tenantUrl = t.publicUrl;
        var tb = "#/t/" + enc(t.slug);
        clear(box);
        document.title = t.displayName + " · " + brandName();
        main.querySelector("h1").textContent = t.displayName + " — overview";
        var missing = {};
        gate.missing.forEach(function (m) { missing[m.condition] = m.message; });
        function item(ok, title, detail, next, href) {
          return h("li", { class: ok ? "ok" : "todo" }, badge(ok, "done", "to do"), " ", title,
            detail ? h("div", { class: "muted" }, detail) : null,
            next ? h("div", { class: "next" }, h("strong", null, "Next: "), next,
              href ? [" ", h("a", { href: href }, "Go →")] : null) : null);
        }
        var pre = [
          ["plan", "Plan \u201c" + t.plan + "\u201d includes SCIM provisioning"],
          ["integration", "The integration is enabled by the operator"],
          ["saml", t.samlRequired ? "SAML SSO is required: it must be configured and enabled" : "SAML SSO is not required"]
        ];
        /* The operator acts for the host and needs no acting admin: that line is a tenant admin's. */
        if (session.scope !== "operator") pre.push(["actingAdmin", "You are an active admin of this tenant"]);
        var steps = pre.map(function (s) {
          var ok = !missing[s[0]];
          /* SAML is the tenant admin's own to set up; the rest is the operator's. */
          var own = s[0] === "saml" && session.scope !== "operator";
          return item(ok, s[1], ok ? null : missing[s[0]],
            ok ? null : session.scope === "operator" ? "change it in the tenant settings below." :
              own ? "set up SAML on the SSO page, then sign in once with Test sign-in." :
              "ask the application's operator or your account team.", own ? tb + "/sso" : null);
        });
        box.appendChild(h("h2", null, "Prerequisites"));
        box.appendChild(h("ol", { class: "steps", "aria-label": "Prerequisites" }, steps));

        /* SSO: a verified connection, its last sign-in. */
        var verified = conns.filter(function (c) { return c.enabled && c.verified; });
        var okSignin = signins.filter(function (e) { return (e.data || {}).result === "success"; })[0];
        var lastTry = signins[0];
        var ssoDetail = !conns.length ? "No connection yet" :
          conns.map(function (c) { return (c.protocol === "oidc" ? "OpenID Connect" : "SAML") + ": " +
            (c.enabled ? "enabled" : "disabled") + ", " + (c.verified ? "verified" : "not verified"); }).join("; ");
        var sso = item(verified.length > 0, "Single sign-on works",
          h("span", null, ssoDetail, ". Last sign-in: ", okSignin ? when(okSignin.time) : "never",
            lastTry && (lastTry.data || {}).result !== "success" ?
              h("span", { class: "error" }, " — last attempt refused: " + reasonWords(lastTry)) : null),
          !conns.length ? "choose your identity provider and follow the steps on the SSO page." :
            !verified.length ? "click Test sign-in on the SSO page and sign in once." : null, tb + "/sso");
        /* SCIM: a token, and the identity provider's last request. */
        /* The request log is the process's (it starts empty at each restart, and each instance
         * has its own); a token's last use is in the database and says the same in short. */
        var lastUsed = toks.map(function (k) { return k.lastUsed; }).filter(Boolean).sort().pop();
        var scimNext = !toks.length ? "generate a SCIM token and paste it into your identity provider." :
          !last && !lastUsed ? "paste the token into your identity provider and test the connection there." :
          last && last.status >= 400 ? "fix what the last request's error says, then retry it in your identity provider." : null;
        var scim = item(toks.length > 0 && (last ? last.status < 400 : !!lastUsed), "Provisioning (SCIM) is connected",
          h("span", null, toks.length + " active token" + (toks.length === 1 ? "" : "s") + ". Last request from your identity provider: ",
            last ? [when(last.time), " ", h("code", null, last.method + " " + last.route), " ",
              h("span", { class: "badge " + (last.status < 400 ? "ok" : "off") }, String(last.status)),
              last.detail ? " " + last.detail : ""] : lastUsed ? ["a token was used ", when(lastUsed)] : "none yet"),
          scimNext, tb + (last && last.status >= 400 ? "/activity" : "/scim"));
        var people = item(nUsers > 0, "People are provisioned",
          nUsers + " user" + (nUsers === 1 ? "" : "s") + ", " + nGroups + " group" + (nGroups === 1 ? "" : "s") + ".",
          nUsers ? (nGroups ? null : "push groups from your identity provider if you map roles by group.") :
            "assign people to the app in your identity provider.", tb + (nUsers ? "/roles" : "/users"));
        box.appendChild(h("h2", null, "Set-up"));
        box.appendChild(h("ol", { class: "steps", id: "setup-steps", "aria-label": "Set-up" }, sso, scim, people));
        var done = gate.allowed && verified.length && toks.length && (last ? last.status < 400 : lastUsed) && nUsers;
        box.appendChild(h("div", { class: "card" + (done ? " done" : "") }, h("strong", null, done ?
          "You are done: single sign-on and provisioning work. " : "Not done yet: follow the \u201cNext\u201d steps above. "),
          "The Activity page shows what your identity provider sends."));
        box.appendChild(h("dl", { class: "kv card" },
          h("dt", null, "Provisioning mode"), h("dd", null, t.provisioningMode),
          h("dt", null, "Deactivation policy"), h("dd", null, t.deactivationPolicy),
          h("dt", null, "Created"), h("dd", null, when(t.created))));
        if (session.scope === "operator") {
          setupLinkForm(t, box);
          tenantSettings(t, box);
        }
      }, function (e) { failed(box, e); });
  }

  /* The operator mints a set-up link for one of the tenant's admins (userName, externalId or
   * id, as the API takes) and hands it over; it is shown here only. */
  function setupLinkForm(t, box) {
    box.appendChild(h("h2", null, "Set-up link for the customer's admin"));
    var who = field("Admin (userName, externalId or user id)", h("input", { type: "text", autocomplete: "off",
      required: true }), "An active user of this tenant with the admin role. The link works once, for a short time.");
    var btn = h("button", { type: "submit" }, "Create set-up link");
    var out = h("div", { "aria-live": "polite" });
    box.appendChild(h("form", { class: "grid card", onsubmit: function (ev) {
      ev.preventDefault();
      busy(btn, who.error, function () {
        return api("POST", admin("/setup-links"), { actingUser: who.input.value.trim() }).then(function (l) {
          clear(out).appendChild(h("div", { class: "secret", role: "alert" },
            h("strong", null, "Set-up link for " + who.input.value.trim() + ": send it to them now."),
            h("code", { id: "setup-link" }, l.url),
            h("div", { class: "actions" }, copyButton(function () { return l.url; }, "Copy link")),
            h("p", { class: "muted" }, "It works once and expires ", when(l.expires), ".")));
        });
      });
    } }, who.wrap, btn));
    box.appendChild(out);
  }

  /* ---- tenant: SCIM ---- */
  function scimPage() {
    page("SCIM provisioning");
    var info = h("div", null, loading());
    var reveal = h("div");
    var gateBox = h("div");
    var list = h("div", null, loading());
    main.appendChild(info);
    main.appendChild(h("h2", null, "Tokens"));
    main.appendChild(reveal);
    main.appendChild(gateBox);
    main.appendChild(list);
    /* The guide for the admin's identity provider: provisioning, then roles. */
    var guideBox = h("div");
    var importOnly = null; /* the tenant's mode, once read: an import-only tenant gets import steps */
    function scimGuides(idp) {
      if (importOnly === null) { clear(guideBox).appendChild(loading()); return; }
      if (importOnly) showGuides(guideBox, [idp === "okta" ? "okta-import" :
        idp === "entra" ? "entra-import" : "scim-import"]);
      else showGuides(guideBox, idp === "okta" ? ["okta-scim", "okta-roles"] :
        idp === "entra" ? ["entra-scim", "entra-roles"] : ["scim"]);
    }
    main.appendChild(h("h2", null, "Connect your identity provider"));
    main.appendChild(idpPicker(scimGuides));
    main.appendChild(guideBox);
    if (chosenIdp) scimGuides(chosenIdp);

    api("GET", admin("")).then(function (t) {
      tenantUrl = t.publicUrl;
      importOnly = t.provisioningMode !== "push";
      if (chosenIdp) scimGuides(chosenIdp);
      clear(info).appendChild(h("dl", { class: "kv card" },
        h("dt", null, "SCIM base URL"), h("dd", null, h("code", { id: "scim-base" }, scimBase()), " ",
          copyButton(function () { return scimBase(); })),
        h("dt", null, "Authentication"), h("dd", null, "HTTP header: Authorization: Bearer <token>"),
        h("dt", null, "Provisioning mode"), h("dd", null, t.provisioningMode === "push" ?
          "push: your identity provider creates, updates and deactivates users" :
          "import-only: your identity provider may only read")));
    }, function (e) { failed(info, e); });

    function showSecret(tok, verb) {
      clear(reveal).appendChild(h("div", { class: "secret", role: "alert" },
        h("strong", null, "Copy this token now: it is shown once and cannot be shown again."),
        h("code", { id: "new-token" }, tok.token),
        h("div", { class: "actions" }, copyButton(function () { return tok.token; }, "Copy token"),
          h("button", { type: "button", class: "secondary", onclick: function () { clear(reveal); } }, "I have copied it")),
        h("p", { class: "muted" }, verb + " " + tok.prefix + "\u2026. Paste it into your identity provider's SCIM settings.")));
      reveal.querySelector("button").focus();
    }

    function drawGate(g) {
      clear(gateBox);
      var label = field("Label", h("input", { type: "text", value: "okta", maxlength: "200" }));
      var btn = h("button", { type: "submit" }, "Generate token");
      var err = h("div", { class: "error", role: "alert" });
      if (!g.allowed) {
        gateBox.appendChild(h("div", { class: "card refused" },
          h("strong", null, "A token cannot be generated yet:"),
          h("ul", null, g.missing.map(function (m) { return h("li", null, m.message); }))));
        btn.disabled = true;
      }
      gateBox.appendChild(h("form", { class: "grid card", onsubmit: function (ev) {
        ev.preventDefault();
        busy(btn, err, function () {
          return api("POST", admin("/tokens"), { label: label.input.value }).then(function (tok) {
            showSecret(tok, "Generated");
            loadTokens();
          });
        });
      } }, label.wrap, btn, err));
    }

    function loadTokens() {
      api("GET", admin("/token-gate")).then(drawGate, function (e) { failed(gateBox, e); });
      api("GET", admin("/tokens")).then(function (r) {
        var rows = r.tokens.map(function (t) {
          var acts = h("div", { class: "actions" });
          if (t.active) {
            var rev = h("button", { type: "button", class: "danger" }, "Revoke");
            rev.addEventListener("click", function () {
              if (!window.confirm("Revoke " + t.prefix + "\u2026? Your identity provider's requests with it fail at once.")) return;
              busy(rev, null, function () {
                return api("POST", admin("/tokens/" + enc(t.id) + "/revoke")).then(function () {
                  toast("Revoked " + t.prefix); loadTokens();
                });
              });
            });
            var rot = h("button", { type: "button", class: "secondary" }, "Rotate");
            rot.addEventListener("click", function () {
              busy(rot, null, function () {
                return api("POST", admin("/tokens/" + enc(t.id) + "/rotate"), {}).then(function (tok) {
                  showSecret(tok, "Rotated: the old token keeps working for an hour. New token");
                  loadTokens();
                });
              });
            });
            acts.appendChild(rot);
            acts.appendChild(rev);
          }
          return [h("code", null, t.prefix + "\u2026"), t.label || "", when(t.created), when(t.lastUsed),
            t.active ? badge(true, t.expires ? "active until rotation ends" : "active", "") :
              badge(false, "", t.revoked ? "revoked" : "expired"), acts];
        });
        clear(list).appendChild(table(["Token", "Label", "Created", "Last used", "Status", ""], rows,
          "No tokens yet."));
      }, function (e) { failed(list, e); });
    }
    loadTokens();
  }

  /* ---- guided set-up: docs/idp-setup.md, embedded and named by index.html ---- */
  /* The guides' words live in that one file, which docs/ and the console share; this is its
   * renderer. It reads the small Markdown subset the file's header describes, and a code span
   * holding {placeholders} shows them as the tenant's values, with a copy button. Text goes
   * through textContent only, as everywhere. */
  var guidesText = null;
  function loadGuides() {
    if (guidesText !== null) return Promise.resolve(guidesText);
    var meta = document.querySelector('meta[name="scimd-guides"]');
    return fetch(meta.content, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("The set-up guide could not be loaded (HTTP " + r.status + ").");
      return r.text();
    }).then(function (t) { guidesText = t; return t; });
  }
  function guideLines(text, id) {
    var lines = text.split("\n"), out = null;
    for (var i = 0; i < lines.length; i++) {
      var m = /^<a id="([a-z0-9-]+)"><\/a>\s*$/.exec(lines[i]);
      if (m) { if (out) break; if (m[1] === id) out = []; continue; }
      if (out) out.push(lines[i]);
    }
    return out || [];
  }
  function inline(text, values) {
    var parts = [], re = /\*\*([^*]+)\*\*|`([^`]+)`|\{([a-zA-Z]+)\}/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) parts.push(text.slice(last, m.index));
      if (m[1] !== undefined) parts.push(h("strong", null, m[1]));
      else {
        var raw = m[2] !== undefined ? m[2] : m[3];
        var ph = /^\{([a-zA-Z]+)\}$/.exec(m[2] !== undefined ? raw : "{" + raw + "}");
        var v = ph && values[ph[1]];
        if (ph && Array.isArray(v)) parts.push(v.join(", "));
        else if (m[2] !== undefined) {
          /* Each placeholder in a code span (`{roleNamespace}`, `{roleNamespace}:role`) is
           * filled in, and the span gets a copy button. */
          var filled = raw.replace(/\{([a-zA-Z]+)\}/g, function (all, k) {
            var x = values[k];
            return x && !Array.isArray(x) ? String(x) : all;
          });
          if (filled !== raw)
            parts.push(h("span", { class: "paste" }, h("code", null, filled), " ",
              copyButton(function (x) { return function () { return x; }; }(filled))));
          else parts.push(h("code", null, raw));
        }
        else parts.push(v ? String(v) : m[0]);
      }
      last = re.lastIndex;
    }
    if (last < text.length) parts.push(text.slice(last));
    return parts;
  }
  /* One guide as an <article>: its title, numbered steps (with details), paragraphs. */
  function renderGuide(text, id, values) {
    var art = h("article", { class: "guide card", id: "guide-" + id }), ol = null, li = null, sub = null;
    guideLines(text, id).forEach(function (line) {
      var m;
      if (!line.trim()) { return; }
      if ((m = /^## (.*)$/.exec(line))) { art.appendChild(h("h3", null, inline(m[1], values))); ol = null; return; }
      if ((m = /^### (.*)$/.exec(line))) { art.appendChild(h("h4", null, inline(m[1], values))); ol = null; return; }
      if ((m = /^\d+\. (.*)$/.exec(line))) {
        if (!ol) { ol = h("ol", { class: "guide-steps" }); art.appendChild(ol); }
        li = h("li", null, inline(m[1], values)); sub = null;
        ol.appendChild(li);
        return;
      }
      if ((m = /^\s+- (.*)$/.exec(line)) && li) {
        if (!sub) { sub = h("ul"); li.appendChild(sub); }
        sub.appendChild(h("li", null, inline(m[1], values)));
        return;
      }
      ol = null; li = null;
      art.appendChild(h("p", null, inline(line.trim(), values)));
    });
    return art;
  }
  /* The values a guide pastes, from the session, the role catalogue and the tenant's SSO
   * overview (sso: null when unread): an OIDC connection on the shared redirect URI (an Okta
   * catalog app) pastes the shared URIs. */
  function guideValues(catalogue, sso) {
    var base = tenantBase() + "/sso/" + enc(currentTenant), o = sso && sso.oidc;
    var shared = o && o.redirect === "shared";
    return { redirectUri: shared ? o.sharedRedirectUri : base + "/oidc/callback",
      initiateLoginUri: shared ? o.sharedInitiateLoginUri : base + "/oidc/initiate",
      acsUrl: base + "/saml/acs", spEntityId: base + "/saml/metadata", scimBaseUrl: scimBase(),
      roleNamespace: catalogue && catalogue.schema, roles: catalogue ? catalogue.roles : [],
      adminRole: catalogue && catalogue.adminRole };
  }
  /* The identity provider the admin picked: remembered while the page is open. */
  var IDPS = [["okta", "Okta"], ["entra", "Microsoft Entra ID"], ["other", "Another identity provider"]];
  var chosenIdp = null;
  function idpPicker(onPick) {
    var group = h("div", { class: "choice", role: "radiogroup", "aria-label": "Your identity provider" });
    IDPS.forEach(function (p) {
      var b = h("button", { type: "button", class: "secondary", role: "radio",
        "aria-checked": chosenIdp === p[0] ? "true" : "false", "data-idp": p[0] }, p[1]);
      b.addEventListener("click", function () {
        chosenIdp = p[0];
        group.querySelectorAll("button").forEach(function (x) {
          x.setAttribute("aria-checked", x === b ? "true" : "false");
        });
        onPick(p[0]);
      });
      group.appendChild(b);
    });
    return h("div", { class: "card" }, h("p", null, h("strong", null, "Which identity provider do you use?")), group);
  }
  /* Renders the guides named by ids into box, with the catalogue's values. */
  function showGuides(box, ids) {
    clear(box).appendChild(loading());
    Promise.all([loadGuides(), api("GET", "/admin/v1/roles").catch(function () { return null; }),
      api("GET", admin("/sso")).catch(function () { return null; })]).then(function (r) {
      clear(box);
      var values = guideValues(r[1], r[2]);
      ids.forEach(function (id) {
        if (id === "okta-roles" || id === "entra-roles") if (r[1] && !r[1].roles.length) return;
        box.appendChild(renderGuide(r[0], id, values));
      });
    }, function (e) { failed(box, e); });
  }

  /* ---- tenant: SSO ---- */
  /* The API's validation message goes next to the field it names (the first field name it
   * mentions; a few phrases name their field without it). Else next to the Save button. */
  function showFieldError(e, fields, fallback, phrases) {
    var msg = e.message || String(e), best = null, at = Infinity;
    Object.keys(fields).forEach(function (k) {
      var i = msg.indexOf(k);
      if (i >= 0 && i < at) { at = i; best = k; }
    });
    if (best === null) (phrases || []).some(function (p) {
      if (p[0].test(msg)) { best = p[1]; return true; }
      return false;
    });
    var f = best && fields[best];
    if (!f) { fallback.textContent = msg; return; }
    f.error.textContent = msg;
    f.input.setAttribute("aria-invalid", "true");
    f.input.focus();
  }
  function resetErrors(fields, fallback) {
    Object.keys(fields).forEach(function (k) {
      if (!fields[k]) return; /* a field this session does not show */
      fields[k].error.textContent = "";
      fields[k].input.removeAttribute("aria-invalid");
    });
    fallback.textContent = "";
  }
  function getOrNull(path) {
    return api("GET", path).catch(function (e) { if (e.status === 404) return null; throw e; });
  }
  function connState(c) {
    if (!c) return h("p", { class: "muted" }, "Not configured.");
    return h("p", null, badge(c.enabled, "enabled", "disabled"), " ",
      badge(c.verified, "verified", "not verified"), " ",
      c.verified ? ["first sign-in ", when(c.firstSignIn)] :
        h("span", { class: "muted" }, "verified once someone has signed in through it"));
  }
  function pasteList(values) {
    return h("dl", { class: "kv card" }, values.map(function (v) {
      return [h("dt", null, v[0]), h("dd", null, h("code", null, v[1]), " ",
        copyButton(function () { return v[1]; }))];
    }));
  }
  function deleteButton(path, what, after) {
    var b = h("button", { type: "button", class: "danger" }, "Delete " + what + " connection");
    b.addEventListener("click", function () {
      if (!window.confirm("Delete the " + what + " connection? People can no longer sign in through it.")) return;
      busy(b, null, function () { return api("DELETE", path).then(function () { toast(what + " connection deleted"); after(); }); });
    });
    return b;
  }

  function ssoPage() {
    page("Single sign-on");
    var box = h("div", null, loading());
    main.appendChild(box);
    function load() {
      Promise.all([getOrNull(admin("/sso/oidc")), getOrNull(admin("/sso/saml")), api("GET", admin(""))]).then(function (r) {
        tenantUrl = r[2].publicUrl;
        clear(box);
        drawSso(box, r[0], r[1], load);
      }, function (e) { failed(box, e); });
    }
    load();
  }

  /* One protocol at a time: the admin picks the identity provider and the protocol, and gets
   * that guide (docs/idp-setup.md) above that protocol's form and its test button. */
  var chosenProto = null;
  function drawSso(box, oidc, saml, reload) {
    var base = tenantBase() + "/sso/" + enc(currentTenant);
    var metadata = (saml && saml.spMetadataUrl) || base + "/saml/metadata";
    var guideBox = h("div"), formBox = h("div");
    var proto = chosenProto || (oidc && oidc.enabled ? "oidc" : saml ? "saml" : oidc ? "oidc" : null);
    var protoGroup = h("div", { class: "choice", role: "radiogroup", "aria-label": "Protocol" });
    function draw() {
      var g = chosenIdp === "other" ? proto : chosenIdp + "-" + proto;
      showGuides(guideBox, [g]);
      clear(formBox);
      formBox.appendChild(proto === "oidc" ? oidcForm(oidc, reload) : samlForm(saml, reload));
      formBox.appendChild(testSignIn(proto === "oidc" ? oidc : saml, proto));
    }
    [["oidc", "OpenID Connect"], ["saml", "SAML 2.0"]].forEach(function (p) {
      var c = p[0] === "oidc" ? oidc : saml;
      var b = h("button", { type: "button", class: "secondary", role: "radio", "data-proto": p[0],
        "aria-checked": proto === p[0] ? "true" : "false" }, p[1] + (c ? (c.enabled ? " (on)" : " (off)") : ""));
      b.addEventListener("click", function () {
        proto = chosenProto = p[0];
        protoGroup.querySelectorAll("button").forEach(function (x) {
          x.setAttribute("aria-checked", x === b ? "true" : "false");
        });
        if (chosenIdp) draw();
      });
      protoGroup.appendChild(b);
    });
    var protoCard = h("div", { class: "card" }, h("p", null, h("strong", null, "Which protocol?"), " ",
      h("span", { class: "muted" }, "OpenID Connect is simpler to set up; use SAML if your company requires it.")),
      protoGroup);
    box.appendChild(idpPicker(function () {
      protoCard.hidden = false;
      if (!proto) return;
      draw();
    }));
    protoCard.hidden = !chosenIdp;
    box.appendChild(protoCard);
    box.appendChild(guideBox);
    box.appendChild(formBox);
    if (chosenIdp && proto) draw();
    var all = h("details", { class: "card" }, h("summary", null, "All values to paste, at once"),
      pasteList([
        ["SCIM base URL", scimBase()],
        ["OIDC redirect (callback) URI", (oidc && oidc.redirectUri) || base + "/oidc/callback"],
        ["OIDC initiate login URI", (oidc && oidc.initiateLoginUri) || base + "/oidc/initiate"],
        ["SAML ACS URL", (saml && saml.acsUrl) || base + "/saml/acs"],
        ["SAML audience / SP entity ID", (saml && saml.audience) || metadata],
        ["Console sign-in for admins", tenantBase() + "/console/sso/" + enc(currentTenant)]
      ]),
      h("p", null, h("a", { href: BASE + "/sso/" + enc(currentTenant) + "/saml/metadata",
        download: "scimd-" + currentTenant + "-sp-metadata.xml" }, "Download the SP metadata (XML)")));
    box.appendChild(all);
  }

  /* Sign-in outcomes (sso.signin events, docs/sso.md reason codes) in plain words. */
  var REASONS = {
    ok: "Signed in.", console: "Signed in to this console.",
    unknown_user: "The identity provider vouched for an email address that belongs to no active user of this tenant. Provision the person (SCIM) or check the email the identity provider sends.",
    inactive_user: "The person is deactivated here. Reactivate them in the identity provider.",
    ambiguous_email: "Several active users here share that email address: give each person their own (deactivated users do not count).",
    no_email: "The identity provider sent no email address. Okta: Application username format Email. Entra: give the user a mail address and add the optional claim email.",
    email_not_verified: "The identity provider says the email address is not verified.",
    console_not_admin: "Signed in, but the person is not an admin of this tenant, so the console stayed closed.",
    connection_disabled: "The connection is disabled: tick Enabled and save.",
    idp_initiated_disabled: "The sign-in started from the identity provider's dashboard, which this connection does not allow.",
    unsolicited_disabled: "The identity provider sent an answer nobody asked for (dashboard tile); allow IdP-initiated sign-in or start from the application.",
    wrong_issuer: "The issuer in the answer is not the one saved here: check the issuer or org URL.",
    wrong_audience: "The answer was meant for another application: check the client ID, or the Audience URI / Entity ID.",
    bad_audience: "The answer was meant for another application: check the Audience URI / Entity ID.",
    wrong_destination: "The answer was sent to another address: check the ACS URL.",
    wrong_recipient: "The answer was sent to another address: check the ACS URL.",
    bad_signature: "The signature does not match the saved certificate: upload the identity provider's current metadata.",
    assertion_unsigned: "The assertion is not signed: sign the assertion, or allow a signed Response under Advanced.",
    signature_algorithm_not_allowed: "The identity provider signed with an algorithm this connection does not allow (see Advanced).",
    idp_error: "The identity provider refused the sign-in (the person may not be assigned to the app).",
    token_request_refused: "The identity provider refused the client ID or secret: copy them again.",
    token_request_failed: "scimd could not reach the identity provider's token endpoint.",
    transaction_cookie_missing: "The browser came back without the sign-in cookie: start again from the same browser.",
    status_not_success: "The identity provider answered with an error status (the person may not be assigned to the app)."
  };
  function reasonWords(ev) {
    var d = ev.data || {};
    return REASONS[d.reason] || (d.result === "success" ? "Signed in." : "Refused: " + (d.reason || d.result) + ".");
  }
  /* Test sign-in: the real flow in a new window; the outcome is the next sso.signin event of
   * this protocol, polled from the audit trail (a success also verifies the connection). */
  function testSignIn(c, proto) {
    var box = h("div", { class: "card", id: "test-" + proto });
    var out = h("div", { "aria-live": "polite" });
    var btn = h("button", { type: "button", class: "secondary" }, "Test sign-in");
    box.appendChild(h("h3", null, "Test sign-in"));
    if (!c) {
      box.appendChild(h("p", { class: "muted" }, "Save the connection first."));
      return box;
    }
    box.appendChild(h("p", { class: "muted" }, "Opens your identity provider in a new window. Sign in as a " +
      "person assigned to the app; the result and what the identity provider sent show here. " +
      "Nobody is signed in to the application by a test."));
    var hint = field("Sign in as (optional)", h("input", { type: "text", autocomplete: "off",
      placeholder: "ada@example.com" }), "Passed to the identity provider as the login hint.");
    if (proto === "oidc") box.appendChild(hint.wrap);
    box.appendChild(btn);
    box.appendChild(out);
    var q = admin("/events?order=desc&limit=20&kind=sso.signin");
    function latest(evs) {
      for (var i = 0; i < evs.length; i++) if ((evs[i].data || {}).protocol === proto) return evs[i];
      return null;
    }
    function show(ev, fresh) {
      clear(out);
      if (!ev) { out.appendChild(h("p", { class: "muted" }, "No sign-in through this connection yet.")); return; }
      var ok = (ev.data || {}).result === "success";
      out.appendChild(h("div", { class: "outcome " + (ok ? "ok" : "bad"), role: fresh ? "alert" : null },
        h("p", null, badge(ok, "signed in", "refused"), " ", fresh ? "Just now: " : "Last attempt ", when(ev.time)),
        h("p", null, reasonWords(ev), ok && fresh ? " This connection is verified." : ""),
        ev.resourceId ? h("p", null, "Matched user: ", resourceName({ resourceId: ev.resourceId,
          resourceType: "User", kind: ev.kind, data: {} })) : null,
        receivedList((ev.data || {}).received)));
    }
    /* What the identity provider sent in a test sign-in (claims or assertion attributes). */
    function receivedList(rec) {
      if (!rec || typeof rec !== "object" || !Object.keys(rec).length) return null;
      var dl = h("dl", { class: "received" });
      Object.keys(rec).forEach(function (k) {
        var v = rec[k];
        dl.appendChild(h("dt", null, k));
        dl.appendChild(h("dd", null, typeof v === "string" ? v : JSON.stringify(v)));
      });
      return h("details", { open: true }, h("summary", null, "What the identity provider sent"), dl);
    }
    var since = "0";
    api("GET", q).then(function (r) {
      var ev = latest(r.events);
      if (ev) since = ev.id;
      show(ev, false);
    }, function (e) { failed(out, e); });
    btn.addEventListener("click", function () {
      var who = hint.input.value.trim();
      window.open(tenantBase() + "/sso/" + enc(currentTenant) + "/" + proto + "/login?test=1" +
        (who && proto === "oidc" ? "&login_hint=" + enc(who) : ""), "scimd-test-signin");
      clear(out).appendChild(h("p", { class: "loading", role: "status" }, "Waiting for the sign-in in the other window…"));
      var tries = 0;
      (function poll() {
        if (!document.body.contains(out) || ++tries > 120) return;
        api("GET", q).then(function (r) {
          var ev = latest(r.events);
          if (ev && Number(ev.id) > Number(since)) { since = ev.id; show(ev, true); return; }
          setTimeout(poll, 2000);
        }, function () { setTimeout(poll, 2000); });
      })();
    });
    return box;
  }

  /* signInCompleteUrl is the host application's redemption page: only the operator's session
   * shows and sets it; a tenant admin's form leaves it out and the stored one stays. Empty
   * means the server's sso_complete_url. */
  function completeUrlField(c) {
    if (!isHost()) return null;
    return field("Sign-in complete URL", h("input", { type: "url", autocomplete: "off",
      value: c && c.signInCompleteUrl ? c.signInCompleteUrl : "",
      placeholder: "the server's sso_complete_url" }), "The host application's page that redeems sign-ins.");
  }
  function completeUrlWrap(f) { return f.signInCompleteUrl ? f.signInCompleteUrl.wrap : null; }
  function completeUrlValue(f, body) {
    if (!f.signInCompleteUrl) return;
    var v = f.signInCompleteUrl.input.value.trim();
    body.signInCompleteUrl = v ? v : null;
  }

  var ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

  function oidcForm(c, reload) {
    var sec = h("section", { "aria-labelledby": "oidc-h" });
    sec.appendChild(h("h2", { id: "oidc-h" }, "OpenID Connect (Okta, Entra ID)"));
    sec.appendChild(connState(c));
    var f = {
      issuer: field("Issuer or Okta org URL", h("input", { type: "url", required: true, autocomplete: "off",
        placeholder: "https://acme.okta.com", value: c ? c.issuer : "" }),
        "Okta: the address people sign in at, not the -admin console. Entra: https://login.microsoftonline.com/{tenant-id}/v2.0"),
      clientId: field("Client ID", h("input", { type: "text", required: true, autocomplete: "off",
        value: c ? c.clientId : "" })),
      clientSecret: field("Client secret", h("input", { type: "password", autocomplete: "new-password",
        placeholder: c && c.clientSecretSet ? "stored; leave empty to keep it" : "" }),
        "Write-only: sealed at rest and never shown again."),
      signInCompleteUrl: completeUrlField(c),
      idpInitiated: field("Allow sign-in from the identity provider's dashboard (IdP-initiated)",
        h("input", { type: "checkbox", checked: !!(c && c.idpInitiated) })),
      enabled: field("Enabled", h("input", { type: "checkbox", checked: c ? c.enabled : true }))
    };
    var chosen = (c && c.algorithms) || ["RS256"];
    var algBox = h("fieldset", { class: "algs" }, h("legend", null, "Allowed signing algorithms"));
    var algInputs = ALGS.map(function (a) {
      var i = h("input", { type: "checkbox", value: a, checked: chosen.indexOf(a) >= 0 });
      algBox.appendChild(field(a, i).wrap);
      return i;
    });
    var algErr = h("p", { class: "error", "aria-live": "polite" });
    algBox.appendChild(algErr);
    f.algorithms = { input: algInputs[0], error: algErr };
    f.issuer.wrap.classList.add("wide");
    var err = h("p", { class: "error", role: "alert" });
    var save = h("button", { type: "submit" }, c ? "Save OIDC connection" : "Create OIDC connection");
    var form = h("form", { class: "grid card", novalidate: true, onsubmit: function (ev) {
      ev.preventDefault();
      resetErrors(f, err);
      var body = { issuer: f.issuer.input.value.trim(), clientId: f.clientId.input.value.trim(),
        algorithms: algInputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; }),
        idpInitiated: f.idpInitiated.input.checked, enabled: f.enabled.input.checked };
      if (f.clientSecret.input.value) body.clientSecret = f.clientSecret.input.value;
      completeUrlValue(f, body);
      busy(save, null, function () {
        return api("PUT", admin("/sso/oidc"), body).then(function () {
          f.clientSecret.input.value = "";
          toast("OIDC connection saved");
          reload();
        }, function (e) {
          showFieldError(e, f, err, [[/admin console|discovery|PKCE|Entra/i, "issuer"]]);
        });
      });
    } }, f.issuer.wrap, f.clientId.wrap, f.clientSecret.wrap, completeUrlWrap(f), algBox,
      f.idpInitiated.wrap, f.enabled.wrap, save, err);
    /* Signature options under "Advanced": the defaults (RS256) are safe. */
    form.insertBefore(h("details", { class: "advanced wide" }, h("summary", null, "Advanced"), algBox), save);
    sec.appendChild(form);
    if (c) sec.appendChild(deleteButton(admin("/sso/oidc"), "OIDC", reload));
    return sec;
  }

  function samlForm(c, reload) {
    var sec = h("section", { "aria-labelledby": "saml-h" });
    sec.appendChild(h("h2", { id: "saml-h" }, "SAML 2.0"));
    sec.appendChild(connState(c));
    if (c && c.certificateNotAfter && c.certificateNotAfter.length)
      sec.appendChild(h("p", { class: "muted" }, "Signing certificates valid until: ",
        c.certificateNotAfter.map(function (d, i) { return [i ? ", " : "", when(d)]; })));
    var upload = h("input", { type: "file", accept: ".xml,application/xml,text/xml" });
    var f = {
      metadataUrl: field("IdP metadata URL", h("input", { type: "url", autocomplete: "off",
        value: c && c.metadataUrl ? c.metadataUrl : "" }),
        "Fetched once when you save. Or upload or paste the metadata below, or fill in the three fields by hand."),
      metadataXml: field("IdP metadata XML", h("textarea", { rows: "4", spellcheck: "false" })),
      idpEntityId: field("IdP entity ID", h("input", { type: "text", autocomplete: "off",
        value: c ? c.idpEntityId : "" })),
      ssoUrl: field("IdP SSO URL", h("input", { type: "url", autocomplete: "off", value: c ? c.ssoUrl : "" })),
      certificates: field("IdP signing certificates (PEM)", h("textarea", { rows: "4", spellcheck: "false" }),
        "One or two (during a rollover); they are pinned."),
      signInCompleteUrl: completeUrlField(c),
      idpInitiated: field("Allow sign-in from the identity provider's dashboard (IdP-initiated)",
        h("input", { type: "checkbox", checked: !!(c && c.idpInitiated) })),
      acceptSignedResponse: field("Also accept a signed Response around an unsigned Assertion",
        h("input", { type: "checkbox", checked: !!(c && c.acceptSignedResponse) })),
      enabled: field("Enabled", h("input", { type: "checkbox", checked: c ? c.enabled : true }))
    };
    f.metadataUrl.wrap.classList.add("wide");
    if (c && c.certificates) f.certificates.input.value = c.certificates.join("\n");
    var uploadField = field("Upload IdP metadata file", upload);
    upload.addEventListener("change", function () {
      var file = upload.files[0];
      if (!file) return;
      file.text().then(function (t) { f.metadataXml.input.value = t; });
    });
    var err = h("p", { class: "error", role: "alert" });
    var save = h("button", { type: "submit" }, c ? "Save SAML connection" : "Create SAML connection");
    var form = h("form", { class: "grid card", novalidate: true, onsubmit: function (ev) {
      ev.preventDefault();
      resetErrors(f, err);
      var body = { idpInitiated: f.idpInitiated.input.checked, enabled: f.enabled.input.checked,
        acceptSignedResponse: f.acceptSignedResponse.input.checked };
      completeUrlValue(f, body);
      var xml = f.metadataXml.input.value.trim(), url = f.metadataUrl.input.value.trim();
      if (xml) body.metadataXml = xml;
      if (url) body.metadataUrl = url;
      if (!xml && !url) {
        /* The fields by hand; with metadata they come from it instead. */
        body.idpEntityId = f.idpEntityId.input.value.trim();
        body.ssoUrl = f.ssoUrl.input.value.trim();
        body.certificates = (f.certificates.input.value.match(
          /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) || []);
      }
      busy(save, null, function () {
        return api("PUT", admin("/sso/saml"), body).then(function () {
          toast("SAML connection saved");
          reload();
        }, function (e) { showFieldError(e, f, err, [[/metadata/i, xml ? "metadataXml" : "metadataUrl"]]); });
      });
    } }, f.metadataUrl.wrap, uploadField.wrap, f.metadataXml.wrap, f.idpEntityId.wrap, f.ssoUrl.wrap,
      f.certificates.wrap, completeUrlWrap(f), f.idpInitiated.wrap, f.acceptSignedResponse.wrap,
      f.enabled.wrap, save, err);
    /* The fields by hand, for an identity provider without metadata; signature options under
     * "Advanced". Both closed unless they are in use. */
    form.insertBefore(h("details", { class: "advanced wide", open: !!(c && !c.metadataUrl) },
      h("summary", null, "Or enter the identity provider's details by hand"),
      h("div", { class: "grid" }, f.idpEntityId.wrap, f.ssoUrl.wrap, f.certificates.wrap)), f.idpInitiated.wrap);
    form.insertBefore(h("details", { class: "advanced wide", open: !!(c && c.acceptSignedResponse) },
      h("summary", null, "Advanced"), f.acceptSignedResponse.wrap), save);
    sec.appendChild(form);
    if (c) sec.appendChild(deleteButton(admin("/sso/saml"), "SAML", reload));
    return sec;
  }

  /* ---- tenant: users and groups ---- */
  function scimList(opts) {
    var q = field(opts.filterLabel, h("input", { type: "search", autocomplete: "off" }));
    var box = h("div", null, loading());
    var pager = h("div", { class: "actions" });
    var start = 1, count = 20;
    function load() {
      clear(box).appendChild(loading());
      var f = q.input.value.trim();
      var path = opts.path + "?startIndex=" + start + "&count=" + count +
        (f ? "&filter=" + enc(opts.attr + ' sw "' + f.replace(/["\\]/g, "") + '"') : "");
      api("GET", admin(path)).then(function (r) {
        var items = r.Resources || [];
        clear(box).appendChild(table(opts.headers, items.map(opts.row), f ? "Nothing matches." : "None yet."));
        clear(pager);
        pager.appendChild(h("span", { class: "muted" }, items.length ?
          start + "\u2013" + (start + items.length - 1) + " of " + r.totalResults : ""));
        if (start > 1) pager.appendChild(h("button", { type: "button", class: "secondary", onclick: function () {
          start = Math.max(1, start - count); load(); } }, "Previous"));
        if (start + items.length - 1 < r.totalResults) pager.appendChild(h("button", { type: "button",
          class: "secondary", onclick: function () { start += count; load(); } }, "Next"));
      }, function (e) { failed(box, e); });
    }
    var timer;
    q.input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { start = 1; load(); }, 250);
    });
    main.appendChild(h("div", { class: "card" }, q.wrap));
    main.appendChild(box);
    main.appendChild(pager);
    load();
  }

  function usersPage(id) {
    if (id) return userDetail(id);
    page("Users");
    scimList({ path: "/users", attr: "userName", filterLabel: "Filter by userName (starts with)",
      headers: ["userName", "Name", "Status", "Updated"],
      row: function (u) {
        return [h("a", { href: "#/t/" + enc(currentTenant) + "/users/" + enc(u.id) }, u.userName),
          (u.name && u.name.formatted) || [u.name && u.name.givenName, u.name && u.name.familyName].filter(Boolean).join(" "),
          badge(u.active !== false, "active", "inactive"), when(u.meta && u.meta.lastModified)];
      } });
  }

  function eventRows(events) {
    return events.map(function (e) {
      var detail = e.data && e.data.changes ? Object.keys(e.data.changes).join(", ") :
        e.data && e.data.role ? (e.data.role.before || "\u2014") + " \u2192 " + e.data.role.after : "";
      return [when(e.time), e.kind, actorName(e.actor), detail, resourceName(e)];
    });
  }
  /* Names for ids in events, per tenant: tokens by label, users by userName, groups by
   * displayName. Looked up once each (at most 100 a page), shown as they arrive. */
  var names = { tenant: null, tokens: {}, res: {} };
  function namesFor() {
    if (names.tenant !== currentTenant) names = { tenant: currentTenant, tokens: {}, res: {} };
    return names;
  }
  function tokenName(id) {
    var t = namesFor().tokens[id];
    return t ? "SCIM token " + (t.label ? "\u201c" + t.label + "\u201d " : "") + "(" + t.prefix + "\u2026)" : null;
  }
  function lazyName(type, id, el) {
    var n = namesFor(), key = type + ":" + id;
    if (!n.res[key]) {
      if (Object.keys(n.res).length > 100) return;
      n.res[key] = api("GET", admin((type === "User" ? "/users/" : "/groups/") + enc(id))).then(function (r) {
        return type === "User" ? r.userName : r.displayName;
      }, function () { return null; });
    }
    n.res[key].then(function (name) { if (name) el.textContent = name; });
  }
  function actorName(actor) {
    var m = /^(token|console):(.+)$/.exec(actor || "");
    if (!m || m[2] === "operator") return actor;
    if (m[1] === "token") return h("span", { title: actor }, tokenName(m[2]) || actor);
    var el = h("span", { title: actor }, actor);
    lazyName("User", m[2], el);
    return el;
  }
  /* The user or group an event is about: its name from the event, else looked up. */
  function resourceName(e) {
    if (!e.resourceId) return "";
    var d = e.data || {}, doc = d.after || d.before || {};
    var known = e.resourceType === "User" ? doc.userName : doc.displayName;
    var href = e.resourceType === "User" ? "#/t/" + enc(currentTenant) + "/users/" + enc(e.resourceId) : null;
    var el = href ? h("a", { href: href, title: e.resourceId }, known || e.resourceId) :
      h("span", { title: e.resourceId }, known || e.resourceId);
    if (!known && e.kind.slice(-8) !== ".deleted") lazyName(e.resourceType, e.resourceId, el);
    return el;
  }

  function userDetail(id) {
    page("User");
    var box = h("div", null, loading());
    main.appendChild(box);
    Promise.all([api("GET", admin("/users/" + enc(id))), api("GET", admin("/users/" + enc(id) + "/role")),
      api("GET", admin("/events?order=desc&limit=50&resource=" + enc(id)))]).then(function (r) {
      var u = r[0], role = r[1], ev = r[2].events;
      main.querySelector("h1").textContent = u.userName;
      clear(box);
      box.appendChild(h("dl", { class: "kv card" },
        h("dt", null, "Status"), h("dd", null, badge(u.active !== false, "active", "inactive")),
        h("dt", null, "Role"), h("dd", { id: "user-role" }, role.role || "\u2014"),
        h("dt", null, "Role comes from"), h("dd", null, role.source + (role.direct ? " (set on the user: " + role.direct + ")" : "")),
        h("dt", null, "Groups"), h("dd", null, (u.groups || []).map(function (g) { return g.display || g.value; }).join(", ") || "none"),
        h("dt", null, "External id"), h("dd", null, u.externalId || "\u2014"),
        h("dt", null, "Created"), h("dd", null, when(u.meta && u.meta.created)),
        h("dt", null, "Updated"), h("dd", null, when(u.meta && u.meta.lastModified))));
      var links = h("div", { id: "sso-links" }, loading());
      box.appendChild(h("h2", null, "Single sign-on links"));
      box.appendChild(links);
      ssoLinks(id, links);
      box.appendChild(h("h2", null, "History"));
      box.appendChild(table(["When", "What", "Who", "Changed", "About"], eventRows(ev), "No events."));
    }, function (e) { failed(box, e); });
  }

  /* The identity-provider subjects this user signs in as (issue 14). Removing them makes the
   * next sign-in a first sign-in again, matched by email: the repair after an IdP was
   * replaced or a person re-hired under another IdP account. */
  function ssoLinks(id, box) {
    var path = admin("/users/" + enc(id) + "/sso-links");
    api("GET", path).then(function (r) {
      clear(box);
      box.appendChild(table(["Protocol", "Identity provider", "Subject", "Linked"],
        r.links.map(function (l) {
          return [l.protocol ? l.protocol.toUpperCase() : h("span", { class: "muted" }, "replaced IdP"),
            l.issuer, l.subject, when(l.created)];
        }), "Not linked: the first single sign-on links this user by email."));
      if (!r.links.length) return;
      var err = h("p", { class: "error", role: "alert" });
      var remove = h("button", { type: "button", class: "secondary", id: "sso-links-remove" },
        "Remove SSO links");
      remove.addEventListener("click", function () {
        if (!window.confirm("Remove this user's single sign-on links? Their next sign-in is " +
          "matched by email again.")) return;
        busy(remove, err, function () {
          return api("DELETE", path).then(function () { toast("SSO links removed"); ssoLinks(id, box); });
        });
      });
      box.appendChild(h("div", { class: "actions" }, remove));
      box.appendChild(err);
    }, function (e) { failed(box, e); });
  }

  function groupsPage() {
    page("Groups");
    scimList({ path: "/groups", attr: "displayName", filterLabel: "Filter by name (starts with)",
      headers: ["Name", "Members", "Updated"],
      row: function (g) {
        return [g.displayName, String((g.members || []).length), when(g.meta && g.meta.lastModified)];
      } });
  }

  /* ---- tenant: role mapping ---- */
  /* Display names of the groups pushed to this tenant (first 1000), for the role map. */
  var pushed = [];
  function loadPushed() {
    return api("GET", admin("/groups?count=1000&attributes=displayName")).then(function (r) {
      pushed = (r.Resources || []).map(function (g) { return g.displayName; });
    }, function () { pushed = []; });
  }
  function isPushed(name) {
    var n = name.toLowerCase();
    return pushed.some(function (g) { return g.toLowerCase() === n; });
  }
  function pushedWarning(name) {
    return isPushed(name) ? null : h("div", { class: "warn" }, "not pushed yet");
  }
  /* The role choices are the server's configured catalogue (GET /admin/v1/roles). */
  function rolesPage() {
    page("Role mapping");
    var intro = h("p", { class: "muted" });
    main.appendChild(intro);
    var box = h("div", null, loading());
    var err = h("p", { class: "error", role: "alert" });
    main.appendChild(box);
    var rules = [], roles = [], fallback = null;
    function draw() {
      clear(box);
      var rows = rules.map(function (r, i) {
        var sel = select(roles, r.role);
        sel.setAttribute("aria-label", "Role for " + r.group);
        sel.addEventListener("change", function () { r.role = sel.value; });
        function move(d) {
          return function () {
            var j = i + d, t = rules[i];
            rules[i] = rules[j]; rules[j] = t;
            draw();
            var b = box.querySelectorAll("tbody tr")[j].querySelector(d < 0 ? ".up" : ".down");
            (b && !b.disabled ? b : box.querySelectorAll("tbody tr")[j].querySelector("button")).focus();
          };
        }
        return [String(i + 1), [r.group, pushedWarning(r.group)], sel, h("div", { class: "actions" },
          h("button", { type: "button", class: "secondary up", "aria-label": "Move " + r.group + " up",
            disabled: i === 0, onclick: move(-1) }, "\u2191"),
          h("button", { type: "button", class: "secondary down", "aria-label": "Move " + r.group + " down",
            disabled: i === rules.length - 1, onclick: move(1) }, "\u2193"),
          h("button", { type: "button", class: "link", onclick: function () { rules.splice(i, 1); draw(); } },
            "Remove"))];
      });
      box.appendChild(table(["Order", "Group", "Role", ""], rows, "No group is mapped."));
      /* The groups the identity provider pushed are the choices; a name not pushed yet is
       * allowed (the rule applies once it is), with a warning. */
      var group = field("Group name", h("input", { type: "text", autocomplete: "off", list: "pushed-groups" }),
        pushed.length ? "Pick a group your identity provider pushed, or type a name it will push." :
          "No group has been pushed yet: type the name your identity provider will push.");
      box.appendChild(h("datalist", { id: "pushed-groups" }, pushed.map(function (g) { return h("option", { value: g }); })));
      var role = field("Role", select(roles, fallback));
      box.appendChild(h("form", { class: "grid card", onsubmit: function (ev) {
        ev.preventDefault();
        var g = group.input.value.trim();
        if (!g) { group.error.textContent = "Name the group as your identity provider sends it."; return; }
        rules.push({ group: g, role: role.input.value });
        draw();
        if (!isPushed(g)) toast("\u201c" + g + "\u201d has not been pushed yet: the rule applies once it is.");
      } }, group.wrap, role.wrap, h("button", { type: "submit", class: "secondary" }, "Add mapping")));
      var save = h("button", { type: "button" }, "Save role mapping");
      save.addEventListener("click", function () {
        busy(save, err, function () {
          var body = { rules: rules.map(function (r, i) { return { group: r.group, role: r.role, priority: i + 1 }; }) };
          return api("PUT", admin("/role-map"), body).then(function (r) {
            rules = r.rules; draw(); toast("Role mapping saved; roles recomputed");
          });
        });
      });
      box.appendChild(h("div", { class: "actions" }, save));
      box.appendChild(err);
    }
    api("GET", "/admin/v1/roles").then(function (c) {
      if (!c.roles.length) {
        intro.textContent = "This server has no roles configured: the host application decides " +
          "what its users may do, so there is nothing to map.";
        clear(box);
        return;
      }
      roles = c.roles.map(function (r) { return [r, r]; });
      fallback = c["default"];
      intro.textContent = "A user gets the role of their first mapped group in this order, else the role " +
        "set by the identity provider, else \u201c" + c["default"] + "\u201d.";
      return Promise.all([api("GET", admin("/role-map")), loadPushed()]).then(function (r) { rules = r[0].rules; draw(); });
    }).catch(function (e) { failed(box, e); });
  }

  /* ---- tenant: activity ---- */
  function activityPage() {
    page("Activity");
    var kinds = [["", "All events"], ["user.", "Users (all)"], ["user.created", "User created"],
      ["user.updated", "User updated"], ["user.deactivated", "User deactivated"], ["user.deleted", "User deleted"],
      ["user.sso_unlinked", "SSO links removed"],
      ["user.role_changed", "Role changed"], ["group.", "Groups (all)"], ["role_map.changed", "Role map changed"]];
    var kind = field("Kind", select(kinds, ""));
    var box = h("div", null, loading());
    var more = h("button", { type: "button", class: "secondary", hidden: true }, "Older events");
    var tokBox = h("div");
    main.appendChild(h("div", { class: "card" }, kind.wrap));
    main.appendChild(box);
    main.appendChild(more);
    main.appendChild(h("h2", null, "Recent SCIM requests"));
    main.appendChild(tokBox);
    var rows = [], before = 0, seq = 0;
    function load(reset) {
      if (reset) { rows = []; before = 0; clear(box).appendChild(loading()); }
      var q = "/events?order=desc&limit=50" + (before ? "&before=" + before : "") +
        (kind.input.value ? "&kind=" + enc(kind.input.value) : "");
      var mine = ++seq; /* a slower answer to an earlier filter must not overwrite this one */
      return api("GET", admin(q)).then(function (r) {
        if (mine !== seq) return;
        rows = rows.concat(eventRows(r.events));
        before = Number(r.next);
        more.hidden = r.next === "0"; /* "0": this page holds the oldest event */
        clear(box).appendChild(table(["When", "What", "Who", "Changed", "About"], rows, "No events."));
      }, function (e) { failed(box, e); });
    }
    kind.input.addEventListener("change", function () { load(true); });
    more.addEventListener("click", function () { busy(more, null, function () { return load(false); }); });
    Promise.all([api("GET", admin("/tokens")), api("GET", admin("/requests?limit=100"))]).then(function (r) {
      var prefix = {};
      r[0].tokens.forEach(function (t) {
        namesFor().tokens[t.id] = t;
        prefix[t.id] = (t.label ? t.label + " " : "") + "(" + t.prefix + "\u2026)";
      });
      load(true);
      clear(tokBox).appendChild(h("p", { class: "muted" }, "The last requests your identity provider made with each " +
        "token, as this scimd instance saw them since it started."));
      tokBox.appendChild(table(["When", "Token", "Request", "Status", "Error"], r[1].requests.map(function (q) {
        return [when(q.time), h("code", null, prefix[q.token] || q.token), q.method + " " + q.route,
          h("span", { class: "badge " + (q.status < 400 ? "ok" : "off") }, String(q.status)), q.detail || ""];
      }), "No SCIM requests yet."));
    }, function (e) { failed(tokBox, e); load(true); });
  }

  /* ---- tenant: webhooks ---- */
  function webhooksPage() {
    page("Webhooks");
    var reveal = h("div");
    var box = h("div", null, loading());
    var attempts = h("div");
    main.appendChild(reveal);
    main.appendChild(box);
    main.appendChild(attempts);
    function showSecret(w) {
      clear(reveal).appendChild(h("div", { class: "secret", role: "alert" },
        h("strong", null, (w.url ? "Signing secret of " + w.url : "Poll secret of the stream " + w.id) + ": shown once."),
        h("code", null, w.secret), copyButton(function () { return w.secret; }, "Copy secret")));
    }
    function load() {
      api("GET", admin("/webhooks")).then(function (r) {
        clear(box).appendChild(table(["Endpoint", "Format", "Status", "Pending", "Last attempt", ""], r.webhooks.map(function (w) {
          var path = "/webhooks/" + enc(w.id);
          var rot = h("button", { type: "button", class: "secondary" }, "Rotate secret");
          rot.addEventListener("click", function () {
            busy(rot, null, function () { return api("POST", admin(path + "/rotate-secret")).then(showSecret); });
          });
          var tog = h("button", { type: "button", class: "secondary" }, w.enabled ? "Disable" : "Enable");
          tog.addEventListener("click", function () {
            busy(tog, null, function () { return api("PATCH", admin(path), { enabled: !w.enabled }).then(load); });
          });
          var del = h("button", { type: "button", class: "danger" }, "Delete");
          del.addEventListener("click", function () {
            if (!window.confirm("Delete the webhook " + w.url + "?")) return;
            busy(del, null, function () { return api("DELETE", admin(path)).then(load); });
          });
          var att = h("button", { type: "button", class: "link" }, "Attempts");
          att.addEventListener("click", function () {
            clear(attempts).appendChild(loading());
            api("GET", admin(path + "/attempts?limit=20")).then(function (a) {
              clear(attempts).appendChild(h("h2", null, "Delivery attempts: " + w.url));
              attempts.appendChild(table(["When", "Events", "Status", "Duration", "Error"], a.attempts.map(function (x) {
                return [when(x.time), x.firstEvent + "\u2013" + x.lastEvent, String(x.status || "no answer"),
                  x.durationMs + " ms", x.error || ""];
              }), "No attempts yet."));
            }, function (e) { failed(attempts, e); });
          });
          var fmt = w.format === "set" ? "SCIM events (" + w.delivery + ")" : "scimd";
          var where = w.url || h("span", null, "POST /events/v1/" + currentTenant + "/poll/" + w.id);
          return [where, fmt, badge(w.enabled, "enabled", "disabled"), String(w.pending),
            h("span", null, when(w.lastAttempt), w.lastStatus ? " (" + w.lastStatus + ")" : "",
              w.lastError ? h("div", { class: "error" }, w.lastError) : null),
            h("div", { class: "actions" }, att, rot, tog, del)];
        }), "No webhooks."));
      }, function (e) { failed(box, e); });
    }
    main.appendChild(h("h2", null, "Add a webhook"));
    var url = field("URL", h("input", { type: "url", placeholder: "https://app.example.com/hooks/scimd" }));
    var format = field("Format", select([["scimd", "scimd events (HMAC-signed batches)"],
      ["push", "SCIM events, pushed (RFC 8935)"], ["poll", "SCIM events, polled (RFC 8936)"]], "scimd"),
      "SCIM events are ES256-signed SETs (RFC 9967); see docs/webhooks.md.");
    var audience = field("Audience", h("input", { type: "text", placeholder: "the receiver's audience (aud)" }),
      "SCIM events only; required when polled, defaults to the URL when pushed.");
    var btn = h("button", { type: "submit" }, "Add webhook");
    main.appendChild(h("form", { class: "grid card", onsubmit: function (ev) {
      ev.preventDefault();
      var body = {}, f = format.input.value, u = url.input.value.trim(), a = audience.input.value.trim();
      if (f !== "poll") body.url = u;
      if (f !== "scimd") { body.format = "set"; body.delivery = f; }
      if (f !== "scimd" && a) body.audience = a;
      busy(btn, url.error, function () {
        return api("POST", admin("/webhooks"), body).then(function (w) {
          url.input.value = ""; audience.input.value = ""; showSecret(w); load();
        });
      });
    } }, url.wrap, format.wrap, audience.wrap, btn));
    load();
  }

  /* ---- start ---- */
  api("GET", "/console/api/brand").then(function (b) {
    brand = { name: b.name, logoUrl: b.logoUrl || null };
    document.getElementById("brand-name").textContent = b.name;
    var logo = document.getElementById("brand-logo");
    if (brand.logoUrl) { logo.src = brand.logoUrl; logo.hidden = false; }
    document.title = document.title.replace(/scimd console$/, brandName());
  }).catch(function () {});
  if (/^#setup=/.test(location.hash)) {
    route();
  } else {
    api("GET", "/console/api/session").then(function (s) { session = s; route(); },
      function () { renderSignIn(); });
  }
})();
