/* The HTTP layer's floor for bench/bench.py: libmicrohttpd with scimd's daemon flags (epoll,
 * a pool of worker threads, turbo) answering every request with the bytes of one file from
 * memory, and nothing else. Beside nginx serving the same bytes it shows what the HTTP library
 * costs; beside scimd it shows what scimd's own work costs.
 *
 * usage: mhd-floor PORT THREADS BODY_FILE   (runs until killed) */
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char body[64 * 1024];
static size_t body_len;

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
    /* Answering on the first call, before libmicrohttpd has read the whole request, makes it
     * close the connection after the response; scimd answers on the second call too. */
    static int seen;
    if (*state == NULL) {
        *state = &seen;
        return MHD_YES;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/scim+json");
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: mhd-floor PORT THREADS BODY_FILE\n");
        return 2;
    }
    long port = strtol(argv[1], NULL, 10), threads = strtol(argv[2], NULL, 10);
    if (port < 1 || port > 65535 || threads < 1 || threads > 1024) {
        fprintf(stderr, "mhd-floor: bad port or thread count\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "rb");
    if (f == NULL) {
        perror(argv[3]);
        return 1;
    }
    body_len = fread(body, 1, sizeof(body), f);
    fclose(f);
    unsigned flags = MHD_USE_EPOLL | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TURBO |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC;
    struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, NULL,
                                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
                                            MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "mhd-floor: cannot listen on port %s\n", argv[1]);
        return 1;
    }
    pause();
    return 0;
}
