/* mtcp_client.c - an HTTP client written to mTCP's API, shaped like mTCP's
 * apps/example/epwget: one context, a non-blocking connect reported by
 * epoll, one GET, the body read to the end. Prints
 * "mtcp_client: received N bytes sha256 HEX" (the body's hash: sha256sum
 * of the file on the server must agree) and exits 0 on a 200 response.
 *
 *   mtcp_client -f mtcp.conf HOST PORT PATH
 */
#include <mtcp_api.h>
#include <mtcp_epoll.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what)
{
    fprintf(stderr, "mtcp_client: %s: %s\n", what, strerror(errno));
    return 1;
}

/* Waits (10 s) for events on s; returns them, 0 on timeout. */
static uint32_t wait_on(mctx_t m, int ep, int s)
{
    struct mtcp_epoll_event ev[4];
    for (int tries = 0; tries < 100; tries++) {
        int n = mtcp_epoll_wait(m, ep, ev, 4, 100);
        for (int i = 0; i < n; i++)
            if (ev[i].data.sockid == s)
                return (uint32_t)ev[i].events;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf_file = NULL;
    int opt;

    while ((opt = getopt(argc, argv, "f:")) != -1) {
        if (opt != 'f')
            return 2;
        conf_file = optarg;
    }
    if (argc - optind != 3 || sodium_init() < 0)
        return 2;
    const char *host = argv[optind], *path = argv[optind + 2];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[optind + 1]))};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return 2;
    if (mtcp_init(conf_file) != 0)
        return fail("mtcp_init");
    mctx_t m = mtcp_create_context(0);
    if (m == NULL)
        return fail("mtcp_create_context");
    int ep = mtcp_epoll_create(m, 16), s = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);
    if (ep < 0 || s < 0)
        return fail("mtcp_socket");
    mtcp_setsock_nonblock(m, s);
    if (mtcp_connect(m, s, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EINPROGRESS)
        return fail("mtcp_connect");
    struct mtcp_epoll_event ev = {.events = MTCP_EPOLLOUT, .data.sockid = s};
    mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, s, &ev);
    uint32_t e = wait_on(m, ep, s);
    int err = 0;
    socklen_t len = sizeof(err);
    if (!(e & MTCP_EPOLLOUT) || (e & MTCP_EPOLLERR)) {
        mtcp_getsockopt(m, s, SOL_SOCKET, SO_ERROR, &err, &len);
        errno = err ? err : ETIMEDOUT;
        return fail("connect");
    }
    char req[512];
    int rl = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
    if (mtcp_write(m, s, req, (size_t)rl) != rl)
        return fail("mtcp_write");
    ev.events = MTCP_EPOLLIN;
    mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_MOD, s, &ev);

    /* read everything to end of stream; the body follows the header */
    size_t cap = 1 << 20, got = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (got == cap && (buf = realloc(buf, cap *= 2)) == NULL)
            return 1;
        ssize_t n = mtcp_read(m, s, buf + got, cap - got);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (n == 0)
            break;
        if (errno != EAGAIN)
            return fail("mtcp_read");
        if (wait_on(m, ep, s) == 0) {
            errno = ETIMEDOUT;
            return fail("waiting for the response");
        }
    }
    char *hdr_end = memmem(buf, got, "\r\n\r\n", 4);
    if (hdr_end == NULL || strncmp(buf, "HTTP/1.1 200", 12) != 0) {
        fprintf(stderr, "mtcp_client: not a 200 response (%zu bytes)\n", got);
        return 1;
    }
    const unsigned char *bodyp = (const unsigned char *)hdr_end + 4;
    size_t blen = got - (size_t)(bodyp - (unsigned char *)buf);
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * sizeof(h) + 1];
    crypto_hash_sha256(h, bodyp, blen);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    printf("mtcp_client: received %zu bytes sha256 %s\n", blen, hex);
    mtcp_close(m, s);
    mtcp_close(m, ep);
    mtcp_destroy_context(m);
    mtcp_destroy();
    free(buf);
    return 0;
}
