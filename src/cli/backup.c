#include "cli/backup.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli_int.h"
#include "core/backup.h"

void
cli_backup_usage(void)
{
    fprintf(stderr,
            "usage: scimd backup FILE [--force] [SETTINGS]\n"
            "Copies the SQLite database (DATA_DIR/scimd.db, or the db setting) into FILE while\n"
            "scimd may keep running: SQLite's online backup, written to FILE.tmp (mode 0600),\n"
            "checked with PRAGMA integrity_check, synced, then renamed to FILE. An existing\n"
            "FILE is replaced only with --force. On PostgreSQL, use pg_dump instead.\n"
            "docs/deploy.md \"Backups\" has the restore.\n");
}

int
cli_backup(const char *db, int argc, char **argv)
{
    const char *file = NULL;
    bool force = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0)
            force = true;
        else if (strncmp(argv[i], "--", 2) == 0 || file != NULL)
            return cli_usage_error("backup takes one FILE and --force", cli_backup_usage);
        else
            file = argv[i];
    }
    if (file == NULL || file[0] == '\0')
        return cli_usage_error("backup needs the FILE to write", cli_backup_usage);
    struct store_backup_report r;
    struct err e = { 0 };
    int64_t t0 = clock_mono_ns();
    if (backup_database(db, file, force, &r, &e) < 0) {
        if (e.code != ERR_NOT_IMPLEMENTED)
            return cli_fail(&e);
        fprintf(stderr, "scimd: %s\n", e.detail);
        return 2;
    }
    int64_t ms = (clock_mono_ns() - t0) / 1000000;
    printf("%s: %" PRId64 " pages, %" PRId64 " bytes in %" PRId64 ".%03" PRId64
           " s; integrity_check ok; restarted %d times by writes%s\n",
           file, r.pages, r.bytes, ms / 1000, ms % 1000, r.restarts,
           r.single_pass ? " (then copied the rest in one pass)" : "");
    return fflush(stdout) == 0 ? 0 : 1;
}
