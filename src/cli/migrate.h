#ifndef SCIMD_CLI_MIGRATE_H
#define SCIMD_CLI_MIGRATE_H

/* scimd migrate --from SQLITE_FILE --to postgresql://…: argv[0..argc) are the command's
 * arguments after "migrate". Prints each count ("tenants 3 = 3") on stdout; returns the
 * exit status (0 when everything was copied and every count agrees). */
int cli_migrate(int argc, char **argv);
void cli_migrate_usage(void);

#endif
