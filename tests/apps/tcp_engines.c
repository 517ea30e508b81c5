/*
 * tcp_engines.c - a native Sluice TCP echo server and client with one
 * engine per thread (<sluice/engine.h>), for the integration tests
 * (tests/integration/dataplane.sh) and as an example of the engine API.
 *
 *   tcp_engines server PORT ENGINES TOTAL
 *       ENGINES threads, thread k on engine k (thread 0 on engine 0, the
 *       shared one; the others call sluice_engine_start), each listening
 *       on PORT and echoing what arrives until the peer closes. Prints
 *       "tcp_engines: ready" once every engine listens; ends once TOTAL
 *       connections were served in all (or after 300 s).
 *   tcp_engines client ADDR PORT ENGINES TOTAL SIZE [PARALLEL]
 *       ENGINES threads as above; thread k makes its share of TOTAL
 *       connections, PARALLEL (default 8) at a time, each sending SIZE
 *       bytes (a pattern of its own), reading them back and checking every
 *       byte, then closing.
 *
 * A client retries a refused connect for its first 20 s until one works
 * (the server may not listen yet). Both print, per engine, "tcp_engines:
 * engine K conns N" (connections served or made by that engine's thread),
 * "tcp_engines: N connections in S s: R per s; cpu C s" (from the moment
 * every engine is up; the process's CPU time) and the engine's counters
 * tcp_conns_opened, tcp_rx_segments and eng_steered_in as "tcp_engines:
 * engine K stat NAME VALUE". Exit 0 when every connection did what was
 * asked, 1 otherwise, 2 for bad arguments. The network comes from the
 * environment (SLUICE_NET_DEVARGS, SLUICE_NET_ADDR, SLUICE_NET_QUEUES:
 * docs/config.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <sluice/engine.h>

#define MAX_ENGINES 64
#define MAX_CONNS 256   /* per thread, at once */
#define DEADLINE_S 300
#define REFUSED_RETRY_S 20 /* a client retries refused connects this long, until one works */

struct conn {
    int qd;            /* -1: free */
    long id;           /* client: which connection (its byte pattern) */
    demi_qtoken_t qt;  /* the pending connect or pop */
    bool connected;    /* client: qt is a pop, not the connect */
    uint32_t got;      /* client: bytes read back */
};

struct worker {
    int engine;
    pthread_t thread;
    long conns;        /* served (server) or made and checked (client) */
    long failed;
    long next, last;   /* client: connection ids [next, last) still to start */
    uint64_t started_s;
    int listen_qd;
    demi_qtoken_t accept_qt;
    struct conn c[MAX_CONNS];
};

static struct {
    bool server;
    struct sockaddr_in addr;
    int engines;
    long total;
    uint32_t size;
    int parallel;
} o;

static struct worker workers[MAX_ENGINES];
static atomic_long done_total; /* connections ended, all engines */
static atomic_int threads_done; /* workers whose own work is over */
static pthread_barrier_t ready;

static uint64_t now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

/* CLOCK_MONOTONIC in seconds. */
static double now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const struct worker *w, const char *what, int err)
{
    fprintf(stderr, "tcp_engines: engine %d: %s: %s\n", w->engine, what, strerror(err));
}

/* Byte i of connection id's request. */
static uint8_t pattern(long id, uint32_t i)
{
    return (uint8_t)((uint64_t)id * 2654435761u + i * 40503u + (i >> 8));
}

static struct conn *conn_of(struct worker *w, int qd)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (w->c[i].qd == qd)
            return &w->c[i];
    return NULL;
}

static struct conn *conn_free(struct worker *w)
{
    return conn_of(w, -1);
}

/* Ends c: closed, counted (ok or failed), its slot free. */
static void conn_end(struct worker *w, struct conn *c, bool ok)
{
    demi_close(c->qd);
    c->qd = -1;
    c->qt = 0;
    if (ok)
        w->conns++;
    else
        w->failed++;
    atomic_fetch_add(&done_total, 1);
}

static bool pop(struct worker *w, struct conn *c)
{
    int rc = demi_pop(&c->qt, c->qd);

    if (rc) {
        report(w, "demi_pop", rc);
        return false;
    }
    return true;
}

/* A pop's result taken: true when it failed (the connection then ended,
 * failed). */
static bool pop_failed(struct worker *w, struct conn *c, const demi_qresult_t *qr)
{
    c->qt = 0;
    if (qr->qr_opcode != DEMI_OPC_FAILED)
        return false;
    report(w, "pop", (int)qr->qr_ret);
    conn_end(w, c, false);
    return true;
}

