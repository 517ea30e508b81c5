/* tcp_syncookie.c - see tcp_syncookie.h. (being written) */
#include "tcp_syncookie.h"
