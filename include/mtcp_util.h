/*
 * mtcp_util.h - mOS's utility calls on Sluice. xxHash (XXH32, XXH64),
 * which mOS's header also declares, is not provided: use xxHash's own
 * library.
 */
#ifndef MTCP_UTIL_H
#define MTCP_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The index of the receive queue (the core) that the flow sip:sp ->
 * dip:dp (network byte order) reaches among num_queues. Sluice has one
 * engine that receives every flow, so it is always 0.
 * Returns 0; -1 for num_queues < 1.
 * Source: mOS's GetRSSCPUCore.
 */
int GetRSSCPUCore(in_addr_t sip, in_addr_t dip, in_port_t sp, in_port_t dp, int num_queues);
/*
 * Splits str in place at spaces and tabs into at most max_argc words:
 * argv[i] points into str (owned by the caller), *argc gets the count.
 * Returns 0; -1 for NULL arguments or max_argc < 1, or when str has more
 * than max_argc words (the first max_argc are stored).
 * Source: mOS's StrToArgs.
 */
int StrToArgs(char *str, int *argc, char **argv, int max_argc);

#ifdef __cplusplus
}
#endif

#endif /* MTCP_UTIL_H */