/* ---- server ---- */

static void server_accept(struct worker *w, demi_qresult_t *qr)
{
    struct conn *c;
    int rc;

    w->accept_qt = 0;
    if (qr->qr_opcode == DEMI_OPC_FAILED) {
        report(w, "accept", (int)qr->qr_ret);
        w->failed++;
    } else if ((c = conn_free(w)) == NULL) {
        fprintf(stderr, "tcp_engines: engine %d: more than %d connections at once\n", w->engine, MAX_CONNS);
        demi_close(qr->qr_value.ares.qd);
        w->failed++;
    } else {
        c->qd = qr->qr_value.ares.qd;
        if (!pop(w, c))
            conn_end(w, c, false);
    }
    if ((rc = demi_accept(&w->accept_qt, w->listen_qd)) != 0) {
        report(w, "demi_accept", rc);
        w->failed++;
    }
}

/* Echo: what arrives goes back (the push takes its own reference). */
static void server_pop(struct worker *w, struct conn *c, demi_qresult_t *qr)
{
    demi_sgarray_t sga = qr->qr_value.sga;
    demi_qtoken_t qt;
    int rc;

    if (pop_failed(w, c, qr))
        return;
    if (sga.sga_segs[0].sgaseg_len == 0) { /* the peer closed: served */
        demi_sgafree(&sga);
        conn_end(w, c, true);
        return;
    }
    rc = demi_push(&qt, c->qd, &sga);
    demi_sgafree(&sga);
    if (rc) {
        report(w, "demi_push", rc);
        conn_end(w, c, false);
        return;
    }
    if (!pop(w, c))
        conn_end(w, c, false);
}

static int server_listen(struct worker *w, uint16_t port)
{
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(port)};
    int one = 1, rc = demi_socket(&w->listen_qd, AF_INET, SOCK_STREAM, 0);

    if (rc)
        return rc;
    demi_setsockopt(w->listen_qd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if ((rc = demi_bind(w->listen_qd, (struct sockaddr *)&any, sizeof(any))) != 0 ||
        (rc = demi_listen(w->listen_qd, 1024)) != 0 || (rc = demi_accept(&w->accept_qt, w->listen_qd)) != 0)
        return rc;
    return 0;
}

/* ---- client ---- */

/* Opens connection id in slot c (counted as ended on failure). */
static void client_open(struct worker *w, struct conn *c, long id)
{
    int qd, rc;

    if ((rc = demi_socket(&qd, AF_INET, SOCK_STREAM, 0)) != 0) {
        report(w, "demi_socket", rc);
        w->failed++;
        atomic_fetch_add(&done_total, 1);
        return;
    }
    c->qd = qd;
    c->id = id;
    c->got = 0;
    c->connected = false;
    if ((rc = demi_connect(&c->qt, qd, (struct sockaddr *)&o.addr, sizeof(o.addr))) != 0) {
        report(w, "demi_connect", rc);
        conn_end(w, c, false);
    }
}

static void client_start(struct worker *w, struct conn *c)
{
    if (w->next < w->last)
        client_open(w, c, w->next++);
}

/* The request goes out (a pattern of the connection's own), and a pop
 * waits for its echo. */
static void client_connected(struct worker *w, struct conn *c, demi_qresult_t *qr)
{
    demi_sgarray_t sga;
    demi_qtoken_t qt;
    int rc;

    c->qt = 0;
    c->connected = true;
    if (qr->qr_opcode == DEMI_OPC_FAILED && qr->qr_ret == ECONNREFUSED && w->conns == 0 &&
        now_s() < w->started_s + REFUSED_RETRY_S) {
        /* the server's engines may not listen yet (over memif its network
         * comes up with ours): the same connection again */
        long id = c->id;
        demi_close(c->qd);
        c->qd = -1;
        client_open(w, c, id);
        return;
    }
    if (qr->qr_opcode == DEMI_OPC_FAILED) {
        report(w, "connect", (int)qr->qr_ret);
        conn_end(w, c, false);
        return;
    }
    sga = demi_sgaalloc(o.size);
    if (sga.sga_numsegs == 0) {
        report(w, "demi_sgaalloc", errno);
        conn_end(w, c, false);
        return;
    }
    for (uint32_t i = 0; i < o.size; i++)
        ((uint8_t *)sga.sga_segs[0].sgaseg_buf)[i] = pattern(c->id, i);
    rc = demi_push(&qt, c->qd, &sga);
    demi_sgafree(&sga);
    if (rc)
        report(w, "demi_push", rc);
    if (rc || !pop(w, c))
        conn_end(w, c, false);
}

