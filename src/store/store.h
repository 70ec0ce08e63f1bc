#ifndef SCIMD_STORE_STORE_H
#define SCIMD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"
#include "query/query.h"

/* The storage interface, by resource. Each function below is written once, in
 * src/store/<resource>.c, with one SQL text for SQLite and PostgreSQL over the backend's few
 * primitives (store/db.h); everything above calls these functions and never learns which
 * database runs. Connections are per calling thread and made on first use; every write runs
 * inside store_tx_begin/commit on that thread's connection. Resource ids are unique in the
 * whole database (UUIDs scimd makes; PostgreSQL's index says so, SQLite's is per tenant).
 *
 * Errors: ERR_NOT_FOUND when a row is absent, ERR_UNIQUENESS for a unique-constraint
 * violation, ERR_PRECONDITION when an expected version does not match, ERR_UNAVAILABLE when
 * the database is busy or unreachable, ERR_INTERNAL otherwise (cause logged). */

/* ---- Opening, connections and transactions ---- */

struct store;

/* Opens the backend the DSN names: "postgres://…" or "postgresql://…" for PostgreSQL (when
 * built in), anything else is a SQLite file path. Applies migrations. */
int store_open(const char *dsn, struct store **out, struct err *err);
void store_close(struct store *s);
/* Copies dsn into out (NUL-terminated, truncated to size) with a password in it replaced by
 * "***" (user:password@ and password=… of a PostgreSQL URI), for logs and messages. */
void store_dsn_redact(const char *dsn, char *out, size_t size);
/* Closes the calling thread's connection (a worker thread that ends). */
void store_thread_done(struct store *s);
const char *store_backend_name(const struct store *s);
int store_ping(struct store *s, struct err *err);
/* What names the committed state of the whole database: two equal generations read at two
 * moments mean no transaction committed in between, in this process or any other (the CLI,
 * another instance, the sqlite3 shell, psql). Whole answers may be kept while it stays equal
 * (http/answers.h). SQLite: the WAL index's header, read from shared memory without I/O;
 * PostgreSQL: the snapshot a statement sees (pg_current_snapshot: any commit on the server
 * changes it), hashed. */
struct store_generation {
    bool known; /* false: the generation could not be told; it matches nothing */
    unsigned char bytes[48];
};
/* Fills *g (PostgreSQL: one round trip): 0, or -1 with g->known false when it cannot be told
 * (a commit being published this instant, the database file gone, an error). */
int store_generation(struct store *s, struct store_generation *g);
/* True when store_generation reads no database (SQLite): cheaper than looking anything up. */
bool store_generation_is_local(const struct store *s);
/* Executions at which the database had to compile a prepared statement again (SQLite does
 * when a bound value decides the plan); 0 where the backend has no such count. */
uint64_t store_reprepares(struct store *s);

/* A read-only unit of work on the calling thread (one request's reads). A backend may read
 * it from one snapshot at the cost of one transaction (SQLite: one WAL read lock instead of
 * one per statement); PostgreSQL does nothing. No store_tx_begin may happen inside; a lone
 * write inside (a token's last-use stamp) may fail and must be best effort. */
int store_read_begin(struct store *s, struct err *err);
void store_read_end(struct store *s);

int store_tx_begin(struct store *s, struct err *err);
int store_tx_commit(struct store *s, struct err *err);
void store_tx_rollback(struct store *s);

/* What store_backup copied. */
struct store_backup_report {
    int64_t pages;    /* database pages in the copy */
    int64_t bytes;    /* the copy's size */
    int restarts;     /* times a write to the source made the copy start again */
    bool single_pass; /* after LIMIT_BACKUP_RESTARTS restarts, the rest was copied in one read */
};

/* Copies the whole database, consistently, into a new file at path (created with mode 0600;
 * ERR_CONFLICT if it exists), while other processes keep writing: SQLite's online backup in
 * steps of LIMIT_BACKUP_STEP_PAGES pages, then fsync and PRAGMA integrity_check on the copy.
 * On failure the partial file is removed. Not inside a transaction. ERR_NOT_IMPLEMENTED on
 * PostgreSQL (pg_dump does this there); ERR_INTERNAL when the copy fails its check. */
int store_backup(struct store *s, const char *path, struct store_backup_report *out,
                 struct err *err);

/* ---- Tenants (tenants.c) ---- */

enum store_mode {
    STORE_MODE_PUSH,
    STORE_MODE_IMPORT_ONLY,
};

enum store_deactivation {
    STORE_DEACTIVATE_DISABLE,
    STORE_DEACTIVATE_REMOVE,
};

