/*
 * netdev_dpdk.c - a netdev on one DPDK ethdev port (see netdev_dpdk.h).
 *
 * Virtual devices are not on the EAL command line: each open hot-plugs its
 * device (rte_dev_probe) and each close removes it (rte_dev_remove), so
 * that a program can open, close and open again, and a failed open leaves
 * nothing behind. Every DPDK error becomes one line that says what to do.
 */
#ifndef ALLOW_EXPERIMENTAL_API
#define ALLOW_EXPERIMENTAL_API /* rte_intr_instance_alloc and the rte_intr_*() it needs (stop_close) */
#endif
#include "netdev.h"
#include "smem.h"

#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_pci.h>

#define DEFAULT_NB_DESC 1024
#define LINK_POLL_NS 10000000ull /* 10 ms between link checks */

struct dpdk_netdev {
    struct netdev dev;
    uint16_t port_id;
    uint16_t queue_id;          /* the Rx/Tx queue pair this netdev moves frames on */
    uint16_t nb_queues;         /* queue pairs the port was configured with */
    bool owner;                 /* queue 0's netdev: its close stops and removes the port */
    bool single_seg;            /* the port sends one segment per frame (net_af_xdp) */
    bool rxq_intr;              /* the port was configured with Rx queue interrupts */
    struct rte_device *rte_dev; /* removed at close */
};

