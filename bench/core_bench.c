/* core_bench: micro-benchmark of the decision core alone (admission_parse,
 * admission_respond, and freeing both), no TLS, no HTTP, no logging.
 *
 * For each body it checks the outcome once (a body that does not get the
 * outcome it was made for is a harness error: exit 1), then runs timed
 * batches and reports the median CPU time per review, its split into
 * parse / respond / free, the allocations and bytes asked of malloc per
 * review, and the peak heap one review holds. A last table compares the
 * cost per KB of every body with the first one's outcome to the first's: a ratio that grows with
 * size means the core is not linear.
 *
 * Allocations are counted by defining malloc, calloc, realloc and free in
 * this program: the executable's definitions take precedence over libc's
 * for every library loaded (cJSON and libyaml are shared libraries, which a
 * link-time --wrap would not see), and they forward to glibc's __libc_*.
 *
 * Usage: core-bench --config FILE [--seconds S] NAME=FILE:OUTCOME ...
 *        core-bench --config FILE --count N NAME=FILE:OUTCOME ...
 * With --count, each body is answered exactly N times and nothing is timed:
 * the instruction-count mode (bench/instructions.sh) runs it under callgrind
 * twice with different N and divides the difference.
 *        OUTCOME is allowed, mutated or denied. Output is Markdown. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admission.h"
#include "jsonarena.h"
#include "config.h"
#include "config_file.h"
#include "decide.h"

#define MAX_BODIES 16
#define BATCHES    7

/* ---- allocation counting ------------------------------------------------ */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

/* Single-threaded program: plain counters. */
static struct {
    uint64_t calls; /* malloc + calloc + realloc */
    uint64_t bytes; /* bytes asked for */
    int64_t live;   /* usable bytes held now */
    int64_t peak;   /* highest `live` since the last reset */
} g_alloc;

static void note_alloc(void *p, size_t asked)
{
    if (!p)
        return;
    g_alloc.calls++;
    g_alloc.bytes += asked;
    g_alloc.live += (int64_t)malloc_usable_size(p);
    if (g_alloc.live > g_alloc.peak)
        g_alloc.peak = g_alloc.live;
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    note_alloc(p, n);
    return p;
}

void *calloc(size_t n, size_t m)
{
    void *p = __libc_calloc(n, m);
    note_alloc(p, n * m);
    return p;
}

void *realloc(void *old, size_t n)
{
    int64_t before = old ? (int64_t)malloc_usable_size(old) : 0;
    void *p = __libc_realloc(old, n);
    if (p || n == 0)
        g_alloc.live -= before;
    note_alloc(p, n);
    return p;
}

void free(void *p)
{
    if (p)
        g_alloc.live -= (int64_t)malloc_usable_size(p);
    __libc_free(p);
}

/* ---- timing --------------------------------------------------------------
 * A batch is timed with the thread's CPU clock (a system call here, so it is
 * read twice per batch only); the split into phases uses the monotonic clock
 * (vDSO, tens of ns) and is scaled to the batch's CPU time. */
