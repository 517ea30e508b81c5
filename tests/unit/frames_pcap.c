/*
 * frames_pcap.c - the frames of a failing unit test, for Wireshark or
 * tcpdump: every frame a fake device sends or is given (netdev_fake.c)
 * goes into a pcap file named after the test, written with libpcap as the
 * test runs (flushed frame by frame, so a crash leaves them too). When the
 * test passes the runner removes the file; when it fails, it prints its
 * name right under the failure:
 *
 *   [----] frames of this test: /tmp/sluice-unit-frames/tcp_rules.rst_in_syn_sent.pcap
 *
 * Timestamps are the test's virtual clock (ns since its start).
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "netdev_fake.h"

static pcap_t *dead;
static pcap_dumper_t *dump;
static const struct criterion_test *dump_test; /* the test dump was opened for */

/* The file of test t into buf; false when it does not fit. */
static bool frames_path(const struct criterion_test *t, char *buf, size_t len)
{
    const char *dir = getenv("TMPDIR");
    int n = snprintf(buf, len, "%s/sluice-unit-frames/%s.%s.pcap", dir != NULL && *dir != '\0' ? dir : "/tmp",
                     t->category, t->name);

    return n > 0 && (size_t)n < len;
}

static void frames_open(void)
{
    char path[512];

    if (dump != NULL && dump_test == criterion_current_test)
        return;
    if (dump != NULL)
        pcap_dump_close(dump);
    dump = NULL;
    dump_test = criterion_current_test;
    if (dump_test == NULL || !frames_path(dump_test, path, sizeof(path)))
        return;
    *strrchr(path, '/') = '\0';
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return;
    path[strlen(path)] = '/';
    if (dead == NULL)
        dead = pcap_open_dead(DLT_EN10MB, 65535);
    if (dead != NULL)
        dump = pcap_dump_open(dead, path);
}

void frames_pcap_record(const struct rte_mbuf *m, uint64_t now_ns)
{
    uint8_t buf[16384];
    uint32_t len = rte_pktmbuf_pkt_len(m), cap = len < sizeof(buf) ? len : sizeof(buf);
    struct pcap_pkthdr h = {.caplen = cap, .len = len};
    const void *p;

    frames_open();
    if (dump == NULL)
        return;
    p = rte_pktmbuf_read(m, 0, cap, buf);
    if (p == NULL)
        return;
    h.ts.tv_sec = (time_t)(now_ns / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(now_ns % 1000000000u / 1000u);
    pcap_dump((u_char *)dump, &h, p);
    pcap_dump_flush(dump);
}

/* In the runner, after each test: keep and name the file of a failed test,
 * remove that of a passed one. */
ReportHook(POST_TEST)(struct criterion_test_stats *st)
{
    char path[512];

    if (st == NULL || st->test == NULL || !frames_path(st->test, path, sizeof(path)))
        return;
    if (access(path, F_OK) != 0)
        return;
    if (st->test_status == CR_STATUS_FAILED || st->crashed || st->timed_out)
        fprintf(stderr, "[----] frames of this test: %s\n", path);
    else
        unlink(path);
}
