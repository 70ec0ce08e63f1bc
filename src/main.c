/* scimd: argv dispatch and process wiring (config → store → server). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/call.h"
#include "api/keys.h"
#include "base/fetch.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/seal.h"
#include "base/xmalloc.h"
#include "cli/backup.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/migrate.h"
#include "console/console.h"
#include "core/directory.h"
#include "core/retention.h"
#include "core/role.h"
#include "core/webhook.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "scim/schema.h"
#include "sso/fetch.h"
#include "sso/setup.h"
#include "store/store.h"

#define MAX_ARGS 64

static void
usage(FILE *f)
{
    fprintf(
        f,
        "scimd %s: a multi-tenant SCIM 2.0 service provider\n\n"
        "usage: scimd serve [SETTINGS]          run the daemon\n"
        "       scimd tenant ... [SETTINGS]     manage tenants (scimd tenant --help)\n"
        "       scimd token ... [SETTINGS]      manage SCIM tokens (scimd token --help)\n"
        "       scimd audit ... [SETTINGS]      list audit events (scimd audit --help)\n"
        "       scimd sso ... [SETTINGS]        manage SSO connections (scimd sso --help)\n"
        "       scimd user ... [SETTINGS]       manage a tenant's users (scimd user --help)\n"
        "       scimd webhook ... [SETTINGS]    manage webhooks (scimd webhook --help)\n"
        "       scimd setup-link TENANT USER    a console set-up link for a tenant admin\n"
        "       scimd reseal [SETTINGS]         seal every secret again under the newest sso key\n"
        "       scimd set-key rotate [SETTINGS] a new key signing SCIM event SETs\n"
        "       scimd migrate --from SQLITE_FILE --to postgresql://...\n"
        "                                       copy a SQLite database into PostgreSQL\n"
        "       scimd backup FILE [--force] [SETTINGS]\n"
        "                                       copy the SQLite database while it runs\n"
        "       scimd routes                    print the route table: METHOD PATTERN AUTH\n"
        "       scimd config-example | man      print an example scimd.conf | scimd(8)\n"
        "       scimd --help | --version\n\n",
        SCIMD_VERSION);
    config_print_help(f);
}

/* `scimd routes`: the one route table, one "METHOD PATTERN AUTH" line per route, for
 * tools (tests/openapi/check_routes.py compares it with docs/openapi.json). */
