/* clock: the one monotonic clock every part of the shell measures time
 * with (deadlines, cache ages, latencies). The core never reads a clock. */
#ifndef WH_CLOCK_H
#define WH_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds since an arbitrary start (CLOCK_MONOTONIC); 0 if it fails. */
static inline uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_mono_ms(void)
{
    return clock_mono_ns() / 1000000u;
}

/* The instant `at_ms` (a clock_mono_ms() value) as an absolute time for
 * pthread_cond_timedwait() on a condition variable whose clock attribute
 * is CLOCK_MONOTONIC. */
static inline struct timespec clock_mono_timespec(uint64_t at_ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(at_ms / 1000u);
    ts.tv_nsec = (long)(at_ms % 1000u) * 1000000L;
    return ts;
}

#endif
