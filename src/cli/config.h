#ifndef SCIMD_CLI_CONFIG_H
#define SCIMD_CLI_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"

/* Every setting of scimd, from one table. Precedence, highest first: command-line flag,
 * environment variable, config file (--config / SCIMD_CONFIG), built-in default
 * (docs/configuration.md). */
struct config {
    char *config_file;
    char *listen;
    long port;
    char *data_dir;
    char *db;
    char *public_url;
    char *operator_key;
    char *operator_key_file;
    char *operator_keys_file;
    char *tls_cert;
    char *tls_key;
    long threads;
    long max_connections;
    long connection_timeout;
    long request_timeout;
    long connections_per_address;
    long auth_failure_limit;
    long sso_rate_limit;
    long signin_failure_limit;
    long body_limit;
    long page_max;
    long answer_cache_mb; /* SCIM answers kept while the database is unchanged; 0: none */
    long cursor_timeout;
    long bulk_max_operations;
    long bulk_max_payload;
    long token_overlap;
    char *scim_plans;
    char *plans;
    char *roles;        /* the role catalogue, comma-separated; "" = no roles (core/role.h) */
    char *default_role; /* NULL when unset */
    char *admin_role;   /* NULL when unset */
    char *role_schema;  /* URN of the User extension carrying a role set on a user */
    bool webhook_allow_http;
    long webhook_retry_ms;
    long webhook_timeout_ms;
    long webhook_poll_ms;
    long event_retention_days;   /* 0 = keep events forever */
    long event_prune_interval_s; /* seconds between pruning passes */
    long console_idle;
    long console_lifetime;
    long setup_link_ttl;
    char *log_level;
    bool access_log;
    char *sso_key;          /* 64 hex digits: AES-256-GCM key sealing OIDC client secrets */
    char *sso_keys_file;    /* NAME=64HEX lines: the sso keyring (base/seal.h) */
    char *sso_complete_url; /* the host's redemption page for connections without their own */
    char *sso_shared_redirect_uri; /* the host's own address of /sso/oidc/callback */
    char *sso_shared_initiate_uri; /* the host's own address of /sso/oidc/initiate */
    bool sso_test_http;            /* tests only: plain http and internal addresses for SSO */
    char *brand_name;              /* product name on the console and sign-in error pages */
    char *brand_logo_url;          /* https:// or data:image/ URL, or NULL */
    char *brand_color;             /* "#rrggbb" */
    bool db_in_data_dir;           /* db was derived: data_dir/scimd.db */
};

/* Parses argv (from index `first`, flags only), the environment and the config file into c.
 * Positional arguments are returned in order through rest/n_rest (pointers into argv).
 * ERR_INVALID_VALUE naming the setting on any bad value or unknown flag. */
int config_load(struct config *c, int argc, char **argv, int first, char **rest, int *n_rest,
                struct err *err);
void config_free(struct config *c);

/* Derives defaults that depend on other settings (db path, public URL) and reads the
 * operator key file. */
int config_finish(struct config *c, struct err *err);

/* Creates the data directory (0700) when the database lives there: before a command opens
 * the database, never for one that only reads an existing file (backup). */
int config_make_data_dir(const struct config *c, struct err *err);

/* Reads operator_key_file again (SIGHUP), when one is configured. */
int config_reload_operator_key(struct config *c, struct err *err);

/* Sets public_url, when not configured, from the scheme, listen address and the port the
 * server actually bound (which differs from `port` when that is 0). */
int config_default_public_url(struct config *c, int bound_port, struct err *err);

/* Lists every setting with its flag, variable, file key, default and meaning. */
void config_print_help(FILE *f);

/* An example configuration file: every setting commented out at its default, secrets pointed
 * at the environment file (`scimd config-example`, installed as /etc/scimd/scimd.conf). */
void config_print_example(FILE *f);

/* The scimd(8) manual page in roff, its SETTINGS section from the settings table, so it cannot
 * drift from the code (`scimd man`, installed by cmake --install). */
void config_print_man(FILE *f, const char *version);

#endif
