#ifndef SCIMD_STORE_STORE_INT_H
#define SCIMD_STORE_STORE_INT_H

#include "store/store.h"

struct sqlgen_cursors;

/* Every backend's handle starts with this header, so store.c can dispatch. */
struct store {
    const struct store_ops *ops;
    const struct db_backend *db;
    struct sqlgen_cursors *cursors; /* remembered page positions of listings (list.c) */
};

#endif
