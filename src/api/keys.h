#ifndef SCIMD_API_KEYS_H
#define SCIMD_API_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* The operator keys of the management API: several at once, each with a name (shown in the
 * access log), replaced as a whole while serving (SIGHUP). Only the keys' SHA-256 is held;
 * a presented key is compared with every one in constant time. Thread-safe. */
struct api_keyring;

#define API_KEY_NAME_MAX 32

struct api_keyring *api_keyring_new(void);
void api_keyring_free(struct api_keyring *kr);

/* Replaces the keys with `single` (named "default"; NULL or "" for none) and the lines of
 * `file` (NULL for none): "NAME KEY", '#' comments and blank lines ignored, names of
 * [A-Za-z0-9_.-] up to API_KEY_NAME_MAX bytes and distinct, keys of 16 to 512 visible bytes.
 * On any problem ERR_INVALID_VALUE naming the line, and the keyring is left as it was; also
 * when `refuse_empty` and no key was read (a reload: a file an editor or a deployment left
 * empty would otherwise shut the host application out without a word). */
int api_keyring_load(struct api_keyring *kr, const char *single, const char *file,
                     bool refuse_empty, struct err *err);

/* The number of keys held (0: the management API is disabled). */
size_t api_keyring_count(struct api_keyring *kr);

/* True when tok[0..len) is one of the keys; its name goes to name (size API_KEY_NAME_MAX + 1)
 * when name is not NULL. */
bool api_keyring_match(struct api_keyring *kr, const char *tok, size_t len, char *name);

#endif