/* What an open has done so far, so that a failure undoes exactly that. */
struct open_state {
    char name[RTE_DEV_NAME_MAX_LEN]; /* the device's DPDK name */
    bool is_pci;
    bool probed_here;   /* we hot-plugged it: remove it on failure */
    bool have_port;
    bool started;
    bool rxq_intr;      /* configured with Rx queue interrupts */
    uint16_t port_id;
    uint16_t nb_queues; /* queue pairs asked for (at least 1) */
    uint32_t if_index;  /* the kernel interface behind the port, or 0 */
    struct rte_device *rte_dev;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* DPDK functions return -errno, or -1 where a PMD meant "failed": never
 * hand a bare -1 (EPERM) to our caller as if it meant "not root". */
static int as_errno(int rc)
{
    return rc == -1 ? -EIO : rc;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- names and arguments ---- */

/* The device name is devargs up to the first ','. A PCI address is
 * normalised ("03:00.0" -> "0000:03:00.0") because that is how the PCI bus
 * and ethdev name the device. */
static int parse_name(const char *devargs, struct open_state *st)
{
    size_t len = strcspn(devargs, ",");
    struct rte_pci_addr addr;

    if (len == 0 || len >= sizeof(st->name))
        return -EINVAL;
    memcpy(st->name, devargs, len);
    st->name[len] = '\0';
    if (rte_pci_addr_parse(st->name, &addr) == 0) {
        st->is_pci = true;
        rte_pci_device_name(&addr, st->name, sizeof(st->name));
    }
    return 0;
}

/* The value of key in devargs ("name,key=value,...") copied to buf, or
 * false when absent. */
static bool devargs_value(const char *devargs, const char *key, char *buf, size_t buflen)
{
    size_t klen = strlen(key);
    const char *p = strchr(devargs, ',');

    while (p != NULL) {
        p++;
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = strcspn(p + klen + 1, ",");
            snprintf(buf, buflen, "%.*s", (int)vlen, p + klen + 1);
            return true;
        }
        p = strchr(p, ',');
    }
    return false;
}

/* net_af_packet fails with a bare "ioctl failed" when its interface is
 * missing; catch that case first to say what to do instead. */
static int check_af_packet(const char *devargs, const struct open_state *st, char *err, size_t errlen)
{
    char iface[IF_NAMESIZE + 16];

    if (!has_prefix(st->name, "net_af_packet") && !has_prefix(st->name, "eth_af_packet"))
        return 0;
    if (!devargs_value(devargs, "iface", iface, sizeof(iface))) {
        set_err(err, errlen, "%s: no interface given: use %s,iface=sluice0 (see ./scripts/net.sh)", st->name,
                st->name);
        return -EINVAL;
    }
    if (strlen(iface) >= IF_NAMESIZE || if_nametoindex(iface) == 0) {
        set_err(err, errlen, "%s: interface %s not found: run ./scripts/net.sh up (or fix iface=)", st->name,
                iface);
        return -ENODEV;
    }
    return 0;
}

/* A hint on how to make a refused probe work, by kind of device. */
static const char *probe_hint(const struct open_state *st)
{
    if (geteuid() != 0)
        return "; DPDK devices need root";
    if (st->is_pci)
        return "; bind the NIC to vfio-pci (dpdk-devbind.py) and name it in eal.args (-a ADDRESS)";
    if (has_prefix(st->name, "net_tap"))
        return "; net_tap needs /dev/net/tun and a free iface= name";
    /* its PACKET_FANOUT group id is (pid ^ ifindex) & 0xffff: another
     * process's af_packet port on another interface may hold the same */
    if (has_prefix(st->name, "net_af_packet") || has_prefix(st->name, "eth_af_packet"))
        return "; check the device arguments (DPDK's log line above says which); if it says PACKET_FANOUT, "
               "another process's af_packet port has the same fanout id (pid ^ ifindex): start again";
    if (has_prefix(st->name, "net_memif"))
        return "; check socket= (its directory must exist) and role=";
    return "; check the device arguments (DPDK's log line above says more)";
}

/* ---- probe and port lookup ---- */

/* The first ethdev port of the device named st->name. */
static int find_port(struct open_state *st)
{
    uint16_t port_id;

    RTE_ETH_FOREACH_DEV(port_id) {
        struct rte_eth_dev_info info;
        if (rte_eth_dev_info_get(port_id, &info) != 0 || info.device == NULL)
            continue;
        if (strcmp(rte_dev_name(info.device), st->name) != 0)
            continue;
        st->port_id = port_id;
        st->rte_dev = info.device;
        st->have_port = true;
        return 0;
    }
    return -ENODEV;
}

/* Probes the device unless it already has a port (probed by the EAL's -a
 * or --vdev, or by an open that is still open): rte_dev_probe returns 0
 * for a device that is already there, so it cannot tell us. */
static int probe(const char *devargs, struct open_state *st, char *err, size_t errlen)
{
    int rc;

    if (find_port(st) == 0)
        return 0;
    rc = rte_dev_probe(devargs);
    if (rc == 0) {
        st->probed_here = true;
        return 0;
    }
    if (rc == -EEXIST) /* probed meanwhile by someone else: find_port will tell */
        return 0;
    if (rc == -EFAULT || rc == -ENODEV) {
        set_err(err, errlen,
                "%s: no DPDK driver takes this device: use net_af_packet0,iface=IF, net_tap0,iface=IF, "
                "net_memif0,role=server,socket=PATH or a PCI address%s",
                st->name, st->is_pci ? " (a NIC must be named in eal.args: -a ADDRESS)" : "");
        return -ENODEV;
    }
    /* The bus keeps a device whose driver refused it, unprobed; DPDK
     * cannot remove that, but the next probe of the name retries it. */
    if (rc == -1) /* a PMD's bare "failed": its own log line says why */
        set_err(err, errlen, "%s: the driver refused the device%s", st->name, probe_hint(st));
    else
        set_err(err, errlen, "%s: the driver refused the device (rte_dev_probe: %s)%s", st->name, strerror(-rc),
                probe_hint(st));
    return as_errno(rc);
}

/* ---- stop and close ---- */

/* net_memif (DPDK 22.11) runs its control channel in the EAL interrupt
 * thread: when the peer hangs up (a memif client and server in one
 * process, closed one after the other; or a peer process that exits),
 * that thread calls memif_disconnect() on the port, which frees the
 * port's shared-memory regions and closes its queue eventfds holding no
 * lock but the one around the channel pointer. rte_eth_dev_stop() of the
 * same port runs memif_disconnect() too, and rte_eth_dev_close() then
 * frees the queues, the process-private data and the port's data. Run on
 * the caller's thread while the interrupt thread handles the hang-up,
 * the regions were freed twice ("EAL: Error: Invalid memory" from
 * rte_free, heap corruption) or the interrupt thread went on with freed
 * memory (a crash). So a memif port is stopped and closed in the
 * interrupt thread itself, from a callback on an eventfd of our own
 * (callbacks there run one at a time): the PMD's disconnect handling and
 * ours then run one after the other, never at once. Not an EAL alarm:
 * its callback stays registered for good once used, and unregistering it
 * in rte_eal_cleanup() wakes the interrupt thread while the memory is
 * being unmapped, where it faults on the source memif's listener socket
 * never unregisters (a core at every exit). */
struct stop_close_job {
    uint16_t port_id;
    bool stop, close;
    int efd;
    atomic_bool done;
};

static void stop_close_now(uint16_t port_id, bool stop, bool close)
{
    if (stop)
        rte_eth_dev_stop(port_id);
    if (close)
        rte_eth_dev_close(port_id);
}

/* The eventfd stays readable (epoll is level-triggered) until read, and
 * the callback until unregistered: the job runs once. */
static void stop_close_intr(void *arg)
{
    struct stop_close_job *job = arg;
    eventfd_t v;

    (void)eventfd_read(job->efd, &v);
    if (atomic_load_explicit(&job->done, memory_order_acquire))
        return;
    stop_close_now(job->port_id, job->stop, job->close);
    atomic_store_explicit(&job->done, true, memory_order_release);
}

static bool is_memif(uint16_t port_id)
{
    struct rte_eth_dev_info info;

    return rte_eth_dev_info_get(port_id, &info) == 0 && info.driver_name != NULL &&
           strcmp(info.driver_name, "net_memif") == 0;
}

/* Runs the job in the interrupt thread and waits for it; false when it
 * could not be handed over (nothing was done then). */
static bool stop_close_in_intr_thread(struct stop_close_job *job)
{
    struct rte_intr_handle *ih = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
    bool handed = false;

    job->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ih != NULL && job->efd >= 0 && rte_intr_fd_set(ih, job->efd) == 0 &&
        rte_intr_type_set(ih, RTE_INTR_HANDLE_EXT) == 0 &&
        rte_intr_callback_register(ih, stop_close_intr, job) == 0) {
        handed = eventfd_write(job->efd, 1) == 0;
        /* 2 s at most: in a process forked from the one that started DPDK
         * (sluice_take_over) no interrupt thread runs */
        for (int i = 0; handed && i < 20000 && !atomic_load_explicit(&job->done, memory_order_acquire); i++) {
            struct timespec nap = {.tv_sec = 0, .tv_nsec = 100000}; /* 0.1 ms */
            nanosleep(&nap, NULL);
        }
        /* waits while the callback is still running; after it, it never runs */
        rte_intr_callback_unregister_sync(ih, stop_close_intr, job);
        handed = handed && atomic_load_explicit(&job->done, memory_order_acquire);
    }
    if (job->efd >= 0)
        close(job->efd);
    rte_intr_instance_free(ih);
    return handed;
}

