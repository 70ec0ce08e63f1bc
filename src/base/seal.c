#include "base/seal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/crypto.h"
#include "base/str.h"
#include "base/xmalloc.h"

#define NONCE 12
#define TAG   16

static bool
name_ok(const char *s, size_t n)
{
    if (n == 0 || n > SEAL_KEY_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

int
seal_keyring_add(struct seal_keyring *r, const char *name, size_t name_len, const char *hex,
                 size_t hex_len, const char *where, struct err *err)
{
    if (!name_ok(name, name_len))
        return err_set(err, ERR_INVALID_VALUE, "%s: a key's name is 1 to %d of A-Z a-z 0-9 _ -",
                       where, SEAL_KEY_NAME_MAX);
    if (r->n >= LIMIT_SEAL_KEYS)
        return err_set(err, ERR_INVALID_VALUE, "%s: at most %d sso keys", where, LIMIT_SEAL_KEYS);
    if (seal_keyring_find(r, name, name_len))
        return err_set(err, ERR_INVALID_VALUE, "%s: the key name \"%.*s\" is used twice", where,
                       (int)name_len, name);
    struct seal_key *k = &r->v[r->n];
    if (hex_len != 64)
        return err_set(err, ERR_INVALID_VALUE, "%s: an sso key is 64 hex digits (32 bytes)", where);
    for (size_t i = 0; i < 32; i++) {
        int hi = str_hex_value(hex[2 * i]), lo = str_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            crypto_wipe(k->key, sizeof(k->key));
            return err_set(err, ERR_INVALID_VALUE, "%s: an sso key is 64 hex digits (32 bytes)",
                           where);
        }
        k->key[i] = (unsigned char)(hi * 16 + lo);
    }
    memcpy(k->name, name, name_len);
    k->name[name_len] = '\0';
    r->n++;
    return 0;
}

/* The lines of an open key file; `where` names it in errors. */
static int
read_lines(struct seal_keyring *r, FILE *f, const char *file, struct err *err)
{
    char line[256], where[300];
    int rc = 0, lineno = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        snprintf(where, sizeof(where), "%.250s:%d", file, ++lineno);
        size_t len = strcspn(line, "\r\n");
        if (line[len] == '\0' && !feof(f)) {
            rc = err_set(err, ERR_INVALID_VALUE, "%s: line too long", where);
            break;
        }
        line[len] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t end = strlen(p);
        while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            p[--end] = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (eq == NULL)
            rc = err_set(err, ERR_INVALID_VALUE, "%s: expected NAME=64HEX", where);
        else
            rc = seal_keyring_add(r, p, (size_t)(eq - p), eq + 1, strlen(eq + 1), where, err);
    }
    crypto_wipe(line, sizeof(line));
    if (rc == 0 && ferror(f))
        rc = err_set(err, ERR_INVALID_VALUE, "cannot read sso_keys_file %.250s", file);
    return rc;
}

static int
read_file(struct seal_keyring *r, const char *file, struct err *err)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_set(err, ERR_INVALID_VALUE, "cannot read sso_keys_file %.250s", file);
    /* Checked on the open file, so what is checked is what is read. */
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, ERR_INVALID_VALUE, "sso_keys_file %.250s is not a regular file", file);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return err_set(err, ERR_INVALID_VALUE,
                       "sso_keys_file %.200s may be read or written by group or others (mode "
                       "%03o): it must be readable only by the service (chmod 600)",
                       file, (unsigned)(st.st_mode & 0777));
    }
    FILE *f = fdopen(fd, "r");
    if (f == NULL) {
        close(fd);
        return err_set(err, ERR_INVALID_VALUE, "cannot read sso_keys_file %.250s", file);
    }
    int rc = read_lines(r, f, file, err);
    fclose(f);
    if (rc == 0 && r->n == 0)
        rc = err_set(err, ERR_INVALID_VALUE, "sso_keys_file %.250s holds no key", file);
    return rc;
}

int
seal_keyring_load(struct seal_keyring *r, const char *single, const char *file, struct err *err)
{
    seal_keyring_cleanup(r);
    int rc = 0;
    if (single && single[0])
        rc = seal_keyring_add(r, SEAL_DEFAULT_NAME, strlen(SEAL_DEFAULT_NAME), single,
                              strlen(single), "sso_key", err);
    if (rc == 0 && file && file[0])
        rc = read_file(r, file, err);
    if (rc < 0)
        seal_keyring_cleanup(r);
    return rc;
}

void
seal_keyring_cleanup(struct seal_keyring *r)
{
    crypto_wipe(r, sizeof(*r));
}

const struct seal_key *
seal_keyring_newest(const struct seal_keyring *r)
{
    return r && r->n > 0 ? &r->v[r->n - 1] : NULL;
}

const struct seal_key *
seal_keyring_find(const struct seal_keyring *r, const char *name, size_t len)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (strlen(r->v[i].name) == len && memcmp(r->v[i].name, name, len) == 0)
            return &r->v[i];
    return NULL;
}

bool
seal_is_sealed(const char *text)
{
    return text && (strncmp(text, "v1.", 3) == 0 || strncmp(text, "v2.", 3) == 0);
}

