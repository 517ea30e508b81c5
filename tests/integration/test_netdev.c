/* test_netdev.c - netdev_dpdk on real (virtual) devices: net_af_packet on
 * a veth pair whose far end is the kernel in a throwaway namespace,
 * net_tap inside that namespace, and a net_memif server/client pair. Needs
 * root (tests skip themselves otherwise); run it through run.sh, which
 * removes what a crashed test leaves behind.
 *
 * Each Criterion test runs in its own process: its fixture makes namespace
 * sltns<pid> holding slp<pid> (10.9.<x>.1/24, MTU 1400) and veth peer
 * slt<pid> here, and removes them in the teardown. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/options.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <demi/libos.h>
#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "netdev.h"
#include "stack.h"
#include "runtime.h"

#ifndef SLUICE_SRCDIR
#define SLUICE_SRCDIR "."
#endif

#define VETH_MTU 1400
#define NS_PER_MS 1000000ull

/* The fixture's names; one test per process. */
static struct {
    char ns[32], host_if[24], peer_if[24]; /* interface names: at most 15 characters */
    unsigned x; /* 10.9.x.0/24 */
    bool up;
} net;

static const char *netns_sh(void)
{
    const char *env = getenv("SLUICE_TEST_NETNS_SH");

    return env != NULL ? env : SLUICE_SRCDIR "/tests/integration/netns.sh";
}

/* Runs a shell command; returns its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void setup(void)
{
    if (geteuid() != 0)
        return; /* each test skips itself */
    long pid = (long)getpid();
    snprintf(net.ns, sizeof(net.ns), "sltns%ld", pid);
    snprintf(net.host_if, sizeof(net.host_if), "slt%ld", pid);
    snprintf(net.peer_if, sizeof(net.peer_if), "slp%ld", pid);
    net.x = (unsigned)(pid % 254) + 1;
    cr_assert_leq(strlen(net.host_if), 15, "pid too long for an interface name");
    cr_assert_eq(sh("%s up %s %s %s 10.9.%u.1/24 %d", netns_sh(), net.ns, net.host_if, net.peer_if, net.x, VETH_MTU),
                 0, "could not create the test network (is this root, with iproute2?)");
    net.up = true;
    int rc = demi_init(NULL);
    cr_assert_eq(rc, 0, "demi_init: %d", rc);
}

static void teardown(void)
{
    if (net.up)
        sh("%s down %s %s", netns_sh(), net.ns, net.host_if);
    net.up = false;
}

TestSuite(netdev, .init = setup, .fini = teardown, .timeout = 60);

static void need_root(void)
{
    if (geteuid() != 0)
        cr_skip_test("needs root (namespaces, veth, raw sockets)");
}

static void af_packet_devargs(char *buf, size_t len, const char *iface)
{
    snprintf(buf, len, "net_af_packet0,iface=%s", iface);
}

static struct netdev *open_ok(const char *devargs, uint16_t mtu)
{
    struct netdev_dpdk_params p = {.devargs = devargs, .mtu = mtu, .link_timeout_ns = 5000 * NS_PER_MS};
    struct netdev *dev = NULL;
    char err[256];
    int rc = netdev_dpdk_open(&p, g_rt.pool, &dev, err, sizeof(err));

    cr_assert_eq(rc, 0, "netdev_dpdk_open(%s): %d: %s", devargs, rc, err);
    cr_assert_not_null(dev);
    cr_log_info("%s: mtu %u offloads %#x rx_intr_fd %d", dev->name, (unsigned)dev->mtu, (unsigned)dev->offloads,
                dev->rx_intr_fd);
    return dev;
}

