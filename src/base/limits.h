#ifndef SCIMD_BASE_LIMITS_H
#define SCIMD_BASE_LIMITS_H

/* Every limit in one place, each with its reason. Runtime-configurable ones are defaults. */

/* Default request body cap: a SCIM user is ~1 KiB; a group PATCH of 1000 members ~60 KiB. */
#define LIMIT_BODY_BYTES_DEFAULT (1024 * 1024)
/* An over-limit body is read and dropped up to this size so the client can read the 413;
 * past it the connection is closed at once. */
#define LIMIT_DISCARD_BYTES (64 * 1024 * 1024)
/* Per-request arena: bounds what one request can make us allocate for ASTs and paths. */
#define LIMIT_REQUEST_ARENA_BYTES (4 * 1024 * 1024)
/* Filter text length and AST nesting: recursion in the parser is bounded by depth, and so is
 * the nesting of the SQL made from it, which SQLite's parser takes only so deep (its stack
 * overflowed past 20 nested "not (…)" and 27 alternating "and (… or (…))": a 500 for a filter
 * the parser had let through). No identity provider nests more than two or three. */
#define LIMIT_FILTER_BYTES 8192
#define LIMIT_FILTER_DEPTH 16
/* Nodes in one filter: bounds SQL size and bind count. */
#define LIMIT_FILTER_NODES 256
/* Attribute path text (PATCH path, sortBy, attributes list entries). */
#define LIMIT_PATH_BYTES 512
/* Operations in one PATCH request; Okta/Entra send a handful. */
#define LIMIT_PATCH_OPS 1000
/* Entries in an attributes/excludedAttributes list. */
#define LIMIT_ATTR_LIST 64
/* Default and maximum page size (ServiceProviderConfig filter.maxResults). */
#define LIMIT_PAGE_DEFAULT 100
#define LIMIT_PAGE_MAX     1000
/* A SCIM paging cursor's text (RFC 9865): scimd's are 72 characters; longer is refused
 * before any decoding. */
#define LIMIT_CURSOR_BYTES 128
/* Default seconds a cursor stays valid (ServiceProviderConfig pagination.cursorTimeout). */
#define LIMIT_CURSOR_TIMEOUT_DEFAULT 3600
/* JSON nesting accepted in a body; SCIM resources are at most 3 levels deep. */
#define LIMIT_JSON_DEPTH 16
/* The most operations a configuration may allow in one /Bulk request (bulk_max_operations,
 * default 1000, RFC 7644 §3.7.4 maxOperations): each runs its own transaction while the client
 * waits, so a bulk of this size already takes many seconds. */
#define LIMIT_BULK_OPERATIONS_MAX 100000
/* Bytes of one bulkId (a client's surrogate key: Okta and Entra send UUIDs or short names). */
#define LIMIT_BULK_ID_BYTES 256
/* Members in one group request (POST/PUT body or one PATCH op value list). */
#define LIMIT_MEMBERS_PER_REQUEST 10000
/* Length of a slug (URL segment, CLI argument). */
#define LIMIT_SLUG_BYTES 63
/* A public URL, the deployment's or a tenant's own: every URL scimd builds from one (an ACS URL,
 * a set-up link) fits the 600-byte buffers that hold it. */
#define LIMIT_PUBLIC_URL_BYTES 300
/* How long a process trusts its list of tenants' own URL paths (http/server.c) before reading it
 * again: another instance on the same database may have changed a tenant's publicUrl. */
#define LIMIT_TENANT_PATHS_TTL_MS 5000
/* Free-text fields such as a tenant display name or token label. */
#define LIMIT_NAME_BYTES 200
/* A required name of a SCIM resource (userName, a group's displayName): no identity
 * provider sends one near this (Okta allows 100 characters, an Entra UPN 113), and every
 * listing carries it. */
#define LIMIT_RESOURCE_NAME_BYTES 1024
/* A host's reference to one of its users (id, userName or externalId), as actingUser. */
#define LIMIT_USER_REF_BYTES 1024
/* Default cap on simultaneous connections; each costs a little memory and a descriptor. */
#define LIMIT_CONNECTIONS_DEFAULT 1024
/* Idle connection timeout in seconds (also bounds a client that stalls sending headers). */
#define LIMIT_CONNECTION_TIMEOUT_DEFAULT 30
/* A request (head and body) must arrive within this many seconds of the connection opening
 * or of the previous answer on it: the idle timeout alone never ends a client that sends one
 * byte every few seconds (issue 15). */
