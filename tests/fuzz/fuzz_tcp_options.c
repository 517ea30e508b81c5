/*
 * fuzz_tcp_options.c - libFuzzer target for the TCP options layer.
 *
 * Input: the low bit of the first byte is the SYN flag; the rest (at most
 * 40 bytes) is the options area, copied into a buffer of exactly its size
 * so ASan sees any read past the end. Whatever the bytes, tcp_opts_parse
 * must not misbehave; when it accepts them, the round trip must hold:
 * tcp_opts_build of the result succeeds with a multiple of 4 bytes, those
 * bytes parse back to the same fields (wscale_clamped aside: a clamped
 * shift is built as 14), and building again gives the same bytes. Any
 * violation aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_options.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static bool same_fields(const struct tcp_opts *a, const struct tcp_opts *b)
{
    if (a->present != b->present)
        return false;
    if ((a->present & TCP_OPT_MSS) && a->mss != b->mss)
        return false;
    if ((a->present & TCP_OPT_WSCALE) && a->wscale != b->wscale)
        return false;
    if ((a->present & TCP_OPT_TS) && (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr))
        return false;
    if (!(a->present & TCP_OPT_SACK))
        return true;
    if (a->nsack != b->nsack)
        return false;
    for (unsigned i = 0; i < a->nsack; i++)
        if (a->sack[i].left != b->sack[i].left || a->sack[i].right != b->sack[i].right)
            return false;
    return true;
}

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void round_trip(const struct tcp_opts *o, bool syn)
{
    uint8_t wire[TCP_OPT_MAX_LEN], again[TCP_OPT_MAX_LEN];
    struct tcp_opts back;

    check(o->wscale <= TCP_WSCALE_MAX);
    check(o->nsack <= TCP_SACK_MAX_BLOCKS);
    int len = tcp_opts_build(o, syn, wire, sizeof(wire));
    check(len >= 0 && len <= TCP_OPT_MAX_LEN && len % 4 == 0);
    check(tcp_opts_size(o, syn) == len);
    check(tcp_opts_parse(wire, (size_t)len, syn, &back) == 0);
    check(same_fields(o, &back));
    check(tcp_opts_build(&back, syn, again, sizeof(again)) == len);
    check(memcmp(wire, again, (size_t)len) == 0);

    uint16_t mss = tcp_effective_mss(o, 1500);
    check(mss >= TCP_MSS_MIN && mss <= 1460);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    struct tcp_opts o;

    if (n == 0)
        return 0;
    bool syn = (d[0] & 1) != 0;
    size_t len = n - 1 > TCP_OPT_MAX_LEN ? TCP_OPT_MAX_LEN : n - 1;
    uint8_t *area = malloc(len ? len : 1);
    if (area == NULL)
        return 0;
    memcpy(area, d + 1, len);
    if (tcp_opts_parse(area, len, syn, &o) == 0)
        round_trip(&o, syn);
    free(area);
    return 0;
}
