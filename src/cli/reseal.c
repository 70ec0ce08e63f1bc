/* scimd reseal: every sealed secret under the newest sso key (issue 17, docs/deploy.md). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/set.h"
#include "core/signin.h"
#include "core/webhook.h"

void
cli_reseal_usage(void)
{
    printf("usage: scimd reseal [SETTINGS]\n\n"
           "Seals every OIDC client secret, webhook signing secret and SET signing key again\n"
           "under the newest key of the sso keyring (the last line of sso_keys_file, else\n"
           "sso_key), and seals webhook secrets and SET keys stored plain before any key was\n"
           "configured. Safe while the daemon\n"
           "runs: each rewrite is its own transaction, and a secret changed meanwhile is left\n"
           "to its writer. Exit 1 when a secret no configured key opens was found (listed,\n"
           "left as it is).\n");
}

/* One line of counts; unreadable ones are named by `what` (tenants, ids). */
static void
print_tally(const char *kind, const struct seal_tally *t, bool plain, const char *what)
{
    printf("%s: %zu re-sealed, ", kind, t->resealed);
    if (plain)
        printf("%zu sealed (were plain), ", t->was_plain);
    printf("%zu already current, %zu unreadable", t->current, t->unreadable);
    if (t->changed)
        printf(", %zu changed meanwhile (left to their writer)", t->changed);
    if (t->unreadable) {
        printf(" (%s:", what);
        for (size_t i = 0; i < t->unreadable && i < SEAL_TALLY_IDS; i++)
            printf(" %s", t->unreadable_ids[i]);
        printf("%s)", t->unreadable > SEAL_TALLY_IDS ? " …" : "");
    }
    printf("\n");
}

int
cli_reseal(struct store *s, const struct seal_keyring *ring, int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        cli_reseal_usage();
        return 2;
    }
    const struct seal_key *k = seal_keyring_newest(ring);
    if (k == NULL) {
        fprintf(stderr, "scimd: reseal needs sso_key or sso_keys_file\n");
        return 2;
    }
    printf("re-sealing under sso key \"%s\"\n", k->name);
    struct seal_tally conns, hooks, keys = { 0 };
    struct err e = { 0 };
    int rc = signin_reseal(s, ring, &conns, &e);
    print_tally("sso connections", &conns, false, "tenants");
    if (rc == 0) {
        rc = webhook_reseal(s, ring, &hooks, &e);
        print_tally("webhooks", &hooks, true, "ids");
    }
    if (rc == 0) {
        rc = set_reseal(s, ring, &keys, &e);
        /* Only a database that signs SETs has such keys; others keep their two lines. */
        if (keys.resealed + keys.current + keys.was_plain + keys.unreadable + keys.changed > 0)
            print_tally("SET signing keys", &keys, true, "kids");
    }
    if (fflush(stdout) != 0)
        return 1;
    if (rc < 0) {
        fprintf(stderr, "scimd: reseal stopped: %s\n", e.detail);
        return 1;
    }
    if (conns.unreadable || hooks.unreadable || keys.unreadable) {
        fprintf(stderr,
                "scimd: %zu secrets no configured sso key opens were left as they are: add the "
                "key that sealed them to sso_keys_file and run reseal again, or set them anew\n",
                conns.unreadable + hooks.unreadable + keys.unreadable);
        return 1;
    }
    return 0;
}
