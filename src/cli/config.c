#include "cli/config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/limits.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/gate.h"

enum kind {
    K_STR,
    K_LONG,
    K_BOOL
};

struct setting {
    const char *key; /* file key; flag is --key with '_' as '-'; env SCIMD_KEY */
    enum kind kind;
    size_t offset;
    const char *dflt;
    long min, max;
    const char *help;
};

#define S(key, kind, dflt, min, max, help)                             \
    {                                                                  \
#key, kind, offsetof(struct config, key), dflt, min, max, help \
    }

static const struct setting settings[] = {
    S(config_file, K_STR, NULL, 0, 0, "config file of `key = value` lines"),
    S(listen, K_STR, "127.0.0.1", 0, 0, "address to listen on (IPv4 or IPv6 literal)"),
    S(port, K_LONG, "8080", 0, 65535, "TCP port (0 picks a free one and logs it)"),
    S(data_dir, K_STR, "./data", 0, 0, "directory for the SQLite database"),
    S(db, K_STR, NULL, 0, 0, "database: SQLite file (default DATA_DIR/scimd.db) or postgres://..."),
    S(public_url, K_STR, NULL, 0, 0,
      "absolute base URL clients use, e.g. https://id.example.com (default from listen/port)"),
    S(operator_key, K_STR, NULL, 0, 0,
      "operator key for /admin/v1 (prefer operator_key_file or the environment)"),
    S(operator_key_file, K_STR, NULL, 0, 0, "file holding the operator key"),
    S(operator_keys_file, K_STR, NULL, 0, 0,
      "file of named operator keys, one `NAME KEY` a line (several at once; reloaded on SIGHUP)"),
    S(tls_cert, K_STR, NULL, 0, 0, "PEM certificate file: with tls_key, serve HTTPS"),
    S(tls_key, K_STR, NULL, 0, 0, "PEM private key file"),
    S(threads, K_LONG, "0", 0, LIMIT_THREADS_MAX,
      "worker threads (0 = 4 per core on SQLite, 1 on PostgreSQL)"),
    S(max_connections, K_LONG, "1024", 1, 100000, "simultaneous connections"),
    S(connection_timeout, K_LONG, "30", 1, 3600,
      "seconds an idle or slow connection may stay open"),
    S(request_timeout, K_LONG, "30", 1, 3600,
      "seconds a whole request (head and body) may take to arrive"),
    S(connections_per_address, K_LONG, "128", 0, 100000,
      "simultaneous connections from one client address (0 = no limit)"),
    S(auth_failure_limit, K_LONG, "20", 0, 1000000,
      "failed SCIM/API authentications per minute per token prefix and per client address"
      " (SCIM: a scimd token by its prefix only) before 429 (0 = no limit)"),
    S(sso_rate_limit, K_LONG, "60", 0, 1000000,
      "SSO starts and callbacks per minute per client address before 429 (0 = no limit)"),
    S(signin_failure_limit, K_LONG, "10", 0, 1000000,
      "failed console sign-ins per minute per client address before 429 (0 = no limit)"),
    S(body_limit, K_LONG, "1048576", 1024, 64 * 1024 * 1024, "largest request body in bytes"),
    S(bulk_max_operations, K_LONG, "1000", 1, LIMIT_BULK_OPERATIONS_MAX,
      "most operations in one SCIM /Bulk request (maxOperations)"),
    S(bulk_max_payload, K_LONG, "1048576", 1024, 64 * 1024 * 1024,
      "largest SCIM /Bulk request body in bytes (maxPayloadSize; lowered to body_limit)"),
    S(page_max, K_LONG, "1000", 1, 10000, "largest page a list returns (filter.maxResults)"),
    S(answer_cache_mb, K_LONG, "64", 0, 65536,
      "MiB of SCIM read answers kept while the database is unchanged (SQLite; 0 = none)"),
    S(cursor_timeout, K_LONG, "3600", 1, 86400,
      "seconds a SCIM paging cursor stays valid (pagination.cursorTimeout, RFC 9865)"),
    S(token_overlap, K_LONG, "3600", 0, 2592000,
      "seconds a rotated token keeps working by default"),
    S(plans, K_STR, "free,basic,premier,enterprise,test", 0, 0,
      "comma-separated plans a tenant may have (the host application's plan names)"),
    S(scim_plans, K_STR, "premier,enterprise,test", 0, 0,
      "comma-separated plans whose tenants may use SCIM provisioning (among plans)"),
    /* The host application's role vocabulary (docs/roles.md). SparkPost's catalogue is the
     * default; the role_schema default keeps documents stored by earlier versions readable. */
    S(roles, K_STR, "admin,developer,templates,reporting", 0, 0,
      "the role catalogue, comma-separated in display order (empty: no roles at all)"),
    S(default_role, K_STR, "reporting", 0, 0,
      "the role of a user who gets none from a group or their own record (one of roles)"),
    S(admin_role, K_STR, "admin", 0, 0,
      "the role whose holders may mint SCIM tokens and get a tenant-admin console (one of roles)"),
    S(role_schema, K_STR, "urn:scimd:params:scim:schemas:extension:tenant:2.0:User", 0, 0,
      "schema URN of the User extension carrying a role; set before the first user, then keep"),
    S(webhook_allow_http, K_BOOL, "off", 0, 0,
      "TESTS ONLY (on/off): allow plain http:// webhook URLs and let deliveries reach loopback, "
      "private and other internal addresses (no SSRF guard)"),
    S(webhook_retry_ms, K_LONG, "1000", 10, 3600000,
      "delay before the first webhook retry in ms; doubles with each failure, up to 1 h"),
    S(webhook_timeout_ms, K_LONG, "10000", 100, 60000, "time limit of one webhook delivery in ms"),
    S(webhook_poll_ms, K_LONG, "1000", 10, 60000,
      "how often the webhook worker looks for events to deliver, in ms"),
    /* Retention (docs/configuration.md): a year, for audits that look back over one. */
    S(event_retention_days, K_LONG, "365", 0, 36500,
      "days audit events are kept (0 = forever); events a webhook has not delivered stay"),
    S(event_prune_interval_s, K_LONG, "300", 1, 86400,
      "seconds between two passes of the event pruner"),
    S(console_idle, K_LONG, "1800", 60, 86400,
      "seconds a console session may stay unused before it ends"),
    S(console_lifetime, K_LONG, "43200", 300, 2592000,
      "seconds a console session lasts at most, used or not"),
    S(setup_link_ttl, K_LONG, "900", 60, 86400,
      "seconds a console set-up link can be opened (once) after it is minted"),
    /* Branding (docs/configuration.md): the console and the sign-in error pages. */
    S(brand_name, K_STR, "scimd", 0, 0,
      "product name on the console and the sign-in error pages (1-60 characters)"),
    S(brand_logo_url, K_STR, NULL, 0, 0,
      "logo beside the product name: an https:// URL (its origin joins the CSP) or data:image/"),
    S(brand_color, K_STR, "#0b5cad", 0, 0, "accent colour of the console, #rrggbb"),
    S(log_level, K_STR, "info", 0, 0, "debug, info, warn or error"),
    S(access_log, K_BOOL, "on", 0, 0, "one log line per request (on/off)"),
    S(sso_key, K_STR, NULL, 0, 0,
      "64 hex digits: key sealing SSO client secrets at rest (prefer the environment)"),
    S(sso_keys_file, K_STR, NULL, 0, 0,
      "file of named sso keys, one `NAME=64HEX` a line, mode 600: all unseal, the last seals "
      "(key rotation; sso_key is the key named default, before them)"),
    S(sso_complete_url, K_STR, NULL, 0, 0,
      "the host application's page that redeems sign-ins, for SSO connections without their own "
      "signInCompleteUrl"),
    S(sso_shared_redirect_uri, K_STR, NULL, 0, 0,
      "the one OIDC redirect URI registered for every tenant (an Okta catalog app) when the host "
      "serves it at its own address and forwards it to /sso/oidc/callback (default PUBLIC_URL/"
      "sso/oidc/callback)"),
    S(sso_shared_initiate_uri, K_STR, NULL, 0, 0,
      "the host's own address forwarded to /sso/oidc/initiate, shown as the shared initiate-login "
      "URI (default PUBLIC_URL/sso/oidc/initiate)"),
    /* What it turns off is exactly sso_fetch_url_ok's https rule and the fetch guard of
     * sso/fetch.c (docs/configuration.md); never for production. */
    S(sso_test_http, K_BOOL, "off", 0, 0,
      "TESTS ONLY, never in production (on/off): turns off two SSO safety checks for every "
      "tenant: plain http:// is accepted for every SSO URL (OIDC issuer and the endpoints its "
      "discovery names, SAML metadata and SSO URLs, sign-in complete URLs), and SSO requests "
      "(discovery, token, JWKS, UserInfo, SAML metadata) may connect to loopback, private, "
      "link-local and other internal addresses, over https too (no SSRF guard)"),
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Where each value came from, for precedence: a lower rank may not overwrite a higher. */
enum rank {
    R_DEFAULT,
    R_FILE,
    R_ENV,
    R_FLAG
};

static int
set_value(struct config *c, const struct setting *s, const char *value, const char *origin,
          struct err *err)
{
    void *field = (char *)c + s->offset;
    switch (s->kind) {
    case K_STR: {
        char **p = field;
        free(*p);
        *p = value ? xstrdup(value) : NULL;
        return 0;
    }
    case K_LONG: {
        int64_t v;
        struct err e;
        if (str_to_i64(str_of(value), s->min, s->max, &v, s->key, &e) < 0)
            return err_set(err, ERR_INVALID_VALUE, "%s (from %s): %s", s->key, origin, e.detail);
        *(long *)field = (long)v;
        return 0;
    }
    case K_BOOL:
        if (cstr_ieq(value, "on") || cstr_ieq(value, "true") || cstr_ieq(value, "1") ||
            cstr_ieq(value, "yes"))
            *(bool *)field = true;
        else if (cstr_ieq(value, "off") || cstr_ieq(value, "false") || cstr_ieq(value, "0") ||
                 cstr_ieq(value, "no"))
            *(bool *)field = false;
        else
            return err_set(err, ERR_INVALID_VALUE, "%s (from %s) must be on or off", s->key,
                           origin);
        return 0;
    }
    return -1;
}

static const struct setting *
find_key(const char *key, size_t len)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *k = settings[i].key;
        if (strlen(k) != len)
            continue;
        size_t j = 0;
        /* Flags spell '_' as '-'; both are accepted everywhere. */
        while (j < len && (k[j] == key[j] || (k[j] == '_' && key[j] == '-')))
            j++;
        if (j == len)
            return &settings[i];
    }
    return NULL;
}

