#include "http/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/xmalloc.h"
#include "core/directory.h"
#include "core/retention.h"
#include "core/webhook.h"

/* Status codes that get their own series; anything else is counted as "other". */
static const int statuses[] = { 200, 201, 204, 304, 400, 401, 403, 404, 405,
                                409, 412, 413, 415, 429, 500, 501, 503 };
#define N_STATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

/* Latency buckets in seconds, upper bounds (le). */
static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1.0,  2.5 };
#define N_BUCKET (sizeof(bounds) / sizeof(bounds[0]) + 1)

struct route_stats {
    atomic_uint_fast64_t by_status[N_STATUS];
    atomic_uint_fast64_t buckets[N_BUCKET];
    atomic_uint_fast64_t sum_ns;
};

static struct route_stats *stats;
static size_t n_stats;
static atomic_int_fast64_t connections;
static atomic_int_fast64_t inflight;
static atomic_uint_fast64_t deadline_cuts;
/* 429s by limit: auth, sso, signin */
static atomic_uint_fast64_t rate_limited[3];
static atomic_uint_fast64_t answer_lookups[2]; /* [0] missed, [1] served */
/* Failed authentications by scheme and reason (api_call's auth_failure names). */
static const char *const auth_reasons[] = { "missing", "invalid_token",   "gate", "wrong_key",
                                            "session", "no_operator_key", "csrf", "scope" };
#define N_AUTH_REASONS (sizeof(auth_reasons) / sizeof(auth_reasons[0]))
static atomic_uint_fast64_t auth_failures[2][N_AUTH_REASONS];
/* Store failures: unavailable, internal */
static atomic_uint_fast64_t store_errors[2];

void
http_metrics_init(size_t n_series)
{
    n_stats = n_series;
    stats = xcalloc(n_stats, sizeof(*stats));
}

void
http_metrics_free(void)
{
    free(stats);
    stats = NULL;
    n_stats = 0;
}

static size_t
status_index(int status)
{
    for (size_t i = 0; i + 1 < N_STATUS; i++)
        if (statuses[i] == status)
            return i;
    return N_STATUS - 1;
}

void
http_metrics_request(size_t series, int status, int64_t duration_ns)
{
    if (stats == NULL)
        return;
    struct route_stats *r = &stats[series < n_stats ? series : n_stats - 1];
    atomic_fetch_add_explicit(&r->by_status[status_index(status)], 1, memory_order_relaxed);
    double secs = (double)duration_ns / 1e9;
    size_t b = 0;
    while (b + 1 < N_BUCKET && secs > bounds[b])
        b++;
    atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_ns, (uint_fast64_t)duration_ns, memory_order_relaxed);
}

void
http_metrics_connection(int delta)
{
    atomic_fetch_add(&connections, delta);
}

void
http_metrics_inflight(int delta)
{
    atomic_fetch_add(&inflight, delta);
}

void
http_metrics_deadline_cut(int n)
{
    atomic_fetch_add(&deadline_cuts, (uint_fast64_t)n);
}

void
http_metrics_answer_cache(bool served)
{
    atomic_fetch_add_explicit(&answer_lookups[served], 1, memory_order_relaxed);
}

void
http_metrics_rate_limited(const char *limit)
{
    int i = strcmp(limit, "auth") == 0 ? 0 : strcmp(limit, "sso") == 0 ? 1 : 2;
    atomic_fetch_add(&rate_limited[i], 1);
}

void
http_metrics_auth_failure(const char *scheme, const char *reason)
{
    for (size_t i = 0; reason && i < N_AUTH_REASONS; i++)
        if (strcmp(reason, auth_reasons[i]) == 0)
            atomic_fetch_add(&auth_failures[strcmp(scheme, "scim") == 0 ? 0 : 1][i], 1);
}

void
http_metrics_store_error(const char *code)
{
    atomic_fetch_add(&store_errors[strcmp(code, "unavailable") == 0 ? 0 : 1], 1);
}