/* A line of /sys/class/net/<iface>/<attr>, newline removed. */
static void sys_attr(const char *iface, const char *attr, char *buf, size_t len)
{
    char path[128];

    snprintf(path, sizeof(path), "/sys/class/net/%s/%s", iface, attr);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_not_null(fgets(buf, (int)len, f));
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

static rte_be32_t addr(unsigned host)
{
    return rte_cpu_to_be_32((10u << 24) | (9u << 16) | (net.x << 8) | host);
}

/* An ARP request from 10.9.x.2 (our made-up address, our MAC) for 10.9.x.1. */
static struct rte_mbuf *arp_request(const struct netdev *dev)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(g_rt.pool);
    cr_assert_not_null(m);
    struct rte_ether_hdr *eth =
        (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr));
    cr_assert_not_null(eth);
    struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

    memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
    eth->src_addr = dev->mac;
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    arp->arp_hlen = RTE_ETHER_ADDR_LEN;
    arp->arp_plen = 4;
    arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
    arp->arp_data.arp_sha = dev->mac;
    arp->arp_data.arp_sip = addr(2);
    memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
    arp->arp_data.arp_tip = addr(1);
    return m;
}

static bool is_arp_reply_to_us(const struct netdev *dev, const struct rte_mbuf *m)
{
    const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
    const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);

    if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*arp) ||
        eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
        return false;
    return arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY) && arp->arp_data.arp_sip == addr(1) &&
           arp->arp_data.arp_tip == addr(2) && rte_is_same_ether_addr(&arp->arp_data.arp_tha, &dev->mac) &&
           rte_is_same_ether_addr(&eth->dst_addr, &dev->mac);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sends one ARP request and polls for the kernel's reply for up to 2 s. */
static void assert_arp_round_trip(struct netdev *dev)
{
    struct rte_mbuf *req = arp_request(dev), *pkts[32];
    uint64_t deadline = mono_ns() + 2000 * NS_PER_MS;
    unsigned frames = 0;
    bool answered = false;

    cr_assert_eq(netdev_tx(dev, &req, 1, mono_ns()), 1, "the device did not take the ARP request");
    while (!answered && mono_ns() < deadline) {
        uint16_t n = netdev_rx(dev, pkts, 32, mono_ns());
        for (uint16_t i = 0; i < n; i++) {
            answered = answered || is_arp_reply_to_us(dev, pkts[i]);
            rte_pktmbuf_free(pkts[i]);
        }
        frames += n;
        if (n == 0)
            usleep(1000);
    }
    cr_assert(answered, "no ARP reply from 10.9.%u.1 within 2 s (%u other frames)", net.x, frames);
}