static void
env_name(const struct setting *s, char *out, size_t size)
{
    size_t o = 0;
    const char *prefix = "SCIMD_";
    for (; *prefix && o + 1 < size; prefix++)
        out[o++] = *prefix;
    for (const char *k = s->key; *k && o + 1 < size; k++)
        out[o++] = (*k >= 'a' && *k <= 'z') ? (char)(*k - 32) : *k;
    out[o] = '\0';
}

static int
load_file(struct config *c, const char *path, enum rank *ranks, struct err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return err_set(err, ERR_INVALID_VALUE, "cannot open config file %s", path);
    /* A directory opens and reads as nothing: scimd would start on its defaults without a
     * word (a path such as /etc/scimd/ for /etc/scimd/scimd.conf). */
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return err_set(err, ERR_INVALID_VALUE, "config file %s is not a regular file", path);
    }
    char line[LIMIT_CONFIG_LINE];
    int lineno = 0, rc = 0;
    int set_on[N_SETTINGS] = { 0 }; /* the line that set each key, to refuse a second */
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *p = line, *end;
        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strlen(p);
        while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
            *--end = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (eq == NULL) {
            rc = err_set(err, ERR_INVALID_VALUE, "%s:%d: expected key = value", path, lineno);
            break;
        }
        char *kend = eq;
        while (kend > p && (kend[-1] == ' ' || kend[-1] == '\t'))
            kend--;
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        const struct setting *s = find_key(p, (size_t)(kend - p));
        if (s == NULL) {
            *kend = '\0';
            rc = err_set(err, ERR_INVALID_VALUE, "%s:%d: unknown setting \"%.64s\"", path, lineno,
                         p);
            break;
        }
        size_t idx = (size_t)(s - settings);
        if (set_on[idx]) {
            rc = err_set(err, ERR_INVALID_VALUE, "%s:%d: \"%s\" is already set on line %d", path,
                         lineno, s->key, set_on[idx]);
            break;
        }
        set_on[idx] = lineno;
        if (ranks[idx] > R_FILE)
            continue;
        /* One pair of quotes around the whole value is not part of it, as in the systemd
         * EnvironmentFile beside this file (packaging/): `brand_name = "Acme HR"`. */
        size_t vlen = strlen(v);
        if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
            v[vlen - 1] = '\0';
            v++;
        }
        char origin[300];
        snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
        rc = set_value(c, s, v, origin, err);
        ranks[idx] = R_FILE;
    }
    if (rc == 0 && ferror(f))
        rc = err_set(err, ERR_INVALID_VALUE, "cannot read config file %s", path);
    fclose(f);
    return rc;
}

