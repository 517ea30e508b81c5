/*
 * raw_pingpong.c - the wire's floor: a raw Ethernet ping-pong over a
 * net_memif pair, DPDK only, no stack at all.
 *
 *   raw_pingpong server SOCKET [options]
 *       takes role=server on the memif socket SOCKET and sends every frame
 *       of our EtherType straight back (MAC addresses swapped); stops on
 *       the client's stop frame, or after --seconds. Prints
 *       "raw_pingpong: port started" once the client may connect.
 *   raw_pingpong client SOCKET [options]
 *       takes role=client and makes --count exchanges (after --warmup
 *       unmeasured ones, in which a frame lost for 100 ms is given up) of a message of --size bytes: the message is cut
 *       into frames of at most --mtu bytes of payload, all are sent, and
 *       the exchange ends when every frame has come back. Then it sends
 *       the stop frame and prints one line:
 *         raw_pingpong: size=BYTES frames=F n=N p50_us=.. p99_us=.. p999_us=.. mean_us=..
 *       (round-trip times in microseconds, CLOCK_MONOTONIC).
 *   options:
 *       --size BYTES      message size, 1..1048576 (default 64)
 *       --mtu BYTES       payload bytes per frame, 46..9000 (default 1500)
 *       --count N         measured exchanges, 1..100000000 (default 100000)
 *       --warmup N        unmeasured exchanges first (default 1000)
 *       --seconds S       stop measuring (client) or serving (server) after S s (default 30)
 *       --link-timeout-ms MS  wait at most MS for the memif peer (default 20000)
 *
 * DPDK starts the way Sluice starts it (core/runtime.c): --in-memory when
 * hugepages are mounted and free, else --no-huge with a private
 * --file-prefix and --no-shconf; --no-pci; lcore 0 allowed on every CPU of
 * our affinity, so that two processes are not pinned onto one core.
 * Exit status: 0 on success, 1 on a failure (EAL, port, link, a lost frame:
 * one line on stderr says which), 2 for bad arguments. Needs root.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "eal_args.h"

#define ETHERTYPE_BENCH 0x88B5 /* IEEE 802 local experimental */
#define BURST 32
#define MAX_FRAMES 1024
#define MAGIC_DATA 0x53
#define MAGIC_STOP 0x5A

struct opts {
    bool server;
    const char *socket;
    uint32_t size, mtu;
    long count, warmup, seconds, link_timeout_ms;
};

static struct opts o = {.size = 64, .mtu = 1500, .count = 100000, .warmup = 1000, .seconds = 30,
                        .link_timeout_ms = 20000};
static struct rte_mempool *pool;
static uint16_t port;
static struct rte_ether_addr our_mac;

/* Monotonic time in nanoseconds. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Starts the EAL with the memif device; returns 0 or -1 (message printed). */
static int start_eal(void)
{
    static char args[16][1100];
    char *argv[17];
    char lcores[1024];
    int argc = 0;

#define PUSH(...) snprintf(args[argc], sizeof(args[argc]), __VA_ARGS__), argv[argc] = args[argc], argc++
    PUSH("raw_pingpong");
    if (eal_hugepages_free(16)) {
        PUSH("--in-memory");
    } else {
        PUSH("--no-huge");
        PUSH("-m");
        PUSH("256");
        PUSH("--no-shconf");
        PUSH("--file-prefix=rawpp-%ld-%ld", (long)getpid(), (long)(now_ns() % 1000000000u));
    }
    PUSH("--no-pci");
    PUSH("--no-telemetry");
    PUSH("--log-level=4");
    PUSH("%s", eal_lcores_arg(lcores, sizeof(lcores)));
    PUSH("--vdev=net_memif0,role=%s,socket=%s", o.server ? "server" : "client", o.socket);
#undef PUSH
    argv[argc] = NULL;
    if (rte_eal_init(argc, argv) < 0) {
        fprintf(stderr, "raw_pingpong: DPDK EAL did not start: %s\n", rte_strerror(rte_errno));
        return -1;
    }
    return 0;
}

