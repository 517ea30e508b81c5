/* tcp_sack.c - see tcp_sack.h. (being written) */
#include "tcp_sack.h"