/* default_role and admin_role default to roles of the default catalogue. A configuration
 * that empties roles (no roles at all) and leaves them alone means "none" for them too; one
 * that sets them explicitly is refused at start (role_catalogue_parse). */
static void
unset_role_defaults(struct config *c, const enum rank *ranks)
{
    const char *p = c->roles ? c->roles : "";
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '\0')
        return;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char **field = (char **)((char *)c + settings[i].offset);
        if (ranks[i] == R_DEFAULT && (settings[i].offset == offsetof(struct config, default_role) ||
                                      settings[i].offset == offsetof(struct config, admin_role))) {
            free(*field);
            *field = NULL;
        }
    }
}

int
config_load(struct config *c, int argc, char **argv, int first, char **rest, int *n_rest,
            struct err *err)
{
    enum rank ranks[N_SETTINGS] = { 0 };
    *c = (struct config){ 0 };
    *n_rest = 0;
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (settings[i].dflt && set_value(c, &settings[i], settings[i].dflt, "default", err) < 0)
            return -1;
    /* Flags first (they win), then the environment, then the file fills what is left. */
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            rest[(*n_rest)++] = argv[i];
            continue;
        }
        const char *eq = strchr(a + 2, '=');
        size_t klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const struct setting *s = find_key(a + 2, klen);
        if (s == NULL) {
            /* Not a setting: a command's own flag; leave it to the command. */
            rest[(*n_rest)++] = argv[i];
            if (!eq && i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                rest[(*n_rest)++] = argv[++i];
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (v == NULL) {
            if (i + 1 >= argc)
                return err_set(err, ERR_INVALID_VALUE, "--%s needs a value", s->key);
            v = argv[++i];
        }
        if (set_value(c, s, v, "command line", err) < 0)
            return -1;
        ranks[s - settings] = R_FLAG;
    }
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char name[64];
        env_name(&settings[i], name, sizeof(name));
        const char *v = getenv(name);
        if (v == NULL || ranks[i] == R_FLAG)
            continue;
        if (set_value(c, &settings[i], v, name, err) < 0)
            return -1;
        ranks[i] = R_ENV;
    }
    if (c->config_file && load_file(c, c->config_file, ranks, err) < 0)
        return -1;
    unset_role_defaults(c, ranks);
    return 0;
}

