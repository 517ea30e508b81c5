/* tcp_conn.c - placeholder until the connection code lands: every call
 * fails with -ENOTSUP. */
#include <errno.h>
#include <stddef.h>

#include "stack.h"
#include "tcp.h"

const char *tcp_state_name(enum tcp_state st) { (void)st; return "CLOSED"; }
int tcp_open(struct stack *s, tcp_event_fn f, void *ctx, struct tcp_conn **out) { (void)s; (void)f; (void)ctx; (void)out; return -ENOTSUP; }
void tcp_set_event(struct tcp_conn *c, tcp_event_fn f, void *ctx) { (void)c; (void)f; (void)ctx; }
int tcp_bind(struct tcp_conn *c, rte_be32_t a, rte_be16_t p) { (void)c; (void)a; (void)p; return -ENOTSUP; }
int tcp_listen(struct tcp_conn *c, int b) { (void)c; (void)b; return -ENOTSUP; }
int tcp_accept(struct tcp_conn *l, struct tcp_conn **out) { (void)l; (void)out; return -ENOTSUP; }
int tcp_connect(struct tcp_conn *c, rte_be32_t a, rte_be16_t p, uint64_t n) { (void)c; (void)a; (void)p; (void)n; return -ENOTSUP; }
int tcp_send(struct tcp_conn *c, struct rte_mbuf *m, uint64_t n) { (void)c; (void)m; (void)n; return -ENOTSUP; }
uint64_t tcp_bytes_acked(const struct tcp_conn *c) { (void)c; return 0; }
uint32_t tcp_send_buffered(const struct tcp_conn *c) { (void)c; return 0; }
uint32_t tcp_send_space(const struct tcp_conn *c) { (void)c; return 0; }
struct rte_mbuf *tcp_recv(struct tcp_conn *c, uint32_t max, uint64_t n) { (void)c; (void)max; (void)n; return NULL; }
uint32_t tcp_recv_avail(const struct tcp_conn *c) { (void)c; return 0; }
bool tcp_recv_eof(const struct tcp_conn *c) { (void)c; return false; }
int tcp_error(const struct tcp_conn *c) { (void)c; return 0; }
int tcp_take_error(struct tcp_conn *c) { (void)c; return 0; }
enum tcp_state tcp_conn_state(const struct tcp_conn *c) { (void)c; return TCP_CLOSED; }
bool tcp_accept_ready(const struct tcp_conn *c) { (void)c; return false; }
int tcp_shutdown(struct tcp_conn *c, bool r, bool w, uint64_t n) { (void)c; (void)r; (void)w; (void)n; return -ENOTSUP; }
void tcp_close(struct tcp_conn *c, uint64_t n) { (void)c; (void)n; }
int tcp_setsockopt(struct tcp_conn *c, int l, int o, const void *v, socklen_t n) { (void)c; (void)l; (void)o; (void)v; (void)n; return -ENOPROTOOPT; }
int tcp_getsockopt(struct tcp_conn *c, int l, int o, void *v, socklen_t *n) { (void)c; (void)l; (void)o; (void)v; (void)n; return -ENOPROTOOPT; }
void tcp_local(const struct tcp_conn *c, rte_be32_t *a, rte_be16_t *p) { (void)c; *a = 0; *p = 0; }
int tcp_peer(const struct tcp_conn *c, rte_be32_t *a, rte_be16_t *p) { (void)c; (void)a; (void)p; return -ENOTCONN; }
void tcp_conn_stats(const struct tcp_conn *c, struct tcp_conn_stats *o) { (void)c; (void)o; }
unsigned tcp_conn_count(const struct stack *s) { (void)s; return 0; }