/* Stops and/or closes the port; a memif port in the interrupt thread
 * (above). Already there (a close from an interrupt callback), or when
 * the job cannot be handed over (out of memory or fds), it is done here:
 * waiting for the interrupt thread from itself would never end. */
static void stop_close(uint16_t port_id, bool stop, bool close)
{
    struct stop_close_job job = {.port_id = port_id, .stop = stop, .close = close, .efd = -1};

    atomic_init(&job.done, false);
    if (!is_memif(port_id) || rte_thread_is_intr() || !stop_close_in_intr_thread(&job))
        stop_close_now(port_id, stop, close);
}

/* Removes a device we hot-plugged even when no port came of it. */
static void remove_device(struct open_state *st)
{
    if (st->rte_dev != NULL) {
        rte_dev_remove(st->rte_dev);
        return;
    }
    rte_eal_hotplug_remove(st->is_pci ? "pci" : "vdev", st->name);
}

/* Undoes a failed open: what we started is stopped; a device we probed is
 * closed and removed; a device somebody else probed is left probed (and,
 * if already open, untouched: we did not start it). */
static void undo_open(struct open_state *st)
{
    if (st->started || (st->probed_here && st->have_port))
        stop_close(st->port_id, st->started, st->probed_here && st->have_port);
    if (st->probed_here)
        remove_device(st);
}

/* ---- configuration ---- */

/* The MTU of the kernel interface behind the port (af_packet, tap), or 0.
 * Those PMDs report DPDK's default 1500 until told otherwise, so "keep the
 * device's MTU" must ask the kernel. */
