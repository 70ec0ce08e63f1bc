#include "cli/migrate.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli_int.h"
#include "core/migrate.h"

void
cli_migrate_usage(void)
{
    fprintf(stderr,
            "usage: scimd migrate --from SQLITE_FILE --to postgresql://USER@HOST/DATABASE\n"
            "Copies a SQLite database into an empty PostgreSQL database in one transaction,\n"
            "then prints the rows of each table in both (source = target); exits non-zero,\n"
            "with nothing copied, on any difference. Stop scimd on the SQLite file first:\n"
            "changes made during the copy are not copied. docs/deploy.md has the details.\n");
}

static void
print_counts(const struct store_copy_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct store_copy_count *c = &r->counts[i];
        if (c->absent)
            printf("%s %lld (no such table in this PostgreSQL schema: nothing to copy)\n", c->name,
                   (long long)c->source);
        else if (r->checked)
            printf("%s %lld %s %lld\n", c->name, (long long)c->source,
                   c->source == c->target ? "=" : "!=", (long long)c->target);
    }
}

int
cli_migrate(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    for (int i = 0; i < argc; i++) {
        /* --from VALUE or --from=VALUE */
        const char *a = argv[i], *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const char **dst = len == 6 && strncmp(a, "--from", 6) == 0 ? &from
                           : len == 4 && strncmp(a, "--to", 4) == 0 ? &to
                                                                    : NULL;
        if (dst == NULL)
            return cli_usage_error("migrate takes only --from and --to", cli_migrate_usage);
        if (eq == NULL && i + 1 >= argc)
            return cli_usage_error("a flag needs a value", cli_migrate_usage);
        *dst = eq ? eq + 1 : argv[++i];
    }
    if (from == NULL || to == NULL)
        return cli_usage_error("migrate needs --from and --to", cli_migrate_usage);
    struct store_copy_report report;
    struct err e = { 0 };
    int rc = migrate_sqlite_to_postgres(from, to, &report, &e);
    print_counts(&report);
    fflush(stdout);
    if (rc < 0)
        return cli_fail(&e);
    fprintf(stderr, "copied %s into PostgreSQL: every count agrees\n", from);
    return 0;
}
