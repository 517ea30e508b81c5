/*
 * netdev.h - the stack's only view of a network device: bursts of rte_mbuf
 * in and out (docs/DESIGN.md "Layers"), and the two devices the stack
 * offers: a DPDK ethdev port (dev/netdev_dpdk.c: net_af_packet, net_tap,
 * net_memif, a PCI NIC) and the fault injector that wraps any netdev
 * (dev/fault.c). The unit tests add a fake (tests/unit/netdev_fake.c).
 * One of the three headers of the stack's interface (with stack.h and
 * tcp.h).
 */
#ifndef SLUICE_NETDEV_H
#define SLUICE_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

struct rte_mbuf;
struct rte_mempool;
struct netdev;
struct stack_counters;

struct netdev_ops {
    /* Receives up to n frames into pkts (the caller owns them); returns how
     * many. now_ns: the engine's clock (the fault injector delays by it). */
    uint16_t (*rx_burst)(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns);
    /* Sends up to n frames; returns how many the device took (it owns
     * those); the caller keeps the rest. */
    uint16_t (*tx_burst)(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns);
    /* Stops the device and frees dev. */
    void (*close)(struct netdev *dev);
};

/* Offloads a device does for us (subsets of DPDK's RTE_ETH_{RX,TX}_OFFLOAD_*). */
#define NETDEV_TX_IPV4_CKSUM (1u << 0)
#define NETDEV_TX_UDP_CKSUM (1u << 1)
#define NETDEV_TX_TCP_CKSUM (1u << 2)
#define NETDEV_RX_IPV4_CKSUM (1u << 3) /* mbuf ol_flags carry RTE_MBUF_F_RX_IP_CKSUM_{GOOD,BAD} */
#define NETDEV_RX_L4_CKSUM (1u << 4)   /* ... and RTE_MBUF_F_RX_L4_CKSUM_{GOOD,BAD} */

struct netdev {
    const struct netdev_ops *ops;
    struct rte_ether_addr mac;
    uint16_t mtu;       /* bytes of IP packet per frame */
    uint32_t offloads;  /* NETDEV_* */
    int rx_intr_fd;     /* an fd that becomes readable on Rx, or -1 */
    int port_id;        /* the DPDK ethdev port underneath, or -1 (a capture names it) */
    char name[64];      /* for log lines */
    void *priv;
};

static inline uint16_t netdev_rx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    return dev->ops->rx_burst(dev, pkts, n, now_ns);
}

static inline uint16_t netdev_tx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    return dev->ops->tx_burst(dev, pkts, n, now_ns);
}

static inline void netdev_close(struct netdev *dev)
{
    if (dev != NULL)
        dev->ops->close(dev);
}

/* ---- dev/netdev_dpdk.c: a netdev on one queue pair of a DPDK ethdev port
 * (p->nb_queues pairs; queue 0's netdev owns the port): a hot-plugged virtual device (net_af_packet, net_tap, net_memif)
 * or a PCI NIC. The EAL must be running (demi_init) before it is opened.
 */

struct netdev_dpdk_params {
    /* DPDK device string: "net_af_packet0,iface=sluice0" | "net_tap0,iface=sl0" |
     * "net_memif0,role=server,socket=/run/x.sock" | a PCI address "0000:03:00.0". */
    const char *devargs;
    uint16_t mtu;                    /* bytes of IP packet; 0: keep the device's */
    uint16_t nb_rx_desc, nb_tx_desc; /* ring sizes, per queue; 0: 1024 */
    uint16_t nb_queues;              /* Rx/Tx queue pairs (one engine each); 0: 1 */
    uint64_t link_timeout_ns;        /* how long to wait for link up; 0: do not wait */
};

