#include "core/tx.h"

int
tx_commit(struct store *s, struct err *err)
{
    if (store_tx_commit(s, err) < 0) {
        store_tx_rollback(s);
        return -1;
    }
    return 0;
}
