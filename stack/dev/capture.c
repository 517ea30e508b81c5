/*
 * capture.c - packet capture at the device (see netdev.h): a netdev that
 * wraps the real one and, while a capture runs, copies every frame it
 * receives and sends (those a filter accepts) into a pcapng file with
 * DPDK's librte_pcapng, direction and timestamp included. Off, a burst
 * costs one load and one branch.
 *
 * The capture runs in the engine's thread (rx_burst/tx_burst); it is
 * started and stopped there too (the owner calls netdev_capture_start and
 * _stop between engine passes), and ends by itself once now_ns reaches its
 * deadline. Its counters may be read from any thread.
 */
#define ALLOW_EXPERIMENTAL_API
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pcapng.h>

#include "netdev.h"
#include "smem.h"

/* Copies for the file come from a pool of their own: a capture never takes
 * mbufs the stack needs. */
#define CAP_POOL_SIZE 4095u
#define CAP_BURST 64u

struct netdev_capture {
    int on;                      /* atomic: a capture is running */
    rte_pcapng_t *pcap;
    struct rte_mempool *pool;    /* made at the first capture */
    uint16_t port_id;
    uint32_t snaplen;
    netdev_capture_match_fn match;
    const void *filter;
    uint64_t until_ns;
    struct netdev_capture_stats st;
};

struct capture {
    struct netdev dev;
    struct netdev *inner;
    struct netdev_capture ctl;
};


static void cap_close(struct netdev_capture *c, const char *why)
{
    if (c->pcap != NULL)
        rte_pcapng_close(c->pcap); /* closes the fd */
    c->pcap = NULL;
    if (why != NULL)
        snprintf(c->st.error, sizeof(c->st.error), "%s", why);
    __atomic_store_n(&c->on, 0, __ATOMIC_RELEASE);
    c->st.on = false;
}

/* Whether frame m passes the filter (none: all do). */
static bool cap_wanted(const struct netdev_capture *c, const struct rte_mbuf *m)
{
    uint8_t buf[16384];
    const void *p;
    uint32_t len = rte_pktmbuf_pkt_len(m);

    if (c->match == NULL)
        return true;
    if (len > sizeof(buf))
        len = sizeof(buf);
    p = rte_pktmbuf_read(m, 0, len, buf);
    return p != NULL && c->match(p, len, c->filter);
}

/* Nanoseconds since the epoch (a capture's timestamps are wall time). */
static uint64_t wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sets the timestamp of the Enhanced Packet Block rte_pcapng_copy made
 * (pcapng: block type, length, interface id, then the timestamp's high and
 * low 32 bits, in the ns resolution DPDK declares for each interface).
 * With the DPDK installed here (Debian's 22.11.11), the timestamps it
 * wrote for a server that had run a few minutes read as 1972 in tcpdump
 * (-tt: 64068397 s); the wall clock written here reads right. */
static void epb_set_time(struct rte_mbuf *cp, uint64_t ns)
{
    uint32_t *epb = rte_pktmbuf_mtod(cp, uint32_t *);

    epb[3] = (uint32_t)(ns >> 32);
    epb[4] = (uint32_t)ns;
}

/* Copies the frames of pkts[0..n) the filter wants into copies (their
 * indices in idx); returns how many. */
static uint16_t cap_copy(struct netdev_capture *c, struct rte_mbuf **pkts, uint16_t n, enum rte_pcapng_direction dir,
                         struct rte_mbuf **copies, uint16_t *idx)
{
    uint64_t tsc = rte_get_tsc_cycles(), ns = wall_ns();
    uint16_t k = 0;

    for (uint16_t i = 0; i < n && k < CAP_BURST; i++) {
        if (!cap_wanted(c, pkts[i]))
            continue;
        struct rte_mbuf *cp = rte_pcapng_copy(c->port_id, 0, pkts[i], c->pool, c->snaplen, tsc, dir);
        if (cp == NULL) {
            c->st.dropped++;
            continue;
        }
        epb_set_time(cp, ns);
        copies[k] = cp;
        idx[k++] = i;
    }
    return k;
}

/* Writes the copies of frames with an index below went (the others were
 * not sent: freed); counts them and the device's frames. */
static void cap_write(struct netdev_capture *c, struct rte_mbuf **copies, const uint16_t *idx, uint16_t k,
                      uint16_t went, enum rte_pcapng_direction dir)
{
    uint16_t w = 0;

    for (uint16_t i = 0; i < k; i++) {
        if (idx[i] < went)
            copies[w++] = copies[i];
        else
            rte_pktmbuf_free(copies[i]);
    }
    if (dir == RTE_PCAPNG_DIRECTION_IN)
        c->st.dev_in += went;
    else
        c->st.dev_out += went;
    if (w == 0)
        return;
    ssize_t rc = rte_pcapng_write_packets(c->pcap, copies, w);
    /* DPDK 22.11 writes without freeing the copies, whatever its header
     * says (lib/pcapng/rte_pcapng.c at v22.11.11) */
    rte_pktmbuf_free_bulk(copies, w);
    if (rc < 0) {
        cap_close(c, "writing the capture file failed");
        return;
    }
    if (dir == RTE_PCAPNG_DIRECTION_IN)
        c->st.written_in += w;
    else
        c->st.written_out += w;
}

/* Whether the capture still runs at now_ns (it ends at its deadline). */
static bool cap_running(struct netdev_capture *c, uint64_t now_ns)
{
    if (!__atomic_load_n(&c->on, __ATOMIC_RELAXED))
        return false;
    if (now_ns < c->until_ns)
        return true;
    cap_close(c, NULL);
    return false;
}

static uint16_t cap_rx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct capture *w = dev->priv;
    struct rte_mbuf *copies[CAP_BURST];
    uint16_t idx[CAP_BURST], got = netdev_rx(w->inner, pkts, n, now_ns);

    if (got == 0 || !cap_running(&w->ctl, now_ns))
        return got;
    for (uint16_t off = 0; off < got; off += CAP_BURST) {
        uint16_t chunk = (uint16_t)RTE_MIN((unsigned)(got - off), CAP_BURST);
        uint16_t k = cap_copy(&w->ctl, pkts + off, chunk, RTE_PCAPNG_DIRECTION_IN, copies, idx);
        cap_write(&w->ctl, copies, idx, k, chunk, RTE_PCAPNG_DIRECTION_IN);
    }
    return got;
}

