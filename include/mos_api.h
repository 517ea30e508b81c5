/*
 * mos_api.h - the non-monitor part of mOS's API on Sluice (docs/mtcp.md
 * "Dialects"). Including it before <mtcp_api.h> selects the mOS dialect
 * (int mtcp_destroy, int mtcp_destroy_context, ssize_t readv/writev, a
 * uint64_t epoll events field, typedef byte, mOS's struct mtcp_conf).
 *
 * As upstream, it includes <linux/tcp.h> and <linux/if_ether.h>: their
 * struct tcphdr and TCP_* names clash with glibc's <netinet/tcp.h>, so a
 * program cannot include both (the same holds with mOS itself).
 *
 * Monitor sockets (MOS_SOCK_MONITOR_*, mtcp_register_callback, mtcp_peek,
 * mtcp_getlastpkt, ...) are not declared yet (issue 15, part 2).
 */
#ifndef MOS_API_H
#define MOS_API_H

#ifndef SLUICE_MTCP_DIALECT_MOS
#define SLUICE_MTCP_DIALECT_MOS 1
#endif

#include <linux/if_ether.h>
#include <linux/tcp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdbool.h>
#include <stddef.h>

#include <mtcp_epoll.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned char byte;

/* mOS's socket types: MOS_SOCK_STREAM is accepted by mtcp_socket as
 * SOCK_STREAM; the monitor types are part 2 (mtcp_socket fails with
 * EINVAL). Numbered as in mOS. */
enum socket_type {
    MOS_SOCK_UNUSED,
    MOS_SOCK_STREAM_LISTEN,
    MOS_SOCK_PROXY_LISTEN,
    MOS_SOCK_MONITOR_STREAM,
    MOS_SOCK_STREAM,
    MOS_SOCK_PROXY,
    MOS_SOCK_MONITOR_STREAM_ACTIVE,
    MOS_SOCK_MONITOR_RAW,
    MOS_SOCK_EPOLL,
    MOS_SOCK_PIPE,
};

/* The side argument of the five-argument mtcp_getpeername. */
enum { MOS_SIDE_CLI = 0, MOS_SIDE_SVR, MOS_SIDE_BOTH };

#ifdef __cplusplus
}
#endif

#endif /* MOS_API_H */