#define LIMIT_REQUEST_TIMEOUT_DEFAULT 30
/* Default cap on simultaneous connections from one client address: one greedy client cannot
 * take every connection slot. Behind a proxy every connection has the proxy's address. */
#define LIMIT_CONNECTIONS_PER_ADDRESS_DEFAULT 128
/* How often the request deadline is checked, in milliseconds. */
#define LIMIT_DEADLINE_TICK_MS 250
/* Graceful shutdown waits this long for in-flight requests before closing connections. */
#define LIMIT_SHUTDOWN_GRACE_SECONDS 10
/* Threads in the pool: more than this gives no benefit and costs database connections. */
#define LIMIT_THREADS_MAX 64
/* Config file: line length and size. */
#define LIMIT_CONFIG_LINE 1024
/* Log line cap: longer messages are truncated. */
#define LIMIT_LOG_LINE 2048
/* Tokens per tenant that may exist unrevoked: bounds list size and abuse. */
#define LIMIT_TOKENS_PER_TENANT 50
/* Token last-used timestamps are written at most this often (seconds): reads stay cheap. */
#define LIMIT_TOKEN_TOUCH_SECONDS 60
/* SCIM requests remembered for the console's Activity page (core/reqlog.h), all tenants
 * together: about 1 MB, enough for the last import of a few tenants. */
#define LIMIT_REQLOG_ENTRIES 4096
/* Remembered paging cursors (keyset seeks for startIndex paging), process-wide. */
#define LIMIT_PAGE_CURSORS 4096
/* Roles in the configured catalogue (docs/roles.md): a host application has a handful; the
 * catalogue is listed in every /Schemas answer, every role-map error and the console's
 * choices, and the role map (at most 64 groups) maps onto it. */
#define LIMIT_ROLES_MAX 32
/* Bytes of one role name: the store's role fields (struct store_role_rule, store_user_role)
 * hold this many plus the NUL. */
#define LIMIT_ROLE_NAME_BYTES 15
/* Bytes of the role extension's schema URN (role_schema): it is the key of an extension
 * object in every stored user document and an attribute-path prefix in filters. */
#define LIMIT_ROLE_SCHEMA_BYTES 200

/* SSO links listed per user: one per IdP issuer the tenant has trusted, so a handful; the cap
 * bounds the response and the stack array that reads them. */
#define LIMIT_SSO_LINKS_PER_USER 32

/* `scimd backup` copies this many pages (4 KiB each) per step of SQLite's online backup, then
 * lets go of its read snapshot so checkpoints can run: a few hundred, as sqlite.org's example
 * copies, keeps each step short while a daemon writes. */
#define LIMIT_BACKUP_STEP_PAGES 256
/* A write from another process restarts the copy from its first page. After this many
 * restarts the rest is copied in one step (one read snapshot: in WAL mode writers go on, only
 * checkpoints wait), so a backup always ends. */
#define LIMIT_BACKUP_RESTARTS 50
/* Event retention (core/retention.h): events deleted per transaction. A batch of this many
 * takes a few milliseconds, so a writer waits at most that long for the pruner. */
#define LIMIT_PRUNE_BATCH 1000
/* Batches in one pass: a backlog larger than this (a first pass over years of events) is
 * finished by the following passes, so one pass ends in bounded time. */
#define LIMIT_PRUNE_BATCHES_PER_PASS 1000
/* Pause between two batches (ms): waiting writers take the database first. */
#define LIMIT_PRUNE_PAUSE_MS 20
/* Keys in the sso keyring (base/seal.h): an operator rotates a few keys, never dozens; each
 * sealed secret names its key, so the ring's size costs nothing per unseal. */
#define LIMIT_SEAL_KEYS 16
/* SET poll requests (RFC 8936, core/set.h): acknowledgements and error reports in one
 * request, and SETs in one answer. A receiver acknowledges what it was given, at most
 * LIMIT_SET_POLL_EVENTS per poll, so a few polls' worth is plenty; each SET is signed per
 * answer (ES256, ~0.1 ms), so one answer stays cheap. */
#define LIMIT_SET_POLL_ACKS   1000
#define LIMIT_SET_POLL_EVENTS 100

#endif
