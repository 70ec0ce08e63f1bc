#ifndef SCIMD_STORE_SQLITE_SQLITE_H
#define SCIMD_STORE_SQLITE_SQLITE_H

#include "store/store_int.h"

/* The SQLite backend: one connection per calling thread (WAL, busy timeout, statements
 * prepared once per connection), migrations applied at open. */
extern const struct store_backend sqlite_backend;

#endif