/* Configures and starts the memif port, waits for its link; 0 or -1. */
static int start_port(void)
{
    struct rte_eth_conf conf;
    struct rte_eth_link link;
    uint16_t id;
    bool found = false;
    int rc;

    RTE_ETH_FOREACH_DEV(id) {
        port = id;
        found = true;
        break;
    }
    if (!found) {
        fprintf(stderr, "raw_pingpong: no memif port (socket %s)\n", o.socket);
        return -1;
    }
    pool = rte_pktmbuf_pool_create("rawpp", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
    if (pool == NULL) {
        fprintf(stderr, "raw_pingpong: mbuf pool: %s\n", rte_strerror(rte_errno));
        return -1;
    }
    memset(&conf, 0, sizeof(conf));
    rc = rte_eth_dev_configure(port, 1, 1, &conf);
    rc = rc ? rc : rte_eth_rx_queue_setup(port, 0, 1024, (unsigned)rte_eth_dev_socket_id(port), NULL, pool);
    rc = rc ? rc : rte_eth_tx_queue_setup(port, 0, 1024, (unsigned)rte_eth_dev_socket_id(port), NULL);
    rc = rc ? rc : rte_eth_macaddr_get(port, &our_mac);
    if (rc != 0) {
        fprintf(stderr, "raw_pingpong: port setup: %s\n", strerror(rc < 0 ? -rc : rc));
        return -1;
    }
    /* The memif client connects to the server's (abstract) socket when the
     * port starts, and fails at once if the server is not listening yet:
     * try again every 50 ms until the link timeout. */
    uint64_t deadline = now_ns() + (uint64_t)o.link_timeout_ms * 1000000u;
    while ((rc = rte_eth_dev_start(port)) != 0) {
        if (now_ns() > deadline) {
            fprintf(stderr, "raw_pingpong: the memif port did not start within %ld ms: %s (is the server running?)\n",
                    o.link_timeout_ms, strerror(rc < 0 ? -rc : rc));
            return -1;
        }
        usleep(50000);
    }
    if (o.server) {
        /* a script starts the client after this line: a memif client that
         * connects before the server's port is started never links up */
        printf("raw_pingpong: port started\n");
        fflush(stdout);
    }
    do {
        memset(&link, 0, sizeof(link));
        rte_eth_link_get_nowait(port, &link);
        if (link.link_status == RTE_ETH_LINK_UP)
            return 0;
        usleep(1000);
    } while (now_ns() < deadline);
    fprintf(stderr, "raw_pingpong: the memif link did not come up within %ld ms (is the peer running?)\n",
            o.link_timeout_ms);
    return -1;
}

/* A frame of `payload` bytes (at least 46) to broadcast: our EtherType, the
 * first payload byte `magic`, then the frame index; NULL if no mbuf. */
static struct rte_mbuf *make_frame(uint32_t payload, uint8_t magic, uint16_t index)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
    if (m == NULL)
        return NULL;
    if (payload < 46)
        payload = 46;
    uint32_t len = (uint32_t)sizeof(struct rte_ether_hdr) + payload;
    /* frames larger than one data room are chained */
    struct rte_mbuf *seg = m;
    uint32_t left = len;
    for (;;) {
        uint16_t room = rte_pktmbuf_tailroom(seg);
        uint16_t take = (uint16_t)(left < room ? left : room);
        char *p = rte_pktmbuf_append(seg, take);
        memset(p, 0xA5, take);
        if (seg != m)
            m->pkt_len += take;
        left -= take;
        if (left == 0)
            break;
        struct rte_mbuf *next = rte_pktmbuf_alloc(pool);
        if (next == NULL) {
            rte_pktmbuf_free(m);
            return NULL;
        }
        seg->next = next;
        m->nb_segs++;
        seg = next;
    }
    struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
    rte_ether_addr_copy(&our_mac, &eh->src_addr);
    eh->ether_type = rte_cpu_to_be_16(ETHERTYPE_BENCH);
    uint8_t *d = (uint8_t *)(eh + 1);
    d[0] = magic;
    d[1] = (uint8_t)(index >> 8);
    d[2] = (uint8_t)index;
    return m;
}