struct store_tenant {
    int64_t id;
    char slug[64];
    char display_name[201];
    char plan[33];
    enum store_mode mode;
    enum store_deactivation deactivation;
    bool integration_enabled;
    bool saml_required;
    int64_t created_ms;
    int64_t updated_ms;
    /* The tenant's own public URL (issue 17), used instead of the deployment's public_url in
     * every URL written for it; "" when it has none. */
    char public_url[LIMIT_PUBLIC_URL_BYTES + 1];
    int64_t group_count; /* groups in the tenant, read with it on authentication; -1 if not */
};

int store_tenant_insert(struct store *s, struct store_tenant *t, struct err *err);
int store_tenant_update(struct store *s, const struct store_tenant *t, struct err *err);
int store_tenant_delete(struct store *s, int64_t id, struct err *err);
int store_tenant_get_by_slug(struct store *s, const char *slug, struct store_tenant *out,
                             struct err *err);
int store_tenant_get_by_id(struct store *s, int64_t id, struct store_tenant *out, struct err *err);
/* *out is a malloc'd array ordered by slug; the caller frees it. */
int store_tenant_list(struct store *s, struct store_tenant **out, size_t *n, struct err *err);

/* ---- Bearer tokens (tokens.c) ---- */

struct store_token {
    char id[37];
    int64_t tenant_id;
    char hash[65];   /* hex SHA-256 of the whole token */
    char prefix[24]; /* "scimd_" + first 8 characters, for display */
    char label[201];
    int64_t created_ms;
    int64_t last_used_ms; /* 0 = never */
    int64_t revoked_ms;   /* 0 = not revoked */
    int64_t expires_ms;   /* 0 = no expiry (set when rotated with an overlap) */
};

int store_token_insert(struct store *s, const struct store_token *t, struct err *err);
/* What a read of one user reads besides its token (below, after the resource types). */
struct store_user_read;

/* The token with this hash and its tenant (with group_count) in one read: the hot path of
 * every SCIM request. With `user` (else NULL), the same statement also reads that user (by id
 * or userName) of the token's tenant and the user's groups, so a GET of a user or a userName
 * filter is one round trip and one snapshot (the tenant's group_count is then -1: not read).
 * ERR_NOT_FOUND when no token has the hash. */
/* With gen (else NULL), also the database's generation no later than what the read saw
 * (store_generation; in the same statement on PostgreSQL, so no round trip more). */
int store_token_auth_lookup(struct store *s, const char *hash, struct store_token *tok,
                            struct store_tenant *tenant, struct store_user_read *user,
                            struct store_generation *gen, struct err *err);
int store_token_get(struct store *s, int64_t tenant_id, const char *id, struct store_token *out,
                    struct err *err);
/* *out is a malloc'd array, newest first; the caller frees it. */
int store_token_list(struct store *s, int64_t tenant_id, struct store_token **out, size_t *n,
                     struct err *err);
int store_token_update(struct store *s, const struct store_token *t, struct err *err);
int store_token_touch(struct store *s, const char *id, int64_t now_ms, struct err *err);

/* ---- Resources (users and groups) and listing (resources.c, list.c) ---- */

enum store_rtype {
    STORE_RTYPE_USER = 1,
    STORE_RTYPE_GROUP = 2,
};

/* One SCIM resource row. `doc` is the canonical JSON text without id and meta; the indexed
 * columns mirror attributes of it and are filled by the caller. */
struct store_resource {
    char id[37];
    int64_t tenant_id;
    enum store_rtype type;
    int64_t version;
    int64_t created_ms;
    int64_t modified_ms;
    char *user_name;     /* owned; users */
    char *external_id;   /* owned; may be NULL */
    char *display_name;  /* owned; groups (and users' displayName) */
    int active;          /* users: 0/1; groups: 1 */
    char *doc;           /* owned */
    char *password_hash; /* owned; written only (NULL on update keeps the stored one) */
};

void store_resource_cleanup(struct store_resource *r);

/* A listing request over resources of one type in one tenant. */
struct store_list_query {
    int64_t tenant_id;
    enum store_rtype type;
    const struct query_node *filter; /* resolved, or NULL */
    const struct query_path *sort;   /* resolved, or NULL for the stable default order */
    const char *role;                /* users whose effective role this is, or NULL: any */
    bool descending;
    int64_t start_index; /* 1-based */
    int64_t count;       /* 0 = only the total */
    /* > 0: keyset continuation (cursor paging, RFC 9865): the rows after this seq in the
     * default order; start_index is then ignored and no OFFSET is ever used. Not with sort
     * (ERR_INVALID_VALUE). */
    int64_t after_seq;
    /* Who pages (a token's id; NULL: the host application, the CLI): each reader has its own
     * remembered startIndex positions, so another reader's listing of the same pages after a
     * delete never moves where this one's next page starts (store/list.c). */
    const char *reader;
};