static int
print_routes(void)
{
    for (size_t i = 0; i < http_router_count(); i++) {
        const struct route *r = http_router_at(i);
        printf("%s %s %s\n", r->method, r->pattern, http_router_auth_name(r->auth));
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static bool
wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* The API settings from the configuration; ring receives the sso keyring (sso_key,
 * sso_keys_file). */
static int
api_settings_of(const struct config *c, struct seal_keyring *ring, struct api_settings *api,
                struct err *e)
{
    *api = (struct api_settings){
        .public_url = c->public_url,
        .page_max = c->page_max,
        .cursor_timeout_s = c->cursor_timeout,
        .token_overlap_s = c->token_overlap,
        .gate = { c->scim_plans, c->plans },
        .body_max = (size_t)c->body_limit,
        .bulk_max_ops = c->bulk_max_operations,
        .bulk_max_payload = c->bulk_max_payload,
        .webhooks = {
            .allow_http = c->webhook_allow_http,
            .retry_base_ms = c->webhook_retry_ms,
            .retry_max_ms = 3600 * 1000,
            .timeout_ms = c->webhook_timeout_ms,
            .poll_ms = c->webhook_poll_ms,
            .batch = 100,
            .public_url = c->public_url,
        },
        .sso_allow_http = c->sso_test_http,
        .console = {
            .idle_s = c->console_idle,
            .lifetime_s = c->console_lifetime,
            .link_ttl_s = c->setup_link_ttl,
        },
        .secure_cookies =
            c->tls_cert != NULL || (c->public_url && strncmp(c->public_url, "https://", 8) == 0),
    };
    if (console_brand_init(&api->brand, api_public_path(c->public_url), c->brand_name,
                           c->brand_logo_url, c->brand_color, e) < 0)
        return -1;
    if (seal_keyring_load(ring, c->sso_key, c->sso_keys_file, e) < 0)
        return -1;
    if (ring->n > 0) {
        api->sso_keys = ring;
        api->webhooks.seal_keys = ring; /* webhook secrets are sealed with the same keys */
    }
    if (c->sso_complete_url) {
        if (!sso_fetch_url_ok(c->sso_complete_url, c->sso_test_http, false))
            return err_set(e, ERR_INVALID_VALUE,
                           "sso_complete_url must be an https URL (the host application's page "
                           "that redeems sign-ins)");
        api->sso_complete_url = c->sso_complete_url;
    }
    const char *shared[] = { c->sso_shared_redirect_uri, c->sso_shared_initiate_uri };
    for (int i = 0; i < 2; i++)
        if (shared[i] && !sso_fetch_url_ok(shared[i], c->sso_test_http, false))
            return err_set(e, ERR_INVALID_VALUE, "%s must be an https URL",
                           i ? "sso_shared_initiate_uri" : "sso_shared_redirect_uri");
    api->sso_shared_redirect_uri = c->sso_shared_redirect_uri;
    api->sso_shared_initiate_uri = c->sso_shared_initiate_uri;
    if (c->sso_test_http)
        log_warn("sso_test_http is on (tests only): plain-http SSO URLs are accepted and SSO "
                 "requests may reach internal addresses");
    return 0;
}

/* The worker threads when `threads` is 0. SQLite: four per core — concurrent writers share
 * a commit (store/sqlite/group.c) only when several threads write at once, and a thread
 * preempted by a client on the same cores does not stall all of its connections (POST
 * 4 300/s p99 29 ms at 2 threads on 2 cores, 5 800–6 600/s p99 22–36 ms at 8; GET +10–25 %:
 * bench/RESULTS.md). PostgreSQL: one per core — each thread holds a connection, and with the
 * server on the same machine more threads only added switching (docs/postgres.md). */
static unsigned
worker_threads(const struct config *c, struct store *store)
{
    if (c->threads > 0)
        return (unsigned)c->threads;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long n = (cores > 0 ? cores : 1) * (strcmp(store_backend_name(store), "sqlite") == 0 ? 4 : 1);
    return (unsigned)(n < LIMIT_THREADS_MAX ? n : LIMIT_THREADS_MAX);
}

static int
serve(struct config *c, struct store *store, struct seal_keyring *sso_keys)
{
    struct err e = { 0 };
    int fd, port;
    struct api_settings api;
    if (http_listen(c->listen, (int)c->port, &fd, &port, &e) < 0 ||
        config_default_public_url(c, port, &e) < 0 || api_settings_of(c, sso_keys, &api, &e) < 0) {
        log_error("%s", e.detail);
        return 1;
    }
    api.operator_keys = api_keyring_new();
    if (api_keyring_load(api.operator_keys, c->operator_key, c->operator_keys_file, false, &e) <
        0) {
        log_error("%s", e.detail);
        api_keyring_free(api.operator_keys);
        return 1;
    }
    /* Signs RFC 9865 paging cursors; every instance of the database derives the same, from
     * the newest key of the sso keyring (so a rotation's restart starts cursors anew). */
    static unsigned char cursor_key[32];
    const struct seal_key *newest = seal_keyring_newest(api.sso_keys);
    if (directory_cursor_key(store, newest ? newest->key : NULL, cursor_key, &e) < 0) {
        log_error("cursor key: %s", e.detail);
        api_keyring_free(api.operator_keys);
        return 1;
    }
    api.cursor_key = cursor_key;
    if (api.sso_keys == NULL)
        log_warn("sso_key is not set: webhook signing secrets are stored unsealed and OIDC "
                 "connections cannot be saved; set sso_key (64 hex digits, from the "
                 "environment) or sso_keys_file in production");
    else
        log_info("sso keyring: %zu keys, the newest, %s, seals", sso_keys->n,
                 seal_keyring_newest(sso_keys)->name);
    struct http_settings hs = {
        .address = c->listen,
        .port = (int)c->port,
        .threads = worker_threads(c, store),
        .max_connections = (unsigned)c->max_connections,
        .connection_timeout_s = (unsigned)c->connection_timeout,
        .request_timeout_s = (unsigned)c->request_timeout,
        .per_address = (unsigned)c->connections_per_address,
        .auth_failure_limit = c->auth_failure_limit,
        .sso_rate_limit = c->sso_rate_limit,
        .signin_failure_limit = c->signin_failure_limit,
        .body_max = (size_t)c->body_limit,
        .tls_cert_path = c->tls_cert,
        .tls_key_path = c->tls_key,
        .access_log = c->access_log,
        .answer_cache_bytes = (size_t)c->answer_cache_mb * 1024 * 1024,
        .path_prefix = api_public_path(c->public_url),
        .listen_fd = fd,
    };
    struct http_server *srv;
    sigset_t set;

    /* Signals are taken synchronously by this thread (sigwait), never by a handler: the
     * worker threads inherit the blocked mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    http_metrics_init(http_router_series_count());
    if (http_server_start(&hs, &api, store, &srv, &e) < 0) {
        log_error("%s", e.detail);
        close(fd);
        http_metrics_free();
        api_keyring_free(api.operator_keys);
        return 1;
    }
    struct webhook_worker *hooks = webhook_worker_start(store, &api.webhooks, &e);
    if (hooks == NULL) {
        log_error("%s", e.detail);
        http_server_stop(srv, 0);
        http_metrics_free();
        api_keyring_free(api.operator_keys);
        return 1;
    }
    const struct retention_settings keep = { c->event_retention_days, c->event_prune_interval_s };
    struct retention_worker *pruner = retention_worker_start(store, &keep, &e);
    if (pruner == NULL) {
        log_error("%s", e.detail);
        webhook_worker_stop(hooks);
        http_server_stop(srv, 0);
        http_metrics_free();
        api_keyring_free(api.operator_keys);
        return 1;
    }
    if (c->event_retention_days == 0)
        log_info("event_retention_days is 0: audit events are kept forever");
    if (api_keyring_count(api.operator_keys) == 0)
        log_warn("no operator key configured: the management API /admin/v1 is disabled");
    char db[512];
    store_dsn_redact(c->db, db, sizeof(db)); /* a PostgreSQL URI may hold a password */
    log_info("scimd %s listening on %s://%s:%d (public URL %s, %s database %s)", SCIMD_VERSION,
             c->tls_cert ? "https" : "http", c->listen, http_server_port(srv), c->public_url,
             store_backend_name(store), db);
    int sig = 0;
    /* SIGHUP reloads the operator keys (operator_key_file, operator_keys_file) without a
     * restart; a file that does not read keeps the keys in use. */
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
        struct err re = { 0 };
        if (config_reload_operator_key(c, &re) < 0 ||
            api_keyring_load(api.operator_keys, c->operator_key, c->operator_keys_file, true, &re) <
                0)
            log_error("SIGHUP: operator keys not reloaded, the old ones stay: %s", re.detail);
        else
            log_info("SIGHUP: %zu operator keys loaded", api_keyring_count(api.operator_keys));
    }
    log_info("received %s: finishing requests in flight, then stopping",
             sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_server_stop(srv, LIMIT_SHUTDOWN_GRACE_SECONDS);
    retention_worker_stop(pruner);
    webhook_worker_stop(hooks);
    http_metrics_free();
    api_keyring_free(api.operator_keys);
    log_info("stopped cleanly");
    return 0;
}

int
main(int argc, char **argv)
{
    struct config c;
    struct err e = { 0 };
    char *rest[MAX_ARGS];
    int n_rest = 0, rc;
    struct store *store = NULL;

    /* Before any thread starts (jansson doc/threadsafety.rst). */
    json_set_alloc_funcs(xmalloc, free);
    json_object_seed(0);
    if (fetch_global_init(&e) < 0) {
        fprintf(stderr, "scimd: %s\n", e.detail);
        return 1;
    }
    atexit(fetch_global_cleanup);

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("scimd %s\n", SCIMD_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "routes") == 0 && argc == 2)
        return print_routes();
    if (strcmp(argv[1], "config-example") == 0 && argc == 2) {
        config_print_example(stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (strcmp(argv[1], "man") == 0 && argc == 2) {
        config_print_man(stdout, SCIMD_VERSION);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (argc > MAX_ARGS) {
        fprintf(stderr, "scimd: too many arguments\n");
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (wants_help(argc, argv)) {
        if (strcmp(argv[1], "tenant") == 0)
            cli_tenant_usage();
        else if (strcmp(argv[1], "token") == 0)
            cli_token_usage();
        else if (strcmp(argv[1], "audit") == 0)
            cli_audit_usage();
        else if (strcmp(argv[1], "sso") == 0)
            cli_sso_usage();
        else if (strcmp(argv[1], "migrate") == 0)
            cli_migrate_usage();
        else if (strcmp(argv[1], "backup") == 0)
            cli_backup_usage();
        else if (strcmp(argv[1], "user") == 0)
            cli_user_usage();
        else if (strcmp(argv[1], "webhook") == 0)
            cli_webhook_usage();
        else if (strcmp(argv[1], "setup-link") == 0)
            cli_setup_link_usage();
        else if (strcmp(argv[1], "reseal") == 0)
            cli_reseal_usage();
        else if (strcmp(argv[1], "set-key") == 0)
            cli_set_key_usage();
        else
            usage(stdout);
        return 0;
    }
    if (config_load(&c, argc, argv, 1, rest, &n_rest, &e) < 0 || config_finish(&c, &e) < 0) {
        fprintf(stderr, "scimd: %s\n", e.detail);
        config_free(&c);
        return 2;
    }
    enum log_level level;
    if (log_level_parse(c.log_level, &level) < 0) {
        fprintf(stderr, "scimd: log_level must be debug, info, warn or error\n");
        config_free(&c);
        return 2;
    }
    log_set_level(level);
    /* The role catalogue is process-wide and read-only once threads run (core/role.h). */
    struct role_catalogue cat;
    if (role_catalogue_parse(c.roles, c.default_role, c.admin_role, c.role_schema, &cat, &e) < 0) {
        fprintf(stderr, "scimd: %s\n", e.detail);
        config_free(&c);
        return 2;
    }
    role_catalogue_set(&cat);
    scim_schema_configure();
    if (n_rest < 1) {
        usage(stderr);
        config_free(&c);
        return 2;
    }
    const char *cmd = rest[0];
    if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "tenant") != 0 && strcmp(cmd, "token") != 0 &&
        strcmp(cmd, "audit") != 0 && strcmp(cmd, "sso") != 0 && strcmp(cmd, "migrate") != 0 &&
        strcmp(cmd, "backup") != 0 && strcmp(cmd, "user") != 0 && strcmp(cmd, "webhook") != 0 &&
        strcmp(cmd, "setup-link") != 0 && strcmp(cmd, "reseal") != 0 &&
        strcmp(cmd, "set-key") != 0) {
        fprintf(stderr, "scimd: unknown command \"%s\"\n\n", cmd);
        usage(stderr);
        config_free(&c);
        return 2;
    }
    if (strcmp(cmd, "serve") == 0 && n_rest > 1) {
        fprintf(stderr, "scimd: serve takes settings only; unknown argument \"%s\"\n", rest[1]);
        config_free(&c);
        return 2;
    }
    /* migrate opens the two databases its flags name, not the configured one. */
    if (strcmp(cmd, "migrate") == 0) {
        rc = cli_migrate(n_rest - 1, rest + 1);
        config_free(&c);
        return rc;
    }
    /* backup opens the configured database itself: a missing SQLite file is an error, not a
     * new empty database to copy. */
    if (strcmp(cmd, "backup") == 0) {
        rc = cli_backup(c.db, n_rest - 1, rest + 1);
        config_free(&c);
        return rc;
    }
    if (config_make_data_dir(&c, &e) < 0) {
        fprintf(stderr, "scimd: %s\n", e.detail);
        config_free(&c);
        return 2;
    }
    /* Before any thread starts (SSO.md (b) "Init once in main"). */
    if (sso_setup_init(&e) < 0) {
        fprintf(stderr, "scimd: %s\n", e.detail);
        config_free(&c);
        return 1;
    }
    if (store_open(c.db, &store, &e) < 0) {
        fprintf(stderr, "scimd: %s\n", e.detail);
        sso_setup_cleanup();
        config_free(&c);
        return 1;
    }
    struct seal_keyring sso_keys = { 0 };
    if (strcmp(cmd, "serve") == 0) {
        rc = serve(&c, store, &sso_keys);
    } else if (strcmp(cmd, "tenant") == 0) {
        rc =
            cli_tenant(store, &(struct gate_policy){ c.scim_plans, c.plans }, n_rest - 1, rest + 1);
    } else if (strcmp(cmd, "audit") == 0) {
        rc = cli_audit(store, n_rest - 1, rest + 1);
    } else if (strcmp(cmd, "user") == 0) {
        rc = cli_user(store, n_rest - 1, rest + 1);
    } else if (strcmp(cmd, "webhook") == 0 || strcmp(cmd, "setup-link") == 0) {
        /* The settings the server would use: URL rules and sealing, the console's link
         * lifetime, and the public URL the link is under (from listen and port if unset). */
        struct api_settings api;
        rc = config_default_public_url(&c, (int)c.port, &e) < 0 ||
                     api_settings_of(&c, &sso_keys, &api, &e) < 0
                 ? 2
                 : 0;
        if (rc)
            fprintf(stderr, "scimd: %s\n", e.detail);
        else if (cmd[0] == 'w')
            rc = cli_webhook(store, &api.webhooks, n_rest - 1, rest + 1);
        else
            rc = cli_setup_link(store,
                                &(struct cli_console){ &api.console, &api.gate, api.public_url },
                                n_rest - 1, rest + 1);
    } else if (strcmp(cmd, "sso") == 0 || strcmp(cmd, "reseal") == 0 ||
               strcmp(cmd, "set-key") == 0) {
        /* The settings the server would use; they load the sso keyring, which seals (a new
         * SET private key too, as the server would). */
        struct api_settings api;
        rc = api_settings_of(&c, &sso_keys, &api, &e) < 0 ? 2 : 0;
        if (rc)
            fprintf(stderr, "scimd: %s\n", e.detail);
        else if (strcmp(cmd, "sso") == 0)
            rc = cli_sso(store, &api, n_rest - 1, rest + 1);
        else if (strcmp(cmd, "reseal") == 0)
            rc = cli_reseal(store, &sso_keys, n_rest - 1, rest + 1);
        else
            rc = cli_set_key(store, &sso_keys, n_rest - 1, rest + 1);
    } else {
        rc = cli_token(store, c.token_overlap, &(struct gate_policy){ c.scim_plans, c.plans },
                       n_rest - 1, rest + 1);
    }
    seal_keyring_cleanup(&sso_keys);
    store_close(store);
    sso_setup_cleanup();
    config_free(&c);
    return rc;
}
