/* lcstats: lock-free counters and a latency histogram shared by the live
 * checks (regcheck, nscheck), printed in the Prometheus text format. */
#ifndef WH_LCSTATS_H
#define WH_LCSTATS_H

#include <stdatomic.h>

#include "buf.h"

#define LCSTATS_NBUCKETS 11
static const double lcstats_bounds[LCSTATS_NBUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                        0.5,   1,    2.5,   5,    10};

typedef struct {
    atomic_ulong buckets[LCSTATS_NBUCKETS + 1]; /* last: +Inf */
    atomic_ulong count;
    atomic_ulong sum_us;
} lcstats_hist_t;

static inline void lcstats_observe(lcstats_hist_t *h, double seconds)
{
    int i = 0;
    while (i < LCSTATS_NBUCKETS && seconds > lcstats_bounds[i])
        i++;
    atomic_fetch_add(&h->buckets[i], 1);
    atomic_fetch_add(&h->count, 1);
    atomic_fetch_add(&h->sum_us, (unsigned long)(seconds * 1e6));
}

/* `name` without suffix; prints HELP/TYPE and cumulative buckets. */
static inline void lcstats_print_hist(const lcstats_hist_t *h, const char *name, const char *help,
                                      buf_t *out)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long cum = 0;
    for (int i = 0; i <= LCSTATS_NBUCKETS; i++) {
        cum += atomic_load(&h->buckets[i]);
        if (i < LCSTATS_NBUCKETS)
            buf_printf(out, "%s_bucket{le=\"%g\"} %lu\n", name, lcstats_bounds[i], cum);
        else
            buf_printf(out, "%s_bucket{le=\"+Inf\"} %lu\n", name, cum);
    }
    buf_printf(out, "%s_sum %.6f\n%s_count %lu\n", name, (double)atomic_load(&h->sum_us) / 1e6,
               name, atomic_load(&h->count));
}

#endif
