#ifndef SCIMD_CLI_CLI_H
#define SCIMD_CLI_CLI_H

#include "base/seal.h"
#include "core/console.h"
#include "core/gate.h"
#include "core/webhook.h"
#include "store/store.h"

struct api_settings;

/* Shell commands. argv[0] is the sub-command ("create", "list", …); the rest are its
 * arguments and flags. They call the same core functions as the management API. Output is
 * JSON on stdout; errors go to stderr. Return a process exit status. */

int cli_tenant(struct store *s, const struct gate_policy *policy, int argc, char **argv);
/* The CLI acts as the operator: the gates apply except the acting-admin one. */
int cli_token(struct store *s, long overlap_default, const struct gate_policy *policy, int argc,
              char **argv);
int cli_role_map(struct store *s, int argc, char **argv);
int cli_audit(struct store *s, int argc, char **argv);

/* scimd sso show|set|delete TENANT oidc|saml [--file FILE]: the connection body is the
 * management API's JSON ("-" reads stdin). */
int cli_sso(struct store *s, const struct api_settings *settings, int argc, char **argv);

/* scimd user list|show|create|deactivate|reactivate|role TENANT …: the host's user API. */
int cli_user(struct store *s, int argc, char **argv);
/* scimd webhook list|create|delete TENANT …; cfg as the server's (URL rules, sealing). */
int cli_webhook(struct store *s, const struct webhook_settings *cfg, int argc, char **argv);

/* scimd reseal: every sealed secret (OIDC client secrets, webhook secrets) under the newest
 * key of ring; prints the counts. 1 when a secret no key opens was found, 2 without a key. */
int cli_reseal(struct store *s, const struct seal_keyring *ring, int argc, char **argv);
/* scimd set-key rotate: a new generation of the SET signing key (core/set.h); prints its kid.
 * 1 on a store error, 2 on a usage error. */
int cli_set_key(struct store *s, const struct seal_keyring *ring, int argc, char **argv);

/* What a set-up link needs: the console's lifetimes, the plan gate, and the public URL the
 * link is under. */
struct cli_console {
    const struct console_policy *policy;
    const struct gate_policy *gate;
    const char *public_url;
};
/* scimd setup-link TENANT USER: a single-use console link for an active admin. */
int cli_setup_link(struct store *s, const struct cli_console *c, int argc, char **argv);

void cli_user_usage(void);
void cli_webhook_usage(void);
void cli_setup_link_usage(void);
void cli_tenant_usage(void);
void cli_sso_usage(void);
void cli_token_usage(void);
void cli_role_map_usage(void);
void cli_audit_usage(void);
void cli_reseal_usage(void);
void cli_set_key_usage(void);

#endif
