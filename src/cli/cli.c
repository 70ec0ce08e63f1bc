#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"
#include "cli/cli_int.h"
#include "core/tenant.h"
#include "core/token.h"
#include "sso/manage.h"

void
cli_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2));
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
}

int
cli_fail(const struct err *e)
{
    fprintf(stderr, "scimd: %s\n", e->detail[0] ? e->detail : err_text(e->code));
    return e->code == ERR_NOT_FOUND ? 3 : 1;
}

int
cli_usage_error(const char *msg, void (*usage)(void))
{
    fprintf(stderr, "scimd: %s\n\n", msg);
    usage();
    return 2;
}

static int
parse_onoff(const char *v, int *out)
{
    if (cstr_ieq(v, "on") || cstr_ieq(v, "true") || cstr_ieq(v, "yes"))
        *out = 1;
    else if (cstr_ieq(v, "off") || cstr_ieq(v, "false") || cstr_ieq(v, "no"))
        *out = 0;
    else
        return -1;
    return 0;
}

/* Reads tenant flags from argv[from..]; positional arguments are rejected. */
static int
tenant_flags(int argc, char **argv, int from, struct tenant_fields *f)
{
    *f = TENANT_FIELDS_UNSET;
    /* Flags come in pairs: --name VALUE. */
    for (int i = from; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            return cli_usage_error("a flag needs a value", cli_tenant_usage);
        if (strcmp(a, "--name") == 0)
            f->display_name = v;
        else if (strcmp(a, "--plan") == 0)
            f->plan = v;
        else if (strcmp(a, "--mode") == 0)
            f->mode = v;
        else if (strcmp(a, "--deactivation") == 0)
            f->deactivation = v;
        else if (strcmp(a, "--integration") == 0) {
            if (parse_onoff(v, &f->integration_enabled) < 0)
                return cli_usage_error("--integration takes on or off", cli_tenant_usage);
        } else if (strcmp(a, "--saml-required") == 0) {
            if (parse_onoff(v, &f->saml_required) < 0)
                return cli_usage_error("--saml-required takes on or off", cli_tenant_usage);
        } else if (strcmp(a, "--tenant-url") == 0)
            f->public_url = strcmp(v, "none") == 0 ? "" : v; /* "" clears it too */
        else
            return cli_usage_error("unknown tenant flag", cli_tenant_usage);
    }
    return 0;
}

void
cli_tenant_usage(void)
{
    fprintf(
        stderr,
        "usage: scimd tenant create SLUG [--name NAME] [--plan PLAN] [--mode push|import-only]\n"
        "                   [--deactivation disable|remove] [--integration on|off]\n"
        "                   [--saml-required on|off] [--tenant-url URL|none]\n"
        "       scimd tenant update SLUG [the same flags]\n"
        "       scimd tenant list | show SLUG | delete SLUG\n"
        "       scimd tenant role-map SLUG [set GROUP ROLE PRIORITY | remove GROUP]\n");
}

int
cli_tenant(struct store *s, const struct gate_policy *policy, int argc, char **argv)
{
    struct err e = { 0 };
    struct store_tenant t;
    struct tenant_fields f;
    if (argc < 1)
        return cli_usage_error("tenant needs a sub-command", cli_tenant_usage);
    const char *cmd = argv[0];
    if (strcmp(cmd, "role-map") == 0)
        return cli_role_map(s, argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0) {
        struct store_tenant *v;
        size_t n;
        if (tenant_list(s, &v, &n, &e) < 0)
            return cli_fail(&e);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, tenant_to_json(&v[i]));
        free(v);
        cli_print_json(arr);
        return 0;
    }
    bool create = strcmp(cmd, "create") == 0, update = strcmp(cmd, "update") == 0;
    bool show = strcmp(cmd, "show") == 0, delete = strcmp(cmd, "delete") == 0;
    /* The sub-command first: `tenant frob` is not a missing slug. */
    if (!create && !update && !show && !delete)
        return cli_usage_error("unknown tenant sub-command", cli_tenant_usage);
    if (argc < 2)
        return cli_usage_error("the tenant's slug is missing", cli_tenant_usage);
    const char *slug = argv[1];
    int rc;
    if (create || update) {
        if ((rc = tenant_flags(argc, argv, 2, &f)) != 0)
            return rc;
        rc = create ? tenant_create(s, policy, slug, &f, &t, &e)
                    : tenant_update(s, policy, slug, &f, &t, &e);
    } else if (show) {
        rc = tenant_get(s, slug, &t, &e);
    } else {
        if (tenant_delete(s, slug, &e) < 0)
            return cli_fail(&e);
        fprintf(stderr, "deleted tenant %s\n", slug);
        return 0;
    }
    if (rc < 0)
        return cli_fail(&e);
    cli_print_json(tenant_to_json(&t));
    return 0;
}

void
cli_token_usage(void)
{
    fprintf(stderr, "usage: scimd token mint TENANT [--label LABEL]\n"
                    "       scimd token list TENANT\n"
                    "       scimd token revoke TENANT TOKEN_ID\n"
                    "       scimd token rotate TENANT TOKEN_ID [--overlap SECONDS]\n");
}

