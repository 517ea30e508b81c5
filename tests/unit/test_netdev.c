/* test_netdev.c - netdev_dpdk's helpers that need no device (the devices
 * themselves are tests/integration/test_netdev.c's): the hint of the Rx
 * queue failure message. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "netdev.h"

#define CAP_SYS_ADMIN_BIT (UINT64_C(1) << 21)
#define NET_RAW_ADMIN ((UINT64_C(1) << 13) | (UINT64_C(1) << 12))

Test(netdev_hint, af_xdp_without_cap_sys_admin_names_the_capability)
{
    const char *h = netdev_rxq_hint("net_af_xdp0", NET_RAW_ADMIN);

    cr_assert_not_null(strstr(h, "CAP_SYS_ADMIN"), "%s", h);
    cr_assert_not_null(strstr(h, "net_af_packet"), "%s", h);
}

Test(netdev_hint, af_xdp_with_cap_sys_admin_points_at_the_mbufs)
{
    cr_assert_not_null(strstr(netdev_rxq_hint("net_af_xdp1", NET_RAW_ADMIN | CAP_SYS_ADMIN_BIT), "mbuf.data_room"));
    cr_assert_not_null(strstr(netdev_rxq_hint("net_af_xdp0", ~UINT64_C(0)), "mbuf.data_room"), "root");
}

Test(netdev_hint, other_devices_point_at_the_mbufs_whatever_the_capabilities)
{
    cr_assert_not_null(strstr(netdev_rxq_hint("net_af_packet0", 0), "mbuf.data_room"));
    cr_assert_not_null(strstr(netdev_rxq_hint("net_tap0", 0), "mbuf.data_room"));
}