void
config_free(struct config *c)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (settings[i].kind != K_STR)
            continue;
        char **p = (char **)((char *)c + settings[i].offset);
        if (*p && (settings[i].offset == offsetof(struct config, operator_key) ||
                   settings[i].offset == offsetof(struct config, sso_key)))
            memset(*p, 0, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

static int
read_key_file(struct config *c, struct err *err)
{
    FILE *f = fopen(c->operator_key_file, "r");
    if (f == NULL)
        return err_set(err, ERR_INVALID_VALUE, "cannot read operator_key_file %s",
                       c->operator_key_file);
    char key[512] = "";
    if (fgets(key, sizeof(key), f) == NULL)
        key[0] = '\0';
    fclose(f);
    size_t n = strlen(key);
    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' '))
        key[--n] = '\0';
    free(c->operator_key);
    c->operator_key = xstrdup(key);
    memset(key, 0, sizeof(key));
    return 0;
}

int
config_reload_operator_key(struct config *c, struct err *err)
{
    return c->operator_key_file ? read_key_file(c, err) : 0;
}

/* The public URL is spliced into JSON and headers: it must need no escaping. */
static int
check_public_url(const char *u, struct err *err)
{
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
        return err_set(err, ERR_INVALID_VALUE, "public_url must start with http:// or https://");
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '\\' || *p == '<' || *p == '>' ||
            (unsigned char)*p >= 0x7f)
            return err_set(err, ERR_INVALID_VALUE,
                           "public_url must be a plain URL without spaces or quotes");
    if (strchr(u + 8, '?') || strchr(u + 8, '#'))
        return err_set(err, ERR_INVALID_VALUE, "public_url must not have a query or fragment");
    if (strlen(u) > LIMIT_PUBLIC_URL_BYTES)
        return err_set(err, ERR_INVALID_VALUE, "public_url is longer than %d characters",
                       LIMIT_PUBLIC_URL_BYTES);
    return 0;
}

