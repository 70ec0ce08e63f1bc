#include "store/store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "store/postgres/postgres.h"
#include "store/sqlgen.h"
#include "store/sqlite/sqlite.h"
#include "store/store_int.h"

void
store_resource_cleanup(struct store_resource *r)
{
    if (r == NULL)
        return;
    free(r->user_name);
    free(r->external_id);
    free(r->display_name);
    free(r->doc);
    free(r->password_hash);
    r->user_name = r->external_id = r->display_name = r->doc = r->password_hash = NULL;
}

void
store_list_result_cleanup(struct store_list_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        store_resource_cleanup(&r->rows[i]);
    free(r->rows);
    r->rows = NULL;
    r->n = 0;
}

void
store_members_free(struct store_member *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].display);
    free(v);
}

void
store_memberships_free(struct store_membership *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].display);
    free(v);
}

void
store_events_free(struct store_event *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].data);
    free(v);
}

static bool
is_postgres(const char *dsn)
{
    return strncmp(dsn, "postgres://", 11) == 0 || strncmp(dsn, "postgresql://", 13) == 0;
}

/* Appends up to n bytes of s to out[o..], keeping room for the NUL; returns the new length. */
static size_t
put(char *out, size_t size, size_t o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i] && o + 1 < size; i++)
        out[o++] = s[i];
    return o;
}

