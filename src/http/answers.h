#ifndef SCIMD_HTTP_ANSWERS_H
#define SCIMD_HTTP_ANSWERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "api/call.h"
#include "store/store.h"

/* Whole answers of SCIM reads, kept while the database is unchanged (issue 18). A kept answer
 * is served again, byte for byte, to the same request (same Authorization header, path and
 * query) only while the database's generation (store_generation) is the one read before the
 * answer was made: any commit anywhere, by any process, empties the cache in effect, so it
 * can never serve a revoked token, a deleted user or a changed one. Its token is checked
 * again on each use against the clock (expiry) and is not kept past the moment its last-use
 * stamp is due (token_authenticate writes it). The key is a SHA-256 of the request, so the
 * cache holds no token. Bounded in bytes; a full slot is replaced. Thread-safe.
 * On PostgreSQL reading the generation is a round trip, made only when an answer is kept
 * (docs/performance.md). */

struct http_answers;

/* NULL (no cache) when max_bytes is 0. */
struct http_answers *http_answers_new(size_t max_bytes);
/* Frees the cache and its answers (after the server stopped). */
void http_answers_free(struct http_answers *a);

struct http_answer_key {
    unsigned char digest[32];
};

/* What an answer was made for: the access log, the request log and the token checks of a
 * later use need it without reading the database. */
struct http_answer_meta {
    int status;
    int64_t tenant_id;
    char tenant_slug[64];
    char token_id[37];
    int64_t token_expires_ms;   /* 0: never */
    int64_t token_last_used_ms; /* the stamp when the answer was made */
};

/* The key of call, a GET of a bearer route: false when its answer may not be kept or served
 * from the cache (another method, a conditional request, a request too long to key). */
bool http_answers_key(const struct api_call *call, struct http_answer_key *k);

/* True when an answer is kept for k, whatever its generation: only then is the database's
 * generation worth reading (a round trip on PostgreSQL). */
bool http_answers_kept(struct http_answers *a, const struct http_answer_key *k);

/* Queues on conn the answer kept for k, when it was made at generation gen and its token is
 * still usable at now_ms: true then, with *meta and *ret (MHD_queue_response's) filled. An
 * answer kept for k at another generation is dropped. */
bool http_answers_serve(struct http_answers *a, const struct http_answer_key *k,
                        const struct store_generation *gen, int64_t now_ms,
                        struct MHD_Connection *conn, struct http_answer_meta *meta,
                        enum MHD_Result *ret);

/* Keeps r, made for k from what the database held at generation gen (or later), taking over
 * the caller's reference to it: true, or false (the caller keeps its reference) when it does
 * not fit or gen is not known. body_bytes: its body's size. */
bool http_answers_put(struct http_answers *a, const struct http_answer_key *k,
                      const struct store_generation *gen, const struct http_answer_meta *meta,
                      struct MHD_Response *r, size_t body_bytes);

#endif