Test(netdev, af_packet_opens_with_the_interface_mac_and_mtu)
{
    char devargs[64], mac[32], mtu[16];
    need_root();
    af_packet_devargs(devargs, sizeof(devargs), net.host_if);
    struct netdev *dev = open_ok(devargs, 0);
    char want_mac[32];

    sys_attr(net.host_if, "address", mac, sizeof(mac));
    sys_attr(net.host_if, "mtu", mtu, sizeof(mtu));
    const uint8_t *b = dev->mac.addr_bytes;
    snprintf(want_mac, sizeof(want_mac), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    cr_assert_str_eq(want_mac, mac);
    cr_assert_eq(dev->mtu, VETH_MTU, "the device's MTU was %s, reported %u", mtu, (unsigned)dev->mtu);
    cr_assert_eq(atoi(mtu), VETH_MTU, "open with mtu 0 changed the interface's MTU");
    cr_assert_str_eq(dev->name, "net_af_packet0");
    netdev_close(dev);
}

Test(netdev, an_mtu_asked_for_is_set)
{
    char devargs[64], mtu[16];
    need_root();
    af_packet_devargs(devargs, sizeof(devargs), net.host_if);
    struct netdev *dev = open_ok(devargs, 1280);

    sys_attr(net.host_if, "mtu", mtu, sizeof(mtu));
    cr_assert_eq(dev->mtu, 1280);
    cr_assert_eq(atoi(mtu), 1280, "the interface's MTU is %s", mtu);
    netdev_close(dev);
}

Test(netdev, a_missing_interface_fails_naming_it_and_net_sh)
{
    char devargs[64], iface[24], err[256];
    struct netdev_dpdk_params p = {.devargs = devargs, .link_timeout_ns = 5000 * NS_PER_MS};
    struct netdev *dev = NULL;
    need_root();

    snprintf(iface, sizeof(iface), "sltno%ld", (long)getpid());
    af_packet_devargs(devargs, sizeof(devargs), iface);
    cr_assert_eq(netdev_dpdk_open(&p, g_rt.pool, &dev, err, sizeof(err)), -ENODEV);
    cr_assert_null(dev);
    cr_log_info("%s", err);
    cr_assert_not_null(strstr(err, iface), "the message does not name the interface: %s", err);
    cr_assert_not_null(strstr(err, "net.sh"), "the message does not say to run net.sh: %s", err);
    cr_assert_eq(rte_eth_dev_count_avail(), 0, "a port was left behind");
}

Test(netdev, bad_devargs_fail_with_a_message)
{
    struct netdev_dpdk_params p = {.devargs = "nosuchdriver0,x=1"};
    struct netdev *dev = NULL;
    char err[256];
    need_root();

    cr_assert_eq(netdev_dpdk_open(&p, g_rt.pool, &dev, err, sizeof(err)), -ENODEV);
    cr_log_info("%s", err);
    cr_assert_not_null(strstr(err, "nosuchdriver0"), "%s", err);
    p.devargs = "";
    cr_assert_eq(netdev_dpdk_open(&p, g_rt.pool, &dev, err, sizeof(err)), -EINVAL);
    cr_assert_neq(err[0], '\0');
    p.devargs = "net_af_packet0";
    cr_assert_eq(netdev_dpdk_open(&p, g_rt.pool, &dev, err, sizeof(err)), -EINVAL);
    cr_assert_not_null(strstr(err, "iface="), "%s", err);
    cr_assert_null(dev);
    cr_assert_eq(rte_eth_dev_count_avail(), 0, "a port was left behind");
}

Test(netdev, the_kernel_answers_our_arp_request)
{
    char devargs[64];
    need_root();
    af_packet_devargs(devargs, sizeof(devargs), net.host_if);
    struct netdev *dev = open_ok(devargs, 0);

    assert_arp_round_trip(dev);
    netdev_close(dev);
}

/* net_af_xdp sends one segment per frame (it copies pkt_len bytes from the
 * first): a chained frame is flattened by the netdev, so the kernel sees
 * the whole ARP request (the stack chains headers in front of data). */
static struct rte_mbuf *chained_arp_request(const struct netdev *dev)
{
    struct rte_mbuf *whole = arp_request(dev), *head = rte_pktmbuf_alloc(g_rt.pool),
                    *tail = rte_pktmbuf_alloc(g_rt.pool);
    uint16_t eth = sizeof(struct rte_ether_hdr), rest = (uint16_t)(rte_pktmbuf_data_len(whole) - eth);

    cr_assert(head != NULL && tail != NULL);
    memcpy(rte_pktmbuf_append(head, eth), rte_pktmbuf_mtod(whole, void *), eth);
    memcpy(rte_pktmbuf_append(tail, rest), rte_pktmbuf_mtod_offset(whole, void *, eth), rest);
    rte_pktmbuf_free(whole);
    cr_assert_eq(rte_pktmbuf_chain(head, tail), 0);
    cr_assert_eq(head->nb_segs, 2);
    return head;
}

Test(netdev, af_xdp_answers_arp_and_flattens_chained_frames)
{
    char devargs[96];
    need_root();
    snprintf(devargs, sizeof(devargs), "net_af_xdp0,iface=%s,start_queue=0,queue_count=1", net.host_if);
    struct netdev *dev = open_ok(devargs, 0);

    assert_arp_round_trip(dev);
    struct rte_mbuf *req = chained_arp_request(dev), *pkts[32];
    uint64_t deadline = mono_ns() + 2000 * NS_PER_MS;
    bool answered = false;
    cr_assert_eq(netdev_tx(dev, &req, 1, mono_ns()), 1, "the device did not take the chained request");
    while (!answered && mono_ns() < deadline) {
        uint16_t n = netdev_rx(dev, pkts, 32, mono_ns());
        for (uint16_t i = 0; i < n; i++) {
            answered = answered || is_arp_reply_to_us(dev, pkts[i]);
            rte_pktmbuf_free(pkts[i]);
        }
        if (n == 0)
            usleep(1000);
    }
    cr_assert(answered, "no ARP reply to a chained request over net_af_xdp within 2 s");
    netdev_close(dev);
}

Test(netdev, close_then_reopen)
{
    char devargs[64];
    need_root();
    af_packet_devargs(devargs, sizeof(devargs), net.host_if);

    for (int round = 0; round < 3; round++) {
        struct netdev *dev = open_ok(devargs, 0);
        assert_arp_round_trip(dev);
        netdev_close(dev);
        cr_assert_eq(rte_eth_dev_count_avail(), 0, "round %d: the port outlived close", round);
    }
}

Test(netdev, a_second_open_of_an_open_device_is_ebusy)
{
    char devargs[64], err[256];
    need_root();
    af_packet_devargs(devargs, sizeof(devargs), net.host_if);
    struct netdev *dev = open_ok(devargs, 0), *again = NULL;
    struct netdev_dpdk_params p = {.devargs = devargs, .link_timeout_ns = 5000 * NS_PER_MS};

    cr_assert_eq(netdev_dpdk_open(&p, g_rt.pool, &again, err, sizeof(err)), -EBUSY);
    cr_log_info("%s", err);
    assert_arp_round_trip(dev); /* the failed open left the first one alone */
    netdev_close(dev);
}

Test(netdev, link_down_times_out)
{
    char devargs[64], err[256];
    struct netdev *dev = NULL;
    need_root();
    af_packet_devargs(devargs, sizeof(devargs), net.host_if);
    struct netdev_dpdk_params p = {.devargs = devargs, .link_timeout_ns = 300 * NS_PER_MS};

    cr_assert_eq(sh("ip -n %s link set dev %s down", net.ns, net.peer_if), 0);
    int rc = netdev_dpdk_open(&p, g_rt.pool, &dev, err, sizeof(err));
    cr_log_info("%s", err);
    cr_assert_eq(rc, -ETIMEDOUT, "open with the peer down: %d (%s)", rc, err);
    cr_assert_not_null(strstr(err, "did not come up within 0.3 s"), "%s", err);
    cr_assert_eq(rte_eth_dev_count_avail(), 0, "a port was left behind");
    cr_assert_eq(sh("ip -n %s link set dev %s up", net.ns, net.peer_if), 0);
    dev = open_ok(devargs, 0);
    netdev_close(dev);
}

/* The fault injector on a real device: with Rx loss certain, the reply
 * never arrives; counters say why. */
Test(netdev, fault_wrapper_on_af_packet)
{
    char devargs[64];
    struct stack_counters ctr = {0};
    struct fault_params fp = {.rx.loss_ppm = FAULT_PPM_MAX, .seed = 1};
    struct netdev *dev;
    need_root();
    af_packet_devargs(devargs, sizeof(devargs), net.host_if);
    struct netdev *inner = open_ok(devargs, 0);

    cr_assert_eq(netdev_fault_wrap(inner, &fp, &ctr, &dev), 0);
    cr_assert(rte_is_same_ether_addr(&dev->mac, &inner->mac));
    struct rte_mbuf *req = arp_request(dev), *pkts[8];
    cr_assert_eq(netdev_tx(dev, &req, 1, mono_ns()), 1);
    uint64_t deadline = mono_ns() + 500 * NS_PER_MS;
    while (mono_ns() < deadline && ctr.fault_dropped == 0) {
        cr_assert_eq(netdev_rx(dev, pkts, 8, mono_ns()), 0);
        usleep(1000);
    }
    cr_assert_geq(ctr.fault_dropped, 1, "the reply was not seen (and dropped) within 0.5 s");
    netdev_close(dev); /* closes inner */
    cr_assert_eq(rte_eth_dev_count_avail(), 0);
}

/* net_tap, created inside the test namespace (this process moves there),
 * so that nothing appears in the host's namespace. */
Test(netdev, tap_opens_in_a_namespace)
{
    char path[64], devargs[64];
    need_root();
    snprintf(path, sizeof(path), "/var/run/netns/%s", net.ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    cr_assert_eq(setns(fd, CLONE_NEWNET), 0, "setns: %s", strerror(errno));
    close(fd);
    snprintf(devargs, sizeof(devargs), "net_tap0,iface=slq%ld", (long)getpid());

    struct netdev *dev = open_ok(devargs, 0);
    cr_assert_str_eq(dev->name, "net_tap0");
    cr_log_info("net_tap here: offloads %#x (tx ip %d udp %d tcp %d, rx ip %d l4 %d), rx_intr_fd %d",
                (unsigned)dev->offloads, !!(dev->offloads & NETDEV_TX_IPV4_CKSUM),
                !!(dev->offloads & NETDEV_TX_UDP_CKSUM), !!(dev->offloads & NETDEV_TX_TCP_CKSUM),
                !!(dev->offloads & NETDEV_RX_IPV4_CKSUM), !!(dev->offloads & NETDEV_RX_L4_CKSUM), dev->rx_intr_fd);
    netdev_close(dev);
    cr_assert_eq(rte_eth_dev_count_avail(), 0);
    /* the tap interface went with the device */
    cr_assert_neq(sh("ip link show dev slq%ld >/dev/null 2>&1", (long)getpid()), 0);
}

/* Whether an ARP request sent on from arrives on to within 2 s. */
static bool passes_on(struct netdev *from, struct netdev *to)
{
    struct rte_mbuf *req = arp_request(from), *pkts[8];
    uint64_t deadline = mono_ns() + 2000 * NS_PER_MS;
    bool got = false;

    cr_assert_eq(netdev_tx(from, &req, 1, mono_ns()), 1);
    while (!got && mono_ns() < deadline) {
        uint16_t n = netdev_rx(to, pkts, 8, mono_ns());
        for (uint16_t i = 0; i < n; i++) {
            got = got || rte_pktmbuf_pkt_len(pkts[i]) == sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr);
            rte_pktmbuf_free(pkts[i]);
        }
        if (n == 0)
            usleep(1000);
    }
    return got;
}

/* net_memif: a server and a client on one socket in this process; a frame
 * sent by one arrives at the other. The server cannot have a link before
 * the client exists, so it opens without waiting for one. */
Test(netdev, memif_pair_passes_a_frame)
{
    char sock[64], srv_args[128], cli_args[128], err[256];
    struct netdev *srv = NULL, *cli;
    need_root();
    snprintf(sock, sizeof(sock), "/tmp/sluice-memif-%ld.sock", (long)getpid());
    snprintf(srv_args, sizeof(srv_args), "net_memif0,role=server,socket=%s", sock);
    snprintf(cli_args, sizeof(cli_args), "net_memif1,role=client,socket=%s", sock);
    struct netdev_dpdk_params p = {.devargs = srv_args};

    int rc = netdev_dpdk_open(&p, g_rt.pool, &srv, err, sizeof(err));
    cr_assert_eq(rc, 0, "memif server: %d: %s", rc, err);
    cli = open_ok(cli_args, 0);

    bool got = passes_on(cli, srv);
    netdev_close(cli);
    netdev_close(srv);
    unlink(sock);
    cr_assert(got, "the server did not receive the client's frame within 2 s");
    cr_assert_eq(rte_eth_dev_count_avail(), 0);
}

/* Two queue pairs on a memif pair: what the client sends on queue pair
 * k arrives on the server's queue pair k (memif's sender picks the queue:
 * an engine per queue pair talks to its peer engine, docs/DESIGN.md
 * "Engines per thread"). */
Test(netdev, memif_queue_pairs_keep_to_their_queue)
{
    char sock[64], srv_args[128], cli_args[128], err[256];
    struct netdev *srv = NULL, *cli = NULL, *srv1 = NULL, *cli1 = NULL, *bad = NULL;
    need_root();
    snprintf(sock, sizeof(sock), "/tmp/sluice-memif-q-%ld.sock", (long)getpid());
    snprintf(srv_args, sizeof(srv_args), "net_memif0,role=server,socket=%s", sock);
    snprintf(cli_args, sizeof(cli_args), "net_memif1,role=client,socket=%s", sock);
    struct netdev_dpdk_params ps = {.devargs = srv_args, .nb_queues = 2};
    struct netdev_dpdk_params pc = {.devargs = cli_args, .nb_queues = 2, .link_timeout_ns = 5000 * NS_PER_MS};

    cr_assert_eq(netdev_dpdk_open(&ps, g_rt.pool, &srv, err, sizeof(err)), 0, "memif server: %s", err);
    cr_assert_eq(netdev_dpdk_open(&pc, g_rt.pool, &cli, err, sizeof(err)), 0, "memif client: %s", err);
    cr_assert_eq(netdev_dpdk_nb_queues(srv), 2);
    cr_assert_eq(netdev_dpdk_queue(srv, 1, &srv1), 0);
    cr_assert_eq(netdev_dpdk_queue(cli, 1, &cli1), 0);
    cr_assert_eq(netdev_dpdk_queue(srv, 0, &bad), -EINVAL, "queue pair 0 is the port's own netdev");
    cr_assert_eq(netdev_dpdk_queue(srv, 2, &bad), -EINVAL, "the port has 2 queue pairs");
    cr_assert_eq(netdev_dpdk_queue(srv1, 1, &bad), -EINVAL, "a queue's netdev is not the port");
    cr_assert_eq(netdev_dpdk_queue(NULL, 1, &bad), -EINVAL);
    cr_assert_eq(netdev_dpdk_nb_queues(NULL), 0);
    bool q1 = passes_on(cli1, srv1), q0 = passes_on(cli, srv);
    bool stray = passes_on(cli1, srv); /* queue pair 1's frame must not show up on 0 */
    netdev_close(cli1);
    netdev_close(srv1);
    netdev_close(cli);
    netdev_close(srv);
    unlink(sock);
    cr_assert(q1, "queue pair 1: the server did not receive the client's frame within 2 s");
    cr_assert(q0, "queue pair 0: the server did not receive the client's frame within 2 s");
    cr_assert(!stray, "a frame sent on queue pair 1 arrived on queue pair 0");
    cr_assert_eq(rte_eth_dev_count_avail(), 0);
}

/* net.queues above what the device has: one line that says so and how to
 * fix it; nothing left open. */
Test(netdev, more_queue_pairs_than_the_device_has_fail_saying_so)
{
    char devargs[64], err[512];
    struct netdev *dev = NULL;
    need_root();
    af_packet_devargs(devargs, sizeof(devargs), net.host_if);
    struct netdev_dpdk_params p = {.devargs = devargs, .nb_queues = 2};

    cr_assert_eq(netdev_dpdk_open(&p, g_rt.pool, &dev, err, sizeof(err)), -EINVAL);
    cr_assert_not_null(strstr(err, "net.queues"), "%s", err);
    cr_assert_not_null(strstr(err, "net_af_packet0"), "%s", err);
    dev = open_ok(devargs, 0); /* one queue pair: fine, nothing was left behind */
    netdev_close(dev);
}

/* A driver that refuses its arguments leaves nothing that blocks the
 * next, correct open. */
Test(netdev, a_refused_probe_can_be_retried)
{
    char devargs[96], err[256];
    struct netdev *dev = NULL;
    need_root();
    snprintf(devargs, sizeof(devargs), "net_af_packet0,iface=%s,framesz=99999", net.host_if);
    struct netdev_dpdk_params p = {.devargs = devargs, .link_timeout_ns = 5000 * NS_PER_MS};

    int rc = netdev_dpdk_open(&p, g_rt.pool, &dev, err, sizeof(err));
    cr_log_info("%s", err);
    cr_assert_lt(rc, 0);
    cr_assert_not_null(strstr(err, "net_af_packet0"), "%s", err);
    cr_assert_eq(rte_eth_dev_count_avail(), 0);
    af_packet_devargs(devargs, sizeof(devargs), net.host_if);
    dev = open_ok(devargs, 0);
    assert_arp_round_trip(dev);
    netdev_close(dev);
}

/* One test at a time unless --jobs says otherwise: net_af_packet names its
 * PACKET_FANOUT group (pid ^ ifindex) & 0xffff, and two test processes
 * with neighbouring pids and interfaces can pick the same id for
 * different interfaces, which the kernel refuses (EINVAL). */
int main(int argc, char *argv[])
{
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;

    criterion_options.jobs = 1;
    if (criterion_handle_args(argc, argv, true))
        result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return result;
}
