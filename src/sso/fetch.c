#include "sso/fetch.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/buf.h"
#include "base/fetch.h"
#include "base/str.h"
#include "base/xmalloc.h"

#define TIMEOUT_MS 5000

struct sink {
    struct buf body;
    bool too_large;
    int64_t max_age;
};

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    if (buf_append(&s->body, p, size * n, NULL) < 0) {
        s->too_large = true;
        return 0;
    }
    return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    const char *name = "cache-control:";
    if (len > 14 && strncasecmp(p, name, 14) == 0) {
        char line[256];
        size_t l = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
        memcpy(line, p, l);
        line[l] = '\0';
        str_lower_ascii(line);
        const char *m = strstr(line, "max-age=");
        if (m) {
            int64_t v = 0;
            for (m += 8; *m >= '0' && *m <= '9' && v < 100000000; m++)
                v = v * 10 + (*m - '0');
            s->max_age = v;
        }
    }
    return len;
}

bool
sso_fetch_url_ok(const char *url, bool allow_http, bool bare)
{
    const char *rest;
    if (url == NULL)
        return false;
    if (strncmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (allow_http && strncmp(url, "http://", 7) == 0)
        rest = url + 7;
    else
        return false;
    if (*rest == '\0' || *rest == '/' || strlen(url) > 1024)
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\')
            return false;
    const char *host_end = strpbrk(rest, "/?#");
    size_t hlen = host_end ? (size_t)(host_end - rest) : strlen(rest);
    if (memchr(rest, '@', hlen))
        return false; /* userinfo */
    return !bare || strpbrk(url, "?#") == NULL;
}

int
sso_fetch_run(const struct sso_fetch *f, long *status, char **body, int64_t *max_age,
              struct err *err)
{
    struct sink s = { .max_age = -1 };
    char *user = NULL, *pass = NULL;
    struct fetch_guard guard = { .allow_internal = f->allow_http };
    *body = NULL;
    *status = 0;
    if (!sso_fetch_url_ok(f->url, f->allow_http, false))
        return err_set(err, ERR_INVALID_VALUE, "URL must be https");
    CURL *c = curl_easy_init();
    if (c == NULL)
        return err_set(err, ERR_INTERNAL, "cannot start an HTTP client");
    buf_init(&s.body, f->max_bytes);
    curl_easy_setopt(c, CURLOPT_URL, f->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, f->allow_http ? "https,http" : "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
    fetch_guard_apply(c, &guard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "scimd/" SCIMD_VERSION);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    char *auth = NULL;
    if (f->bearer) {
        size_t n = strlen(f->bearer) + 32;
        auth = xmalloc(n);
        snprintf(auth, n, "Authorization: Bearer %s", f->bearer);
        hdrs = curl_slist_append(hdrs, auth);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (f->form) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, f->form);
    }
    if (f->user && f->password) {
        /* RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding. */
        user = curl_easy_escape(c, f->user, 0);
        pass = curl_easy_escape(c, f->password, 0);
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
    }
    CURLcode rc = curl_easy_perform(c);
    int ret = 0;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        *body = buf_take(&s.body, NULL);
        if (max_age)
            *max_age = s.max_age;
    } else if (s.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        ret = err_set(err, ERR_TOO_LARGE, "the identity provider's answer is too large");
    } else if (guard.refused) {
        ret = err_set(err, ERR_INVALID_VALUE,
                      "the identity provider's address is internal (loopback or private)");
    } else {
        ret = err_set(err, ERR_UPSTREAM, "cannot reach the identity provider: %s",
                      curl_easy_strerror(rc));
    }
    if (pass) {
        memset(pass, 0, strlen(pass));
        curl_free(pass);
    }
    curl_free(user);
    curl_slist_free_all(hdrs);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    curl_easy_cleanup(c);
    buf_cleanup(&s.body);
    return ret;
}