struct store_list_result {
    int64_t total;
    size_t n;
    struct store_resource *rows; /* owned, n of them */
    int64_t last_seq;            /* seq of the last row of the page (0 when empty) */
    bool more;                   /* a row follows the page (in the same order) */
};

void store_list_result_cleanup(struct store_list_result *r);

int store_resource_insert(struct store *s, const struct store_resource *r, struct err *err);
int store_resource_get(struct store *s, int64_t tenant_id, enum store_rtype type, const char *id,
                       struct store_resource *out, struct err *err);
/* Writes r if the stored version is r->version - 1 (optimistic concurrency): ERR_PRECONDITION
 * when it is not. */
int store_resource_update(struct store *s, const struct store_resource *r, struct err *err);
/* Deletes the resource if its version is `version` (any version when version < 0), in one
 * statement: ERR_PRECONDITION when it exists with another version, ERR_NOT_FOUND when not. */
int store_resource_delete(struct store *s, int64_t tenant_id, enum store_rtype type, const char *id,
                          int64_t version, struct err *err);
int store_resource_list(struct store *s, const struct store_list_query *q,
                        struct store_list_result *out, struct err *err);
/* How many users of the tenant are inactive (index resources_by_active). */
int store_users_inactive_count(struct store *s, int64_t tenant_id, int64_t *n, struct err *err);

/* ---- Group membership (members.c) ---- */

/* One membership row as read: the other end's id and its display name (a member's userName,
 * or a group's displayName for a member's groups). */
struct store_member {
    char id[37];
    char *display; /* owned; NULL when the other end has no name */
};

/* Frees an array of n members (NULL is a no-op). */
void store_members_free(struct store_member *v, size_t n);

/* What a read of one user reads besides its token: the user and its groups. */
struct store_user_read {
    const char *id;              /* in: the user asked for by id, or when NULL */
    const char *user_name;       /* in: by userName (case-insensitive, as `userName eq`) */
    bool found;                  /* out: the token's tenant has that user */
    struct store_resource user;  /* out, when found */
    struct store_member *groups; /* out: its groups ordered by id, with their displayName */
    size_t n_groups;
};

/* Frees what store_token_auth_lookup read into r (the struct itself is the caller's). */
void store_user_read_cleanup(struct store_user_read *r);

/* One membership row seen from its member: the member, the group and its displayName. */
struct store_membership {
    char member_id[37];
    char group_id[37];
    char *display; /* owned; NULL when the group has no name */
};

void store_memberships_free(struct store_membership *v, size_t n);

/* Group membership (table "members"; DESIGN.md "Storage model"). Each write changes only the
 * rows it names and returns how many it changed (0 or 1 for one member), or -1 with err. The
 * store does not check that ids exist: core does, with store_users_exist, in the same
 * transaction.
 * Lock order: a transaction that writes membership rows and the users or groups at their ends
 * writes the membership rows first, then the users, then the groups (each set in id order,
 * store_member_bump), so that on PostgreSQL no two such writers wait for each other in a
 * cycle (test_concurrent_writes.py: a user deleted while a group write moves it). A delete
 * removes the deleted row's memberships once more after its row (core/user.c remove_user):
 * those rows are of writes that committed meanwhile, which no one holds any more. */
int store_member_add(struct store *s, int64_t tenant_id, const char *group_id,
                     const char *member_id, struct err *err);
int store_member_remove(struct store *s, int64_t tenant_id, const char *group_id,
                        const char *member_id, struct err *err);
/* Removes every member of a group (it is being deleted); *out gets the members it had, ids
 * only (display NULL; store_members_free). */
int store_member_remove_group(struct store *s, int64_t tenant_id, const char *group_id,
                              struct store_member **out, size_t *n, struct err *err);
/* Removes a member from every group of the tenant (the user is being deleted); *out gets the
 * groups it was in, ids only. */
int store_member_remove_member(struct store *s, int64_t tenant_id, const char *member_id,
                               struct store_member **out, size_t *n, struct err *err);
/* The members of a group ordered by id, with their userName as display; *out is malloc'd
 * (store_members_free). */
