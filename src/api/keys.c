#include "api/keys.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/str.h"
#include "base/xmalloc.h"

#define KEYS_MAX 64 /* an operator rotates a few keys, never hundreds */

struct entry {
    char name[API_KEY_NAME_MAX + 1];
    char hash[65]; /* SHA-256 hex of the key */
};

struct api_keyring {
    pthread_rwlock_t lock; /* guards n and v: readers match, a reload writes */
    size_t n;
    struct entry v[KEYS_MAX];
};

struct api_keyring *
api_keyring_new(void)
{
    struct api_keyring *kr = xcalloc(1, sizeof(*kr));
    pthread_rwlock_init(&kr->lock, NULL);
    return kr;
}

void
api_keyring_free(struct api_keyring *kr)
{
    if (kr == NULL)
        return;
    pthread_rwlock_destroy(&kr->lock);
    crypto_wipe(kr, sizeof(*kr));
    free(kr);
}

static bool
name_ok(const char *s, size_t n)
{
    if (n == 0 || n > API_KEY_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
            return false;
    return true;
}

static int
add(struct entry *v, size_t *n, const char *name, size_t name_len, const char *key, size_t key_len,
    const char *where, struct err *err)
{
    if (!name_ok(name, name_len))
        return err_set(err, ERR_INVALID_VALUE, "%s: a key's name is 1 to %d of A-Z a-z 0-9 _ . -",
                       where, API_KEY_NAME_MAX);
    if (key_len < 16 || key_len > 512)
        return err_set(err, ERR_INVALID_VALUE, "%s: an operator key is 16 to 512 characters",
                       where);
    for (size_t i = 0; i < key_len; i++)
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f)
            return err_set(err, ERR_INVALID_VALUE, "%s: an operator key holds visible ASCII only",
                           where);
    if (*n >= KEYS_MAX)
        return err_set(err, ERR_INVALID_VALUE, "%s: at most %d operator keys", where, KEYS_MAX);
    for (size_t i = 0; i < *n; i++)
        if (strlen(v[i].name) == name_len && strncmp(v[i].name, name, name_len) == 0)
            return err_set(err, ERR_INVALID_VALUE, "%s: the key name \"%.*s\" is used twice", where,
                           (int)name_len, name);
    memcpy(v[*n].name, name, name_len);
    v[*n].name[name_len] = '\0';
    crypto_sha256_hex(key, key_len, v[*n].hash);
    (*n)++;
    return 0;
}

static int
read_file(const char *file, struct entry *v, size_t *n, struct err *err)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return err_set(err, ERR_INVALID_VALUE, "cannot read operator_keys_file %s", file);
    char line[1024], where[300];
    int rc = 0;
    for (int lineno = 1; rc == 0 && fgets(line, sizeof(line), f); lineno++) {
        snprintf(where, sizeof(where), "%.250s:%d", file, lineno);
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        size_t name_len = strcspn(p, " \t");
        const char *key = p + name_len;
        while (*key == ' ' || *key == '\t')
            key++;
        size_t key_len = strcspn(key, " \t");
        if (key_len == 0 || key[key_len] != '\0')
            rc = err_set(err, ERR_INVALID_VALUE, "%s: expected \"NAME KEY\"", where);
        else
            rc = add(v, n, p, name_len, key, key_len, where, err);
    }
    crypto_wipe(line, sizeof(line));
    fclose(f);
    return rc;
}

int
api_keyring_load(struct api_keyring *kr, const char *single, const char *file, bool refuse_empty,
                 struct err *err)
{
    struct entry *v = xcalloc(KEYS_MAX, sizeof(*v));
    size_t n = 0;
    int rc = 0;
    if (single && single[0])
        rc = add(v, &n, "default", 7, single, strlen(single), "operator_key", err);
    if (rc == 0 && file && file[0])
        rc = read_file(file, v, &n, err);
    if (rc == 0 && n == 0 && refuse_empty)
        rc = err_set(err, ERR_INVALID_VALUE,
                     "no operator key is set any more (to turn the management API off, remove"
                     " the setting and restart)");
    if (rc == 0) {
        pthread_rwlock_wrlock(&kr->lock);
        memcpy(kr->v, v, n * sizeof(*v));
        kr->n = n;
        pthread_rwlock_unlock(&kr->lock);
    }
    crypto_wipe(v, KEYS_MAX * sizeof(*v));
    free(v);
    return rc;
}

size_t
api_keyring_count(struct api_keyring *kr)
{
    if (kr == NULL)
        return 0;
    pthread_rwlock_rdlock(&kr->lock);
    size_t n = kr->n;
    pthread_rwlock_unlock(&kr->lock);
    return n;
}

bool
api_keyring_match(struct api_keyring *kr, const char *tok, size_t len, char *name)
{
    if (kr == NULL)
        return false;
    /* Hash the presented key once; compare with every key, no early exit. */
    char h[65];
    crypto_sha256_hex(tok, len, h);
    bool found = false;
    pthread_rwlock_rdlock(&kr->lock);
    for (size_t i = 0; i < kr->n; i++) {
        bool eq = crypto_equal(h, kr->v[i].hash, 64);
        if (eq && !found && name)
            str_copy(name, API_KEY_NAME_MAX + 1, kr->v[i].name);
        found |= eq;
    }
    pthread_rwlock_unlock(&kr->lock);
    return found;
}