/* Branding goes into HTML, CSS and the Content-Security-Policy: plain printable text only. */
static int
check_brand(const struct config *c, struct err *err)
{
    const char *n = c->brand_name ? c->brand_name : "";
    size_t len = strlen(n);
    if (len == 0 || len > 60)
        return err_set(err, ERR_INVALID_VALUE, "brand_name must be 1 to 60 characters");
    for (const char *p = n; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return err_set(err, ERR_INVALID_VALUE, "brand_name must not hold control characters");
    const char *col = c->brand_color ? c->brand_color : "";
    bool hex = strlen(col) == 7 && col[0] == '#';
    for (size_t i = 1; hex && i < 7; i++)
        hex = (col[i] >= '0' && col[i] <= '9') || (col[i] >= 'a' && col[i] <= 'f') ||
              (col[i] >= 'A' && col[i] <= 'F');
    if (!hex)
        return err_set(err, ERR_INVALID_VALUE, "brand_color must be #rrggbb (got \"%.20s\")", col);
    const char *u = c->brand_logo_url;
    if (u == NULL || u[0] == '\0')
        return 0;
    bool https = strncmp(u, "https://", 8) == 0 && u[8] != '/' && u[8] != '\0';
    if (!https && strncmp(u, "data:image/", 11) != 0)
        return err_set(err, ERR_INVALID_VALUE,
                       "brand_logo_url must be an https:// or data:image/ URL");
    if (strlen(u) > (https ? 500 : 8000))
        return err_set(err, ERR_INVALID_VALUE, "brand_logo_url is too long");
    /* An https origin goes into the CSP, where ';' would end the directive; a data: URL
     * needs its ';base64'. */
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '\'' || *p == '\\' || *p == '<' ||
            *p == '>' || (*p == ';' && https) || (unsigned char)*p >= 0x7f)
            return err_set(err, ERR_INVALID_VALUE,
                           "brand_logo_url must be a plain URL without spaces, quotes or ;");
    return 0;
}

/* A libpq keyword string ("host=db user=scimd password=…"): a word and '=' before any path
 * character. Such a value is no file path anyone means, and opened as one it became a SQLite
 * file named after the whole string, password included, and was logged as such. */