static uint16_t kernel_mtu(uint32_t if_index)
{
    struct ifreq ifr;
    int fd, rc;

    memset(&ifr, 0, sizeof(ifr));
    if (if_index == 0 || if_indextoname(if_index, ifr.ifr_name) == NULL)
        return 0;
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    rc = ioctl(fd, SIOCGIFMTU, &ifr);
    close(fd);
    return rc == 0 && ifr.ifr_mtu > 0 && ifr.ifr_mtu <= UINT16_MAX ? (uint16_t)ifr.ifr_mtu : 0;
}

static uint16_t initial_mtu(uint16_t port_id, const struct rte_eth_dev_info *info)
{
    uint16_t mtu = kernel_mtu(info->if_index);

    if (mtu == 0 && rte_eth_dev_get_mtu(port_id, &mtu) != 0)
        mtu = RTE_ETHER_MTU;
    return mtu;
}

/* Port offloads to request: the checksum offloads the port offers, and
 * multi-segment Tx because the stack chains a header mbuf in front of
 * application data. */
static void choose_offloads(const struct rte_eth_dev_info *info, struct rte_eth_conf *conf)
{
    const uint64_t tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
                        RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    const uint64_t rx = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;

    conf->txmode.offloads = info->tx_offload_capa & tx;
    conf->rxmode.offloads = info->rx_offload_capa & rx;
}

/* NETDEV_* bits for the offloads in conf. Rx L4 only when both UDP and
 * TCP are checked: the flag promises the stack verdicts for either. */
static uint32_t netdev_offloads(const struct rte_eth_conf *conf)
{
    uint64_t tx = conf->txmode.offloads, rx = conf->rxmode.offloads;
    const uint64_t rx_l4 = RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
    uint32_t o = 0;

    o |= (tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) ? NETDEV_TX_IPV4_CKSUM : 0;
    o |= (tx & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) ? NETDEV_TX_UDP_CKSUM : 0;
    o |= (tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) ? NETDEV_TX_TCP_CKSUM : 0;
    o |= (rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) ? NETDEV_RX_IPV4_CKSUM : 0;
    o |= (rx & rx_l4) == rx_l4 ? NETDEV_RX_L4_CKSUM : 0;
    return o;
}

/* rte_eth_dev_configure, with Rx queue interrupts if the PMD takes them:
 * ethdev has no capability bit for them, so ask, and ask again without. */
static int configure(struct open_state *st, struct rte_eth_conf *conf, char *err, size_t errlen)
{
    uint16_t nq = st->nb_queues;
    int rc;

    conf->intr_conf.rxq = 1;
    rc = rte_eth_dev_configure(st->port_id, nq, nq, conf);
    st->rxq_intr = rc == 0;
    if (rc != 0 && rc != -EBUSY) {
        conf->intr_conf.rxq = 0;
        rc = rte_eth_dev_configure(st->port_id, nq, nq, conf);
    }
    if (rc == -EBUSY) {
        set_err(err, errlen, "%s is already open (started): close it first, or use another device name "
                "(net_af_packet1, ...)", st->name);
        return -EBUSY;
    }
    if (rc != 0) {
        set_err(err, errlen, "%s: the port refused its configuration (MTU %u, offloads tx %#" PRIx64
                " rx %#" PRIx64 "): %s; try another net.mtu", st->name, (unsigned)conf->rxmode.mtu,
                conf->txmode.offloads, conf->rxmode.offloads, strerror(-as_errno(rc)));
        return as_errno(rc);
    }
    return 0;
}

/* An MTU asked for is set through the PMD (for af_packet and tap that is
 * the kernel interface's MTU); configure alone only records it. */
static int set_mtu(const struct open_state *st, uint16_t mtu, const struct rte_eth_dev_info *info, char *err,
                   size_t errlen)
{
    int rc = rte_eth_dev_set_mtu(st->port_id, mtu);

    /* refused but already so: setting it needs CAP_NET_ADMIN on af_packet
     * and tap, which a server that is not root may lack */
    if (rc == 0 || rc == -ENOTSUP || kernel_mtu(st->if_index) == mtu)
        return 0;
    set_err(err, errlen, "%s: MTU %u refused (%s); the port allows %u..%u: change net.mtu", st->name, (unsigned)mtu,
            strerror(-as_errno(rc)), (unsigned)info->min_mtu,
            (unsigned)RTE_MIN(info->max_mtu, info->max_rx_pktlen - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN));
    return as_errno(rc);
}