static bool echo_matches(const struct conn *c, const uint8_t *p, uint32_t len)
{
    if (c->got + len > o.size)
        return false;
    for (uint32_t i = 0; i < len; i++)
        if (p[i] != pattern(c->id, c->got + i))
            return false;
    return true;
}

/* Part of the echo: checked byte by byte; the whole of it ends the
 * connection (we close first) and starts the next. */
static void client_pop(struct worker *w, struct conn *c, demi_qresult_t *qr)
{
    demi_sgarray_t sga = qr->qr_value.sga;
    uint32_t len;

    if (pop_failed(w, c, qr))
        return;
    len = sga.sga_segs[0].sgaseg_len;
    if (len == 0 || !echo_matches(c, sga.sga_segs[0].sgaseg_buf, len)) {
        fprintf(stderr, "tcp_engines: engine %d: connection %ld: %s after %u of %u bytes\n", w->engine, c->id,
                len == 0 ? "end of stream" : "bytes differ", c->got, o.size);
        demi_sgafree(&sga);
        conn_end(w, c, false);
        return;
    }
    c->got += len;
    demi_sgafree(&sga);
    if (c->got < o.size) {
        if (!pop(w, c))
            conn_end(w, c, false);
        return;
    }
    conn_end(w, c, true);
    client_start(w, c);
}

/* ---- the loop ---- */

static void dispatch(struct worker *w, demi_qresult_t *qr)
{
    struct conn *c;

    if (o.server && qr->qr_qd == w->listen_qd && qr->qr_qt == w->accept_qt) {
        server_accept(w, qr);
        return;
    }
    c = conn_of(w, qr->qr_qd);
    if (c == NULL || qr->qr_qt != c->qt) {
        if (qr->qr_opcode == DEMI_OPC_POP)
            demi_sgafree(&qr->qr_value.sga); /* a push's result, or a stale op */
        return;
    }
    if (o.server)
        server_pop(w, c, qr);
    else if (!c->connected)
        client_connected(w, c, qr);
    else
        client_pop(w, c, qr);
}

static bool finished(const struct worker *w)
{
    if (o.server)
        return atomic_load(&done_total) >= o.total;
    if (w->next < w->last)
        return false;
    for (int i = 0; i < MAX_CONNS; i++)
        if (w->c[i].qd >= 0)
            return false;
    return true;
}

static void print_stats(int engine)
{
    static const char *const want[] = {"tcp_conns_opened", "tcp_rx_segments", "eng_steered_in", "tcp_drop_no_conn"};
    const char *names[256];
    uint64_t values[256];
    int n = 0;

    if (sluice_engine_stats(engine, names, values, 256, &n) != 0)
        return;
    for (int i = 0; i < n && i < 256; i++)
        for (size_t j = 0; j < sizeof(want) / sizeof(want[0]); j++)
            if (strcmp(names[i], want[j]) == 0)
                printf("tcp_engines: engine %d stat %s %llu\n", engine, names[i], (unsigned long long)values[i]);
}

static void *run(void *arg)
{
    struct worker *w = arg;
    uint64_t deadline = now_s() + DEADLINE_S;
    int rc;

    if (w->engine > 0 && (rc = sluice_engine_start(w->engine, -1)) != 0) {
        report(w, "sluice_engine_start", rc);
        w->failed++;
        pthread_barrier_wait(&ready);
        return NULL;
    }
    if (sluice_engine_self() != w->engine) {
        fprintf(stderr, "tcp_engines: thread %d is on engine %d\n", w->engine, sluice_engine_self());
        w->failed++;
    }
    if (o.server && (rc = server_listen(w, ntohs(o.addr.sin_port))) != 0) {
        report(w, "listen", rc);
        w->failed++;
    }
    pthread_barrier_wait(&ready);
    w->started_s = now_s();
    if (!o.server)
        for (int i = 0; i < o.parallel; i++)
            client_start(w, &w->c[i]);
    while (w->failed == 0 && !finished(w) && now_s() < deadline) {
        demi_qresult_t qrs[64];
        int n = 0;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 100000000};
        if (demi_wait_next_n(qrs, 64, &n, &ts) == 0)
            for (int i = 0; i < n; i++)
                dispatch(w, &qrs[i]);
    }
    if (!finished(w) && w->failed == 0) {
        fprintf(stderr, "tcp_engines: engine %d: not done after %d s\n", w->engine, DEADLINE_S);
        w->failed++;
    }
    /* Keep the engine going until every engine is done: the device goes
     * on delivering to its queue segments of the others' connections,
     * which only this engine can hand over (an engine that stops leaves
     * its queue unread: docs/DESIGN.md "Engines per thread"). */
    atomic_fetch_add(&threads_done, 1);
    /* and then 0.5 s more: a connection's FIN leaves, or is sent again,
     * only while its engine is polled, and the peer (a Linux server
     * counting closes) must see every one before this process exits */
    double linger_until = -1;
    while (now_s() < deadline) {
        if (atomic_load(&threads_done) >= o.engines) {
            if (linger_until < 0)
                linger_until = now_sec() + 0.5;
            else if (now_sec() >= linger_until)
                break;
        }
        demi_qresult_t qrs[64];
        int n = 0;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
        if (demi_wait_next_n(qrs, 64, &n, &ts) == 0)
            for (int i = 0; i < n; i++)
                dispatch(w, &qrs[i]);
    }
    print_stats(w->engine);
    if (w->engine > 0 && (rc = sluice_engine_stop()) != 0) {
        report(w, "sluice_engine_stop", rc);
        w->failed++;
    }
    return NULL;
}

