/*
 * config.h - Sluice's settings: built-in defaults, then an optional YAML file
 * (named by SLUICE_CONFIG), then SLUICE_* environment variables.
 *
 * The file is a mapping of sections to mappings of keys:
 *
 *     log:
 *       level: info
 *     eal:
 *       hugepages: off
 *       memory_mb: 512
 *       args: ["--vdev=net_tap0"]
 *     mbuf:
 *       count: 16383
 *
 * Every function that can fail writes one line into err saying where
 * (file and 1-based line, or the environment variable), which key, what was
 * expected and what was given. err (errlen bytes, owned by the caller) is
 * always NUL-terminated and is set to "" on success; err may be NULL when
 * errlen is 0. Nothing here logs: callers decide what to do with err.
 *
 * A struct sluice_config must be set up with sluice_config_defaults (or be
 * all-zero) before any other call, and released with sluice_config_free.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define SLUICE_EAL_ARGS_MAX 32
#define SLUICE_DEVARGS_MAX 256

enum sluice_hugepages {
    SLUICE_HUGEPAGES_AUTO = 0,
    SLUICE_HUGEPAGES_ON,
    SLUICE_HUGEPAGES_OFF,
};

struct sluice_config {
    enum sluice_log_level log_level;     /* key log.level; env SLUICE_LOG; default warn */
    enum sluice_hugepages hugepages;     /* key eal.hugepages: auto|on|off; env SLUICE_EAL_HUGEPAGES; default auto */
    uint32_t eal_memory_mb;              /* key eal.memory_mb: 64..65536; env SLUICE_EAL_MEMORY_MB; default 256
                                          * (MiB of memory when running without hugepages) */
    int eal_argc;                        /* key eal.args: extra DPDK EAL args; a YAML sequence of strings or one
                                          * string split on whitespace; env SLUICE_EAL_ARGS (split on whitespace);
                                          * default none; more than SLUICE_EAL_ARGS_MAX is an error */
    char *eal_argv[SLUICE_EAL_ARGS_MAX]; /* owned (malloc'd) strings; entries from eal_argc on are NULL */
    uint32_t mbuf_count;                 /* key mbuf.count: 1023..1048575; env SLUICE_MBUF_COUNT; default 8191 */
    uint32_t mbuf_cache;                 /* key mbuf.cache: 0..512; env SLUICE_MBUF_CACHE; default 256 */
    uint32_t mbuf_data_room;             /* key mbuf.data_room: bytes of data per mbuf, 512..65000;
                                          * env SLUICE_MBUF_DATA_ROOM; default 2048 */
    uint32_t max_queues;                 /* key queues.max: 16..1048576; env SLUICE_QUEUES_MAX; default 65536 */
    uint32_t pipe_ring_kib;              /* key pipe.ring_kib: KiB, 64..262144 and a power of two;
                                          * env SLUICE_PIPE_RING_KIB; default 1024 */
    uint32_t spin_us;                    /* key engine.spin_us: microseconds, 0..1000000; env SLUICE_ENGINE_SPIN_US;
                                          * default 50 (busy-poll budget before sleeping) */
    char net_devargs[SLUICE_DEVARGS_MAX]; /* key net.devargs: the DPDK device; env SLUICE_NET_DEVARGS;
                                          * default "net_af_packet0,iface=sluice0" (scripts/net.sh up) */
    uint32_t net_addr;                   /* key net.addr: dotted quad, network order; env SLUICE_NET_ADDR; 10.0.0.2 */
    uint32_t net_netmask;                /* key net.netmask; env SLUICE_NET_NETMASK; 255.255.255.0 */
    uint32_t net_gateway;                /* key net.gateway (0.0.0.0: none); env SLUICE_NET_GATEWAY; none */
    uint32_t net_mtu;                    /* key net.mtu: bytes, 68..9600; env SLUICE_NET_MTU; 1500 */
    uint32_t net_queues;                 /* key net.queues: queue pairs (engines), 1..64; env SLUICE_NET_QUEUES; 1 */
    uint32_t net_link_timeout_ms;        /* key net.link_timeout_ms: 0..600000; env SLUICE_NET_LINK_TIMEOUT_MS; 5000 */
    char net_arp_static[SLUICE_DEVARGS_MAX]; /* key net.arp_static: "a.b.c.d=xx:xx:xx:xx:xx:xx ..." (checked
                                          * when the network starts); env SLUICE_NET_ARP_STATIC; none */
    /* The fault injector (stack/fault.h) between the stack and the device;
     * all zero (the default) leaves it out. Probabilities in parts per
     * million, delays in microseconds; env SLUICE_FAULT_<KEY>. */
    uint32_t fault_seed;
    uint32_t fault_rx_loss_ppm, fault_rx_duplicate_ppm, fault_rx_reorder_ppm, fault_rx_corrupt_ppm, fault_rx_delay_us;
    uint32_t fault_tx_loss_ppm, fault_tx_duplicate_ppm, fault_tx_reorder_ppm, fault_tx_corrupt_ppm, fault_tx_delay_us;
    /* tcp.*: see struct tcp_params in stack/tcp.h */
    uint32_t tcp_rto_min_ms, tcp_rto_max_ms, tcp_msl_ms, tcp_delack_ms;
    uint32_t tcp_sndbuf, tcp_rcvbuf, tcp_rcvbuf_max, tcp_max_conns, tcp_backlog_max;
    uint32_t tcp_syn_retries, tcp_synack_retries, tcp_retries, tcp_ooo_max_segs;
    uint32_t tcp_sack, tcp_timestamps, tcp_wscale, tcp_syncookies; /* 0 or 1 */
    char tcp_cc[16]; /* "cubic" or "newreno" */
    uint32_t eal_telemetry;              /* key eal.telemetry: 0 or 1; env SLUICE_EAL_TELEMETRY; default 1
                                          * (DPDK's telemetry socket, which sluice-stat talks to) */
    char net_pcap[256];                  /* key net.pcap: a file every frame in and out is written to
                                          * (pcapng); env SLUICE_PCAP; default "" (none) */
    /* mon.*: monitor mode (core/monitor.c, docs/mtcp.md "Monitor sockets") */
    char mon_mode[16];                   /* "off", "inline" or "passive" (checked at sluice_mon_start) */
    char mon_port0[SLUICE_DEVARGS_MAX];  /* DPDK devargs: the port (passive) or the client's side (inline) */
    char mon_port1[SLUICE_DEVARGS_MAX];  /* the server's side (inline only) */
    uint32_t mon_max_flows, mon_buf_bytes, mon_reass_segs, mon_idle_timeout_ms;
};

