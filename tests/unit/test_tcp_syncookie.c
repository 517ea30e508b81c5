/* test_tcp_syncookie.c - unit tests of stack/tcp_syncookie.c (being written) */
#include <criterion/criterion.h>

#include "tcp_syncookie.h"