/*
 * Opens the device named by p->devargs: probes it (rte_dev_probe; a device
 * the EAL has already probed, e.g. a PCI NIC named with eal.args -a, is
 * just looked up), configures p->nb_queues Rx queues (mbufs from pool,
 * which the caller keeps owning and must outlive the device) and as many
 * Tx queues, spread by RSS where the port hashes (a NIC, net_tap),
 * enables the checksum offloads the port offers (reported in
 * (*out)->offloads as NETDEV_*), sets the MTU, starts the port and waits up
 * to p->link_timeout_ns for link up. (*out)->rx_intr_fd is the Rx queue's
 * interrupt fd when the PMD has one (readable on Rx; poll it, never read
 * it), else -1.
 *
 * Returns 0 and *out (the caller owns it; netdev_close stops, closes and
 * removes the device), or -errno with one line in err (errlen bytes, always
 * NUL-terminated when errlen > 0) saying what is wrong and how to fix it:
 *   -EINVAL  a NULL argument or empty devargs, the port has fewer queues
 *            than p->nb_queues, or it refused the configuration (e.g. an
 *            MTU it cannot do);
 *   -ENODEV  no such device: the interface of net_af_packet is missing, no
 *            driver takes the devargs, or no port came of the probe;
 *   -EBUSY   the device is already open (in this process);
 *   -ETIMEDOUT  the link did not come up within link_timeout_ns;
 *   -ENOMEM  out of memory;
 *   other    what DPDK returned (e.g. -EPERM when not root).
 * On failure everything it did is undone (port stopped and closed, device
 * removed if it probed it). Never lets DPDK panic.
 */
int netdev_dpdk_open(const struct netdev_dpdk_params *p, struct rte_mempool *pool, struct netdev **out,
                     char *err, size_t errlen);

/* A netdev on queue pair queue_id (1 .. nb_queues-1) of the port whose
 * queue 0 netdev_dpdk_open returned: same MAC, MTU and offloads, its own
 * rx_intr_fd. The caller owns it and closes it (netdev_close frees it and
 * leaves the port running) before it closes the port. Returns 0, -EINVAL
 * (port is not queue 0 of a DPDK port, out is NULL, or queue_id is 0 or
 * past the port's queues) or -ENOMEM. */
int netdev_dpdk_queue(struct netdev *port, uint16_t queue_id, struct netdev **out);

/* The queue pairs of the port whose queue-0 netdev is port; 0 when port is
 * not a DPDK netdev. */
uint16_t netdev_dpdk_nb_queues(const struct netdev *port);

/* What netdev_dpdk_open's message says to check when device name's Rx
 * queue cannot be set up, for a process whose effective capabilities are
 * cap_eff (/proc/self/status CapEff, a bit per capability(7) number): an
 * AF_XDP device without CAP_SYS_ADMIN (its UMEM and XDP program need it
 * when not root: a server started as its own user with only CAP_NET_RAW
 * and CAP_NET_ADMIN), else the mbufs' size. A static string. */
const char *netdev_rxq_hint(const char *name, uint64_t cap_eff);

/* ---- dev/fault.c: a seeded fault injector at the netdev boundary: it
 * wraps any netdev and loses, duplicates, reorders, corrupts and delays frames, each
 * with its own probability and per direction. For tests, and for users who
 * want to see how their programs cope with a bad network.
 *
 * The outcome depends only on the seed, the frames and the now_ns values
 * given to rx_burst/tx_burst (a PRNG per direction; no clock, no rand()).
 *
 * Per frame and direction, in this order:
 *   loss       the frame is freed (fault_dropped);
 *   corrupt    one random bit of one random byte is flipped (fault_corrupted),
 *              in a private copy when the frame's memory may be shared
 *              (refcnt > 1, indirect or external buffer: zero-copy data);
 *   duplicate  a copy (rte_pktmbuf_copy from the frame's pool) follows the
 *              frame (fault_duplicated);
 *   reorder    the frame is held and goes out right after the next frame,
 *              or once now_ns is 1 ms past the moment it was held
 *              (fault_reordered counts frames that did go out after a later one);
 *   delay      the frame goes out once now_ns >= its arrival + delay_ns,
 *              in order (fault_delayed).
 * Frames held back wake no interrupt: a caller sleeping on rx_intr_fd must
 * also wake up on a timeout to poll them out.
 */

