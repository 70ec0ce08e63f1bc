#ifndef SCIMD_TESTS_SPARKPOST_ROLES_H
#define SCIMD_TESTS_SPARKPOST_ROLES_H

/* The role catalogue that unit tests and fuzz targets run with: SparkPost's, the documented
 * example and the default of the settings table (src/cli/config.c). The code itself names no
 * role; a test that needs roles chooses them here. */

#include <stdio.h>
#include <stdlib.h>

#include "core/role.h"
#include "scim/schema.h"

#define SPARKPOST_ROLE_URN "urn:scimd:params:scim:schemas:extension:tenant:2.0:User"

static inline void
sparkpost_roles_use(void)
{
    struct role_catalogue c;
    struct err e;
    if (role_catalogue_parse("admin,developer,templates,reporting", "reporting", "admin",
                             SPARKPOST_ROLE_URN, &c, &e) < 0) {
        fprintf(stderr, "sparkpost_roles_use: %s\n", e.detail);
        abort();
    }
    role_catalogue_set(&c);
}

/* The same catalogue, and the SCIM schema tables configured with it (programs that link
 * scimd_scim). */
static inline void
sparkpost_schema_use(void)
{
    sparkpost_roles_use();
    scim_schema_configure();
}

#endif
