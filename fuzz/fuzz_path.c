/* PATCH path parser (RFC 7644 §3.5.2), its resolution and value-filter evaluation on
 * arbitrary bytes: must never crash or leak, and refusals must be ERR_INVALID_PATH (or
 * ERR_TOO_LARGE from the arena) with a printable detail. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/limits.h"
#include "query/query.h"

/* The tests' fake User schema, so resolution of paths and value filters is exercised. */
#include "../tests/unit/query/fake_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char elements_json[] =
    "[{\"value\": \"bjensen@example.com\", \"type\": \"work\", \"primary\": true},"
    " {\"value\": \"babs@jensen.org\", \"type\": \"home\", \"primary\": \"True\"},"
    " {\"value\": \"u1\", \"display\": \"\", \"$ref\": \"https://x/Users/u1\"}, {}]";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > LIMIT_PATH_BYTES + 16)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct arena *a = arena_new(LIMIT_REQUEST_ARENA_BYTES);
    struct err err = { 0 };
    struct query_path path;

    if (query_path_parse(a, text, &path, &err) < 0) {
        if (err.code != ERR_INVALID_PATH && err.code != ERR_TOO_LARGE)
            abort();
        for (const char *c = err.detail; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
                abort();
        if (path.attr != NULL || path.filter != NULL)
            abort();
    } else {
        if (path.attr == NULL || query_path_sexpr(a, &path) == NULL)
            abort();
        if (query_path_resolve(&path, fake_resolve, NULL, &err) == 0 && path.filter != NULL) {
            json_t *elements = json_loads(elements_json, 0, NULL);
            size_t i;
            json_t *e;
            json_array_foreach(elements, i, e)
                (void)query_eval_element(path.filter, e);
            json_decref(elements);
        }
    }
    arena_free(a);
    free(text);
    return 0;
}
