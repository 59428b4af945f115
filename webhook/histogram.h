/* histogram: Prometheus histograms. One renderer of the text format used
 * by every histogram the webhook exposes (the request durations in
 * metrics.c, the live-check durations), and the lock-free histogram the
 * live checks observe their lookups into. */
#ifndef WH_HISTOGRAM_H
#define WH_HISTOGRAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Appends `name`'s HELP and TYPE lines, its cumulative buckets (`counts`
 * holds n + 1 non-cumulative counts: one per upper bound in `bounds`, then
 * the count above every bound), `_sum` and `_count`. `sum` is in units of
 * 10^-sum_digits seconds (6: microseconds, 9: nanoseconds) and is printed
 * with that many decimals. */
void histogram_render(buf_t *out, const char *name, const char *help, const double *bounds,
                      size_t n, const uint64_t *counts, uint64_t sum, int sum_digits);

/* Upper bounds of the live checks' duration histograms: 5 ms up to 10 s. */
#define HISTOGRAM_LIVE_N 11
extern const double histogram_live_bounds[HISTOGRAM_LIVE_N];

/* Lookup durations, observed from any thread without a lock. */
typedef struct {
    atomic_ulong buckets[HISTOGRAM_LIVE_N + 1]; /* last: above every bound */
    atomic_ulong sum_us;
} histogram_t;

void histogram_observe(histogram_t *h, double seconds);
/* histogram_render() of h (sum in microseconds). */
void histogram_print(const histogram_t *h, const char *name, const char *help, buf_t *out);

#endif
