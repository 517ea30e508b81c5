/* tcp_reass.c - see tcp_reass.h. (being written) */
#include "tcp_reass.h"
