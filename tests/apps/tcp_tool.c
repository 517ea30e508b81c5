/*
 * tcp_tool.c - a native Sluice TCP program (public demi API and
 * libsluice only) for the integration tests and for trying TCP by hand.
 *
 *   tcp_tool server PORT [ROLE] [options]
 *       ROLE: --sink (default: read to end of stream), --echo (send back
 *       what arrives), --source BYTES (send BYTES, then close), --hold
 *       (read, expecting nothing, until the peer closes)
 *   tcp_tool client ADDR PORT MODE [options]
 *       --send BYTES      send BYTES, then close
 *       --recv BYTES      read to end of stream (BYTES > 0: expect exactly that many)
 *       --rr N            N exchanges: push --size bytes, read them back (the peer echoes)
 *       --hold N          open N connections at once, hold them --hold-ms, close them
 *       --timewait MSL_MS close first (TIME_WAIT), check that the same 4-tuple is refused at
 *                         once and works again after 2 * MSL_MS
 *   options:
 *       --conns N         client: N connections one after the other (default 1);
 *                         server: exit after N connections closed (default 0: never)
 *       --size BYTES      request size of --rr (default 1024)
 *       --chunk BYTES     bytes per push (default 65536)
 *       --depth N         pushes in flight per connection (default 16)
 *       --wait-eof        after sending, read until the peer closes, then close
 *       --close-after-ms MS  wait MS after the connection is done before closing
 *       --linger0         close with SO_LINGER {1, 0}: an RST instead of a FIN
 *       --expect-reset    the peer resets: a read failing ECONNRESET is success
 *       --ping            --hold: echo one byte over every connection once all are up
 *       --hold-ms MS      --hold: how long to hold (default 1000)
 *       --parallel N      --hold: connects in flight at most (default 256)
 *       --bind-port P     client: bind local port P before connecting
 *       --linger-ms MS    drive the stack MS after the last close (default 500), so FINs finish
 *       --seed N          seed of the bytes sent (default 1)
 *       --quiet           no line per connection
 *
 * Prints "tcp_tool: ..." lines: one per connection with bytes, SHA-256 and
 * goodput (MiB/s) each way, a summary, and every stack counter whose name
 * starts with "tcp_" (and the fault injector's) as "tcp_tool: stat NAME
 * VALUE". Exit 0 when every connection did what was asked, 1 otherwise,
 * 2 for bad arguments. The network comes from the environment
 * (SLUICE_NET_DEVARGS, SLUICE_NET_ADDR, ...: docs/config.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <sluice/stats.h>
#include <sodium.h>

enum role { ROLE_SINK, ROLE_ECHO, ROLE_SOURCE, ROLE_HOLD, ROLE_RR };

struct opts {
    bool server;
    const char *addr;
    int port;
    enum role role;
    uint64_t bytes;      /* --source/--send BYTES, --recv BYTES (0: any) */
    long rr;             /* exchanges per connection */
    long hold;           /* --hold N */
    long timewait_msl;   /* --timewait MSL_MS */
    long conns;
    uint32_t size, chunk;
    unsigned depth;
    bool wait_eof, linger0, expect_reset, ping, quiet;
    long close_after_ms, hold_ms, linger_ms, parallel;
    int bind_port;
    uint64_t seed;
};

struct pending_push {
    demi_qtoken_t qt;
    demi_sgarray_t sga;
};

struct conn {
    int qd;
    bool connected, eof, closing, ok, pop_blocked;
    demi_qtoken_t connect_qt, pop_qt; /* 0: none pending */
    struct pending_push *ring;        /* pushes in flight, oldest at head */
    unsigned head, n;
    uint64_t tx_bytes, rx_bytes, tx_target;
    crypto_hash_sha256_state tx_sha, rx_sha;
    uint64_t xs;                      /* pattern state of the bytes sent */
    uint64_t t_start, t_last, close_at; /* ns */
    long rr_done;
    uint8_t *rr_req;                  /* --rr: the request, to check the echo */
    uint32_t rr_got;
    struct sockaddr_in peer;
};

static struct opts o = {
    .conns = 1, .size = 1024, .chunk = 65536, .depth = 16, .hold_ms = 1000, .linger_ms = 500, .parallel = 256,
    .seed = 1,
};
static struct conn **table; /* by qd */
static int table_len;
static long n_open, n_closed, n_failed, n_started;
static uint64_t sum_tx, sum_rx;
static int listen_qd = -1;
static demi_qtoken_t accept_qt;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what, int err)
{
    fprintf(stderr, "tcp_tool: %s: %s\n", what, strerror(err));
}