int store_member_list(struct store *s, int64_t tenant_id, const char *group_id,
                      struct store_member **out, size_t *n, struct err *err);
/* The groups a member belongs to, ordered by group id, with their displayName. */
int store_member_groups(struct store *s, int64_t tenant_id, const char *member_id,
                        struct store_member **out, size_t *n, struct err *err);
/* The groups of each of member_ids[0..n) (a page of users) in one read, ordered by member id
 * then group id; *out is malloc'd (store_memberships_free). */
int store_member_groups_many(struct store *s, int64_t tenant_id, const char *const *member_ids,
                             size_t n, struct store_membership **out, size_t *n_out,
                             struct err *err);
int store_member_count(struct store *s, int64_t tenant_id, const char *group_id, int64_t *n,
                       struct err *err);
/* Checks that each of ids[0..n) is a user of the tenant: *first_missing is the index of the
 * first that is not, or n when all are. */
int store_users_exist(struct store *s, int64_t tenant_id, const char *const *ids, size_t n,
                      size_t *first_missing, struct err *err);

/* Derived attributes (RFC 7644 §3.14): a user's `groups` and a group's `members` are read from
 * these rows and from the other end's name, so a membership change, a group's new displayName
 * or a user's new userName changes the representation of resources whose own row was not
 * written, and their entity tags must change too. Each of these bumps, in one statement inside
 * the caller's transaction, the version of the rows it names by one and sets modified_ms to
 * now_ms, or to modified_ms + 1 where that is not later (lastModified never goes back). The
 * bump is unconditional (it never fails on a version) and leaves seq, the listing and cursor
 * order, alone. Each returns how many resources it bumped, or -1 with err. */
/* The members of group_id (unless NULL: its displayName changed, or it is being deleted) and
 * the resources ids[0..n) of the tenant (the members a write moved; users or groups, an id
 * that is no resource there skipped), each once. */
int store_member_bump(struct store *s, int64_t tenant_id, const char *group_id,
                      const char *const *ids, size_t n, int64_t now_ms, struct err *err);
/* Every group the member is in (its userName changed, or it is leaving them all). */
int store_member_bump_groups(struct store *s, int64_t tenant_id, const char *member_id,
                             int64_t now_ms, struct err *err);

/* ---- Roles (roles.c) ---- */

/* One rule of a tenant's role map: members of the group named `group` (case-insensitively)
 * get `role`; among several mapped groups the lowest priority number wins. */
struct store_role_rule {
    char group[201];
    char role[LIMIT_ROLE_NAME_BYTES + 1];
    int64_t priority;
};

/* A user's role: the one set on the user (empty when none), the effective one (empty when
 * the configuration has no default role and nothing else gave one), and where the effective
 * one comes from ("group", "direct", "default"). */
struct store_user_role {
    char direct[LIMIT_ROLE_NAME_BYTES + 1];
    char role[LIMIT_ROLE_NAME_BYTES + 1];
    char source[8];
};

/* The tenant's role map ordered by priority; *out is malloc'd (free). */
int store_role_map_get(struct store *s, int64_t tenant_id, struct store_role_rule **out, size_t *n,
                       struct err *err);
/* Replaces the tenant's role map with v[0..n). A repeated group (case-insensitively) or
 * priority is ERR_CONFLICT. */
int store_role_map_set(struct store *s, int64_t tenant_id, const struct store_role_rule *v,
                       size_t n, struct err *err);
/* Records the role set on a user (NULL: none). A user seen for the first time gets it, or
 * dflt (the configured default role; NULL: none, stored as ""), as effective role;
 * otherwise only roles_refresh changes the effective one. */
int store_user_role_set(struct store *s, int64_t tenant_id, const char *user_id, const char *direct,
                        const char *dflt, struct err *err);
/* ERR_NOT_FOUND when the user has no role row. */
int store_user_role_get(struct store *s, int64_t tenant_id, const char *user_id,
                        struct store_user_role *out, struct err *err);
int store_user_role_delete(struct store *s, int64_t tenant_id, const char *user_id,
                           struct err *err);
/* Recomputes the effective role of one user (user_id) or of every user of the tenant (NULL):
 * the role of the user's mapped group with the lowest priority, else the direct role, else
 * dflt (the configured default role; NULL: none, stored as ""). Each user whose role
 * changes gets a "user.role_changed" event by `actor`. */
int store_roles_refresh(struct store *s, int64_t tenant_id, const char *user_id, const char *dflt,
                        const char *actor, int64_t now_ms, struct err *err);
