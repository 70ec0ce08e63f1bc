#ifndef SCIMD_CORE_TX_H
#define SCIMD_CORE_TX_H

#include "base/err.h"
#include "store/store.h"

/* Commits the thread's transaction; on failure rolls it back, so no write is half done. */
int tx_commit(struct store *s, struct err *err);

#endif
