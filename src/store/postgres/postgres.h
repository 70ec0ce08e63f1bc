#ifndef SCIMD_STORE_POSTGRES_POSTGRES_H
#define SCIMD_STORE_POSTGRES_POSTGRES_H

#include "store/store.h"

/* The PostgreSQL backend (libpq): DSN "postgres://…" or "postgresql://…". */
extern const struct store_ops postgres_store_ops;

#endif
