/* eal_args.c - see eal_args.h. */
#include "eal_args.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool eal_hugepages_free(long min_free)
{
    FILE *f = fopen("/proc/mounts", "r");
    char line[512];
    bool mounted = false;
    long free_pages = 0;

    if (f == NULL)
        return false;
    while (fgets(line, sizeof(line), f) != NULL) {
        char dev[128], dir[256], type[64];
        /* a mount this process may create its page files in (a server
         * that never was root, e.g. postgres, may not) */
        if (sscanf(line, "%127s %255s %63s", dev, dir, type) == 3 && strcmp(type, "hugetlbfs") == 0 &&
            access(dir, W_OK) == 0)
            mounted = true;
    }
    fclose(f);
    f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return false;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "HugePages_Free: %ld", &free_pages) == 1)
            break;
    fclose(f);
    return mounted && free_pages > min_free;
}

const char *eal_lcores_arg(char *buf, size_t cap)
{
    cpu_set_t set;
    size_t len;
    bool first = true;

    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
        snprintf(buf, cap, "--lcores=0@(0)");
        return buf;
    }
    len = (size_t)snprintf(buf, cap, "--lcores=0@(");
    for (int cpu = 0; cpu < CPU_SETSIZE && len + 8 < cap; cpu++) {
        if (!CPU_ISSET(cpu, &set))
            continue;
        len += (size_t)snprintf(buf + len, cap - len, "%s%d", first ? "" : ",", cpu);
        first = false;
    }
    snprintf(buf + len, cap - len, ")");
    return buf;
}