/* Build, authentication and store series. */
static int
render_more(struct buf *out, struct err *err)
{
    if (buf_printf(out, err,
                   "# HELP scimd_build_info The running build.\n"
                   "# TYPE scimd_build_info gauge\n"
                   "scimd_build_info{version=\"%s\",commit=\"%s\"} 1\n"
                   "# HELP scimd_auth_failures_total Failed authentications by scheme and "
                   "reason.\n"
                   "# TYPE scimd_auth_failures_total counter\n",
                   SCIMD_VERSION, SCIMD_COMMIT) < 0)
        return -1;
    for (size_t s = 0; s < 2; s++)
        for (size_t r = 0; r < N_AUTH_REASONS; r++)
            if (buf_printf(out, err,
                           "scimd_auth_failures_total{scheme=\"%s\",reason=\"%s\"} %llu\n",
                           s == 0 ? "scim" : "admin", auth_reasons[r],
                           (unsigned long long)atomic_load(&auth_failures[s][r])) < 0)
                return -1;
    uint64_t pruned, passes;
    retention_counters(&pruned, &passes);
    if (buf_printf(out, err,
                   "# HELP scimd_events_pruned_total Audit events deleted by retention.\n"
                   "# TYPE scimd_events_pruned_total counter\n"
                   "scimd_events_pruned_total %llu\n"
                   "# HELP scimd_event_prune_passes_total Passes of the event pruner finished "
                   "(with event_retention_days 0 a pass deletes nothing).\n"
                   "# TYPE scimd_event_prune_passes_total counter\n"
                   "scimd_event_prune_passes_total %llu\n",
                   (unsigned long long)pruned, (unsigned long long)passes) < 0)
        return -1;
    return buf_printf(out, err,
                      "# HELP scimd_store_errors_total Requests the database failed.\n"
                      "# TYPE scimd_store_errors_total counter\n"
                      "scimd_store_errors_total{code=\"unavailable\"} %llu\n"
                      "scimd_store_errors_total{code=\"internal\"} %llu\n",
                      (unsigned long long)atomic_load(&store_errors[0]),
                      (unsigned long long)atomic_load(&store_errors[1]));
}

int
http_metrics_render_store(struct buf *out, struct store *s, struct err *err)
{
    return buf_printf(out, err,
                      "# HELP scimd_store_statement_reprepares_total Executions at which the "
                      "database compiled a prepared statement again (SQLite; should stay 0).\n"
                      "# TYPE scimd_store_statement_reprepares_total counter\n"
                      "scimd_store_statement_reprepares_total %llu\n",
                      (unsigned long long)directory_reprepares(s));
}

int
http_metrics_render_webhooks(struct buf *out, struct store *s, struct err *err)
{
    struct webhook_metrics m;
    webhook_metrics(s, &m);
    if (buf_printf(out, err,
                   "# HELP scimd_webhook_deliveries_total Delivery attempts by this instance.\n"
                   "# TYPE scimd_webhook_deliveries_total counter\n"
                   "scimd_webhook_deliveries_total{result=\"ok\"} %llu\n"
                   "scimd_webhook_deliveries_total{result=\"failed\"} %llu\n"
                   "# HELP scimd_webhook_events_delivered_total Events delivered by this "
                   "instance.\n"
                   "# TYPE scimd_webhook_events_delivered_total counter\n"
                   "scimd_webhook_events_delivered_total %llu\n",
                   (unsigned long long)m.attempts_ok, (unsigned long long)m.attempts_failed,
                   (unsigned long long)m.events_delivered) < 0)
        return -1;
    if (!m.ok) /* the database is failing: /healthz and store errors say so; no stale gauges */
        return 0;
    int64_t now = clock_now_ms();
    double lag = m.store.oldest_undelivered_ms > 0 && now > m.store.oldest_undelivered_ms
                     ? (double)(now - m.store.oldest_undelivered_ms) / 1000.0
                     : 0.0;
    return buf_printf(
        out, err,
        "# HELP scimd_webhooks_enabled Enabled webhooks of every tenant.\n"
        "# TYPE scimd_webhooks_enabled gauge\n"
        "scimd_webhooks_enabled %lld\n"
        "# HELP scimd_webhooks_failing Enabled webhooks whose last attempt failed.\n"
        "# TYPE scimd_webhooks_failing gauge\n"
        "scimd_webhooks_failing %lld\n"
        "# HELP scimd_webhook_backlog_max_events Undelivered events of the webhook furthest "
        "behind (counted up to 100000).\n"
        "# TYPE scimd_webhook_backlog_max_events gauge\n"
        "scimd_webhook_backlog_max_events %lld\n"
        "# HELP scimd_webhook_lag_seconds Age of the oldest undelivered event (0: none).\n"
        "# TYPE scimd_webhook_lag_seconds gauge\n"
        "scimd_webhook_lag_seconds %.3f\n",
        (long long)m.store.enabled, (long long)m.store.failing, (long long)m.store.max_backlog,
        lag);
}

