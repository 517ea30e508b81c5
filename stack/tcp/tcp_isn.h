/*
 * tcp_isn.h - initial sequence numbers (RFC 9293 §3.4.1, RFC 6528).
 *
 * RFC 6528 §3: "ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey) where M is the 4 microsecond timer, and F() is a pseudorandom
 * function (PRF) of the connection-id. F() MUST NOT be computable from the
 * outside". Here M is now_ns / 4000 (mod 2^32, so it wraps every ~4.77 h,
 * RFC 9293 §3.4.1) and F is SipHash-2-4 (libsodium crypto_shorthash) keyed
 * with 128 random bits ("Key lengths of 128 bits should be adequate",
 * RFC 6528 §3).
 *
 * The generator is a value the stack owns (no globals); it is never
 * re-keyed while connections may exist, since a new key changes the ISN
 * space of reincarnated connections (RFC 6528 §3).
 */
#ifndef SLUICE_TCP_ISN_H
#define SLUICE_TCP_ISN_H

#include <stdint.h>

#include <sodium.h>

#define TCP_ISN_TICK_NS 4000u /* M advances once per 4 µs (RFC 9293 §3.4.1) */
#define TCP_ISN_TUPLE_LEN 12u /* laddr, lport, raddr, rport as on the wire */

struct tcp_isn_gen {
    unsigned char key[crypto_shorthash_KEYBYTES];
};

/* Fills the secret key from a CSPRNG (libsodium randombytes_buf, after
 * sodium_init; RFC 6528 §4: random secrets "MUST be chosen in accordance
 * with the recommendations given in [RFC4086]"). 0 or -EIO (libsodium could
 * not be initialised). */
int tcp_isn_init(struct tcp_isn_gen *g);

/* For tests: a fixed key. */
void tcp_isn_init_key(struct tcp_isn_gen *g, const unsigned char key[crypto_shorthash_KEYBYTES]);

/* The ISN for a connection at now_ns: M + F, where
 *   M = now_ns / TCP_ISN_TICK_NS (mod 2^32), and
 *   F = the first 4 bytes of crypto_shorthash(tuple, key), read as a
 *       little-endian number (SipHash's own byte order), the tuple being
 *       the 12 bytes laddr | lport | raddr | rport in network order.
 * Addresses and ports are in network byte order, as stored in the stack. */
uint32_t tcp_isn(const struct tcp_isn_gen *g, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
                 uint64_t now_ns);

#endif /* SLUICE_TCP_ISN_H */
