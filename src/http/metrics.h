#ifndef SCIMD_HTTP_METRICS_H
#define SCIMD_HTTP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Prometheus counters (text exposition format 0.0.4), lock-free: atomics only. Requests
 * are counted by series, numbered by the caller (http_router_series: route and method). */

/* Sizes the tables for n series; call once before serving. An index past them counts in the
 * last. */
void http_metrics_init(size_t n_series);
void http_metrics_free(void);
void http_metrics_request(size_t series, int status, int64_t duration_ns);
void http_metrics_connection(int delta);
void http_metrics_inflight(int delta);
/* Counts n connections closed by the request deadline. */
void http_metrics_deadline_cut(int n);
/* Counts one lookup of a SCIM read among the kept answers (http/answers.h). */
void http_metrics_answer_cache(bool served);
/* Counts one 429 of a rate limit: "auth", "sso" or "signin". */
void http_metrics_rate_limited(const char *limit);
/* A failed authentication: scheme "scim" (SCIM tokens) or "admin" (operator key, console
 * sessions), reason one of api_call's auth_failure names (others are not counted). */
void http_metrics_auth_failure(const char *scheme, const char *reason);
/* A request the store failed: "unavailable" (503: the database is down, full, read-only) or
 * "internal" (500). */
void http_metrics_store_error(const char *code);

/* Renders every metric; route_name(i) gives the label of route i ("METHOD /pattern"). */
/* Appends the webhook series: the database's view of every tenant's enabled webhooks (one
 * read per scrape) and this instance's delivery counters (core/webhook.h). */
struct store;
int http_metrics_render_webhooks(struct buf *out, struct store *s, struct err *err);
/* scimd_store_statement_reprepares_total (store_reprepares). */
int http_metrics_render_store(struct buf *out, struct store *s, struct err *err);

int http_metrics_render(struct buf *out, const char *(*route_method)(size_t),
                        const char *(*route_pattern)(size_t), struct err *err);

#endif