static uint64_t clock_nanos(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_nanos(void)
{
    return clock_nanos(CLOCK_THREAD_CPUTIME_ID);
}

static uint64_t mono_nanos(void)
{
    return clock_nanos(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- bodies -------------------------------------------------------------- */
typedef struct {
    const char *name;
    const char *path;
    const char *want; /* expected outcome name */
    char *data;
    size_t len;
    /* results */
    const char *outcome;
    double us, parse_us, respond_us, free_us; /* medians per review */
    double allocs, bytes, peak;               /* per review */
    size_t resp_len;
    unsigned long iters;
} body_t;

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "core-bench: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = __libc_malloc((size_t)size + 1)) != NULL &&
        fread(buf, 1, (size_t)size, f) == (size_t)size) {
        buf[size] = '\0';
        *len = (size_t)size;
    } else {
        fprintf(stderr, "core-bench: cannot read %s\n", path);
        __libc_free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* One review, start to finish. Returns false on a harness error. */
static bool one_review(const policy_t *cfg, body_t *b, uint64_t *t_parse, uint64_t *t_resp,
                       uint64_t *t_free, const char **outcome, size_t *resp_len)
{
    review_t rv;
    admission_response_t resp;
    wh_checks_t checks;
    char why[256];
    memset(&checks, 0, sizeof checks);
    /* as the server does it: the request's JSON trees live in an arena */
    jsonarena_begin();
    uint64_t t0 = mono_nanos();
    if (!admission_parse(b->data, b->len, &rv, why, sizeof why)) {
        fprintf(stderr, "core-bench: %s: not a review: %s\n", b->name, why);
        jsonarena_end();
        return false;
    }
    uint64_t t1 = mono_nanos();
    if (!admission_respond(cfg, &rv, &checks, &resp)) {
        fprintf(stderr, "core-bench: %s: admission_respond failed\n", b->name);
        review_free(&rv);
        jsonarena_end();
        return false;
    }
    uint64_t t2 = mono_nanos();
    if (outcome)
        *outcome = outcome_name(resp.decision.outcome);
    if (resp_len)
        *resp_len = resp.len;
    admission_response_free(&resp);
    review_free(&rv);
    jsonarena_end();
    uint64_t t3 = mono_nanos();
    *t_parse += t1 - t0;
    *t_resp += t2 - t1;
    *t_free += t3 - t2;
    return true;
}

static bool run_body(const policy_t *cfg, body_t *b, double seconds)
{
    uint64_t tp = 0, tr = 0, tf = 0;
    /* check the outcome, and measure allocations on a warm second run */
    for (int i = 0; i < 2; i++) {
        g_alloc.calls = g_alloc.bytes = 0;
        int64_t base = g_alloc.live;
        g_alloc.peak = base;
        if (!one_review(cfg, b, &tp, &tr, &tf, &b->outcome, &b->resp_len))
            return false;
        b->allocs = (double)g_alloc.calls;
        b->bytes = (double)g_alloc.bytes;
        b->peak = (double)(g_alloc.peak - base);
    }
    if (strcmp(b->outcome, b->want) != 0) {
        fprintf(stderr, "core-bench: %s: outcome %s, expected %s\n", b->name, b->outcome, b->want);
        return false;
    }
    /* size the batches from a short calibration */
    uint64_t c0 = mono_nanos();
    unsigned long n = 0;
    while (mono_nanos() - c0 < 20000000u) {
        if (!one_review(cfg, b, &tp, &tr, &tf, NULL, NULL))
            return false;
        n++;
    }
    double per = (double)(mono_nanos() - c0) / (double)n;
    unsigned long per_batch = (unsigned long)(seconds * 1e9 / BATCHES / per);
    if (per_batch < 3)
        per_batch = 3;
    double tot[BATCHES], par[BATCHES], res[BATCHES], fre[BATCHES];
    for (int k = 0; k < BATCHES; k++) {
        tp = tr = tf = 0;
        uint64_t b0 = cpu_nanos();
        for (unsigned long i = 0; i < per_batch; i++)
            if (!one_review(cfg, b, &tp, &tr, &tf, NULL, NULL))
                return false;
        tot[k] = (double)(cpu_nanos() - b0) / 1e3 / (double)per_batch;
        double wall = (double)(tp + tr + tf);
        par[k] = wall > 0 ? tot[k] * (double)tp / wall : 0;
        res[k] = wall > 0 ? tot[k] * (double)tr / wall : 0;
        fre[k] = wall > 0 ? tot[k] * (double)tf / wall : 0;
    }
    b->us = median(tot, BATCHES);
    b->parse_us = median(par, BATCHES);
    b->respond_us = median(res, BATCHES);
    b->free_us = median(fre, BATCHES);
    b->iters = per_batch * BATCHES;
    return true;
}

/* Exactly `count` reviews of one body, untimed (for instruction counts). */
static bool count_body(const policy_t *cfg, body_t *b, unsigned long count)
{
    uint64_t tp = 0, tr = 0, tf = 0;
    for (unsigned long i = 0; i < count; i++)
        if (!one_review(cfg, b, &tp, &tr, &tf, &b->outcome, &b->resp_len))
            return false;
    if (strcmp(b->outcome, b->want) != 0) {
        fprintf(stderr, "core-bench: %s: outcome %s, expected %s\n", b->name, b->outcome, b->want);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    jsonarena_install();
    const char *config_path = NULL;
    double seconds = 2.0;
    unsigned long count = 0;
    body_t bodies[MAX_BODIES];
    size_t nb = 0;
    memset(bodies, 0, sizeof bodies);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char *end;
            seconds = strtod(argv[++i], &end);
            if (*end || seconds <= 0) {
                fprintf(stderr, "core-bench: bad --seconds '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            char *end;
            count = strtoul(argv[++i], &end, 10);
            if (*end || count == 0) {
                fprintf(stderr, "core-bench: bad --count '%s'\n", argv[i]);
                return 2;
            }
        } else if (nb < MAX_BODIES && strchr(argv[i], '=') && strrchr(argv[i], ':')) {
            /* NAME=FILE:OUTCOME, split in place */
            char *eq = strchr(argv[i], '='), *colon = strrchr(argv[i], ':');
            if (colon < eq) {
                fprintf(stderr, "core-bench: expected NAME=FILE:OUTCOME, got '%s'\n", argv[i]);
                return 2;
            }
            *eq = '\0';
            *colon = '\0';
            bodies[nb].name = argv[i];
            bodies[nb].path = eq + 1;
            bodies[nb].want = colon + 1;
            nb++;
        } else {
            fprintf(stderr, "usage: core-bench --config FILE [--seconds S] NAME=FILE:OUTCOME...\n");
            return 2;
        }
    }
    if (!config_path || nb == 0) {
        fprintf(stderr, "usage: core-bench --config FILE [--seconds S] NAME=FILE:OUTCOME...\n");
        return 2;
    }

    config_errors_t errs;
    memset(&errs, 0, sizeof errs);
    wh_config_t *cfg = config_load_file(config_path, &errs);
    if (!cfg) {
        config_errors_print(&errs, stderr);
        config_errors_free(&errs);
        return 1;
    }
    config_errors_free(&errs);
    policy_t *policy = policy_new(&cfg->policy);
    if (!policy) {
        config_free(cfg);
        return 1;
    }

    int rc = 0;
    for (size_t i = 0; i < nb && rc == 0; i++) {
        bodies[i].data = read_all(bodies[i].path, &bodies[i].len);
        if (!bodies[i].data || !(count ? count_body(policy, &bodies[i], count)
                                       : run_body(policy, &bodies[i], seconds)))
            rc = 1;
    }
    if (rc == 0 && count) {
        for (size_t i = 0; i < nb; i++)
            printf("%s: %lu reviews, %s\n", bodies[i].name, count, bodies[i].outcome);
    } else if (rc == 0) {
        printf("| body | size | outcome | µs/review | parse | respond | free | allocs/review "
               "| KiB malloc'd/review | peak heap KiB | response bytes | reviews timed |\n");
        printf("|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        for (size_t i = 0; i < nb; i++) {
            const body_t *b = &bodies[i];
            printf("| %s | %.1f KiB | %s | %.2f | %.2f | %.2f | %.2f | %.0f | %.1f | %.1f | %zu | "
                   "%lu |\n",
                   b->name, (double)b->len / 1024, b->outcome, b->us, b->parse_us, b->respond_us,
                   b->free_us, b->allocs, b->bytes / 1024, b->peak / 1024, b->resp_len, b->iters);
        }
        printf("\nScaling against %s (cost per KiB of body; 1.00 = exactly linear, well above 1 "
               "= worse than linear):\n\n",
               bodies[0].name);
        printf("| body | µs per KiB | ratio | allocs per KiB | ratio |\n|---|--:|--:|--:|--:|\n");
        double kib0 = (double)bodies[0].len / 1024;
        double us0 = bodies[0].us / kib0, al0 = bodies[0].allocs / kib0;
        for (size_t i = 0; i < nb; i++) {
            if (strcmp(bodies[i].want, bodies[0].want) != 0)
                continue; /* a series of one outcome only */
            double kib = (double)bodies[i].len / 1024;
            double us = bodies[i].us / kib, al = bodies[i].allocs / kib;
            printf("| %s | %.3f | %.2f | %.1f | %.2f |\n", bodies[i].name, us, us / us0, al,
                   al / al0);
        }
    }
    for (size_t i = 0; i < nb; i++)
        __libc_free(bodies[i].data);
    policy_free(policy);
    config_free(cfg);
    return rc;
}