int
http_metrics_render(struct buf *out, const char *(*route_method)(size_t),
                    const char *(*route_pattern)(size_t), struct err *err)
{
    if (buf_append_cstr(out,
                        "# HELP scimd_http_requests_total HTTP requests by route and status.\n"
                        "# TYPE scimd_http_requests_total counter\n",
                        err) < 0)
        return -1;
    for (size_t r = 0; r < n_stats; r++) {
        for (size_t s = 0; s < N_STATUS; s++) {
            uint_fast64_t v = atomic_load(&stats[r].by_status[s]);
            if (v == 0)
                continue;
            char status[8];
            if (s + 1 < N_STATUS)
                snprintf(status, sizeof(status), "%d", statuses[s]);
            else
                snprintf(status, sizeof(status), "other");
            if (buf_printf(out, err,
                           "scimd_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} "
                           "%llu\n",
                           route_method(r), route_pattern(r), status, (unsigned long long)v) < 0)
                return -1;
        }
    }
    if (buf_append_cstr(out,
                        "# HELP scimd_http_request_duration_seconds Time to answer a request.\n"
                        "# TYPE scimd_http_request_duration_seconds histogram\n",
                        err) < 0)
        return -1;
    for (size_t r = 0; r < n_stats; r++) {
        uint_fast64_t cum = 0;
        for (size_t b = 0; b < N_BUCKET; b++)
            cum += atomic_load(&stats[r].buckets[b]);
        if (cum == 0)
            continue;
        cum = 0;
        for (size_t b = 0; b < N_BUCKET; b++) {
            cum += atomic_load(&stats[r].buckets[b]);
            char le[16];
            if (b + 1 < N_BUCKET)
                snprintf(le, sizeof(le), "%g", bounds[b]);
            else
                snprintf(le, sizeof(le), "+Inf");
            if (buf_printf(out, err,
                           "scimd_http_request_duration_seconds_bucket{method=\"%s\","
                           "route=\"%s\",le=\"%s\"} %llu\n",
                           route_method(r), route_pattern(r), le, (unsigned long long)cum) < 0)
                return -1;
        }
        if (buf_printf(out, err,
                       "scimd_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} "
                       "%.6f\n"
                       "scimd_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} "
                       "%llu\n",
                       route_method(r), route_pattern(r),
                       (double)atomic_load(&stats[r].sum_ns) / 1e9, route_method(r),
                       route_pattern(r), (unsigned long long)cum) < 0)
            return -1;
    }
    if (render_more(out, err) < 0)
        return -1;
    return buf_printf(out, err,
                      "# HELP scimd_http_open_connections Connections open now.\n"
                      "# TYPE scimd_http_open_connections gauge\n"
                      "scimd_http_open_connections %lld\n"
                      "# HELP scimd_http_requests_in_flight Requests being handled now.\n"
                      "# TYPE scimd_http_requests_in_flight gauge\n"
                      "scimd_http_requests_in_flight %lld\n"
                      "# HELP scimd_http_request_deadline_closed_total Connections closed because "
                      "a request did not arrive whole within request_timeout.\n"
                      "# TYPE scimd_http_request_deadline_closed_total counter\n"
                      "scimd_http_request_deadline_closed_total %llu\n"
                      "# HELP scimd_http_rate_limited_total Requests refused with 429, by limit.\n"
                      "# TYPE scimd_http_rate_limited_total counter\n"
                      "scimd_http_rate_limited_total{limit=\"auth\"} %llu\n"
                      "scimd_http_rate_limited_total{limit=\"sso\"} %llu\n"
                      "scimd_http_rate_limited_total{limit=\"signin\"} %llu\n"
                      "# HELP scimd_answer_cache_lookups_total SCIM reads looked up among the "
                      "answers kept while the database is unchanged, by result.\n"
                      "# TYPE scimd_answer_cache_lookups_total counter\n"
                      "scimd_answer_cache_lookups_total{result=\"served\"} %llu\n"
                      "scimd_answer_cache_lookups_total{result=\"missed\"} %llu\n",
                      (long long)atomic_load(&connections), (long long)atomic_load(&inflight),
                      (unsigned long long)atomic_load(&deadline_cuts),
                      (unsigned long long)atomic_load(&rate_limited[0]),
                      (unsigned long long)atomic_load(&rate_limited[1]),
                      (unsigned long long)atomic_load(&rate_limited[2]),
                      (unsigned long long)atomic_load(&answer_lookups[1]),
                      (unsigned long long)atomic_load(&answer_lookups[0]));
}