static void
print_secret(const struct store_token *t, struct token_secret *secret)
{
    json_t *j = token_to_json(t, clock_now_ms());
    json_object_set_new(j, "token", json_string(secret->text));
    token_secret_wipe(secret);
    cli_print_json(j);
    fprintf(stderr, "This is the only time the token is shown: store it now.\n");
}

int
cli_token(struct store *s, long overlap_default, const struct gate_policy *policy, int argc,
          char **argv)
{
    struct err e = { 0 };
    struct store_tenant t;
    struct store_token tok;
    struct token_secret secret;
    if (argc < 2)
        return cli_usage_error("token needs a sub-command and a tenant", cli_token_usage);
    const char *cmd = argv[0];
    if (tenant_get(s, argv[1], &t, &e) < 0)
        return cli_fail(&e);
    const struct token_request req = { &t, policy, NULL, NULL, "cli" };
    if (strcmp(cmd, "mint") == 0) {
        const char *label = NULL;
        if (argc == 4 && strcmp(argv[2], "--label") == 0)
            label = argv[3];
        else if (argc != 2)
            return cli_usage_error("mint takes only --label", cli_token_usage);
        if (token_mint(s, &req, label, &tok, &secret, &e) < 0)
            return cli_fail(&e);
        print_secret(&tok, &secret);
        return 0;
    }
    if (strcmp(cmd, "list") == 0) {
        struct store_token *v;
        size_t n;
        if (token_list(s, t.id, &v, &n, &e) < 0)
            return cli_fail(&e);
        json_t *arr = json_array();
        int64_t now = clock_now_ms();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, token_to_json(&v[i], now));
        free(v);
        cli_print_json(arr);
        return 0;
    }
    if (argc < 3)
        return cli_usage_error("the token id is missing", cli_token_usage);
    if (strcmp(cmd, "revoke") == 0) {
        if (token_revoke(s, &req, argv[2], &tok, &e) < 0)
            return cli_fail(&e);
        cli_print_json(token_to_json(&tok, clock_now_ms()));
        return 0;
    }
    if (strcmp(cmd, "rotate") == 0) {
        int64_t overlap = overlap_default;
        if (argc == 5 && strcmp(argv[3], "--overlap") == 0) {
            if (str_to_i64(str_of(argv[4]), 0, 2592000, &overlap, "--overlap", &e) < 0)
                return cli_fail(&e);
        } else if (argc != 3) {
            return cli_usage_error("rotate takes only --overlap", cli_token_usage);
        }
        if (token_rotate(s, &req, argv[2], overlap, &tok, &secret, &e) < 0)
            return cli_fail(&e);
        print_secret(&tok, &secret);
        return 0;
    }
    return cli_usage_error("unknown token sub-command", cli_token_usage);
}

void
cli_sso_usage(void)
{
    fprintf(stderr, "usage: scimd sso show TENANT oidc|saml\n"
                    "       scimd sso set TENANT oidc|saml --file CONNECTION.json (- for stdin)\n"
                    "       scimd sso delete TENANT oidc|saml\n"
                    "The file holds the body of PUT /admin/v1/tenants/TENANT/sso/PROTOCOL.\n");
}

int
cli_sso(struct store *s, const struct api_settings *settings, int argc, char **argv)
{
    struct err e = { 0 };
    json_t *out = NULL;
    if (argc < 3)
        return cli_usage_error("sso needs a sub-command, a tenant and a protocol", cli_sso_usage);
    const char *cmd = argv[0], *slug = argv[1], *proto = argv[2];
    if (strcmp(proto, "oidc") != 0 && strcmp(proto, "saml") != 0)
        return cli_usage_error("the protocol is oidc or saml", cli_sso_usage);
    if (strcmp(cmd, "show") == 0 && argc == 3) {
        if (sso_manage_get(s, settings, slug, proto, &out, &e) < 0)
            return cli_fail(&e);
    } else if (strcmp(cmd, "delete") == 0 && argc == 3) {
        if (sso_manage_delete(s, slug, proto, &e) < 0)
            return cli_fail(&e);
        fprintf(stderr, "deleted the %s connection of tenant %s\n", proto, slug);
        return 0;
    } else if (strcmp(cmd, "set") == 0 && argc == 5 && strcmp(argv[3], "--file") == 0) {
        json_error_t je;
        json_t *body = strcmp(argv[4], "-") == 0
                           ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &je)
                           : json_load_file(argv[4], JSON_REJECT_DUPLICATES, &je);
        if (body == NULL) {
            fprintf(stderr, "scimd: %s: %s\n", argv[4], je.text);
            return 2;
        }
        int rc = sso_manage_put(s, settings, slug, proto, body, NULL, &out, &e);
        json_decref(body);
        if (rc < 0)
            return cli_fail(&e);
    } else {
        return cli_usage_error("unknown sso sub-command or arguments", cli_sso_usage);
    }
    cli_print_json(out);
    return 0;
}