static uint16_t cap_tx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct capture *w = dev->priv;
    struct rte_mbuf *copies[CAP_BURST];
    uint16_t idx[CAP_BURST], k, sent;

    if (!cap_running(&w->ctl, now_ns))
        return netdev_tx(w->inner, pkts, n, now_ns);
    /* copied before the device takes them (then they are its own); only
     * the ones it took are written */
    if (n > CAP_BURST)
        n = CAP_BURST;
    k = cap_copy(&w->ctl, pkts, n, RTE_PCAPNG_DIRECTION_OUT, copies, idx);
    sent = netdev_tx(w->inner, pkts, n, now_ns);
    cap_write(&w->ctl, copies, idx, k, sent, RTE_PCAPNG_DIRECTION_OUT);
    return sent;
}

static void cap_free(struct netdev *dev)
{
    struct capture *w = dev->priv;

    cap_close(&w->ctl, NULL);
    netdev_close(w->inner);
    rte_mempool_free(w->ctl.pool);
    smem_free(w);
}

static const struct netdev_ops cap_ops = {.rx_burst = cap_rx, .tx_burst = cap_tx, .close = cap_free};

int netdev_capture_wrap(struct netdev *inner, struct netdev **out, struct netdev_capture **ctl)
{
    struct capture *w;

    if (inner == NULL || out == NULL || ctl == NULL)
        return -EINVAL;
    w = smem_calloc(1, sizeof(*w));
    if (w == NULL)
        return -ENOMEM;
    w->dev = *inner;
    w->dev.ops = &cap_ops;
    w->dev.priv = w;
    snprintf(w->dev.name, sizeof(w->dev.name), "%.63s", inner->name);
    w->inner = inner;
    w->ctl.port_id = inner->port_id >= 0 ? (uint16_t)inner->port_id : 0;
    w->ctl.snaplen = (uint32_t)inner->mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN;
    *out = &w->dev;
    *ctl = &w->ctl;
    return 0;
}

/* The pool the copies come from, made once. */
static int cap_pool(struct netdev_capture *c)
{
    char name[RTE_MEMPOOL_NAMESIZE];

    if (c->pool != NULL)
        return 0;
    snprintf(name, sizeof(name), "sluice_cap_%d", (int)getpid());
    c->pool = rte_pktmbuf_pool_create(name, CAP_POOL_SIZE, 128, 0, (uint16_t)rte_pcapng_mbuf_size(c->snaplen),
                                      SOCKET_ID_ANY);
    return c->pool != NULL ? 0 : -ENOMEM;
}

int netdev_capture_start(struct netdev_capture *c, int fd, netdev_capture_match_fn match, const void *filter,
                         uint64_t until_ns, const char *appname)
{
    struct utsname u;
    char os[160];
    int rc;

    if (c == NULL || fd < 0) {
        if (fd >= 0)
            close(fd);
        return -EINVAL;
    }
    if (__atomic_load_n(&c->on, __ATOMIC_RELAXED)) {
        close(fd);
        return -EBUSY;
    }
    rc = cap_pool(c);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    snprintf(os, sizeof(os), "Linux");
    if (uname(&u) == 0)
        snprintf(os, sizeof(os), "%.40s %.80s", u.sysname, u.release);
    c->pcap = rte_pcapng_fdopen(fd, os, NULL, appname, NULL);
    if (c->pcap == NULL) {
        close(fd);
        return -EIO;
    }
    c->match = match;
    c->filter = filter;
    c->until_ns = until_ns;
    memset(&c->st, 0, sizeof(c->st));
    c->st.on = true;
    __atomic_store_n(&c->on, 1, __ATOMIC_RELEASE);
    return 0;
}

void netdev_capture_stop(struct netdev_capture *c)
{
    if (c != NULL && __atomic_load_n(&c->on, __ATOMIC_RELAXED))
        cap_close(c, NULL);
}

void netdev_capture_stats(const struct netdev_capture *c, struct netdev_capture_stats *out)
{
    *out = c->st;
}
