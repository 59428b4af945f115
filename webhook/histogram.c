/* histogram: the Prometheus histogram text and the live checks' lock-free
 * histogram (see histogram.h). */
#include "histogram.h"

const double histogram_live_bounds[HISTOGRAM_LIVE_N] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                        0.5,   1,    2.5,   5,    10};

void histogram_render(buf_t *out, const char *name, const char *help, const double *bounds,
                      size_t n, const uint64_t *counts, uint64_t sum, int sum_digits)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += counts[i];
        buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], cum);
    }
    cum += counts[n];
    buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, cum);
    double scale = 1;
    for (int i = 0; i < sum_digits; i++)
        scale *= 10;
    buf_printf(out, "%s_sum %.*f\n%s_count %llu\n", name, sum_digits, (double)sum / scale, name,
               cum);
}

void histogram_observe(histogram_t *h, double seconds)
{
    size_t i = 0;
    while (i < HISTOGRAM_LIVE_N && seconds > histogram_live_bounds[i])
        i++;
    atomic_fetch_add(&h->buckets[i], 1);
    atomic_fetch_add(&h->sum_us, (unsigned long)(seconds * 1e6));
}

void histogram_print(const histogram_t *h, const char *name, const char *help, buf_t *out)
{
    uint64_t counts[HISTOGRAM_LIVE_N + 1];
    for (size_t i = 0; i <= HISTOGRAM_LIVE_N; i++)
        counts[i] = atomic_load(&h->buckets[i]);
    histogram_render(out, name, help, histogram_live_bounds, HISTOGRAM_LIVE_N, counts,
                     atomic_load(&h->sum_us), 6);
}