static bool
looks_like_keyword_dsn(const char *db)
{
    const char *p = db + strspn(db, " \t");
    size_t word = 0;
    while ((p[word] >= 'a' && p[word] <= 'z') || (p[word] >= 'A' && p[word] <= 'Z') ||
           p[word] == '_')
        word++;
    p += word;
    p += strspn(p, " \t");
    return word > 0 && *p == '=';
}

int
config_make_data_dir(const struct config *c, struct err *err)
{
    char why[128];
    if (c->db_in_data_dir && mkdir(c->data_dir, 0700) < 0 && errno != EEXIST)
        return err_set(err, ERR_INVALID_VALUE, "cannot create data_dir %s: %s", c->data_dir,
                       strerror_r(errno, why, sizeof(why)) == 0 ? why : "?");
    return 0;
}

int
config_finish(struct config *c, struct err *err)
{
    if (c->operator_key_file && read_key_file(c, err) < 0)
        return -1;
    if (c->operator_key && c->operator_key[0] && strlen(c->operator_key) < 16)
        return err_set(err, ERR_INVALID_VALUE, "operator_key must be at least 16 characters");
    if ((c->tls_cert == NULL) != (c->tls_key == NULL))
        return err_set(err, ERR_INVALID_VALUE, "tls_cert and tls_key go together");
    if (gate_plans_check(&(struct gate_policy){ c->scim_plans, c->plans }, err) < 0)
        return -1;
    if (check_brand(c, err) < 0)
        return -1;
    /* The body limit refuses a larger bulk first: advertise what is accepted (a deployment that
     * lowers body_limit need not lower bulk_max_payload too). */
    if (c->bulk_max_payload > c->body_limit)
        c->bulk_max_payload = c->body_limit;
    if (c->db && looks_like_keyword_dsn(c->db))
        return err_set(err, ERR_INVALID_VALUE,
                       "db: a libpq \"key=value\" string is not supported (it would open a SQLite"
                       " file of that name); write postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
    if (c->db == NULL) {
        size_t n = strlen(c->data_dir) + sizeof("/scimd.db");
        c->db = xmalloc(n);
        snprintf(c->db, n, "%s/scimd.db", c->data_dir);
        c->db_in_data_dir = true;
    }
    if (c->public_url == NULL)
        return 0; /* derived from the bound port: config_default_public_url */
    size_t n = strlen(c->public_url);
    while (n > 0 && c->public_url[n - 1] == '/')
        c->public_url[--n] = '\0';
    return check_public_url(c->public_url, err);
}

int
config_default_public_url(struct config *c, int bound_port, struct err *err)
{
    if (c->public_url)
        return 0;
    char u[300];
    bool v6 = strchr(c->listen, ':') != NULL;
    snprintf(u, sizeof(u), "%s://%s%s%s:%d", c->tls_cert ? "https" : "http", v6 ? "[" : "",
             c->listen, v6 ? "]" : "", bound_port);
    c->public_url = xstrdup(u);
    return check_public_url(c->public_url, err);
}

void
config_print_help(FILE *f)
{
    fprintf(f, "Settings (flag, environment variable, config-file key; flags win over the\n"
               "environment, which wins over the config file, which wins over defaults):\n\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        char flag[64], env[64];
        size_t j = 0;
        for (; j < sizeof(flag) - 1 && s->key[j]; j++)
            flag[j] = s->key[j] == '_' ? '-' : s->key[j];
        flag[j] = '\0';
        env_name(s, env, sizeof(env));
        fprintf(f, "  --%-20s %-26s %s\n", flag, env, s->help);
        if (s->dflt)
            fprintf(f, "  %-49s default: %s\n", "", s->dflt);
    }
}

/* Flag and environment names of s into flag and env. */
static void
names_of(const struct setting *s, char *flag, size_t flag_size, char *env, size_t env_size)
{
    size_t j = 0;
    for (; j < flag_size - 1 && s->key[j]; j++)
        flag[j] = s->key[j] == '_' ? '-' : s->key[j];
    flag[j] = '\0';
    env_name(s, env, env_size);
}

/* Secrets belong in the environment file of the service, never in a readable config file. */
static bool
is_secret(const struct setting *s)
{
    return strcmp(s->key, "operator_key") == 0 || strcmp(s->key, "sso_key") == 0;
}

void
config_print_example(FILE *f)
{
    fprintf(f, "# scimd.conf: every setting of `scimd serve`, commented out at its default.\n"
               "# One `key = value` per line; flags win over the environment, which wins over\n"
               "# this file (docs/configuration.md). Generated from scimd's settings table.\n"
               "# Secrets (operator_key, sso_key) go in the service's environment file,\n"
               "# /etc/scimd/scimd.env, as SCIMD_OPERATOR_KEY and SCIMD_SSO_KEY: never here.\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        if (strcmp(s->key, "config_file") == 0)
            continue;
        fprintf(f, "\n# %s\n", s->help);
        if (is_secret(s)) {
            char flag[64], env[64];
            names_of(s, flag, sizeof(flag), env, sizeof(env));
            fprintf(f, "# (a secret: set %s in the environment file instead)\n", env);
        }
        fprintf(f, "#%s = %s\n", s->key, s->dflt ? s->dflt : "");
    }
}

/* A setting's text with roff's special characters escaped. */
static void
roff_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
    }
}