#define FAULT_PPM_MAX 1000000u /* parts per million: certain */
#define FAULT_REORDER_HOLD_NS 1000000ull /* a held frame goes out after 1 ms anyway */

struct fault_dir {
    uint32_t loss_ppm, duplicate_ppm, reorder_ppm, corrupt_ppm; /* 0..FAULT_PPM_MAX */
    uint64_t delay_ns;                                          /* 0: none */
};

struct fault_params {
    struct fault_dir rx, tx; /* rx: frames from the inner device; tx: frames the stack sends */
    uint64_t seed;
};

/*
 * Wraps inner in a fault injector. On success inner is taken (closed with
 * the wrapper: netdev_close frees the frames held back, then closes inner)
 * and *out copies inner's mac, mtu, offloads and rx_intr_fd. ctr (not
 * owned; may be NULL) receives the fault_* counts and must outlive the
 * wrapper.
 *
 * tx_burst reports every frame it consumed as taken (sent, dropped or held
 * back), so the caller never sends one twice; frames held back go to inner
 * on later rx_burst or tx_burst calls. While frames inner refused are still
 * waiting, tx_burst takes nothing new (like a full device).
 *
 * Returns 0; -EINVAL (a NULL argument or a ppm above FAULT_PPM_MAX; inner
 * is then not taken); -ENOMEM (inner not taken).
 */
int netdev_fault_wrap(struct netdev *inner, const struct fault_params *p, struct stack_counters *ctr,
                      struct netdev **out);

/* ---- dev/capture.c: packet capture at the device ----
 *
 * A netdev wrapping the real one that, while a capture runs, writes every
 * frame received and sent (the ones a filter accepts) to a pcapng file
 * (DPDK's librte_pcapng: timestamp, direction, the ethdev port as the
 * interface), each frame cut at MTU + Ethernet + two VLAN headers. Off, a
 * burst costs one load and one branch. Frames are copied into a pool of
 * the capture's own (made at its first start), so a capture never takes
 * mbufs the stack needs: when that pool is empty a frame is not written
 * and counted as dropped.
 *
 * Threads: start, stop and the bursts run in the engine's thread (or while
 * it does not run); netdev_capture_stats may be read from any thread.
 */

struct netdev_capture;

/* Whether a frame (len bytes, contiguous) passes filter (opaque here: the
 * owner compiles it, e.g. with libpcap). */
typedef bool (*netdev_capture_match_fn)(const void *frame, uint32_t len, const void *filter);

struct netdev_capture_stats {
    bool on;
    uint64_t written_in, written_out; /* frames written, by direction */
    uint64_t dev_in, dev_out;         /* frames the device moved while the capture ran */
    uint64_t dropped;                 /* wanted but not written (no copy buffer) */
    char error[64];                   /* why the last capture ended early, or "" */
};

/* Wraps inner; on success inner is taken (closed with the wrapper), *out
 * copies its mac, mtu, offloads, rx_intr_fd and port_id, and *ctl is the
 * handle the capture calls take (freed with the wrapper). Returns 0,
 * -EINVAL (a NULL argument; inner not taken), -ENOMEM (inner not taken). */
int netdev_capture_wrap(struct netdev *inner, struct netdev **out, struct netdev_capture **ctl);
/* Starts writing to fd (taken: closed when the capture ends, or at once on
 * an error) until now_ns reaches until_ns (UINT64_MAX: until stopped).
 * match/filter: NULL for every frame. appname goes into the file's header.
 * Returns 0; -EINVAL (ctl NULL or fd < 0); -EBUSY (a capture runs);
 * -ENOMEM (no pool for the copies); -EIO (the file header could not be
 * written). */
int netdev_capture_start(struct netdev_capture *ctl, int fd, netdev_capture_match_fn match, const void *filter,
                         uint64_t until_ns, const char *appname);
/* Ends a running capture (the file is complete); nothing if none runs. */
void netdev_capture_stop(struct netdev_capture *ctl);
/* The counts of the current or last capture. */
void netdev_capture_stats(const struct netdev_capture *ctl, struct netdev_capture_stats *out);

#endif