void
store_dsn_redact(const char *dsn, char *out, size_t size)
{
    if (size == 0)
        return;
    bool pg = is_postgres(dsn);
    const char *p = dsn;
    size_t o = 0;
    if (pg) {
        /* postgres://user:password@host/…: the password is between the first ':' and '@'. */
        const char *auth = strstr(dsn, "://") + 3;
        size_t auth_len = strcspn(auth, "/?");
        const char *at = memchr(auth, '@', auth_len);
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            o = put(out, size, o, dsn, (size_t)(colon + 1 - dsn));
            o = put(out, size, o, "***", 3);
            p = at;
        }
    }
    while (*p && o + 1 < size) {
        if (pg && p > dsn && (p[-1] == '?' || p[-1] == '&') && strncmp(p, "password=", 9) == 0) {
            o = put(out, size, o, "password=***", 12);
            p += 9 + strcspn(p + 9, "&");
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

int
store_open(const char *dsn, struct store **out, struct err *err)
{
    const struct store_ops *ops = &sqlite_store_ops;
    if (is_postgres(dsn))
        ops = &postgres_store_ops;
    if (ops->open(dsn, out, err) < 0)
        return -1;
    (*out)->ops = ops;
    (*out)->db = ops->db;
    (*out)->cursors = sqlgen_cursors_new(LIMIT_PAGE_CURSORS);
    return 0;
}

void
store_close(struct store *s)
{
    if (s == NULL)
        return;
    sqlgen_cursors_free(s->cursors);
    s->ops->close(s);
}

void
store_thread_done(struct store *s)
{
    s->ops->thread_done(s);
}

const char *
store_backend_name(const struct store *s)
{
    return s->ops->name;
}

/* The dispatchers below are the whole of the indirection: one line each. */
int
store_ping(struct store *s, struct err *err)
{
    return s->ops->ping(s, err);
}

int
store_read_begin(struct store *s, struct err *err)
{
    return s->ops->read_begin(s, err);
}

void
store_read_end(struct store *s)
{
    s->ops->read_end(s);
}

int
store_tx_begin(struct store *s, struct err *err)
{
    return s->ops->tx_begin(s, err);
}

int
store_tx_commit(struct store *s, struct err *err)
{
    return s->ops->tx_commit(s, err);
}

void
store_tx_rollback(struct store *s)
{
    s->ops->tx_rollback(s);
}

int
store_event_insert(struct store *s, const struct store_event *e, struct err *err)
{
    return s->ops->event_insert(s, e, err);
}

int
store_event_list(struct store *s, int64_t tenant_id, int64_t after_seq, size_t limit,
                 struct store_event **out, size_t *n, struct err *err)
{
    return s->ops->event_list(s, tenant_id, after_seq, limit, out, n, err);
}

int
store_role_map_get(struct store *s, int64_t tenant_id, struct store_role_rule **out, size_t *n,
                   struct err *err)
{
    return s->ops->role_map_get(s, tenant_id, out, n, err);
}

int
store_role_map_set(struct store *s, int64_t tenant_id, const struct store_role_rule *v, size_t n,
                   struct err *err)
{
    return s->ops->role_map_set(s, tenant_id, v, n, err);
}

int
store_user_role_set(struct store *s, int64_t tenant_id, const char *user_id, const char *direct,
                    const char *dflt, struct err *err)
{
    return s->ops->user_role_set(s, tenant_id, user_id, direct, dflt, err);
}

int
store_user_role_get(struct store *s, int64_t tenant_id, const char *user_id,
                    struct store_user_role *out, struct err *err)
{
    return s->ops->user_role_get(s, tenant_id, user_id, out, err);
}

int
store_user_role_delete(struct store *s, int64_t tenant_id, const char *user_id, struct err *err)
{
    return s->ops->user_role_delete(s, tenant_id, user_id, err);
}

int
store_roles_refresh(struct store *s, int64_t tenant_id, const char *user_id, const char *dflt,
                    const char *actor, int64_t now_ms, struct err *err)
{
    return s->ops->roles_refresh(s, tenant_id, user_id, dflt, actor, now_ms, err);
}

int
store_event_last_seq(struct store *s, int64_t tenant_id, int64_t *seq, struct err *err)
{
    return s->ops->event_last_seq(s, tenant_id, seq, err);
}

int
store_event_count_after(struct store *s, int64_t tenant_id, int64_t after_seq, int64_t *n,
                        struct err *err)
{
    return s->ops->event_count_after(s, tenant_id, after_seq, n, err);
}

int
store_webhook_insert(struct store *s, const struct store_webhook *w, struct err *err)
{
    return s->ops->webhook_insert(s, w, err);
}

int
store_webhook_get(struct store *s, int64_t tenant_id, const char *id, struct store_webhook *out,
                  struct err *err)
{
    return s->ops->webhook_get(s, tenant_id, id, out, err);
}

int
store_webhook_list(struct store *s, int64_t tenant_id, struct store_webhook **out, size_t *n,
                   struct err *err)
{
    return s->ops->webhook_list(s, tenant_id, out, n, err);
}

int
store_webhook_update(struct store *s, const struct store_webhook *w, struct err *err)
{
    return s->ops->webhook_update(s, w, err);
}

int
store_webhook_delete(struct store *s, int64_t tenant_id, const char *id, struct err *err)
{
    return s->ops->webhook_delete(s, tenant_id, id, err);
}

int
store_webhook_due(struct store *s, int64_t now_ms, size_t limit, struct store_webhook **out,
                  size_t *n, struct err *err)
{
    return s->ops->webhook_due(s, now_ms, limit, out, n, err);
}

int
store_webhook_claim(struct store *s, const char *id, const char *owner, int64_t now_ms,
                    int64_t until_ms, struct err *err)
{
    return s->ops->webhook_claim(s, id, owner, now_ms, until_ms, err);
}

int
store_webhook_finish(struct store *s, const struct store_webhook *w, const char *owner,
                     const struct store_webhook_attempt *a, struct err *err)
{
    return s->ops->webhook_finish(s, w, owner, a, err);
}

int
store_webhook_attempts(struct store *s, int64_t tenant_id, const char *id, size_t limit,
                       struct store_webhook_attempt **out, size_t *n, struct err *err)
{
    return s->ops->webhook_attempts(s, tenant_id, id, limit, out, n, err);
}

/* ---- console (issue 8) ---- */

int
store_console_session_insert(struct store *s, const struct store_console_session *cs,
                             struct err *err)
{
    return s->ops->console_session_insert(s, cs, err);
}

int
store_console_session_get(struct store *s, const char *id_hash, struct store_console_session *out,
                          struct err *err)
{
    return s->ops->console_session_get(s, id_hash, out, err);
}

int
store_console_session_touch(struct store *s, const char *id_hash, int64_t now_ms, struct err *err)
{
    return s->ops->console_session_touch(s, id_hash, now_ms, err);
}

int
store_console_session_delete(struct store *s, const char *id_hash, struct err *err)
{
    return s->ops->console_session_delete(s, id_hash, err);
}

int
store_console_session_purge(struct store *s, int64_t now_ms, struct err *err)
{
    return s->ops->console_session_purge(s, now_ms, err);
}

int
store_setup_link_insert(struct store *s, const struct store_setup_link *l, struct err *err)
{
    return s->ops->setup_link_insert(s, l, err);
}

int
store_setup_link_get(struct store *s, const char *hash, struct store_setup_link *out,
                     struct err *err)
{
    return s->ops->setup_link_get(s, hash, out, err);
}

int
store_setup_link_use(struct store *s, const char *hash, int64_t now_ms, struct err *err)
{
    return s->ops->setup_link_use(s, hash, now_ms, err);
}

int
store_event_query(struct store *s, const struct store_event_query *q, struct store_event **out,
                  size_t *n, struct err *err)
{
    return s->ops->event_query(s, q, out, n, err);
}