const char *netdev_rxq_hint(const char *name, uint64_t cap_eff)
{
    const uint64_t sys_admin = UINT64_C(1) << 21; /* CAP_SYS_ADMIN, capability(7) */

    if (strncmp(name, "net_af_xdp", 10) == 0 && !(cap_eff & sys_admin))
        return "AF_XDP needs CAP_SYS_ADMIN for its UMEM and XDP program, which this process lacks: run it as "
               "root, or use net_af_packet (CAP_NET_RAW and CAP_NET_ADMIN)";
    return "are the mbufs big enough (mbuf.data_room)?";
}

/* This process's effective capabilities (CapEff of /proc/self/status), or
 * all ones when it cannot be read (the hint then blames nothing). */
static uint64_t cap_effective(void)
{
    char line[128];
    unsigned long long v = ~0ull;
    FILE *f = fopen("/proc/self/status", "re");

    if (f == NULL)
        return ~UINT64_C(0);
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "CapEff: %llx", &v) == 1)
            break;
    fclose(f);
    return (uint64_t)v;
}

static int setup_queue(const struct open_state *st, uint16_t q, uint16_t nb_rx, uint16_t nb_tx,
                       struct rte_mempool *pool, char *err, size_t errlen)
{
    int socket_id = rte_eth_dev_socket_id(st->port_id);
    int rc = rte_eth_rx_queue_setup(st->port_id, q, nb_rx, (unsigned)socket_id, NULL, pool);

    if (rc != 0) {
        set_err(err, errlen, "%s: cannot set up its Rx queue %u (%u descriptors): %s; %s", st->name, (unsigned)q,
                (unsigned)nb_rx, strerror(-as_errno(rc)), netdev_rxq_hint(st->name, cap_effective()));
        return as_errno(rc);
    }
    rc = rte_eth_tx_queue_setup(st->port_id, q, nb_tx, (unsigned)socket_id, NULL);
    if (rc != 0) {
        set_err(err, errlen, "%s: cannot set up its Tx queue %u (%u descriptors): %s", st->name, (unsigned)q,
                (unsigned)nb_tx, strerror(-as_errno(rc)));
        return as_errno(rc);
    }
    return 0;
}

static int setup_queues(const struct open_state *st, const struct netdev_dpdk_params *p, struct rte_mempool *pool,
                        char *err, size_t errlen)
{
    uint16_t nb_rx = p->nb_rx_desc ? p->nb_rx_desc : DEFAULT_NB_DESC;
    uint16_t nb_tx = p->nb_tx_desc ? p->nb_tx_desc : DEFAULT_NB_DESC;
    int rc;

    /* NICs have ring size limits; fit the request into them. */
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(st->port_id, &nb_rx, &nb_tx);
    if (rc != 0) {
        set_err(err, errlen, "%s: cannot size its queues (%u descriptors): %s", st->name, (unsigned)nb_rx,
                strerror(-as_errno(rc)));
        return as_errno(rc);
    }
    for (uint16_t q = 0; q < st->nb_queues; q++)
        if ((rc = setup_queue(st, q, nb_rx, nb_tx, pool, err, errlen)) != 0)
            return rc;
    return 0;
}

/* More than one queue pair: the port must have them, and spreads flows
 * over them by RSS where it can (a NIC, net_tap); net_memif's sender picks
 * the queue, and net_af_xdp's queues are the kernel interface's. */
static int choose_queues(const struct open_state *st, const struct rte_eth_dev_info *info,
                         struct rte_eth_conf *conf, char *err, size_t errlen)
{
    const uint64_t rss = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;

    if (st->nb_queues > info->max_rx_queues || st->nb_queues > info->max_tx_queues) {
        set_err(err, errlen, "%s has %u Rx and %u Tx queues, net.queues asks for %u: lower net.queues, or give "
                "the device more (net_af_xdp: queue_count= in net.devargs and a veth made with that many "
                "queues, scripts/net.sh; net_memif and net_tap take any number)", st->name,
                (unsigned)info->max_rx_queues, (unsigned)info->max_tx_queues, (unsigned)st->nb_queues);
        return -EINVAL;
    }
    if (st->nb_queues > 1 && (info->flow_type_rss_offloads & rss) != 0) {
        conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf->rx_adv_conf.rss_conf.rss_hf = info->flow_type_rss_offloads & rss;
    }
    return 0;
}