/* Gives every user of the tenant whose effective role or its source a refresh would move a
 * new version (store_member_bump's rules): the host's view of a user shows both. For a
 * role-map edit, before its refresh; a write of the user, or of a group it moves in or out
 * of, bumps the user itself. Returns how many it bumped. */
int store_roles_bump_moved(struct store *s, int64_t tenant_id, const char *dflt, int64_t now_ms,
                           struct err *err);

/* ---- Audit events (events.c) ---- */

/* An audit event: who changed what, with before/after of the changed attributes. */
struct store_event {
    int64_t seq; /* assigned by the store on insert, increasing */
    int64_t tenant_id;
    int64_t created_ms;
    char actor[64];         /* "token:<id>", "operator", "cli" */
    char kind[32];          /* "user.created", "group.deleted", ... */
    enum store_rtype rtype; /* 0 when the event is not about one resource */
    char resource_id[37];
    char *data; /* owned JSON object text */
};

/* Frees an array of n events (NULL is a no-op). */
void store_events_free(struct store_event *v, size_t n);

/* A filtered read of a tenant's audit events (the console's Activity page and a user's
 * history). Empty strings and zeros leave a condition out. */
struct store_event_query {
    int64_t tenant_id;
    int64_t after_seq;  /* seq > after_seq (0: no bound) */
    int64_t before_seq; /* seq < before_seq (0: no bound) */
    const char *kind;   /* exact kind, or a prefix ending in '.' ("user.") */
    const char *resource_id;
    bool newest_first;
    size_t limit;
};

/* Appends an event (e->seq is ignored) inside the caller's transaction. */
int store_event_insert(struct store *s, const struct store_event *e, struct err *err);
/* Up to `limit` events of the tenant with seq > after_seq, oldest first; *out is malloc'd
 * (store_events_free). */
int store_event_list(struct store *s, int64_t tenant_id, int64_t after_seq, size_t limit,
                     struct store_event **out, size_t *n, struct err *err);
/* The seq of the tenant's newest event (0 when none). */
int store_event_last_seq(struct store *s, int64_t tenant_id, int64_t *seq, struct err *err);
/* How many of the tenant's events come after after_seq. */
int store_event_count_after(struct store *s, int64_t tenant_id, int64_t after_seq, int64_t *n,
                            struct err *err);
/* Events matching q, at most q->limit, in seq order (newest first when asked); *out is
 * malloc'd (store_events_free). */
int store_event_query(struct store *s, const struct store_event_query *q, struct store_event **out,
                      size_t *n, struct err *err);

/* Retention (docs/configuration.md, event_retention_days): deletes up to `limit` events
 * created before before_ms, oldest first, but only those every webhook of their tenant has
 * delivered (seq <= its cursor, enabled or not), so an outbox never loses an undelivered
 * event. *n gets how many went. In the caller's transaction. */
int store_event_prune(struct store *s, int64_t before_ms, size_t limit, int64_t *n,
                      struct err *err);

/* ---- SET signing keys (keys.c) ---- */

/* One generation of the ES256 key signing Security Event Tokens (core/set.h). */
struct store_set_key {
    int64_t gen; /* 1, 2, …: the newest signs */
    char kid[48];
    char *jwk; /* owned: the private JWK, sealed when an sso key is configured */
    int64_t created_ms;
};
void store_set_keys_free(struct store_set_key *v, size_t n);
/* Inserts generation k->gen unless it exists (two instances creating the first key, or two
 * rotations, at once: the first wins). 1 when inserted, 0 when the generation was taken. */
int store_set_key_add(struct store *s, const struct store_set_key *k, struct err *err);
/* Replaces generation gen's jwk with `jwk` only if it is still `old` (`scimd reseal`): 1 when
 * written, 0 when it changed meanwhile. */
int store_set_key_reseal(struct store *s, int64_t gen, const char *old, const char *jwk,
                         struct err *err);
/* The newest `limit` generations, newest first; *out is malloc'd (store_set_keys_free). */
int store_set_keys_list(struct store *s, size_t limit, struct store_set_key **out, size_t *n,
                        struct err *err);

/* ---- Webhooks (webhooks.c) ---- */

/* A webhook endpoint of a tenant. Audit events are its outbox: `cursor` is the seq of the
 * last event delivered, and delivery moves it forward only after a 2xx. */
