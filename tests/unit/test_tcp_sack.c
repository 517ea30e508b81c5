/* test_tcp_sack.c - unit tests of stack/tcp_sack.c (being written) */
#include <criterion/criterion.h>

#include "tcp_sack.h"
