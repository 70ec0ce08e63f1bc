#include "base/fetch.h"

#include <curl/curl.h>

/* The response body is not used; read at most this much of it before giving up on it. */
#define RESPONSE_CAP (64 * 1024)

int
fetch_global_init(struct err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return err_set(err, ERR_INTERNAL, "libcurl failed to initialise");
    return 0;
}

void
fetch_global_cleanup(void)
{
    curl_global_cleanup();
}

static size_t
drop_body(char *ptr, size_t size, size_t n, void *userdata)
{
    (void)ptr;
    size_t *seen = userdata;
    *seen += size * n;
    return *seen > RESPONSE_CAP ? 0 : size * n; /* 0 aborts the transfer */
}

int
fetch_post(const struct fetch_post *req, long *status, struct err *err)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        return err_set(err, ERR_INTERNAL, "libcurl: no handle");
    struct curl_slist *h = NULL;
    for (const char *const *p = req->headers; p && *p; p++)
        h = curl_slist_append(h, *p);
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    size_t seen = 0;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, req->allow_http ? "https,http" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "scimd-webhooks");
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    /* A reply whose body we cut short still has its status. */
    if (rc == CURLE_WRITE_ERROR && *status > 0)
        return 0;
    if (rc != CURLE_OK)
        return err_set(err, ERR_UNAVAILABLE, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return 0;
}
