#ifndef SCIMD_BASE_ERR_H
#define SCIMD_BASE_ERR_H

/* One error type for the whole program. Each row: code, HTTP status, SCIM scimType
 * (RFC 7644 §3.12, NULL where none applies), default text. Only http/ turns an err into
 * a response body; everything else passes the struct up. */
#define ERR_TABLE(X)                                                        \
    X(ERR_OK, 200, NULL, "ok")                                              \
    X(ERR_INVALID_FILTER, 400, "invalidFilter", "invalid filter")           \
    X(ERR_TOO_MANY, 400, "tooMany", "too many results")                     \
    X(ERR_UNIQUENESS, 409, "uniqueness", "value must be unique")            \
    X(ERR_MUTABILITY, 400, "mutability", "attribute is not modifiable")     \
    X(ERR_INVALID_SYNTAX, 400, "invalidSyntax", "invalid request syntax")   \
    X(ERR_INVALID_PATH, 400, "invalidPath", "invalid path")                 \
    X(ERR_NO_TARGET, 400, "noTarget", "path matched no attribute")          \
    X(ERR_INVALID_VALUE, 400, "invalidValue", "invalid value")              \
    X(ERR_INVALID_VERS, 400, "invalidVers", "invalid version")              \
    X(ERR_SENSITIVE, 400, "sensitive", "sensitive data in the request URI") \
    /* RFC 9865 §2.1, Table 3: the cursor paging errors, all 400. */       \
    X(ERR_INVALID_CURSOR, 400, "invalidCursor", "invalid cursor")           \
    X(ERR_EXPIRED_CURSOR, 400, "expiredCursor", "cursor has expired")       \
    X(ERR_INVALID_COUNT, 400, "invalidCount", "invalid count")              \
    X(ERR_BAD_REQUEST, 400, NULL, "bad request")                            \
    X(ERR_UNAUTHORIZED, 401, NULL, "authentication required")               \
    X(ERR_FORBIDDEN, 403, NULL, "forbidden")                                \
    X(ERR_NOT_FOUND, 404, NULL, "not found")                                \
    X(ERR_METHOD_NOT_ALLOWED, 405, NULL, "method not allowed")              \
    X(ERR_NOT_ACCEPTABLE, 406, NULL, "not acceptable")                      \
    X(ERR_CONFLICT, 409, NULL, "conflict")                                  \
    X(ERR_PRECONDITION, 412, NULL, "version does not match")                \
    X(ERR_TOO_LARGE, 413, NULL, "request too large")                        \
    X(ERR_UNSUPPORTED_MEDIA, 415, NULL, "unsupported media type")           \
    X(ERR_RATE_LIMITED, 429, NULL, "too many requests")                     \
    X(ERR_INTERNAL, 500, NULL, "internal error")                            \
    X(ERR_NOT_IMPLEMENTED, 501, NULL, "not implemented")                    \
    X(ERR_UNAVAILABLE, 503, NULL, "service unavailable")                    \
    /* 503, an outside server's fault, not the database's (alerts.md) */    \
    X(ERR_UPSTREAM, 503, NULL, "an outside server did not answer")

enum err_code {
#define ERR_ENUM(code, status, scim_type, text) code,
    ERR_TABLE(ERR_ENUM)
#undef ERR_ENUM
};

struct err {
    enum err_code code;
    char detail[640]; /* for the client: no secrets; input escaped and truncated */
};

/* Sets *e (printf-style detail, truncated to fit) and returns -1, so callers can write
 * `return err_set(...)`. Never allocates. fmt NULL uses the table's default text. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resets *e to ERR_OK with an empty detail. */
void err_clear(struct err *e);

/* HTTP status of a code (500 for an unknown code). */
int err_status(enum err_code code);

/* RFC 7644 §3.12 scimType of a code, or NULL where none applies. */
const char *err_scim_type(enum err_code code);

/* Default English text of a code. */
const char *err_text(enum err_code code);

/* Symbolic name, "ERR_NOT_FOUND"; for tests and logs. */
const char *err_name(enum err_code code);

#endif
