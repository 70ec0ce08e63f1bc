#ifndef SCIMD_CLI_CLI_INT_H
#define SCIMD_CLI_CLI_INT_H

#include <jansson.h>

#include "base/err.h"

/* Shared by the command files: print JSON (stolen) indented on stdout; report an error on
 * stderr and return the exit status (3 for not found, else 1); report a usage error and
 * return 2. */
void cli_print_json(json_t *j);
int cli_fail(const struct err *e);
int cli_usage_error(const char *msg, void (*usage)(void));

#endif