static int configure_and_start(struct open_state *st, const struct netdev_dpdk_params *p, struct rte_mempool *pool,
                               uint32_t *offloads, char *err, size_t errlen)
{
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf;
    int rc = rte_eth_dev_info_get(st->port_id, &info);

    if (rc != 0) {
        set_err(err, errlen, "%s: cannot read the port's info: %s", st->name, strerror(-as_errno(rc)));
        return as_errno(rc);
    }
    st->if_index = info.if_index;
    memset(&conf, 0, sizeof(conf));
    choose_offloads(&info, &conf);
    conf.rxmode.mtu = p->mtu ? p->mtu : initial_mtu(st->port_id, &info);
    rc = choose_queues(st, &info, &conf, err, errlen);
    rc = rc ? rc : configure(st, &conf, err, errlen);
    rc = rc ? rc : p->mtu ? set_mtu(st, p->mtu, &info, err, errlen) : 0;
    rc = rc ? rc : setup_queues(st, p, pool, err, errlen);
    if (rc != 0)
        return rc;
    rc = rte_eth_dev_start(st->port_id);
    if (rc != 0) {
        set_err(err, errlen, "%s: the port did not start: %s%s", st->name, strerror(-as_errno(rc)), probe_hint(st));
        return as_errno(rc);
    }
    st->started = true;
    *offloads = netdev_offloads(&conf);
    return 0;
}

/* ---- link and interrupts ---- */

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* True if the kernel interface if_index is up and has carrier (or there
 * is none). net_af_packet reports its link up as soon as it starts, even
 * on a veth whose peer is down: the kernel knows better. */
static bool kernel_link_up(uint32_t if_index)
{
    struct ifreq ifr;
    int fd, rc;

    memset(&ifr, 0, sizeof(ifr));
    if (if_index == 0 || if_indextoname(if_index, ifr.ifr_name) == NULL)
        return true;
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true;
    rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    close(fd);
    return rc != 0 || (ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
}

static bool link_up(const struct open_state *st)
{
    struct rte_eth_link link;

    memset(&link, 0, sizeof(link));
    if (rte_eth_link_get_nowait(st->port_id, &link) != 0 || link.link_status != RTE_ETH_LINK_UP)
        return false;
    return kernel_link_up(st->if_index);
}

static int wait_link(const struct open_state *st, const char *devargs, uint64_t timeout_ns, char *err,
                     size_t errlen)
{
    uint64_t deadline = mono_ns() + timeout_ns;
    char iface[IF_NAMESIZE + 16];

    if (timeout_ns == 0)
        return 0;
    for (;;) {
        if (link_up(st))
            return 0;
        if (mono_ns() >= deadline)
            break;
        struct timespec nap = {.tv_sec = 0, .tv_nsec = (long)LINK_POLL_NS};
        nanosleep(&nap, NULL);
    }
    if (devargs_value(devargs, "iface", iface, sizeof(iface)))
        set_err(err, errlen, "link of %s did not come up within %.3g s: are %s and its peer up "
                "(ip link; ./scripts/net.sh status)?", st->name, (double)timeout_ns / 1e9, iface);
    else
        set_err(err, errlen, "link of %s did not come up within %.3g s: is the cable (or the memif peer) "
                "connected?", st->name, (double)timeout_ns / 1e9);
    return -ETIMEDOUT;
}

/* rte_eth_dev_rx_intr_ctl_q_get_fd, without the error ethdev logs for a
 * port that has no interrupt handle: for net_af_packet that is normal, and
 * a user should not see an error line on every open. */
static int rx_intr_fd_quiet(uint16_t port_id, uint16_t queue_id)
{
    int type = rte_log_register("lib.ethdev"); /* the existing type's id */
    int level = type >= 0 ? rte_log_get_level((uint32_t)type) : -1;
    int fd;

    if (level >= 0)
        rte_log_set_level((uint32_t)type, RTE_LOG_CRIT);
    fd = rte_eth_dev_rx_intr_ctl_q_get_fd(port_id, queue_id);
    if (level >= 0)
        rte_log_set_level((uint32_t)type, (uint32_t)level);
    return fd;
}

/* The Rx queue's interrupt fd, or -1: interrupts are a convenience (the
 * engine can sleep instead of spinning), never a reason to fail. */
static int rx_intr_fd(uint16_t port_id, uint16_t queue_id, bool rxq_intr)
{
    int fd, rc;

    if (!rxq_intr)
        return -1;
    fd = rx_intr_fd_quiet(port_id, queue_id);
    if (fd < 0)
        return -1;
    rc = rte_eth_dev_rx_intr_enable(port_id, queue_id);
    /* -ENOTSUP: the fd is always armed (e.g. net_tap's queue fd). */
    return rc == 0 || rc == -ENOTSUP ? fd : -1;
}

/* ---- the netdev ---- */

static struct dpdk_netdev *dpdk_of(struct netdev *dev)
{
    return (struct dpdk_netdev *)dev;
}

static uint16_t dpdk_rx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    (void)now_ns;
    return rte_eth_rx_burst(dpdk_of(dev)->port_id, dpdk_of(dev)->queue_id, pkts, n);
}