struct store_webhook {
    char id[37];
    int64_t tenant_id;
    char url[1025];
    char secret[160]; /* "whsec_…", or sealed ("v1.…") when a key is configured */
    bool enabled;
    int64_t cursor;
    int64_t created_ms;
    int64_t failures;        /* consecutive failed attempts */
    int64_t next_attempt_ms; /* not before */
    int64_t last_attempt_ms; /* 0 = never */
    int64_t last_status;     /* HTTP status of the last attempt; 0 = no answer */
    char last_error[256];
    char format[8];      /* "scimd" (batches of audit events) or "set" (RFC 9967 SETs) */
    char delivery[8];    /* for "set": "push" (RFC 8935) or "poll" (RFC 8936) */
    char audience[1025]; /* for "set": the SETs' "aud"; '' = the url */
};

/* One delivery attempt, kept for the management API (the last 100 per webhook). */
struct store_webhook_attempt {
    int64_t seq;
    int64_t at_ms;
    int64_t first_event, last_event;
    int64_t status;
    int64_t duration_ms;
    char error[256];
};

int store_webhook_insert(struct store *s, const struct store_webhook *w, struct err *err);
/* ERR_NOT_FOUND unless the webhook is the tenant's. */
int store_webhook_get(struct store *s, int64_t tenant_id, const char *id, struct store_webhook *out,
                      struct err *err);
/* store_webhook_get in the caller's transaction, holding the webhook's row until it ends
 * (PostgreSQL: SELECT … FOR UPDATE; SQLite's transaction is the one writer already): two
 * transactions that read a webhook this way take turns, the second reading what the first
 * wrote. */
int store_webhook_lock(struct store *s, int64_t tenant_id, const char *id,
                       struct store_webhook *out, struct err *err);
/* The tenant's webhooks, oldest first; *out is malloc'd (free). */
int store_webhook_list(struct store *s, int64_t tenant_id, struct store_webhook **out, size_t *n,
                       struct err *err);
/* Writes url, secret, enabled, format, delivery and audience of the tenant's webhook w->id
 * (delivery state untouched); ERR_NOT_FOUND unless it is the tenant's. */
int store_webhook_update(struct store *s, const struct store_webhook *w, struct err *err);
int store_webhook_delete(struct store *s, int64_t tenant_id, const char *id, struct err *err);
/* Replaces webhook id's secret with `secret` only if it is still `old` (re-sealing under a
 * new key, `scimd reseal`): 1 when written, 0 when the webhook is gone or its secret changed
 * meanwhile. */
int store_webhook_reseal(struct store *s, const char *id, const char *old, const char *secret,
                         struct err *err);
/* Poll delivery (RFC 8936): records the receiver's acknowledgement of event seq (a no-op when
 * already recorded). */
int store_webhook_ack_add(struct store *s, const char *id, int64_t seq, struct err *err);
/* The acknowledged seqs of webhook id above after_seq, ascending, at most limit; *out is
 * malloc'd. */
int store_webhook_acks(struct store *s, const char *id, int64_t after_seq, size_t limit,
                       int64_t **out, size_t *n, struct err *err);
/* Moves webhook id's cursor forward to seq (never back: two polls at once may both move it)
 * and forgets the acknowledgements it passed. */
int store_webhook_advance(struct store *s, const char *id, int64_t seq, struct err *err);
/* Up to `limit` enabled push webhooks of any tenant that have undelivered events, are due
 * (next_attempt_ms <= now) and are not leased to a deliverer. *out is malloc'd (free). */
int store_webhook_due(struct store *s, int64_t now_ms, size_t limit, struct store_webhook **out,
                      size_t *n, struct err *err);
/* Leases webhook `id` to `owner` until until_ms if no other owner holds a live lease and it
 * is still due as store_webhook_due says (enabled push, next_attempt_ms <= now_ms, events
 * after its cursor): one deliverer per webhook across threads and instances. 1 when claimed,
 * with *out the webhook as it stands under the lease (deliver from this cursor, not from an
 * older read's); 0 when not. */
int store_webhook_claim(struct store *s, const char *id, const char *owner, int64_t now_ms,
                        int64_t until_ms, struct store_webhook *out, struct err *err);
/* Records an attempt: writes w's delivery state (failures, next/last attempt, last status and
 * error; the cursor only forward, never below the stored one), appends `a`, keeps the last
 * 100 attempts, and releases the lease (until_ms 0) or keeps it until until_ms, all only if
 * `owner` still holds it (0 otherwise; 1 when written). In the caller's transaction. */
int store_webhook_finish(struct store *s, const struct store_webhook *w, const char *owner,
                         const struct store_webhook_attempt *a, int64_t until_ms, struct err *err);
/* The newest `limit` attempts of the tenant's webhook, newest first; *out is malloc'd. */
int store_webhook_attempts(struct store *s, int64_t tenant_id, const char *id, size_t limit,
                           struct store_webhook_attempt **out, size_t *n, struct err *err);

