/*
 * tcp_syncookie.h - SYN cookies (RFC 4987 §3.6): when a listener's SYN
 * queue is full, the SYN-ACK's sequence number carries what the
 * connection needs, and no state is kept until the ACK comes back.
 *
 * The cookie (our ISN) is, from high bit to low:
 *   t (5 bits)   - now / 64 s, mod 32: a cookie is valid for the counter it
 *                  was made in and the one after (64-128 s);
 *   m (3 bits)   - index of the MSS in a fixed table of 8 values, the
 *                  largest not above the peer's MSS;
 *   h (24 bits)  - a keyed hash (SipHash-2-4, libsodium crypto_shorthash,
 *                  under its own key) of the 4-tuple, the peer's ISN, t
 *                  and m (so m cannot be changed either).
 * Window scale and SACK-permitted cannot fit; when the peer sent
 * timestamps they ride in the low 5 bits of our first TSval as Linux does
 * (wscale 0..14, or 15 = none; the next bit: SACK-permitted), and are
 * echoed back in TSecr. Without timestamps the connection has neither.
 */
#ifndef SLUICE_TCP_SYNCOOKIE_H
#define SLUICE_TCP_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#define TCP_SYNCOOKIE_PERIOD_NS (64ull * 1000000000u)

struct tcp_syncookie_key {
    unsigned char key[crypto_shorthash_KEYBYTES];
};

/* Random key (libsodium randombytes_buf after sodium_init). 0 or -EIO. */
int tcp_syncookie_init(struct tcp_syncookie_key *k);
/* For tests: a fixed key. */
void tcp_syncookie_init_key(struct tcp_syncookie_key *k, const unsigned char key[crypto_shorthash_KEYBYTES]);

/* The cookie for a SYN from raddr:rport to laddr:lport (network order, as
 * on the wire) with sequence number peer_isn and MSS option peer_mss (536
 * when it had none), at now_ns. *mss_out: the MSS the cookie encodes (the
 * table entry used, <= peer_mss, at least the table's smallest). */
uint32_t tcp_syncookie_make(const struct tcp_syncookie_key *k, uint32_t laddr, uint16_t lport, uint32_t raddr,
                            uint16_t rport, uint32_t peer_isn, uint16_t peer_mss, uint64_t now_ns,
                            uint16_t *mss_out);
/* Checks the ACK that completes a cookie handshake: cookie = its ACK
 * number - 1, peer_isn = its sequence number - 1. 0 with *mss_out, or
 * -EINVAL (wrong hash, or the counter is neither now's nor the previous
 * one). */
int tcp_syncookie_check(const struct tcp_syncookie_key *k, uint32_t laddr, uint16_t lport, uint32_t raddr,
                        uint16_t rport, uint32_t peer_isn, uint32_t cookie, uint64_t now_ns, uint16_t *mss_out);

/* The options that ride in the TSval's low 5 bits: tsval with them put in
 * (wscale above 14 taken as 14), moved 32 back when that would put it above
 * tsval, so our later TSvals never go backwards (PAWS, RFC 7323 §5). */
uint32_t tcp_syncookie_ts_encode(uint32_t tsval, bool ws_ok, uint8_t wscale, bool sack_ok);
/* Reads them back from the echoed TSecr. */
void tcp_syncookie_ts_decode(uint32_t tsecr, bool *ws_ok, uint8_t *wscale, bool *sack_ok);

#endif