/* One contiguous copy of chained frame m (freed), from m's pool: NULL when
 * the pool is empty or the frame does not fit one data room. */
static struct rte_mbuf *flatten(struct rte_mbuf *m)
{
    struct rte_mbuf *f;
    const void *src;
    char *dst;

    if (m->pkt_len > UINT16_MAX || (f = rte_pktmbuf_alloc(m->pool)) == NULL)
        return NULL;
    dst = rte_pktmbuf_append(f, (uint16_t)m->pkt_len);
    /* rte_pktmbuf_read copies into dst only when the bytes are not
     * contiguous in m; else it points into m */
    src = dst != NULL ? rte_pktmbuf_read(m, 0, m->pkt_len, dst) : NULL;
    if (src == NULL) {
        rte_pktmbuf_free(f);
        return NULL;
    }
    if (src != dst)
        rte_memcpy(dst, src, m->pkt_len);
    f->ol_flags = m->ol_flags;
    f->tx_offload = m->tx_offload;
    rte_pktmbuf_free(m);
    return f;
}

/* A port without multi-segment Tx (net_af_xdp copies pkt_len bytes from
 * the first segment alone) gets chained frames flattened; the stack
 * chains a header in front of the data it sends. Returns how many of
 * pkts are ready: the first that cannot be flattened stays with the caller
 * with those after it, as frames the ring has no room for. */
static uint16_t flatten_burst(struct rte_mbuf **pkts, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) {
        struct rte_mbuf *f;
        if (pkts[i]->nb_segs == 1)
            continue;
        if ((f = flatten(pkts[i])) == NULL)
            return i;
        pkts[i] = f;
    }
    return n;
}

/* rte_eth_tx_prepare first: a NIC doing checksum offload may need fields
 * set up (e.g. the pseudo-header sum); frames it rejects stay with the
 * caller like frames the ring has no room for. */
static uint16_t dpdk_tx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct dpdk_netdev *d = dpdk_of(dev);
    uint16_t ok;

    (void)now_ns;
    if (d->single_seg)
        n = flatten_burst(pkts, n);
    ok = rte_eth_tx_prepare(d->port_id, d->queue_id, pkts, n);
    return rte_eth_tx_burst(d->port_id, d->queue_id, pkts, ok);
}

/* Queue 0's netdev stops, closes and removes the device: a closed port
 * cannot be started again, and removing the device lets the next open
 * probe it afresh. Another queue's netdev only goes away (netdev.h: close
 * those first). */
static void dpdk_close(struct netdev *dev)
{
    struct dpdk_netdev *d = dpdk_of(dev);

    if (!d->owner) {
        smem_free(d);
        return;
    }
    stop_close(d->port_id, true, true);
    if (d->rte_dev != NULL)
        rte_dev_remove(d->rte_dev);
    smem_free(d);
}

static const struct netdev_ops dpdk_ops = {
    .rx_burst = dpdk_rx,
    .tx_burst = dpdk_tx,
    .close = dpdk_close,
};