/* ---- bytes ---- */

static void pattern(uint64_t *state, uint8_t *p, size_t len)
{
    uint64_t x = *state;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
    for (; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
    *state = x;
}

static void sha_hex(crypto_hash_sha256_state *st, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_final(st, h);
    for (size_t i = 0; i < sizeof(h); i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

static double mib_per_s(uint64_t bytes, uint64_t ns)
{
    return ns ? (double)bytes / (1024.0 * 1024.0) / ((double)ns / 1e9) : 0.0;
}

/* ---- the connection table ---- */

static struct conn *conn_new(int qd)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    if (qd >= table_len) {
        int len = table_len ? table_len : 1024;
        while (len <= qd)
            len *= 2;
        struct conn **t = realloc(table, (size_t)len * sizeof(*t));
        if (t == NULL) {
            free(c);
            return NULL;
        }
        memset(t + table_len, 0, (size_t)(len - table_len) * sizeof(*t));
        table = t;
        table_len = len;
    }
    c->ring = calloc(o.depth, sizeof(*c->ring));
    if (c->ring == NULL) {
        free(c);
        return NULL;
    }
    c->qd = qd;
    c->ok = true;
    c->xs = o.seed * 0x9e3779b97f4a7c15ull + (uint64_t)n_started + 1;
    crypto_hash_sha256_init(&c->tx_sha);
    crypto_hash_sha256_init(&c->rx_sha);
    c->t_start = c->t_last = now_ns();
    table[qd] = c;
    n_open++;
    n_started++;
    return c;
}

static struct conn *conn_of(int qd)
{
    return qd >= 0 && qd < table_len ? table[qd] : NULL;
}

static void conn_summary(struct conn *c)
{
    char txh[65], rxh[65], who[32];
    uint64_t ns = c->t_last - c->t_start;

    sha_hex(&c->tx_sha, txh);
    sha_hex(&c->rx_sha, rxh);
    snprintf(who, sizeof(who), "%s:%u", inet_ntoa(c->peer.sin_addr), ntohs(c->peer.sin_port));
    if (c->tx_bytes > 0)
        printf("tcp_tool: conn %s: sent %" PRIu64 " bytes sha256 %s in %.3f s (%.1f MiB/s)\n", who, c->tx_bytes,
               txh, (double)ns / 1e9, mib_per_s(c->tx_bytes, ns));
    if (c->rx_bytes > 0 || c->tx_bytes == 0)
        printf("tcp_tool: conn %s: received %" PRIu64 " bytes sha256 %s in %.3f s (%.1f MiB/s)\n", who,
               c->rx_bytes, rxh, (double)ns / 1e9, mib_per_s(c->rx_bytes, ns));
}

/* Closes c (after the pushes in flight: demi_close would cancel them) and
 * forgets it. Pending pops are cancelled; their results are ignored. */
static void conn_close(struct conn *c)
{
    int rc;

    if (o.linger0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        rc = demi_setsockopt(c->qd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        if (rc != 0) {
            fail("setsockopt(SO_LINGER)", rc);
            c->ok = false;
        }
    }
    for (unsigned i = 0; i < c->n; i++)
        demi_sgafree(&c->ring[(c->head + i) % o.depth].sga);
    rc = demi_close(c->qd);
    if (rc != 0) {
        fail("close", rc);
        c->ok = false;
    }
    if (o.role == ROLE_SINK && o.bytes > 0 && c->rx_bytes != o.bytes && !o.expect_reset) {
        fprintf(stderr, "tcp_tool: received %" PRIu64 " bytes, expected %" PRIu64 "\n", c->rx_bytes, o.bytes);
        c->ok = false;
    }
    if (!o.quiet)
        conn_summary(c);
    sum_tx += c->tx_bytes;
    sum_rx += c->rx_bytes;
    if (!c->ok)
        n_failed++;
    n_open--;
    n_closed++;
    table[c->qd] = NULL;
    free(c->rr_req);
    free(c->ring);
    free(c);
}

/* ---- operations ---- */

static void post_pop(struct conn *c)
{
    int rc = demi_pop(&c->pop_qt, c->qd);

    if (rc != 0) {
        fail("pop", rc);
        c->ok = false;
        c->pop_qt = 0;
        c->closing = true;
    }
}

/* Pushes sga (ownership passes to the ring; freed when the push ends). */
static bool push_sga(struct conn *c, demi_sgarray_t sga)
{
    struct pending_push *p = &c->ring[(c->head + c->n) % o.depth];
    int rc = demi_push(&p->qt, c->qd, &sga);

    if (rc != 0) {
        fail("push", rc);
        demi_sgafree(&sga);
        c->ok = false;
        c->closing = true;
        return false;
    }
    p->sga = sga;
    c->n++;
    return true;
}

/* Pushes new pattern bytes of len, hashing them. */
static bool push_new(struct conn *c, uint32_t len, uint8_t *copy_out)
{
    demi_sgarray_t sga = demi_sgaalloc(len);

    if (sga.sga_numsegs == 0) {
        fail("sgaalloc", errno);
        c->ok = false;
        c->closing = true;
        return false;
    }
    pattern(&c->xs, sga.sga_segs[0].sgaseg_buf, len);
    if (copy_out != NULL)
        memcpy(copy_out, sga.sga_segs[0].sgaseg_buf, len);
    crypto_hash_sha256_update(&c->tx_sha, sga.sga_segs[0].sgaseg_buf, len);
    c->tx_bytes += len;
    return push_sga(c, sga);
}

static void fill_source(struct conn *c)
{
    while (!c->closing && c->n < o.depth && c->tx_bytes < c->tx_target) {
        uint64_t left = c->tx_target - c->tx_bytes;
        if (!push_new(c, (uint32_t)(left < o.chunk ? left : o.chunk), NULL))
            return;
    }
}

static void rr_next(struct conn *c)
{
    if (c->rr_req == NULL && (c->rr_req = malloc(o.size)) == NULL) {
        fail("malloc", ENOMEM);
        c->ok = false;
        c->closing = true;
        return;
    }
    c->rr_got = 0;
    push_new(c, o.size, c->rr_req);
}

/* Starts what c is for, once connected (or accepted). */
static void start_role(struct conn *c)
{
    c->connected = true;
    c->t_start = c->t_last = now_ns();
    switch (o.role) {
    case ROLE_SOURCE:
        c->tx_target = o.bytes;
        fill_source(c);
        if (o.wait_eof || o.expect_reset)
            post_pop(c);
        break;
    case ROLE_RR:
        rr_next(c);
        post_pop(c);
        break;
    default:
        post_pop(c);
    }
}

/* Whether c has done its job and may close (or start its close delay). */
static bool done_with(const struct conn *c)
{
    if (c->closing)
        return c->n == 0;
    switch (o.role) {
    case ROLE_SINK:
    case ROLE_HOLD:
        return c->eof;
    case ROLE_ECHO:
        return c->eof && c->n == 0;
    case ROLE_SOURCE:
        return c->tx_bytes >= c->tx_target && c->n == 0 && (!(o.wait_eof || o.expect_reset) || c->eof);
    case ROLE_RR:
        return c->rr_done >= o.rr && c->n == 0;
    }
    return false;
}

static void maybe_close(struct conn *c)
{
    if (!done_with(c))
        return;
    if (o.close_after_ms > 0 && !c->closing) {
        if (c->close_at == 0)
            c->close_at = now_ns() + (uint64_t)o.close_after_ms * 1000000u;
        return; /* the main loop closes it at close_at */
    }
    conn_close(c);
}

static void on_pop(struct conn *c, demi_qresult_t *qr)
{
    demi_sgarray_t sga;
    uint32_t len;

    c->pop_qt = 0;
    if (qr->qr_opcode == DEMI_OPC_FAILED) {
        int err = (int)qr->qr_ret;
        if (err == ECONNRESET && o.expect_reset) {
            printf("tcp_tool: connection reset by the peer, as expected\n");
        } else {
            fail("pop", err);
            c->ok = false;
        }
        c->eof = true;
        c->closing = true;
        maybe_close(c);
        return;
    }
    sga = qr->qr_value.sga;
    len = sga.sga_segs[0].sgaseg_len;
    c->t_last = now_ns();
    if (len == 0) {
        demi_sgafree(&sga);
        c->eof = true;
        if (o.expect_reset) {
            fprintf(stderr, "tcp_tool: end of stream where a reset was expected\n");
            c->ok = false;
        }
        if (o.role == ROLE_RR && c->rr_done < o.rr) {
            fprintf(stderr, "tcp_tool: end of stream after %ld of %ld exchanges\n", c->rr_done, o.rr);
            c->ok = false;
            c->closing = true;
        }
        maybe_close(c);
        return;
    }
    crypto_hash_sha256_update(&c->rx_sha, sga.sga_segs[0].sgaseg_buf, len);
    c->rx_bytes += len;
    switch (o.role) {
    case ROLE_ECHO:
        if (!push_sga(c, sga))
            return;
        if (c->n == o.depth) {
            c->pop_blocked = true; /* read more once a push is done */
            return;
        }
        break;
    case ROLE_RR:
        if (c->rr_got + len > o.size || memcmp(sga.sga_segs[0].sgaseg_buf, c->rr_req + c->rr_got, len) != 0) {
            fprintf(stderr, "tcp_tool: exchange %ld: the reply differs from the request\n", c->rr_done);
            c->ok = false;
            c->closing = true;
            demi_sgafree(&sga);
            maybe_close(c);
            return;
        }
        c->rr_got += len;
        demi_sgafree(&sga);
        if (c->rr_got == o.size && ++c->rr_done < o.rr)
            rr_next(c);
        if (c->rr_done >= o.rr) {
            maybe_close(c);
            return;
        }
        break;
    default:
        demi_sgafree(&sga);
    }
    post_pop(c);
}

static void on_push(struct conn *c, demi_qresult_t *qr)
{
    struct pending_push *p = &c->ring[c->head];

    if (qr->qr_opcode == DEMI_OPC_FAILED) {
        if (!(o.expect_reset && (qr->qr_ret == ECONNRESET || qr->qr_ret == EPIPE))) {
            fail("push", (int)qr->qr_ret);
            c->ok = false;
        }
        c->closing = true;
    }
    demi_sgafree(&p->sga);
    c->head = (c->head + 1) % o.depth;
    c->n--;
    c->t_last = now_ns();
    if (o.role == ROLE_SOURCE)
        fill_source(c);
    if (c->pop_blocked && !c->closing) {
        c->pop_blocked = false;
        post_pop(c);
    }
    maybe_close(c);
}

/* ---- client connections ---- */

static struct sockaddr_in sin_of(const char *addr, int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &sin.sin_addr);
    return sin;
}

static bool open_client(void)
{
    struct sockaddr_in dst = sin_of(o.addr, o.port);
    struct conn *c;
    int qd, rc = demi_socket(&qd, AF_INET, SOCK_STREAM, 0);

    if (rc != 0) {
        fail("socket", rc);
        return false;
    }
    if (o.bind_port > 0) {
        struct sockaddr_in me = sin_of("0.0.0.0", o.bind_port);
        int one = 1;
        demi_setsockopt(qd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if ((rc = demi_bind(qd, (struct sockaddr *)&me, sizeof(me))) != 0) {
            fail("bind", rc);
            demi_close(qd);
            return false;
        }
    }
    c = conn_new(qd);
    if (c == NULL) {
        fail("conn", ENOMEM);
        demi_close(qd);
        return false;
    }
    c->peer = dst;
    rc = demi_connect(&c->connect_qt, qd, (struct sockaddr *)&dst, sizeof(dst));
    if (rc != 0) {
        fail("connect", rc);
        c->ok = false;
        c->closing = true;
        conn_close(c);
        return false;
    }
    return true;
}

static void on_connect(struct conn *c, demi_qresult_t *qr)
{
    c->connect_qt = 0;
    if (qr->qr_opcode == DEMI_OPC_FAILED) {
        fail("connect", (int)qr->qr_ret);
        c->ok = false;
        c->closing = true;
        conn_close(c);
        return;
    }
    start_role(c);
}

/* ---- the loop ---- */

static void on_accept(demi_qresult_t *qr)
{
    struct conn *c;
    int rc;

    accept_qt = 0;
    if (qr->qr_opcode == DEMI_OPC_FAILED) {
        fail("accept", (int)qr->qr_ret);
        n_failed++;
    } else if ((c = conn_new(qr->qr_value.ares.qd)) == NULL) {
        fail("conn", ENOMEM);
        demi_close(qr->qr_value.ares.qd);
        n_failed++;
    } else {
        memcpy(&c->peer, &qr->qr_value.ares.addr, sizeof(c->peer));
        start_role(c);
        maybe_close(c);
    }
    if ((rc = demi_accept(&accept_qt, listen_qd)) != 0) {
        fail("accept", rc);
        accept_qt = 0;
    }
}

static void dispatch(demi_qresult_t *qr)
{
    struct conn *c;

    if (qr->qr_qd == listen_qd && qr->qr_qt == accept_qt) {
        on_accept(qr);
        return;
    }
    c = conn_of(qr->qr_qd);
    if (c == NULL)
        goto stale;
    if (qr->qr_qt == c->connect_qt)
        on_connect(c, qr);
    else if (qr->qr_qt == c->pop_qt)
        on_pop(c, qr);
    else if (c->n > 0 && qr->qr_qt == c->ring[c->head].qt)
        on_push(c, qr);
    else
        goto stale;
    return;
stale: /* an op of a connection closed meanwhile (cancelled) */
    if (qr->qr_opcode == DEMI_OPC_POP)
        demi_sgafree(&qr->qr_value.sga);
}

/* Drives the stack for ms (results of ops that complete are handled). */
static void drive_ms(long ms)
{
    uint64_t end = now_ns() + (uint64_t)ms * 1000000u;

    for (uint64_t t = now_ns(); t < end; t = now_ns()) {
        demi_qresult_t qrs[16];
        int n = 0;
        uint64_t left = end - t;
        struct timespec ts = {.tv_sec = (time_t)(left / 1000000000u), .tv_nsec = (long)(left % 1000000000u)};
        if (demi_wait_next_n(qrs, 16, &n, &ts) == 0)
            for (int i = 0; i < n; i++)
                dispatch(&qrs[i]);
    }
}

/* Closes the connections whose close delay has passed, and held ones. */
static void timers(uint64_t hold_until)
{
    uint64_t t = now_ns();

    for (int qd = 0; qd < table_len; qd++) {
        struct conn *c = table[qd];
        if (c == NULL)
            continue;
        if (c->close_at != 0 && t >= c->close_at) {
            c->closing = true;
            if (c->n == 0)
                conn_close(c);
        } else if (hold_until != 0 && t >= hold_until && c->connected && !c->closing) {
            c->closing = true;
            if (c->n == 0)
                conn_close(c);
        }
    }
}

static void print_stats(void)
{
    int n = 0, rc = sluice_stats(NULL, NULL, 0, &n);

    if (rc != 0) {
        fail("sluice_stats", rc);
        return;
    }
    const char **names = calloc((size_t)n, sizeof(*names));
    uint64_t *values = calloc((size_t)n, sizeof(*values));
    if (names == NULL || values == NULL || sluice_stats(names, values, n, &n) != 0) {
        free(names);
        free(values);
        return;
    }
    for (int i = 0; i < n; i++)
        if (strncmp(names[i], "tcp_", 4) == 0 || strncmp(names[i], "fault_", 6) == 0)
            printf("tcp_tool: stat %s %" PRIu64 "\n", names[i], values[i]);
    free(names);
    free(values);
}

static int finish(uint64_t t0)
{
    uint64_t ns = now_ns() - t0;

    if (o.linger_ms > 0)
        drive_ms(o.linger_ms);
    printf("tcp_tool: %ld connections, %ld failed; %" PRIu64 " bytes sent, %" PRIu64
           " received in %.3f s (%.1f MiB/s)\n", n_closed, n_failed, sum_tx, sum_rx, (double)ns / 1e9,
           mib_per_s(sum_tx + sum_rx, ns));
    print_stats();
    fflush(stdout);
    return n_failed == 0 ? 0 : 1;
}

static int wait_loop(bool (*done)(void), uint64_t *hold_until)
{
    while (!done()) {
        demi_qresult_t qrs[64];
        int n = 0;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
        int rc = demi_wait_next_n(qrs, 64, &n, &ts);
        if (rc != 0 && rc != ETIMEDOUT) {
            fail("wait", rc);
            return 1;
        }
        for (int i = 0; i < n; i++)
            dispatch(&qrs[i]);
        timers(hold_until ? *hold_until : 0);
    }
    return 0;
}

static bool server_done(void)
{
    return o.conns > 0 && n_closed >= o.conns;
}

static int server(void)
{
    struct sockaddr_in any = sin_of("0.0.0.0", o.port);
    int rc, one = 1;
    uint64_t t0;

    if ((rc = demi_socket(&listen_qd, AF_INET, SOCK_STREAM, 0)) != 0)
        return fail("socket", rc), 1;
    demi_setsockopt(listen_qd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if ((rc = demi_bind(listen_qd, (struct sockaddr *)&any, sizeof(any))) != 0)
        return fail("bind", rc), 1;
    if ((rc = demi_listen(listen_qd, 4096)) != 0)
        return fail("listen", rc), 1;
    if ((rc = demi_accept(&accept_qt, listen_qd)) != 0)
        return fail("accept", rc), 1;
    printf("tcp_tool: listening on port %d\n", o.port);
    fflush(stdout);
    t0 = now_ns();
    if (wait_loop(server_done, NULL) != 0)
        n_failed++;
    /* forget the listener first: its cancelled accept is then a stale result */
    int lqd = listen_qd;
    listen_qd = -1;
    accept_qt = 0;
    demi_close(lqd);
    return finish(t0);
}

static long hold_established(void)
{
    long n = 0;

    for (int qd = 0; qd < table_len; qd++)
        if (table[qd] != NULL && table[qd]->connected)
            n++;
    return n;
}

static bool client_done(void)
{
    return n_open == 0 && n_started >= o.conns;
}

static bool hold_all_up(void)
{
    return hold_established() + n_closed >= o.hold || (n_open == 0 && n_started >= o.hold);
}

/* Connections pinged at once by --hold --ping. */
#define PING_BATCH 500

/* True when no pinged connection still waits for its echo (or its push). */
static bool no_pending_io(void)
{
    for (int qd = 0; qd < table_len; qd++) {
        struct conn *c = table[qd];
        if (c != NULL && c->tx_bytes > 0 && ((c->pop_qt != 0 && c->rx_bytes == 0) || c->n > 0))
            return false;
    }
    return true;
}

/* --hold N: N connections open at once (at most --parallel connecting). */
static int client_hold(uint64_t t0)
{
    uint64_t hold_until = 0;
    long up;

    while (n_started < o.hold) {
        while (n_started < o.hold && n_started - n_closed - hold_established() < o.parallel)
            if (!open_client())
                n_failed++;
        demi_qresult_t qrs[64];
        int n = 0;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
        demi_wait_next_n(qrs, 64, &n, &ts);
        for (int i = 0; i < n; i++)
            dispatch(&qrs[i]);
    }
    wait_loop(hold_all_up, NULL);
    up = hold_established();
    printf("tcp_tool: %ld connections established at once (%ld failed) in %.3f s\n", up, n_failed,
           (double)(now_ns() - t0) / 1e9);
    fflush(stdout);
    if (up < o.hold)
        n_failed += o.hold - up - n_failed > 0 ? o.hold - up - n_failed : 0;
    if (o.ping) {
        long pinged = 0;
        int qd = 0;
        uint64_t deadline = now_ns() + 60ull * 1000000000u;
        /* in batches: each push holds an mbuf until acknowledged, and
         * 10,000 at once would empty the default pool (mbuf.count 8191) */
        while (qd < table_len && now_ns() < deadline) {
            for (int k = 0; k < PING_BATCH && qd < table_len; qd++) {
                struct conn *c = table[qd];
                if (c != NULL && c->connected && !c->closing && push_new(c, 1, NULL)) {
                    pinged++;
                    k++;
                }
            }
            /* the echoes come back on the pops posted at connect */
            while (!no_pending_io() && now_ns() < deadline) {
                demi_qresult_t qrs[64];
                int n = 0;
                struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
                demi_wait_next_n(qrs, 64, &n, &ts);
                for (int i = 0; i < n; i++)
                    dispatch(&qrs[i]);
            }
        }
        long echoed = 0;
        for (int qd = 0; qd < table_len; qd++)
            if (table[qd] != NULL && table[qd]->rx_bytes == 1)
                echoed++;
        printf("tcp_tool: %ld of %ld held connections echoed a byte\n", echoed, pinged);
        if (echoed < pinged)
            n_failed += pinged - echoed;
    }
    hold_until = now_ns() + (uint64_t)o.hold_ms * 1000000u;
    o.conns = o.hold;
    wait_loop(client_done, &hold_until);
    return finish(t0);
}

static bool client_done_one(void)
{
    return n_open == 0;
}

/* Opens one connection at a time until --conns are done. */
static int client_sequential(uint64_t t0)
{
    while (n_started < o.conns) {
        if (!open_client())
            n_failed++;
        if (wait_loop(client_done_one, NULL) != 0)
            n_failed++;
    }
    return finish(t0);
}

/* One blocking connect from local port lport (0: ephemeral) with
 * SO_REUSEADDR, so that only the 4-tuple can be in the way. Returns 0 and
 * the connected qd, or the errno of bind, connect or its completion. */
static int connect_from(int lport, int *qd_out)
{
    struct sockaddr_in dst = sin_of(o.addr, o.port), me = sin_of("0.0.0.0", lport);
    demi_qtoken_t qt;
    demi_qresult_t qr;
    int qd, one = 1, rc = demi_socket(&qd, AF_INET, SOCK_STREAM, 0);

    if (rc != 0)
        return rc;
    demi_setsockopt(qd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lport > 0 && (rc = demi_bind(qd, (struct sockaddr *)&me, sizeof(me))) != 0) {
        printf("tcp_tool: bind to port %d: %s\n", lport, strerror(rc));
        goto out;
    }
    if ((rc = demi_connect(&qt, qd, (struct sockaddr *)&dst, sizeof(dst))) != 0) {
        printf("tcp_tool: connect from port %d: %s\n", lport, strerror(rc));
        goto out;
    }
    struct timespec ts = {.tv_sec = 10};
    if ((rc = demi_wait(&qr, qt, &ts)) != 0)
        goto out;
    if (qr.qr_opcode == DEMI_OPC_FAILED) {
        rc = (int)qr.qr_ret;
        goto out;
    }
    *qd_out = qd;
    return 0;
out:
    demi_close(qd);
    return rc;
}

/* Pushes len pattern bytes on qd and waits until they are acknowledged. */
static int push_wait(int qd, uint32_t len)
{
    demi_sgarray_t sga = demi_sgaalloc(len);
    demi_qtoken_t qt;
    demi_qresult_t qr;
    uint64_t xs = o.seed;
    int rc;

    if (sga.sga_numsegs == 0)
        return errno;
    pattern(&xs, sga.sga_segs[0].sgaseg_buf, len);
    rc = demi_push(&qt, qd, &sga);
    if (rc == 0)
        rc = demi_wait(&qr, qt, NULL);
    if (rc == 0 && qr.qr_opcode == DEMI_OPC_FAILED)
        rc = (int)qr.qr_ret;
    demi_sgafree(&sga);
    return rc;
}

/* --timewait MSL_MS: we close first, so our end of the 4-tuple waits in
 * TIME_WAIT for 2 MSL (RFC 9293 §3.6.1). A new connection on the same
 * 4-tuple must be refused at once (EADDRINUSE) and work after 2 MSL. */
static int client_timewait(uint64_t t0)
{
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    int qd, qd2, rc, lport;

    if ((rc = connect_from(o.bind_port, &qd)) != 0)
        return fail("first connect", rc), 1;
    if ((rc = demi_getsockname(qd, (struct sockaddr *)&me, &len)) != 0)
        return fail("getsockname", rc), 1;
    lport = ntohs(me.sin_port);
    if ((rc = push_wait(qd, o.size)) != 0)
        return fail("push", rc), 1;
    demi_close(qd);
    n_closed++;
    drive_ms(100); /* our FIN, the peer's FIN: we are in TIME_WAIT now */
    rc = connect_from(lport, &qd2);
    if (rc == 0) {
        printf("tcp_tool: FAIL: port %d reconnected to the same peer at once (no TIME_WAIT)\n", lport);
        demi_close(qd2);
        n_failed++;
    } else {
        printf("tcp_tool: the 4-tuple from port %d is refused during TIME_WAIT: %s\n", lport, strerror(rc));
        if (rc != EADDRINUSE)
            n_failed++;
    }
    drive_ms(2 * o.timewait_msl + 1000); /* the timer wheel may fire a little late */
    rc = connect_from(lport, &qd2);
    if (rc != 0) {
        printf("tcp_tool: FAIL: port %d cannot reconnect after 2 MSL (%ld ms): %s\n", lport, 2 * o.timewait_msl,
               strerror(rc));
        n_failed++;
    } else {
        printf("tcp_tool: port %d reconnected after TIME_WAIT expired (2 MSL = %ld ms)\n", lport,
               2 * o.timewait_msl);
        if ((rc = push_wait(qd2, o.size)) != 0) {
            fail("push after TIME_WAIT", rc);
            n_failed++;
        }
        demi_close(qd2);
        n_closed++;
    }
    return finish(t0);
}

static int usage(void)
{
    fprintf(stderr, "usage: tcp_tool server PORT [--sink|--echo|--source BYTES|--hold] [options]\n"
                    "       tcp_tool client ADDR PORT --send BYTES|--recv BYTES|--rr N|--hold N|--timewait MSL_MS "
                    "[options]\n(see the comment at the top of tcp_tool.c)\n");
    return 2;
}

static bool num(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Parses argv[i..] into o; false on a bad argument. */
static bool parse(int argc, char **argv, int i)
{
    long v;

    for (; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
#define ARG(name, min, max) (strcmp(a, name) == 0 && has && num(argv[++i], min, max, &v))
        if (strcmp(a, "--sink") == 0)
            o.role = ROLE_SINK;
        else if (strcmp(a, "--echo") == 0)
            o.role = ROLE_ECHO;
        else if (strcmp(a, "--hold") == 0 && o.server)
            o.role = ROLE_HOLD;
        else if (ARG("--source", 1, INT64_MAX) || ARG("--send", 1, INT64_MAX))
            o.role = ROLE_SOURCE, o.bytes = (uint64_t)v;
        else if (ARG("--recv", 0, INT64_MAX))
            o.role = ROLE_SINK, o.bytes = (uint64_t)v;
        else if (ARG("--rr", 1, 100000000))
            o.role = ROLE_RR, o.rr = v;
        else if (ARG("--hold", 1, 1000000))
            o.role = ROLE_HOLD, o.hold = v;
        else if (ARG("--timewait", 1, 600000))
            o.timewait_msl = v;
        else if (ARG("--conns", 0, 100000000))
            o.conns = v;
        else if (ARG("--size", 1, 1 << 30))
            o.size = (uint32_t)v;
        else if (ARG("--chunk", 1, 1 << 30))
            o.chunk = (uint32_t)v;
        else if (ARG("--depth", 1, 4096))
            o.depth = (unsigned)v;
        else if (ARG("--close-after-ms", 0, 3600000))
            o.close_after_ms = v;
        else if (ARG("--hold-ms", 0, 36000000))
            o.hold_ms = v;
        else if (ARG("--linger-ms", 0, 600000))
            o.linger_ms = v;
        else if (ARG("--parallel", 1, 1000000))
            o.parallel = v;
        else if (ARG("--bind-port", 1, 65535))
            o.bind_port = (int)v;
        else if (ARG("--seed", 0, INT64_MAX))
            o.seed = (uint64_t)v;
        else if (strcmp(a, "--wait-eof") == 0)
            o.wait_eof = true;
        else if (strcmp(a, "--linger0") == 0)
            o.linger0 = true;
        else if (strcmp(a, "--expect-reset") == 0)
            o.expect_reset = true;
        else if (strcmp(a, "--ping") == 0)
            o.ping = true;
        else if (strcmp(a, "--quiet") == 0)
            o.quiet = true;
        else {
            fprintf(stderr, "tcp_tool: bad argument '%s'\n", a);
            return false;
        }
#undef ARG
    }
    return true;
}

int main(int argc, char **argv)
{
    long port;
    uint64_t t0;
    int rc;

    if (argc >= 3 && strcmp(argv[1], "server") == 0 && num(argv[2], 1, 65535, &port)) {
        o.server = true;
        o.conns = 0;
        o.port = (int)port;
        if (!parse(argc, argv, 3))
            return usage();
    } else if (argc >= 4 && strcmp(argv[1], "client") == 0 && num(argv[3], 1, 65535, &port)) {
        struct in_addr a;
        o.addr = argv[2];
        o.port = (int)port;
        o.role = ROLE_SINK;
        if (inet_pton(AF_INET, o.addr, &a) != 1 || !parse(argc, argv, 4))
            return usage();
    } else {
        return usage();
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines reach a log file even if the test kills us */
    if (sodium_init() < 0)
        return fail("sodium_init", EIO), 1;
    if ((rc = demi_init(NULL)) != 0)
        return fail("demi_init", rc), 1;
    t0 = now_ns();
    if (o.server)
        return server();
    if (o.timewait_msl > 0)
        return client_timewait(t0);
    if (o.role == ROLE_HOLD)
        return client_hold(t0);
    return client_sequential(t0);
}