static int usage(void)
{
    fprintf(stderr, "usage: tcp_engines server PORT ENGINES TOTAL\n"
                    "       tcp_engines client ADDR PORT ENGINES TOTAL SIZE [PARALLEL]\n");
    return 2;
}

static int parse(int argc, char **argv)
{
    int i = 2;

    if (argc < 2)
        return -1;
    o.server = strcmp(argv[1], "server") == 0;
    if (!o.server && strcmp(argv[1], "client") != 0)
        return -1;
    if (argc < (o.server ? 5 : 7) || argc > (o.server ? 5 : 8))
        return -1;
    o.addr.sin_family = AF_INET;
    if (!o.server && inet_pton(AF_INET, argv[i++], &o.addr.sin_addr) != 1)
        return -1;
    o.addr.sin_port = htons((uint16_t)atoi(argv[i++]));
    o.engines = atoi(argv[i++]);
    o.total = atol(argv[i++]);
    o.size = o.server ? 0 : (uint32_t)atol(argv[i++]);
    o.parallel = !o.server && i < argc ? atoi(argv[i]) : 8;
    if (o.engines < 1 || o.engines > MAX_ENGINES || o.total < 1 || o.parallel < 1 || o.parallel > MAX_CONNS ||
        (!o.server && (o.size < 1 || o.size > 1u << 20)))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    long conns = 0, failed = 0;
    int rc;

    if (parse(argc, argv) != 0)
        return usage();
    if ((rc = demi_init(NULL)) != 0) {
        fprintf(stderr, "tcp_engines: demi_init: %s\n", strerror(rc));
        return 1;
    }
    pthread_barrier_init(&ready, NULL, (unsigned)o.engines + 1);
    for (int k = 0; k < o.engines; k++) {
        struct worker *w = &workers[k];
        w->engine = k;
        w->next = o.total * k / o.engines;
        w->last = o.total * (k + 1) / o.engines;
        for (int i = 0; i < MAX_CONNS; i++)
            w->c[i].qd = -1;
        if (k > 0 && pthread_create(&w->thread, NULL, run, w) != 0) {
            fprintf(stderr, "tcp_engines: pthread_create failed\n");
            return 1;
        }
    }
    /* thread 0 (this one) serves engine 0: the others start their engines
     * meanwhile, and all wait for each other's listeners at the barrier */
    pthread_t t0;
    if (pthread_create(&t0, NULL, run, &workers[0]) != 0)
        return 1;
    pthread_barrier_wait(&ready);
    printf("tcp_engines: ready\n");
    fflush(stdout);
    double t_start = now_sec();
    pthread_join(t0, NULL);
    for (int k = 1; k < o.engines; k++)
        pthread_join(workers[k].thread, NULL);
    for (int k = 0; k < o.engines; k++) {
        printf("tcp_engines: engine %d conns %ld failed %ld\n", k, workers[k].conns, workers[k].failed);
        conns += workers[k].conns;
        failed += workers[k].failed;
    }
    printf("tcp_engines: %ld connections, %ld failed\n", conns, failed);
    double secs = now_sec() - t_start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("tcp_engines: %ld connections in %.3f s: %.0f per s; cpu %.3f s\n", conns, secs,
           secs > 0 ? (double)conns / secs : 0.0,
           (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    return failed == 0 && conns == o.total ? 0 : 1;
}
