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

/* A prefix of the IANA special-purpose address registries. */
struct special {
    unsigned char net[16];
    int bits;
};

/* The IANA IPv4 Special-Purpose Address Registry (iana-ipv4-special-registry, RFC 6890 and
 * its updates), every entry, plus multicast and the rest of 240/4: none is a place a webhook
 * or an identity provider lives, including the few the registry marks globally reachable
 * (AS112, AMT, the PCP and TURN anycasts). */
static const struct special special4[] = {
    { { 0 }, 8 },             /* "this network" */
    { { 10 }, 8 },            /* private */
    { { 100, 64 }, 10 },      /* shared address space (CGNAT) */
    { { 127 }, 8 },           /* loopback */
    { { 169, 254 }, 16 },     /* link-local */
    { { 172, 16 }, 12 },      /* private */
    { { 192, 0, 0 }, 24 },    /* IETF protocol assignments (DS-Lite, PCP, TURN, NAT64 discovery) */
    { { 192, 0, 2 }, 24 },    /* documentation TEST-NET-1 */
    { { 192, 31, 196 }, 24 }, /* AS112-v4 */
    { { 192, 52, 193 }, 24 }, /* AMT */
    { { 192, 88, 99 }, 24 },  /* deprecated 6to4 relay anycast */
    { { 192, 168 }, 16 },     /* private */
    { { 192, 175, 48 }, 24 }, /* direct delegation AS112 */
    { { 198, 18 }, 15 },      /* benchmarking */
    { { 198, 51, 100 }, 24 }, /* documentation TEST-NET-2 */
    { { 203, 0, 113 }, 24 },  /* documentation TEST-NET-3 */
    { { 224 }, 4 },           /* multicast */
    { { 240 }, 4 },           /* reserved, and the limited broadcast 255.255.255.255 */
};

/* The IANA IPv6 Special-Purpose Address Registry (iana-ipv6-special-registry), every entry,
 * plus multicast and the deprecated site-local prefix. IPv4-mapped addresses (::ffff:0:0/96)
 * are judged by their IPv4 address; NAT64 (64:ff9b::/96, 64:ff9b:1::/48) is refused whole,
 * since it reaches any IPv4 address, internal ones included, through a translator. */
static const struct special special6[] = {
    { { 0 }, 96 },                                  /* ::/128, ::1/128, IPv4-compatible */
    { { 0, 0x64, 0xff, 0x9b }, 96 },                /* NAT64 well-known prefix */
    { { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48 },          /* NAT64 local-use */
    { { 0x01, 0x00 }, 64 },                         /* discard-only */
    { { 0x01, 0x00, 0, 0, 0, 1 }, 64 },             /* dummy IPv6 prefix */
    { { 0x20, 0x01 }, 23 },                         /* IETF protocol assignments (Teredo, ORCHID) */
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32 },             /* documentation */
    { { 0x20, 0x02 }, 16 },                         /* 6to4 */
    { { 0x26, 0x20, 0x00, 0x4f, 0x80, 0x00 }, 48 }, /* direct delegation AS112 */
    { { 0x3f, 0xff }, 20 },                         /* documentation */
    { { 0x5f, 0x00 }, 16 },                         /* segment routing SIDs */
    { { 0xfc }, 7 },                                /* unique local */
    { { 0xfe, 0x80 }, 10 },                         /* link-local */
    { { 0xfe, 0xc0 }, 10 },                         /* site-local (deprecated) */
    { { 0xff }, 8 },                                /* multicast */
};

static bool
in_prefix(const unsigned char *a, const struct special *p)
{
    int full = p->bits / 8, rest = p->bits % 8;
    if (memcmp(a, p->net, (size_t)full) != 0)
        return false;
    return rest == 0 || ((a[full] ^ p->net[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

bool
fetch_addr_is_special(const char *ip)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1) {
        for (size_t i = 0; i < sizeof(special4) / sizeof(special4[0]); i++)
            if (in_prefix(a, &special4[i]))
                return true;
        return false;
    }
    if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (memcmp(a, v4mapped, 12) == 0) {
            char v4[INET_ADDRSTRLEN];
            return inet_ntop(AF_INET, a + 12, v4, sizeof(v4)) == NULL || fetch_addr_is_special(v4);
        }
        for (size_t i = 0; i < sizeof(special6) / sizeof(special6[0]); i++)
            if (in_prefix(a, &special6[i]))
                return true;
        return false;
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
    if (!g->allow_internal && (ip[0] == '\0' || fetch_addr_is_special(ip))) {
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
        return err_set(err, ERR_UPSTREAM,
                       "the address is internal or special-purpose (IANA registries)");
    if (rc != CURLE_OK)
        return err_set(err, ERR_UPSTREAM, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return 0;
}
