#ifndef SCIMD_STORE_POSTGRES_POSTGRES_H
#define SCIMD_STORE_POSTGRES_POSTGRES_H

#include "store/store_int.h"

/* The PostgreSQL backend (libpq): DSN "postgres://…" or "postgresql://…". */
extern const struct store_backend postgres_backend;

#endif
