/* Tenants: one row per customer workspace of the host application. */
#include <stdint.h>
#include <string.h>

#include "store/db.h"
#include "store/rows.h"
#include "store/store_int.h"

static const char *
mode_name(enum store_mode m)
{
    return m == STORE_MODE_IMPORT_ONLY ? "import-only" : "push";
}

static const char *
deactivation_name(enum store_deactivation d)
{
    return d == STORE_DEACTIVATE_REMOVE ? "remove" : "disable";
}

void
rows_read_tenant(struct db_stmt *st, int b, struct store_tenant *t)
{
    *t = (struct store_tenant){ .group_count = -1 };
    t->id = db_int(st, b + 0);
    db_copy(st, b + 1, t->slug, sizeof(t->slug));
    db_copy(st, b + 2, t->display_name, sizeof(t->display_name));
    db_copy(st, b + 3, t->plan, sizeof(t->plan));
    t->mode =
        strcmp(db_text(st, b + 4), "import-only") == 0 ? STORE_MODE_IMPORT_ONLY : STORE_MODE_PUSH;
    t->deactivation = strcmp(db_text(st, b + 5), "remove") == 0 ? STORE_DEACTIVATE_REMOVE
                                                                : STORE_DEACTIVATE_DISABLE;
    t->integration_enabled = db_int(st, b + 6) != 0;
    t->saml_required = db_int(st, b + 7) != 0;
    t->created_ms = db_int(st, b + 8);
    t->updated_ms = db_int(st, b + 9);
    db_copy(st, b + 10, t->public_url, sizeof(t->public_url));
}

static void
read_tenant(struct db_stmt *st, void *row)
{
    rows_read_tenant(st, 0, row);
}

static void
read_id(struct db_stmt *st, void *row)
{
    *(int64_t *)row = db_int(st, 0);
}

/* The columns insert and update share, bound from parameter `first` on. */
static void
bind_settings(struct db_stmt *st, int first, const struct store_tenant *t)
{
    db_bind_text(st, first, t->display_name);
    db_bind_text(st, first + 1, t->plan);
    db_bind_text(st, first + 2, mode_name(t->mode));
    db_bind_text(st, first + 3, deactivation_name(t->deactivation));
    db_bind_int(st, first + 4, t->integration_enabled ? 1 : 0);
    db_bind_int(st, first + 5, t->saml_required ? 1 : 0);
    db_bind_text(st, first + 6, t->public_url);
}

int
store_tenant_insert(struct store *s, struct store_tenant *t, struct err *err)
{
    static struct db_sql q = DB_SQL(
        "INSERT INTO tenants(slug, display_name, plan, mode, deactivation, integration_enabled,"
        " saml_required, public_url, created_ms, updated_ms) VALUES(?,?,?,?,?,?,?,?,?,?)"
        " RETURNING id");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, t->slug);
    bind_settings(st, 2, t);
    db_bind_int(st, 9, t->created_ms);
    db_bind_int(st, 10, t->updated_ms);
    int rc = db_first(st, read_id, &t->id, err);
    return rc < 0 ? -1 : 0;
}

/* A write that must change one row of a tenant: ERR_NOT_FOUND when it changed none. */
static int
one_row(struct db_stmt *st, struct err *err)
{
    int64_t n = db_exec(st, err);
    if (n < 0)
        return -1;
    return n ? 0 : err_set(err, ERR_NOT_FOUND, "no such tenant");
}

int
store_tenant_update(struct store *s, const struct store_tenant *t, struct err *err)
{
    static struct db_sql q =
        DB_SQL("UPDATE tenants SET display_name=?, plan=?, mode=?, deactivation=?,"
               " integration_enabled=?, saml_required=?, public_url=?, updated_ms=? WHERE id=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    bind_settings(st, 1, t);
    db_bind_int(st, 8, t->updated_ms);
    db_bind_int(st, 9, t->id);
    return one_row(st, err);
}

int
store_tenant_delete(struct store *s, int64_t id, struct err *err)
{
    static struct db_sql q = DB_SQL("DELETE FROM tenants WHERE id=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, id);
    return one_row(st, err);
}

static int
tenant_one(struct db_stmt *st, struct store_tenant *out, struct err *err)
{
    int rc = db_first(st, read_tenant, out, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "no such tenant");
}

int
store_tenant_get_by_slug(struct store *s, const char *slug, struct store_tenant *out,
                         struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " TENANT_COLS " FROM tenants WHERE slug=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, slug);
    return tenant_one(st, out, err);
}

int
store_tenant_get_by_id(struct store *s, int64_t id, struct store_tenant *out, struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " TENANT_COLS " FROM tenants WHERE id=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, id);
    return tenant_one(st, out, err);
}

int
store_tenant_list(struct store *s, struct store_tenant **out, size_t *n, struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " TENANT_COLS " FROM tenants ORDER BY slug");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    return db_collect(st, sizeof(**out), SIZE_MAX, read_tenant, NULL, (void **)out, n, err);
}