int
seal_parse(const char *text, char name[SEAL_KEY_NAME_MAX + 1], const char **payload)
{
    if (text == NULL)
        return -1;
    if (strncmp(text, "v1.", 3) == 0) {
        memcpy(name, SEAL_DEFAULT_NAME, sizeof(SEAL_DEFAULT_NAME));
        *payload = text + 3;
    } else if (strncmp(text, "v2.", 3) == 0) {
        const char *dot = strchr(text + 3, '.');
        size_t n = dot ? (size_t)(dot - text - 3) : 0;
        if (!name_ok(text + 3, n))
            return -1;
        memcpy(name, text + 3, n);
        name[n] = '\0';
        *payload = dot + 1;
    } else {
        return -1;
    }
    return **payload ? 0 : -1;
}

bool
seal_is_current(const struct seal_keyring *r, const char *sealed)
{
    const struct seal_key *k = seal_keyring_newest(r);
    char name[SEAL_KEY_NAME_MAX + 1];
    const char *payload;
    if (k == NULL || seal_parse(sealed, name, &payload) < 0)
        return false;
    /* "default" writes "v1.": both forms of its name are current. */
    return strcmp(name, k->name) == 0;
}

char *
seal_text(const struct seal_keyring *r, const char *aad, const char *plain, struct err *err)
{
    const struct seal_key *k = seal_keyring_newest(r);
    if (k == NULL) {
        err_set(err, ERR_INVALID_VALUE, "no key is configured to keep this secret at rest");
        return NULL;
    }
    size_t n = strlen(plain);
    if (n == 0 || n > SEAL_PLAIN_MAX) {
        err_set(err, ERR_INVALID_VALUE, "a secret must be 1 to %d bytes", SEAL_PLAIN_MAX);
        return NULL;
    }
    unsigned char raw[NONCE + SEAL_PLAIN_MAX + TAG];
    int len = 0, fin = 0;
    if (crypto_random(raw, NONCE, err) < 0)
        return NULL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    bool ok =
        ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->key, raw) == 1 &&
        EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
        EVP_EncryptUpdate(ctx, raw + NONCE, &len, (const unsigned char *)plain, (int)n) == 1 &&
        EVP_EncryptFinal_ex(ctx, raw + NONCE + len, &fin) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, raw + NONCE + n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        crypto_wipe(raw, sizeof(raw));
        err_set(err, ERR_INTERNAL, "cannot seal a secret");
        return NULL;
    }
    /* The key from sso_key keeps writing "v1.", which scimd before keyrings reads too. */
    char head[4 + SEAL_KEY_NAME_MAX + 2];
    if (strcmp(k->name, SEAL_DEFAULT_NAME) == 0)
        snprintf(head, sizeof(head), "v1.");
    else
        snprintf(head, sizeof(head), "v2.%s.", k->name);
    size_t total = NONCE + n + TAG, hn = strlen(head), b64 = (total + 2) / 3 * 4 + 1;
    char *out = xmalloc(hn + b64);
    memcpy(out, head, hn);
    crypto_base64url(raw, total, out + hn, b64);
    crypto_wipe(raw, sizeof(raw));
    return out;
}

int
seal_open(const struct seal_keyring *r, const char *aad, const char *sealed, char *out, size_t size,
          struct err *err)
{
    unsigned char *raw = NULL;
    size_t n = 0;
    int len = 0, fin = 0;
    char name[SEAL_KEY_NAME_MAX + 1];
    const char *payload;
    if (seal_parse(sealed, name, &payload) < 0)
        return err_set(err, ERR_INTERNAL, "a sealed secret is malformed");
    const struct seal_key *k = seal_keyring_find(r, name, strlen(name));
    if (k == NULL)
        return err_set(err, ERR_INTERNAL,
                       "a secret is sealed with sso key \"%s\", which is not configured "
                       "(sso_key, sso_keys_file)",
                       name);
    struct err derr = { 0 };
    if (crypto_base64_decode(payload, strlen(payload), true, &raw, &n, &derr) < 0)
        return err_set(err, ERR_INTERNAL, "a sealed secret is corrupt");
    if (n < NONCE + TAG + 1 || n - NONCE - TAG >= size) {
        free(raw);
        return err_set(err, ERR_INTERNAL, "a sealed secret is corrupt");
    }
    size_t clen = n - NONCE - TAG;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    bool ok =
        ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->key, raw) == 1 &&
        EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
        EVP_DecryptUpdate(ctx, (unsigned char *)out, &len, raw + NONCE, (int)clen) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, raw + NONCE + clen) == 1 &&
        EVP_DecryptFinal_ex(ctx, (unsigned char *)out + len, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    crypto_wipe(raw, n);
    free(raw);
    if (!ok) {
        crypto_wipe(out, size);
        return err_set(err, ERR_INTERNAL,
                       "a secret sealed with sso key \"%s\" does not open with it (another key "
                       "of that name, or altered)",
                       name);
    }
    out[clen] = '\0';
    return 0;
}

void
seal_tally_unreadable(struct seal_tally *t, const char *id)
{
    if (t->unreadable < SEAL_TALLY_IDS)
        snprintf(t->unreadable_ids[t->unreadable], sizeof(t->unreadable_ids[0]), "%s", id);
    t->unreadable++;
}
