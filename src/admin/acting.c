#include "admin/admin_int.h"

#include "scim/scim.h"

int
admin_acting_user(struct api_call *call, const struct store_tenant *t, const char *given,
                  const char **out, char buf[37], struct err *err)
{
    if (call->console) {
        *out = call->session.operator? NULL : call->session.user_id;
        return 0;
    }
    *out = given ? given : "";
    if (given == NULL || given[0] == '\0')
        return 0;
    if (scim_users_find(call, t->id, given, buf, err) == 0) {
        *out = buf;
        return 0;
    }
    return err->code == ERR_NOT_FOUND ? 0 : -1;
}
