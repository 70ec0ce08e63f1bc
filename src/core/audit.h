#ifndef SCIMD_CORE_AUDIT_H
#define SCIMD_CORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "store/store.h"

/* The audit trail: every user and group create, update, role change, deactivation and
 * delete, and every role-map change, is an event written in the transaction of the change
 * itself (so there is no change without its event and no event without its change). An
 * event names who acted ("token:<id>", "operator", "cli"), what happened, and the
 * before/after of the attributes that changed. Passwords never appear (they are not in
 * documents). */

/* Lists in an event (member ids) keep at most this many entries, plus their full count. */
#define AUDIT_LIST_MAX 100

/* Writes one event inside the caller's transaction. `data` is stolen (NULL: {}). */
int audit_record(struct store *s, int64_t tenant_id, const char *actor, const char *kind,
                 enum store_rtype rtype, const char *resource_id, json_t *data, struct err *err);

/* {"<attr>": {"before": …, "after": …}} for every top-level attribute whose value differs
 * between the two documents (absent on one side: that key is left out). New reference. */
json_t *audit_changes(const json_t *before, const json_t *after);

/* Up to `limit` events after cursor `after` (0: from the start), oldest first. */
int audit_list(struct store *s, int64_t tenant_id, int64_t after, size_t limit,
               struct store_event **out, size_t *n, struct err *err);

/* Events matching q (store_event_query): the console's Activity page and a user's history. */
int audit_query(struct store *s, const struct store_event_query *q, struct store_event **out,
                size_t *n, struct err *err);

/* Frees a list from audit_list. */
void audit_events_free(struct store_event *v, size_t n);

/* {"id", "time", "actor", "kind", "resourceType", "resourceId", "data"}: new reference. */
json_t *audit_event_to_json(const struct store_event *e);

#endif
