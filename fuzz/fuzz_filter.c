/* Filter parser, resolver walk and evaluator on arbitrary bytes: must never crash, leak or
 * run away, and every refusal must be ERR_INVALID_FILTER (or ERR_TOO_LARGE from the arena)
 * with a printable detail. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/limits.h"
#include "query/query.h"

/* The tests' fake User schema, so resolution and typed comparisons are exercised too. */
#include "../tests/unit/query/fake_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char doc_json[] =
    "{\"id\": \"2819c223\", \"externalId\": \"Ext-42\", \"userName\": \"BJensen@example.com\","
    "\"displayName\": \"Babs Jensen\", \"title\": \"\", \"active\": true, \"loginCount\": 42,"
    "\"score\": 7.5, \"nickNames\": [\"Babs\", \"BJ\", null],"
    "\"name\": {\"givenName\": \"Barbara\", \"familyName\": \"Jensen\"},"
    "\"emails\": [{\"value\": \"bjensen@example.com\", \"type\": \"work\", \"primary\": true},"
    "  {\"value\": \"babs@jensen.org\", \"type\": \"home\"}, \"stray\", 7],"
    "\"roles\": [], \"members\": [{\"value\": \"u1\", \"$ref\": \"https://x/Users/u1\"}],"
    "\"meta\": {\"created\": \"2011-08-01T18:29:49.793Z\","
    "  \"lastModified\": \"2011-08-01T20:31:02+02:00\"},"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\": {\"employeeNumber\": \"1\","
    "  \"manager\": {\"value\": \"m1\", \"displayName\": \"John Smith\"}}}";

static void
check_error(const struct err *err)
{
    if (err->code != ERR_INVALID_FILTER && err->code != ERR_TOO_LARGE)
        abort();
    for (const char *c = err->detail; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Past the byte limit the parser only measures; a little beyond still tests that. */
    if (size > LIMIT_FILTER_BYTES + 16)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct arena *a = arena_new(LIMIT_REQUEST_ARENA_BYTES);
    struct err err = { 0 };
    json_t *doc = json_loads(doc_json, 0, NULL);

    struct query_node *q = query_filter_parse(a, text, &err);
    if (q == NULL) {
        check_error(&err);
    } else {
        if (query_sexpr(a, q) == NULL)
            abort();
        /* Unresolved first (no types), then resolved (typed, "value" rewrites). */
        (void)query_eval(q, doc);
        if (query_resolve(q, fake_resolve, NULL, &err) == 0) {
            (void)query_eval(q, doc);
            (void)query_eval_element(q, json_array_get(json_object_get(doc, "emails"), 0));
            if (query_sexpr(a, q) == NULL)
                abort();
        }
    }
    json_decref(doc);
    arena_free(a);
    free(text);
    return 0;
}