/* The delivery state of every tenant's enabled webhooks, for /metrics. */
struct store_webhook_stats {
    int64_t enabled;               /* enabled webhooks */
    int64_t failing;               /* of those, how many failed their last attempt */
    int64_t max_backlog;           /* the most undelivered events of one, counted up to a cap */
    int64_t oldest_undelivered_ms; /* created_ms of the oldest undelivered event; 0: none */
};
/* One read over all tenants; a backlog is counted up to `cap` events (a long outage must not
 * make every scrape count millions of rows). */
int store_webhook_stats(struct store *s, int64_t cap, struct store_webhook_stats *out,
                        struct err *err);

/* ---- Single sign-on (sso.c) ---- */

/* One SSO connection of a tenant: protocol "oidc" or "saml". `config` is the connection's
 * JSON document (issuer, client id, IdP certificates, …) as core/ validated it; `secret` the
 * AES-256-GCM sealed OIDC client secret (base64url), never shown. */
struct store_sso_conn {
    int64_t tenant_id;
    char protocol[8];
    char *config; /* owned */
    char *secret; /* owned; may be NULL */
    bool enabled;
    int64_t verified_ms; /* first successful sign-in or test; 0 = none yet */
    int64_t created_ms;
    int64_t updated_ms;
    bool reset_verified; /* put only: what identifies the IdP changed, so verified_ms = 0 */
};

void store_sso_conn_cleanup(struct store_sso_conn *c);

/* A sign-in in progress, found by the hash of its handle (OIDC state, SAML request ID) and
 * bound to one browser by the hash of a cookie. Single use. */
struct store_sso_tx {
    char handle[65]; /* hex SHA-256 */
    int64_t tenant_id;
    char protocol[8];
    char binding[65]; /* hex SHA-256 of the browser cookie */
    char *data;       /* owned JSON: nonce, verifier, return_to, … */
    int64_t expires_ms;
};

/* A sign-in handed to the host application: redeemed once by hash, before expires_ms. */
struct store_sso_code {
    char hash[65];
    int64_t tenant_id;
    char user_id[37];
    char protocol[8];
    char initiated[8]; /* "sp" | "idp" */
    int64_t expires_ms;
};

/* A link of an IdP subject to a user (OIDC (iss, sub); SAML (IdP entity ID, NameID)). */
struct store_sso_link {
    char issuer[1024];
    char subject[256];
    char user_id[37];
    int64_t created_ms;
};

/* Inserts or replaces the tenant's connection of c->protocol (verified_ms is kept when the
 * row exists, unless c->reset_verified). */
int store_sso_conn_put(struct store *s, const struct store_sso_conn *c, struct err *err);
int store_sso_conn_get(struct store *s, int64_t tenant_id, const char *protocol,
                       struct store_sso_conn *out, struct err *err);
int store_sso_conn_delete(struct store *s, int64_t tenant_id, const char *protocol,
                          struct err *err);
/* Replaces the connection's sealed secret with `secret` only if it is still `old` (nothing
 * else changes, updated_ms neither): 1 when written, 0 when the connection is gone or its
 * secret changed meanwhile. */
int store_sso_conn_reseal(struct store *s, int64_t tenant_id, const char *protocol, const char *old,
                          const char *secret, struct err *err);
/* The tenants whose *enabled* connection of `protocol` has the config member "issuer" equal
 * to issuer byte for byte (the OIDC tenant-free initiate-login endpoint finds its tenant so),
 * only the verified ones (store_sso_conn_verified) when any is, lowest tenant id first: at
 * most max ids into tenant_ids, *n how many (0 when none). */
int store_sso_conn_tenants_by_issuer(struct store *s, const char *protocol, const char *issuer,
                                     int64_t *tenant_ids, size_t max, size_t *n, struct err *err);
/* Records the first successful sign-in (later calls keep the first time). */
int store_sso_conn_verified(struct store *s, int64_t tenant_id, const char *protocol,
                            int64_t now_ms, struct err *err);
int store_sso_tx_insert(struct store *s, const struct store_sso_tx *t, struct err *err);
/* Deletes the transaction with this handle hash and returns it: ERR_NOT_FOUND when there is
 * none or it expired (each handle works once). Also purges expired transactions. */
int store_sso_tx_take(struct store *s, const char *handle, int64_t now_ms, struct store_sso_tx *out,
                      struct err *err);
