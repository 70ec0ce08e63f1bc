#include "store/sqlite/sqlite_int.h"

#include "base/clock.h"

/* Versioned schema migrations: append only. Each runs once, in its own transaction, and
 * records its number in schema_migrations. The PostgreSQL backend keeps a dialect of each. */
static const char *const migrations[] = {
    /* 1: tenants, tokens, resources */
    "CREATE TABLE tenants ("
    "  id INTEGER PRIMARY KEY,"
    "  slug TEXT NOT NULL UNIQUE,"
    "  display_name TEXT NOT NULL,"
    "  plan TEXT NOT NULL,"
    "  mode TEXT NOT NULL CHECK (mode IN ('push', 'import-only')),"
    "  deactivation TEXT NOT NULL CHECK (deactivation IN ('disable', 'remove')),"
    "  integration_enabled INTEGER NOT NULL,"
    "  saml_required INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    "CREATE TABLE tokens ("
    "  id TEXT PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  hash TEXT NOT NULL UNIQUE,"
    "  prefix TEXT NOT NULL,"
    "  label TEXT NOT NULL DEFAULT '',"
    "  created_ms INTEGER NOT NULL,"
    "  last_used_ms INTEGER NOT NULL DEFAULT 0,"
    "  revoked_ms INTEGER NOT NULL DEFAULT 0,"
    "  expires_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX tokens_by_tenant ON tokens(tenant_id, created_ms);"
    /* seq gives the stable default order and the keyset for paging. */
    "CREATE TABLE resources ("
    "  seq INTEGER PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  type INTEGER NOT NULL,"
    "  id TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL,"
    "  user_name TEXT,"
    "  external_id TEXT,"
    "  display_name TEXT,"
    "  active INTEGER NOT NULL DEFAULT 1,"
    "  doc TEXT NOT NULL,"
    "  password_hash TEXT);"
    "CREATE UNIQUE INDEX resources_by_id ON resources(tenant_id, type, id);"
    "CREATE INDEX resources_by_seq ON resources(tenant_id, type, seq);"
    /* RFC 7643 §4.1.1: userName is unique and case-insensitive. */
    "CREATE UNIQUE INDEX resources_by_user_name ON resources(tenant_id, lower(user_name))"
    "  WHERE type = 1;"
    "CREATE UNIQUE INDEX resources_by_group_name ON resources(tenant_id, lower(display_name))"
    "  WHERE type = 2;"
    "CREATE INDEX resources_by_external_id ON resources(tenant_id, type, external_id);"
    "CREATE INDEX resources_by_active ON resources(tenant_id, type, active);"
    "CREATE INDEX resources_by_modified ON resources(tenant_id, type, modified_ms);"
    /* Counts kept in the write transaction: a page of a full import must not count 100 000
     * rows to fill totalResults. */
    "CREATE TABLE resource_counts ("
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  type INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  PRIMARY KEY (tenant_id, type));",
    /* 2: group membership, one row per (group, member), so a membership change touches only
     * the rows it names (DESIGN.md "Storage model"; IDP-QUIRKS.md 24). The second index
     * serves a user's derived "groups" and removing a deleted user from every group. */
    "CREATE TABLE members ("
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  group_id TEXT NOT NULL,"
    "  member_id TEXT NOT NULL,"
    "  PRIMARY KEY (tenant_id, group_id, member_id));"
    "CREATE INDEX members_by_member ON members(tenant_id, member_id);",
    /* 3: roles and audit events. A user's role row holds the role set on the user and the
     * effective one, recomputed in the transaction of every change that can move it
     * (docs/roles.md). role_map keys groups by lower(displayName), as the unique index on
     * group names does. Events are append-only; seq is the cursor of the events API.
     * members_by_member gains group_id: with it a user's groups come in order from the index;
     * without it SQLite walked every membership row of the tenant for the ORDER BY. */
    "DROP INDEX members_by_member;"
    "CREATE INDEX members_by_member ON members(tenant_id, member_id, group_id);"
    "CREATE TABLE user_roles ("
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL,"
    "  direct_role TEXT,"
    "  role TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  PRIMARY KEY (tenant_id, user_id));"
    "CREATE TABLE role_map ("
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  group_key TEXT NOT NULL,"
    "  group_name TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  priority INTEGER NOT NULL,"
    "  PRIMARY KEY (tenant_id, group_key),"
    "  UNIQUE (tenant_id, priority));"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  created_ms INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  rtype INTEGER NOT NULL,"
    "  resource_id TEXT NOT NULL,"
    "  data TEXT NOT NULL);"
    "CREATE INDEX events_by_tenant ON events(tenant_id, seq);",
    /* 4: webhooks. The events table is their outbox; cursor is the last event delivered.
     * A deliverer leases a webhook (lease_owner, lease_until_ms) so that one thread of one
     * instance delivers it at a time, in order. */
    "CREATE TABLE webhooks ("
    "  id TEXT PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  url TEXT NOT NULL,"
    "  secret TEXT NOT NULL,"
    "  enabled INTEGER NOT NULL,"
    "  cursor INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_attempt_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_status INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  lease_owner TEXT NOT NULL DEFAULT '',"
    "  lease_until_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX webhooks_by_tenant ON webhooks(tenant_id, created_ms);"
    "CREATE TABLE webhook_attempts ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
    "  at_ms INTEGER NOT NULL,"
    "  first_event INTEGER NOT NULL,"
    "  last_event INTEGER NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  duration_ms INTEGER NOT NULL,"
    "  error TEXT NOT NULL);"
    "CREATE INDEX webhook_attempts_by_hook ON webhook_attempts(webhook_id, seq);",
    /* 5: single sign-on (issue 7). One connection per tenant and protocol; transactions
     * keyed by the hash of their handle (OIDC state, SAML request ID); replay cache of SAML
     * assertion IDs shared by every worker and instance (SAML Profiles §4.1.4.5); links of
     * an IdP subject to a user (OIDC Core §5.7); single-use hand-off codes, stored hashed. */
    "CREATE TABLE sso_connections ("
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  protocol TEXT NOT NULL CHECK (protocol IN ('oidc', 'saml')),"
    "  config TEXT NOT NULL,"
    "  secret TEXT,"
    "  enabled INTEGER NOT NULL,"
    "  verified_ms INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (tenant_id, protocol));"
    "CREATE TABLE sso_transactions ("
    "  handle TEXT PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  protocol TEXT NOT NULL,"
    "  binding TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  expires_ms INTEGER NOT NULL);"
    "CREATE INDEX sso_transactions_by_expiry ON sso_transactions(expires_ms);"
    "CREATE TABLE sso_replay ("
    "  issuer TEXT NOT NULL,"
    "  assertion_id TEXT NOT NULL,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  expires_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (issuer, assertion_id));"
    "CREATE INDEX sso_replay_by_expiry ON sso_replay(expires_ms);"
    "CREATE TABLE sso_links ("
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  issuer TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (tenant_id, issuer, subject));"
    "CREATE UNIQUE INDEX sso_links_by_user ON sso_links(tenant_id, issuer, user_id);"
    "CREATE TABLE sso_codes ("
    "  hash TEXT PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL,"
    "  protocol TEXT NOT NULL,"
    "  initiated TEXT NOT NULL,"
    "  expires_ms INTEGER NOT NULL);"
    "CREATE INDEX sso_codes_by_expiry ON sso_codes(expires_ms);",
    /* 6: the web console (issue 8): sessions and set-up links hold only SHA-256 hashes of
     * their secrets, so a copy of the database lets no one in. Both go with their tenant
     * (ON DELETE CASCADE); an operator session has no tenant (NULL). */
    "CREATE TABLE console_sessions ("
    "  id_hash TEXT PRIMARY KEY,"
    "  tenant_id INTEGER REFERENCES tenants(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL DEFAULT '',"
    "  created_ms INTEGER NOT NULL,"
    "  last_seen_ms INTEGER NOT NULL,"
    "  idle_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL);"
    "CREATE INDEX console_sessions_by_expiry ON console_sessions(expires_ms);"
    "CREATE TABLE setup_links ("
    "  hash TEXT PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL,"
    "  used_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX setup_links_by_expiry ON setup_links(expires_ms);"
    /* A user's history on the console reads events by resource. */
    "CREATE INDEX events_by_resource ON events(tenant_id, resource_id, seq);",
    /* 7: a link follows its user's life (issue 14): deleting a user now deletes its links in
     * the same transaction; links left behind by users deleted before that go here. */
    "DELETE FROM sso_links WHERE NOT EXISTS (SELECT 1 FROM resources r"
    " WHERE r.tenant_id = sso_links.tenant_id AND r.type = 1 AND r.id = sso_links.user_id);"
    "CREATE INDEX sso_links_of_user ON sso_links(tenant_id, user_id);",
    /* 8: keys the server holds, shared by its instances (the SCIM cursor key, issue 19). */
    "CREATE TABLE server_keys (name TEXT PRIMARY KEY, secret TEXT NOT NULL);",
    /* 9: a tenant's own public URL (issue 17); '' when it uses the deployment's. */
    "ALTER TABLE tenants ADD COLUMN public_url TEXT NOT NULL DEFAULT '';",
    /* 10: retention (issue 17). The pruner takes the oldest events by created_ms; without an
     * index each pass would walk the whole history it keeps, holding the write lock. */
    "CREATE INDEX events_by_created ON events(created_ms);",
    /* 11: resource_counts in shards (issue 20): on PostgreSQL each connection adds to the row
     * of its own shard, so concurrent creates in one tenant no longer queue on one row; a
     * total is the sum of the tenant's shards. SQLite has one writer and uses shard 0 only.
     * SQLite cannot change a primary key in place: the table is rebuilt. */
    "CREATE TABLE resource_counts_new ("
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  type INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  shard INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (tenant_id, type, shard));"
    "INSERT INTO resource_counts_new(tenant_id, type, n, shard)"
    " SELECT tenant_id, type, n, 0 FROM resource_counts;"
    "DROP TABLE resource_counts;"
    "ALTER TABLE resource_counts_new RENAME TO resource_counts;",
    /* 12: SCIM events as Security Event Tokens (RFC 9967, issue 19). A webhook's format
     * ("scimd" or "set"), delivery ("push" or "poll") and audience (the SETs' "aud"); set_keys
     * holds the ES256 keys signing SETs, one generation per row: the newest signs, the previous one
     * stays published in the JWKS while receivers pick the new one up. */
    "ALTER TABLE webhooks ADD COLUMN format TEXT NOT NULL DEFAULT 'scimd';"
    "ALTER TABLE webhooks ADD COLUMN delivery TEXT NOT NULL DEFAULT 'push';"
    "ALTER TABLE webhooks ADD COLUMN audience TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE set_keys (gen INTEGER PRIMARY KEY, kid TEXT NOT NULL, jwk TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL);"
    /* Poll delivery (RFC 8936): acknowledgements above the cursor, which may come out of
     * order; the cursor passes them and they are deleted. */
    "CREATE TABLE webhook_acks ("
    "  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  PRIMARY KEY (webhook_id, seq));",
};

