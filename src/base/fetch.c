#include "base/fetch.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

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

/* Loopback, private (RFC 1918, RFC 4193), link-local, unspecified and CGNAT addresses. */
static bool
is_internal(const char *ip)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1)
        return a[0] == 127 || a[0] == 10 || a[0] == 0 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
               (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
               (a[0] == 100 && (a[1] & 0xc0) == 64);
    if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (memcmp(a, v4mapped, 12) == 0) {
            char v4[INET_ADDRSTRLEN];
            return inet_ntop(AF_INET, a + 12, v4, sizeof(v4)) == NULL || is_internal(v4);
        }
        static const unsigned char zero[15] = { 0 };
        return (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) || (a[0] & 0xfe) == 0xfc ||
               (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
    }
    return true;
}

/* Opens the socket for each address libcurl resolved, refusing internal ones. */
static curl_socket_t
on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct fetch_guard *g = ud;
    char ip[INET6_ADDRSTRLEN] = "";
    (void)purpose;
    if (a->family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)&a->addr)->sin_addr, ip,
                  sizeof(ip));
    else if (a->family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)&a->addr)->sin6_addr, ip,
                  sizeof(ip));
    if (!g->allow_internal && (ip[0] == '\0' || is_internal(ip))) {
        g->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

void
fetch_guard_apply(void *curl, struct fetch_guard *g)
{
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, g);
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
    struct fetch_guard guard = { .allow_internal = req->allow_http };
    fetch_guard_apply(c, &guard);
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
    if (rc != CURLE_OK && guard.refused)
        return err_set(err, ERR_UNAVAILABLE, "the address is internal (loopback or private)");
    if (rc != CURLE_OK)
        return err_set(err, ERR_UNAVAILABLE, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return 0;
}
