#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "cli/cli_int.h"
#include "core/console.h"
#include "core/set.h"
#include "core/tenant.h"
#include "core/user.h"
#include "core/webhook.h"

/* scimd webhook … and scimd setup-link …: the management API's webhook and set-up link
 * routes from the shell, through the same core calls (docs/webhooks.md, docs/console.md). */

void
cli_webhook_usage(void)
{
    fprintf(stderr, "usage: scimd webhook list TENANT\n"
                    "       scimd webhook create TENANT URL|- [--disabled] [--set push|poll]\n"
                    "                            [--audience AUD]\n"
                    "  --set: SCIM event SETs (RFC 9967), pushed to URL or polled (URL \"-\";\n"
                    "  --audience then required); docs/webhooks.md \"SCIM events (SETs)\"\n"
                    "       scimd webhook delete TENANT WEBHOOK_ID\n");
}

static json_t *
hook_json(struct store *s, const struct store_webhook *w, bool with_secret, struct err *e)
{
    int64_t pending;
    if (webhook_pending(s, w, &pending, e) < 0)
        return NULL;
    return webhook_to_json(w, pending, with_secret);
}

int
cli_webhook(struct store *s, const struct webhook_settings *cfg, int argc, char **argv)
{
    struct err e = { 0 };
    struct store_tenant t;
    struct store_webhook w;
    if (argc < 2)
        return cli_usage_error("webhook needs a sub-command and a tenant", cli_webhook_usage);
    const char *cmd = argv[0];
    if (tenant_get(s, argv[1], &t, &e) < 0)
        return cli_fail(&e);
    if (strcmp(cmd, "list") == 0 && argc == 2) {
        struct store_webhook *v;
        size_t n;
        if (webhook_list(s, t.id, &v, &n, &e) < 0)
            return cli_fail(&e);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *j = hook_json(s, &v[i], false, &e);
            if (j == NULL) {
                free(v);
                json_decref(arr);
                return cli_fail(&e);
            }
            json_array_append_new(arr, j);
        }
        free(v);
        cli_print_json(json_pack("{s:o}", "webhooks", arr));
        return 0;
    }
    if (strcmp(cmd, "create") == 0 && argc >= 3) {
        bool disabled = false;
        struct webhook_format fmt = { 0 };
        for (int i = 3; i < argc; i++) {
            if (strcmp(argv[i], "--disabled") == 0) {
                disabled = true;
            } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
                fmt.format = "set";
                fmt.delivery = argv[++i];
            } else if (strcmp(argv[i], "--audience") == 0 && i + 1 < argc) {
                fmt.audience = argv[++i];
            } else {
                return cli_usage_error("create takes --disabled, --set push|poll and --audience",
                                       cli_webhook_usage);
            }
        }
        const char *url = strcmp(argv[2], "-") == 0 ? "" : argv[2];
        if (webhook_create(s, t.id, url, &fmt, cfg, &w, &e) < 0 ||
            (disabled && webhook_update(s, t.id, w.id, NULL, 0, NULL, cfg, &w, &e) < 0))
            return cli_fail(&e);
        json_t *j = hook_json(s, &w, true, &e);
        crypto_wipe(w.secret, sizeof(w.secret));
        if (j == NULL)
            return cli_fail(&e);
        cli_print_json(j);
        fprintf(stderr, "This is the only time the signing secret is shown: store it now.\n");
        return 0;
    }
    if (strcmp(cmd, "delete") == 0 && argc == 3) {
        if (webhook_delete(s, t.id, argv[2], &e) < 0)
            return cli_fail(&e);
        fprintf(stderr, "deleted webhook %s of tenant %s\n", argv[2], t.slug);
        return 0;
    }
    return cli_usage_error("unknown webhook sub-command or arguments", cli_webhook_usage);
}

void
cli_setup_link_usage(void)
{
    fprintf(stderr, "usage: scimd setup-link TENANT ADMIN_USER\n"
                    "A single-use link into the console for an active admin of the tenant (the\n"
                    "user's id, userName or email), under public_url.\n");
}

int
cli_setup_link(struct store *s, const struct cli_console *c, int argc, char **argv)
{
    struct err e = { 0 };
    struct store_tenant t;
    struct store_resource u;
    struct console_secret token;
    int64_t expires;
    if (argc != 2)
        return cli_usage_error("setup-link takes a tenant and a user", cli_setup_link_usage);
    if (tenant_get(s, argv[0], &t, &e) < 0 || user_find(s, t.id, argv[1], &u, &e) < 0)
        return cli_fail(&e);
    int rc =
        console_setup_link_mint(s, c->policy, c->gate, &t, u.id, argv[1], &token, &expires, &e);
    if (rc == 0) {
        char url[600], when[32];
        snprintf(url, sizeof(url), "%s/console/#setup=%s", c->public_url, token.text);
        console_secret_wipe(&token);
        clock_format_ms(expires, when);
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "url", url, "expires", when, "tenant",
                                 t.slug, "actingUser", u.id));
        crypto_wipe(url, sizeof(url));
    }
    store_resource_cleanup(&u);
    return rc < 0 ? cli_fail(&e) : 0;
}

void
cli_set_key_usage(void)
{
    printf(
        "usage: scimd set-key rotate [SETTINGS]\n\n"
        "Adds a new ES256 key signing the SETs of webhooks of format \"set\" (docs/webhooks.md):\n"
        "every instance signs with it from its next SET on. The JWKS (/events/v1/jwks.json)\n"
        "lists it and the key before it, so receivers holding SETs signed just before keep\n"
        "verifying them; a receiver caching the JWKS fetches it again on an unknown kid.\n"
        "Prints the new kid.\n");
}

int
cli_set_key(struct store *s, const struct seal_keyring *ring, int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "rotate") != 0) {
        cli_set_key_usage();
        return 2;
    }
    char kid[48];
    struct err e = { 0 };
    if (set_key_rotate(s, ring, kid, &e) < 0) {
        fprintf(stderr, "scimd: %s\n", e.detail);
        return 1;
    }
    printf("%s\n", kid);
    return fflush(stdout) == 0 ? 0 : 1;
}