void
config_print_man(FILE *f, const char *version)
{
    fprintf(
        f,
        ".TH SCIMD 8 \"\" \"scimd %s\" \"System Manager's Manual\"\n"
        ".SH NAME\nscimd \\- multi-tenant SCIM 2.0 service provider and single sign-on\n"
        ".SH SYNOPSIS\n.B scimd serve\n[\\fISETTINGS\\fR]\n.br\n"
        ".B scimd tenant\n|\n.B token\n|\n.B user\n|\n.B webhook\n|\n.B setup-link\n|\n.B audit\n|\n.B sso\n|\n.B migrate\n|\n.B backup\n|\n.B reseal\n|\n"
        ".B routes\n\\&...\n"
        ".SH DESCRIPTION\n"
        "scimd runs beside a SaaS application and serves each of its tenants a SCIM 2.0\n"
        "service provider at /scim/v2, OpenID Connect and SAML 2.0 single sign-on, a\n"
        "management API at /admin/v1 and a web console at /console.\n"
        "Each setting below is a flag, an environment variable and a key of the\n"
        "configuration file (\\fB\\-\\-config\\-file\\fR, lines of \\fIkey = value\\fR);\n"
        "flags win over the environment, which wins over the file.\n"
        ".SH SETTINGS\n",
        version);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        char flag[64], env[64];
        names_of(s, flag, sizeof(flag), env, sizeof(env));
        fputs(".TP\n.BR \\-\\-", f);
        roff_text(f, flag);
        fputs(" \" \" ", f);
        roff_text(f, env);
        fputc('\n', f);
        roff_text(f, s->help);
        if (s->dflt) {
            fputs(" (default: ", f);
            roff_text(f, s->dflt[0] ? s->dflt : "empty");
            fputc(')', f);
        }
        fputs(".\n", f);
    }
    fprintf(f, ".SH FILES\n.TP\n/etc/scimd/scimd.conf\nsettings (every one, commented out)\n"
               ".TP\n/etc/scimd/scimd.env\nsecrets for the service: SCIMD_OPERATOR_KEY, "
               "SCIMD_SSO_KEY\n.TP\n/var/lib/scimd\nthe SQLite database (the service's state "
               "directory); \\fBscimd backup\\fR \\fIFILE\\fR copies it while scimd runs\n"
               ".SH SIGNALS\nSIGTERM and SIGINT finish the requests in flight, then stop.\n"
               ".SH SEE ALSO\nThe documentation in /usr/share/doc/scimd: configuration.md, "
               "deploy.md, api.md, sso.md.\n");
}
