#ifndef SCIMD_ADMIN_ADMIN_INT_H
#define SCIMD_ADMIN_ADMIN_INT_H

#include "api/call.h"
#include "store/store.h"

/* Helpers shared by the management API's modules. */

/* Who acts for a token mint or rotate, or a set-up link: a tenant admin's console session
 * always acts as its own admin, whatever the request says; the operator's console session is
 * the operator (*out NULL: the acting-admin gate does not apply, docs/tenants.md); the host
 * application names its admin by scimd id, userName or externalId (`given`, may be NULL),
 * which becomes the user's id in buf. A name that matches no user is passed on as given, so
 * the gate reports it; -1 only when the name is ambiguous or the read fails. */
int admin_acting_user(struct api_call *call, const struct store_tenant *t, const char *given,
                      const char **out, char buf[37], struct err *err);

#endif
