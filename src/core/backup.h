#ifndef SCIMD_CORE_BACKUP_H
#define SCIMD_CORE_BACKUP_H

#include <stdbool.h>

#include "base/err.h"
#include "store/store.h"

/* `scimd backup FILE` (docs/deploy.md, "Backups"): copies the database dsn names, while a
 * daemon may be writing to it, into FILE. The copy is written to FILE.tmp (mode 0600) by
 * store_backup, checked with PRAGMA integrity_check and synced, then renamed to FILE and the
 * directory synced, so FILE is either absent or a whole, checked database. *out receives what
 * was copied. Errors: ERR_NOT_FOUND when the SQLite file does not exist (it is never created);
 * ERR_CONFLICT when FILE exists and !force, when FILE is the database itself, or when
 * FILE.tmp exists and !force (a backup running or interrupted; force removes it);
 * ERR_NOT_IMPLEMENTED on PostgreSQL (pg_dump); ERR_INTERNAL when the copy fails its check. */
int backup_database(const char *dsn, const char *path, bool force, struct store_backup_report *out,
                    struct err *err);

#endif
