#ifndef SCIMD_BASE_SEAL_H
#define SCIMD_BASE_SEAL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/limits.h"

/* Secrets scimd must be able to use again (an OIDC client secret, a webhook signing secret),
 * kept at rest under a keyring of 32-byte keys (issue 17): AES-256-GCM, a fresh 96-bit nonce
 * per seal, and `aad` naming the owner so a sealed value copied to another row does not open.
 *
 * Sealed text names the key that sealed it, so opening picks that key without trying others:
 *   "v2." NAME "." base64url(nonce | ciphertext | tag)
 *   "v1." base64url(nonce | ciphertext | tag)   the key named "default" (sso_key), as sealed
 *                                                before keyrings; still written by that key
 * The newest key of the ring seals; every key opens what names it. */

#define SEAL_PLAIN_MAX    512
#define SEAL_KEY_NAME_MAX 32
/* The name of the key that `sso_key` gives and that "v1." texts name. */
#define SEAL_DEFAULT_NAME "default"

struct seal_key {
    char name[SEAL_KEY_NAME_MAX + 1]; /* [A-Za-z0-9_-], no '.' (the separator) */
    unsigned char key[32];
};

/* Keys oldest first: v[n - 1] seals. Caller's storage; wipe with seal_keyring_cleanup. */
struct seal_keyring {
    size_t n;
    struct seal_key v[LIMIT_SEAL_KEYS];
};

/* Appends a key: name (1..SEAL_KEY_NAME_MAX of A-Z a-z 0-9 _ -, distinct) and hex (exactly 64
 * hex digits). ERR_INVALID_VALUE naming `where` and the problem (never the key). */
int seal_keyring_add(struct seal_keyring *r, const char *name, size_t name_len, const char *hex,
                     size_t hex_len, const char *where, struct err *err);

/* Fills r (emptied first) with `single` (64 hex digits, named "default"; NULL or "" for
 * none), then the lines of `file` (NULL for none): "NAME=64HEX", '#' comments and blank
 * lines ignored; the last key seals. The file must be a regular file that neither group nor
 * others may read or write (chmod 600): anything else is refused. ERR_INVALID_VALUE naming
 * the file and line; r is then empty. */
int seal_keyring_load(struct seal_keyring *r, const char *single, const char *file,
                      struct err *err);

/* Wipes the keys. */
void seal_keyring_cleanup(struct seal_keyring *r);

/* The key that seals (the last); NULL when r is NULL or empty. */
const struct seal_key *seal_keyring_newest(const struct seal_keyring *r);

/* The key named name[0..len); NULL when absent. */
const struct seal_key *seal_keyring_find(const struct seal_keyring *r, const char *name,
                                         size_t len);

/* True when text has a sealed form ("v1." or "v2."), well formed or not. */
bool seal_is_sealed(const char *text);

/* The name of the key sealed text names, into name; *payload points at its base64url part.
 * -1 when text is not a well-formed sealed text (no error set: nothing to report). */
int seal_parse(const char *text, char name[SEAL_KEY_NAME_MAX + 1], const char **payload);

/* True when sealed names the key that seals now (re-sealing would change nothing). */
bool seal_is_current(const struct seal_keyring *r, const char *sealed);

/* Seals plain (1..SEAL_PLAIN_MAX bytes) under the newest key; malloc'd text, or NULL with
 * ERR_INVALID_VALUE (too long, empty, no key) or ERR_INTERNAL. */
char *seal_text(const struct seal_keyring *r, const char *aad, const char *plain, struct err *err);

/* Opens sealed into out (NUL-terminated; size > SEAL_PLAIN_MAX) with the key it names:
 * ERR_INTERNAL saying whether the text is malformed, names a key not in the ring, or does not
 * open (wrong key, another aad, altered). Wipe out after use. */
int seal_open(const struct seal_keyring *r, const char *aad, const char *sealed, char *out,
              size_t size, struct err *err);

/* What re-sealing a kind of secret did (`scimd reseal`; core's signin_reseal, webhook_reseal). */
#define SEAL_TALLY_IDS 20
struct seal_tally {
    size_t resealed;   /* opened, and sealed again under the newest key */
    size_t current;    /* already under the newest key: untouched */
    size_t was_plain;  /* stored plain (no key was configured then), now sealed */
    size_t changed;    /* changed or deleted by someone else meanwhile: left to them */
    size_t unreadable; /* no key of the ring opens it: left as it is */
    char unreadable_ids[SEAL_TALLY_IDS][48]; /* the first SEAL_TALLY_IDS of those */
};

/* Records id as unreadable in t (the count always; the id while there is room). */
void seal_tally_unreadable(struct seal_tally *t, const char *id);

#endif