static int make_netdev(const struct open_state *st, uint32_t offloads, struct netdev **out, char *err,
                       size_t errlen)
{
    struct dpdk_netdev *d = smem_calloc(1, sizeof(*d));

    if (d == NULL) {
        set_err(err, errlen, "%s: out of memory", st->name);
        return -ENOMEM;
    }
    d->dev.ops = &dpdk_ops;
    d->port_id = st->port_id;
    d->queue_id = 0;
    d->nb_queues = st->nb_queues;
    d->owner = true;
    d->rxq_intr = st->rxq_intr;
    d->rte_dev = st->rte_dev;
    if (rte_eth_macaddr_get(st->port_id, &d->dev.mac) != 0)
        memset(&d->dev.mac, 0, sizeof(d->dev.mac));
    if (rte_eth_dev_get_mtu(st->port_id, &d->dev.mtu) != 0)
        d->dev.mtu = RTE_ETHER_MTU;
    d->dev.offloads = offloads;
    struct rte_eth_dev_info info;
    d->single_seg = rte_eth_dev_info_get(st->port_id, &info) != 0 ||
                    (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) == 0;
    d->dev.rx_intr_fd = rx_intr_fd(st->port_id, 0, st->rxq_intr);
    d->dev.port_id = st->port_id;
    if (rte_eth_dev_get_name_by_port(st->port_id, d->dev.name) != 0)
        snprintf(d->dev.name, sizeof(d->dev.name), "%s", st->name);
    *out = &d->dev;
    return 0;
}

static int open_steps(const struct netdev_dpdk_params *p, struct rte_mempool *pool, struct open_state *st,
                      struct netdev **out, char *err, size_t errlen)
{
    uint32_t offloads = 0;
    int rc;

    if (parse_name(p->devargs, st) != 0) {
        set_err(err, errlen, "bad device '%s': expected e.g. net_af_packet0,iface=sluice0 or 0000:03:00.0",
                p->devargs);
        return -EINVAL;
    }
    rc = check_af_packet(p->devargs, st, err, errlen);
    rc = rc ? rc : probe(p->devargs, st, err, errlen);
    if (rc == 0 && !st->have_port && find_port(st) != 0) {
        set_err(err, errlen, "%s: probed, but no ethdev port came of it: is it a network device?", st->name);
        rc = -ENODEV;
    }
    rc = rc ? rc : configure_and_start(st, p, pool, &offloads, err, errlen);
    rc = rc ? rc : wait_link(st, p->devargs, p->link_timeout_ns, err, errlen);
    return rc ? rc : make_netdev(st, offloads, out, err, errlen);
}

int netdev_dpdk_open(const struct netdev_dpdk_params *p, struct rte_mempool *pool, struct netdev **out, char *err,
                     size_t errlen)
{
    struct open_state st;
    int rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (p == NULL || p->devargs == NULL || p->devargs[0] == '\0' || pool == NULL || out == NULL) {
        set_err(err, errlen, "netdev_dpdk_open: devargs, pool and out are required");
        return -EINVAL;
    }
    memset(&st, 0, sizeof(st));
    st.nb_queues = p->nb_queues ? p->nb_queues : 1;
    rc = open_steps(p, pool, &st, out, err, errlen);
    if (rc != 0)
        undo_open(&st);
    return rc;
}

int netdev_dpdk_queue(struct netdev *port, uint16_t queue_id, struct netdev **out)
{
    struct dpdk_netdev *p, *d;

    if (port == NULL || out == NULL || port->ops != &dpdk_ops)
        return -EINVAL;
    p = dpdk_of(port);
    if (!p->owner || queue_id == 0 || queue_id >= p->nb_queues)
        return -EINVAL;
    d = smem_calloc(1, sizeof(*d));
    if (d == NULL)
        return -ENOMEM;
    *d = *p;
    d->owner = false;
    d->queue_id = queue_id;
    d->rte_dev = NULL;
    d->dev.rx_intr_fd = rx_intr_fd(p->port_id, queue_id, p->rxq_intr);
    *out = &d->dev;
    return 0;
}

uint16_t netdev_dpdk_nb_queues(const struct netdev *port)
{
    if (port == NULL || port->ops != &dpdk_ops)
        return 0;
    return ((const struct dpdk_netdev *)port)->nb_queues;
}