/* Sends all n frames, retrying while the ring is full; 0 or -1. */
static int send_all(struct rte_mbuf **m, uint16_t n)
{
    uint16_t sent = 0;
    uint64_t deadline = now_ns() + 1000000000u;

    while (sent < n) {
        sent += rte_eth_tx_burst(port, 0, m + sent, (uint16_t)(n - sent));
        if (sent < n && now_ns() > deadline) {
            rte_pktmbuf_free_bulk(m + sent, (unsigned)(n - sent));
            fprintf(stderr, "raw_pingpong: the memif ring stayed full for 1 s\n");
            return -1;
        }
    }
    return 0;
}

/* Echo server: returns our EtherType's frames; 0 on the stop frame or
 * when --seconds are over. */
static int serve(void)
{
    struct rte_mbuf *rx[BURST], *tx[BURST];
    uint64_t deadline = now_ns() + (uint64_t)o.seconds * 1000000000u;
    long echoed = 0;

    printf("raw_pingpong: serving on %s\n", o.socket);
    fflush(stdout);
    while (now_ns() < deadline) {
        uint16_t n = rte_eth_rx_burst(port, 0, rx, BURST), k = 0;
        bool stop = false;
        for (uint16_t i = 0; i < n; i++) {
            struct rte_ether_hdr *eh = rte_pktmbuf_mtod(rx[i], struct rte_ether_hdr *);
            uint8_t *d = (uint8_t *)(eh + 1);
            if (rx[i]->data_len < sizeof(*eh) + 1 || eh->ether_type != rte_cpu_to_be_16(ETHERTYPE_BENCH)) {
                rte_pktmbuf_free(rx[i]);
                continue;
            }
            if (d[0] == MAGIC_STOP) {
                stop = true;
                rte_pktmbuf_free(rx[i]);
                continue;
            }
            rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
            rte_ether_addr_copy(&our_mac, &eh->src_addr);
            tx[k++] = rx[i];
        }
        if (k > 0 && send_all(tx, k) != 0)
            return -1;
        echoed += k;
        if (stop)
            break;
    }
    printf("raw_pingpong: echoed %ld frames\n", echoed);
    return 0;
}

/* qsort comparator of uint64_t. */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Client: warm-up, measured exchanges, the stop frame, the summary line. */
static int ping(void)
{
    uint32_t frames = (o.size + o.mtu - 1) / o.mtu;
    struct rte_mbuf *tx[MAX_FRAMES], *rx[BURST];
    uint64_t *rtt = malloc(sizeof(*rtt) * (size_t)o.count);
    uint64_t deadline = UINT64_MAX;
    long n = 0, total = o.warmup + o.count;
    int rc = 0;

    if (rtt == NULL || frames > MAX_FRAMES) {
        fprintf(stderr, "raw_pingpong: %s\n", rtt == NULL ? "out of memory" : "too many frames per message");
        free(rtt);
        return -1;
    }
    uint64_t warm_end = now_ns() + 10000000000u;
    for (long i = 0; i < total && rc == 0; i++) {
        if (i == o.warmup)
            deadline = now_ns() + (uint64_t)o.seconds * 1000000000u;
        if (i >= o.warmup && now_ns() > deadline)
            break;
        uint32_t left = o.size;
        for (uint32_t f = 0; f < frames; f++) {
            uint32_t payload = left < o.mtu ? left : o.mtu;
            left -= payload;
            tx[f] = make_frame(payload, MAGIC_DATA, (uint16_t)f);
            if (tx[f] == NULL) {
                rte_pktmbuf_free_bulk(tx, f);
                fprintf(stderr, "raw_pingpong: out of mbufs\n");
                rc = -1;
                break;
            }
        }
        if (rc != 0)
            break;
        uint64_t t0 = now_ns();
        if (send_all(tx, (uint16_t)frames) != 0) {
            rc = -1;
            break;
        }
        uint32_t got = 0;
        while (got < frames) {
            uint16_t k = rte_eth_rx_burst(port, 0, rx, BURST);
            for (uint16_t j = 0; j < k; j++) {
                struct rte_ether_hdr *eh = rte_pktmbuf_mtod(rx[j], struct rte_ether_hdr *);
                if (eh->ether_type == rte_cpu_to_be_16(ETHERTYPE_BENCH))
                    got++;
                rte_pktmbuf_free(rx[j]);
            }
            if (k == 0 && i < o.warmup && now_ns() - t0 > 100000000u && now_ns() < warm_end) {
                /* frames sent while the peer was still starting are lost:
                 * during the warm-up, give up on this exchange */
                got = frames;
                break;
            }
            if (k == 0 && now_ns() - t0 > 1000000000u) {
                fprintf(stderr, "raw_pingpong: exchange %ld: %u of %u frames came back within 1 s\n", i, got,
                        frames);
                rc = -1;
                break;
            }
        }
        if (rc == 0 && i >= o.warmup)
            rtt[n++] = now_ns() - t0;
    }
    struct rte_mbuf *stop = make_frame(46, MAGIC_STOP, 0);
    if (stop != NULL)
        send_all(&stop, 1);
    if (rc == 0 && n == 0) {
        fprintf(stderr, "raw_pingpong: no exchange measured within %ld s\n", o.seconds);
        rc = -1;
    }
    if (rc == 0) {
        double sum = 0;
        qsort(rtt, (size_t)n, sizeof(*rtt), cmp_u64);
        for (long i = 0; i < n; i++)
            sum += (double)rtt[i];
        printf("raw_pingpong: size=%u frames=%u n=%ld p50_us=%.3f p99_us=%.3f p999_us=%.3f mean_us=%.3f\n", o.size,
               frames, n, rtt[(n - 1) * 50 / 100] / 1e3, rtt[(n - 1) * 99 / 100] / 1e3, rtt[(n - 1) * 999 / 1000] / 1e3,
               sum / (double)n / 1e3);
    }
    free(rtt);
    return rc;
}

