#ifndef SCIMD_CLI_BACKUP_H
#define SCIMD_CLI_BACKUP_H

/* scimd backup FILE [--force]: argv[0..argc) are the command's arguments after "backup"; db is
 * the configured database (a SQLite file, or a PostgreSQL URI, which is refused with a pointer
 * to pg_dump). Prints what was copied on stdout; returns the exit status: 0 when FILE holds a
 * checked copy, 2 for a usage error or PostgreSQL, 3 when there is no database, 1 otherwise
 * (FILE exists without --force, or the copy failed). */
int cli_backup(const char *db, int argc, char **argv);
void cli_backup_usage(void);

#endif