/* Remembers (issuer, id) until expires_ms: ERR_UNIQUENESS when it is already there (a
 * replayed assertion). Purges expired entries. */
int store_sso_replay_insert(struct store *s, int64_t tenant_id, const char *issuer, const char *id,
                            int64_t expires_ms, int64_t now_ms, struct err *err);
/* The user linked to (issuer, subject) in the tenant; ERR_NOT_FOUND when none. */
int store_sso_link_find(struct store *s, int64_t tenant_id, const char *issuer, const char *subject,
                        char user_id[37], struct err *err);
/* The subject a user is linked to for issuer; ERR_NOT_FOUND when none. */
int store_sso_link_of_user(struct store *s, int64_t tenant_id, const char *issuer,
                           const char *user_id, char subject[256], struct err *err);
int store_sso_link_insert(struct store *s, int64_t tenant_id, const char *issuer,
                          const char *subject, const char *user_id, int64_t now_ms,
                          struct err *err);
/* The user's links, oldest first: at most max into out, *n how many. */
int store_sso_links_of_user(struct store *s, int64_t tenant_id, const char *user_id,
                            struct store_sso_link *out, size_t max, size_t *n, struct err *err);
/* Deletes every link of the user (issue 14: a link follows its user's life); returns how many
 * it deleted, or -1. */
int store_sso_links_delete(struct store *s, int64_t tenant_id, const char *user_id,
                           struct err *err);
int store_sso_code_insert(struct store *s, const struct store_sso_code *c, struct err *err);
/* Deletes the code with this hash and returns it; ERR_NOT_FOUND when none or expired. */
int store_sso_code_take(struct store *s, const char *hash, int64_t now_ms,
                        struct store_sso_code *out, struct err *err);
/* Users of the tenant whose userName or any emails[].value equals email (lower-cased by the
 * caller), compared case-insensitively, active users first, then oldest first; at most max
 * rows into out (store_resource_cleanup each), *n how many. */
int store_sso_users_by_email(struct store *s, int64_t tenant_id, const char *email,
                             struct store_resource *out, size_t max, size_t *n, struct err *err);

/* ---- Server keys (keys.c) ---- */

/* The database's key named `name` (64 hex digits of 32 random bytes): `candidate` (64 hex
 * digits, fresh random bytes) is stored when the name has none yet, else the stored key wins,
 * so every instance on one database reads the same key. Into out (65 bytes). A write: run it
 * in a transaction. */
int store_server_key_get(struct store *s, const char *name, const char *candidate, char out[65],
                         struct err *err);

/* ---- Console sessions and set-up links (console.c) ---- */

/* A console session. Only the SHA-256 of the session id (the cookie) is stored. */
struct store_console_session {
    char id_hash[65];
    int64_t tenant_id; /* 0: an operator session */
    char user_id[37];  /* the tenant admin the session acts as ("" for the operator) */
    int64_t created_ms;
    int64_t last_seen_ms;
    int64_t idle_ms;    /* the session ends idle_ms after last_seen_ms */
    int64_t expires_ms; /* and at expires_ms in any case */
};

/* A single-use set-up link for a tenant admin. Only the SHA-256 of its token is stored. */
struct store_setup_link {
    char hash[65];
    int64_t tenant_id;
    char user_id[37];
    int64_t created_ms;
    int64_t expires_ms;
    int64_t used_ms; /* 0 = not used yet */
};

int store_console_session_insert(struct store *s, const struct store_console_session *cs,
                                 struct err *err);
/* ERR_NOT_FOUND when no session has the hash (expiry is the caller's check). */
int store_console_session_get(struct store *s, const char *id_hash,
                              struct store_console_session *out, struct err *err);
/* Sets last_seen_ms. */
int store_console_session_touch(struct store *s, const char *id_hash, int64_t now_ms,
                                struct err *err);
int store_console_session_delete(struct store *s, const char *id_hash, struct err *err);
/* Deletes sessions that expired (idle or absolute) before now_ms, and set-up links that
 * expired more than a day ago. */
int store_console_session_purge(struct store *s, int64_t now_ms, struct err *err);
int store_setup_link_insert(struct store *s, const struct store_setup_link *l, struct err *err);
/* ERR_NOT_FOUND when no link has the hash. */
int store_setup_link_get(struct store *s, const char *hash, struct store_setup_link *out,
                         struct err *err);
/* Marks the link used at now_ms if it was not used yet, in one statement: 1 when this call
 * used it, 0 when it was already used (or is absent). */
int store_setup_link_use(struct store *s, const char *hash, int64_t now_ms, struct err *err);

#endif