/* Prints the usage; returns 2. */
static int usage(void)
{
    fprintf(stderr, "usage: raw_pingpong server|client SOCKET [--size BYTES] [--mtu BYTES] [--count N] "
                    "[--warmup N] [--seconds S] [--link-timeout-ms MS]\n");
    return 2;
}

/* Parses "--name VALUE" at argv[*i] into *out within [lo, hi]; true if it matched. */
static bool arg_long(int argc, char **argv, int *i, const char *name, long lo, long hi, long *out, bool *bad)
{
    if (strcmp(argv[*i], name) != 0)
        return false;
    char *end = NULL;
    if (*i + 1 >= argc) {
        *bad = true;
        return true;
    }
    errno = 0;
    long v = strtol(argv[++*i], &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        *bad = true;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    long size = o.size, mtu = o.mtu;
    bool bad = false;

    if (argc < 3)
        return usage();
    if (strcmp(argv[1], "server") == 0)
        o.server = true;
    else if (strcmp(argv[1], "client") != 0)
        return usage();
    o.socket = argv[2];
    for (int i = 3; i < argc && !bad; i++) {
        if (!arg_long(argc, argv, &i, "--size", 1, 1048576, &size, &bad) &&
            !arg_long(argc, argv, &i, "--mtu", 46, 9000, &mtu, &bad) &&
            !arg_long(argc, argv, &i, "--count", 1, 100000000, &o.count, &bad) &&
            !arg_long(argc, argv, &i, "--warmup", 0, 100000000, &o.warmup, &bad) &&
            !arg_long(argc, argv, &i, "--seconds", 1, 3600, &o.seconds, &bad) &&
            !arg_long(argc, argv, &i, "--link-timeout-ms", 0, 600000, &o.link_timeout_ms, &bad))
            bad = true;
    }
    if (bad)
        return usage();
    o.size = (uint32_t)size;
    o.mtu = (uint32_t)mtu;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (start_eal() != 0)
        return 1;
    int rc = start_port() == 0 ? (o.server ? serve() : ping()) : -1;
    if (pool != NULL) {
        rte_eth_dev_stop(port);
        rte_eth_dev_close(port);
    }
    rte_eal_cleanup();
    return rc == 0 ? 0 : 1;
}