#define N_MIGRATIONS (int)(sizeof(migrations) / sizeof(migrations[0]))

static int
exec(sqlite3 *db, const char *sql, struct err *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sqlite_fail(db, rc, "migration", err);
}

static int
current_version(sqlite3 *db, int *version, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return sqlite_fail(db, rc, "read schema version", err);
    rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : sqlite_fail(db, rc, "read schema version", err);
}

int
sqlite_migrate(sqlite3 *db, struct err *err)
{
    if (exec(db,
             "CREATE TABLE IF NOT EXISTS schema_migrations ("
             "version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)",
             err) < 0)
        return -1;
    for (;;) {
        int version;
        /* IMMEDIATE: a daemon and a CLI starting together serialise here. */
        if (exec(db, "BEGIN IMMEDIATE", err) < 0)
            return -1;
        if (current_version(db, &version, err) < 0)
            goto fail;
        if (version > N_MIGRATIONS) {
            err_set(err, ERR_INTERNAL, "database schema version %d is newer than this scimd (%d)",
                    version, N_MIGRATIONS);
            goto fail;
        }
        if (version == N_MIGRATIONS)
            return exec(db, "COMMIT", err);
        if (exec(db, migrations[version], err) < 0)
            goto fail;
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(db, "INSERT INTO schema_migrations(version, applied_ms) VALUES(?,?)", -1,
                           &st, NULL);
        sqlite3_bind_int(st, 1, version + 1);
        sqlite3_bind_int64(st, 2, clock_now_ms());
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            sqlite_fail(db, rc, "record migration", err);
            goto fail;
        }
        if (exec(db, "COMMIT", err) < 0)
            goto fail;
    }
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