/* Sets every field to its default. Does not free eal_argv: call
 * sluice_config_free first if cfg may hold arguments. */
void sluice_config_defaults(struct sluice_config *cfg);

/* Parses YAML text (buf, len bytes, borrowed; need not be NUL-terminated)
 * over cfg's current values. name (borrowed, may be NULL) is the file path
 * used in messages. Empty text, only comments, or a null document change
 * nothing. Keys may repeat; the last one wins. A section may be empty.
 *
 * All or nothing: on any error cfg is left exactly as it was.
 * Returns 0, or:
 *   -EINVAL  cfg NULL, buf NULL with len > 0, a YAML syntax or encoding
 *            error, a top level that is not a mapping, an unknown section or
 *            key, a value of the wrong shape, out of range, not a power of
 *            two where one is needed, or more than SLUICE_EAL_ARGS_MAX
 *            eal.args, or a second YAML document;
 *   -ENOMEM  out of memory. */
int sluice_config_parse_buffer(struct sluice_config *cfg, const char *buf, size_t len, const char *name, char *err,
                               size_t errlen);

/* Reads the file at path (borrowed) and parses it as
 * sluice_config_parse_buffer does; messages name the path.
 * All or nothing, as for sluice_config_parse_buffer. Returns 0, what
 * sluice_config_parse_buffer returns, or:
 *   -EINVAL  cfg or path NULL;
 *   -EFBIG   the file is larger than 1 MiB;
 *   -errno   from open(2), fstat(2) or read(2) (e.g. -ENOENT, -EACCES,
 *            -EISDIR). */
int sluice_config_load_file(struct sluice_config *cfg, const char *path, char *err, size_t errlen);

/* Applies every set SLUICE_* variable listed in struct sluice_config over
 * cfg. An empty SLUICE_EAL_ARGS means no arguments; an empty value for any
 * other variable is an error. All or nothing: on error cfg is unchanged.
 * Returns 0, -EINVAL (cfg NULL or a bad value; err names the variable) or
 * -ENOMEM. */
int sluice_config_apply_env(struct sluice_config *cfg, char *err, size_t errlen);

/* Sets defaults, then loads the file named by SLUICE_CONFIG when that is set
 * and not empty (a missing or unreadable file is an error naming it), then
 * applies the environment. Does not free cfg first: call sluice_config_free
 * if it may hold arguments. On error cfg holds the defaults plus whatever
 * stage succeeded before the failing one (the file, when the environment
 * is what failed), and must still be freed. Returns 0 or what
 * sluice_config_load_file / sluice_config_apply_env return. */
int sluice_config_load(struct sluice_config *cfg, char *err, size_t errlen);

/* Frees the eal_argv strings and sets eal_argc to 0; other fields are kept.
 * Safe to call twice, on an all-zero struct, or with cfg NULL. */
void sluice_config_free(struct sluice_config *cfg);

#endif
