#ifndef SCIMD_CORE_MIGRATE_H
#define SCIMD_CORE_MIGRATE_H

#include "base/err.h"
#include "store/copy.h"

/* `scimd migrate` (docs/deploy.md): copies the SQLite database at from_path into the empty
 * PostgreSQL database to_dsn ("postgres://…" or "postgresql://…") with store_copy, after
 * opening both (which applies this scimd's migrations to each). *out receives the counts
 * when they were taken, also on failure. ERR_NOT_FOUND when from_path is not a file,
 * ERR_INVALID_VALUE when to_dsn is not a PostgreSQL URI or from_path is one. */
int migrate_sqlite_to_postgres(const char *from_path, const char *to_dsn,
                               struct store_copy_report *out, struct err *err);

#endif
