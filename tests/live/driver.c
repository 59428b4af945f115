/* live-driver: drives the live checks (regcheck, nscheck, the livecheck
 * facade) from the command line for tests/live/run.sh, against local
 * servers. Prints one line per answer, then counters; the script asserts. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "decide.h"
#include "livecheck.h"
#include "log.h"
#include "nscheck.h"
#include "regcheck.h"

static char *insecure_items[16];
static const char *images[64];
static size_t n_images;

static int usage(void)
{
    fprintf(stderr,
            "usage: live-driver reg|ns|facade [options] [IMAGE...]\n"
            "  reg:    --insecure HOST --ca FILE --docker-config FILE --timeout MS --pos-ttl S\n"
            "          --neg-ttl S --cache N --repeat N --pause-ms MS --parallel N --backoff S\n"
            "  ns:     --api URL --token-file F --ca FILE --kubeconfig F --namespace NS\n"
            "          --timeout MS --ttl S --gets N --interval-ms MS\n"
            "  facade: both option sets; IMAGE... are build targets; --reload\n");
    return 2;
}

typedef struct {
    regcheck_t *rc;
    unsigned timeout_ms;
} reg_job_t;

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void lookup_all(regcheck_t *rc, unsigned timeout_ms)
{
    for (size_t i = 0; i < n_images; i++) {
        regcheck_result_t r;
        uint64_t deadline = clock_mono_ms() + timeout_ms;
        check_answer_t a = regcheck_image(rc, images[i], deadline, &r);
        pthread_mutex_lock(&out_mu);
        printf("answer=%s source=%s status=%ld ms=%.0f image=%s detail=%s reason=%s\n",
               regcheck_answer_name(a), regcheck_source_name(r.source), r.http_status,
               r.seconds * 1000.0, images[i], r.detail, r.reason);
        fflush(stdout);
        pthread_mutex_unlock(&out_mu);
    }
}

static void *reg_thread(void *arg)
{
    reg_job_t *j = arg;
    lookup_all(j->rc, j->timeout_ms);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    /* Log lines (JSON on stderr) only when asked: LIVE_LOG=1. */
    log_set_level(getenv("LIVE_LOG") ? LOG_DEBUG : LOG_ERROR);
    policy_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.registry_check.timeout_ms = 1500;
    cfg.registry_check.positive_ttl_seconds = 86400;
    cfg.registry_check.negative_ttl_seconds = 10;
    cfg.registry_check.cache_size = 4096;
    cfg.production_domain_check.timeout_ms = 1000;
    cfg.production_domain_check.ttl_seconds = 60;
    cfg.registry_check.insecure_registries.items = insecure_items;
    char *empty = "";
    cfg.registry_check.docker_config = empty;
    cfg.registry_check.ca_file = empty;
    cfg.production_domain_check.api_server = empty;
    cfg.production_domain_check.kubeconfig = empty;
    cfg.production_domain_check.token_file = empty;
    cfg.production_domain_check.ca_file = empty;
    cfg.production_namespace = "system-production";
    int repeat = 1, parallel = 1, gets = 1, interval_ms = 0;
    bool reload = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "--insecure") == 0 && v && cfg.registry_check.insecure_registries.n < 16)
            insecure_items[cfg.registry_check.insecure_registries.n++] = v;
        else if (strcmp(a, "--ca") == 0 && v)
            cfg.registry_check.ca_file = cfg.production_domain_check.ca_file = v;
        else if (strcmp(a, "--docker-config") == 0 && v)
            cfg.registry_check.docker_config = v;
        else if (strcmp(a, "--timeout") == 0 && v)
            cfg.registry_check.timeout_ms = cfg.production_domain_check.timeout_ms =
                (unsigned)atoi(v);
        else if (strcmp(a, "--pos-ttl") == 0 && v)
            cfg.registry_check.positive_ttl_seconds = (unsigned)atoi(v);
        else if (strcmp(a, "--neg-ttl") == 0 && v)
            cfg.registry_check.negative_ttl_seconds = (unsigned)atoi(v);
        else if (strcmp(a, "--backoff") == 0 && v)
            cfg.registry_check.failure_backoff_seconds = (unsigned)atoi(v);
        else if (strcmp(a, "--cache") == 0 && v)
            cfg.registry_check.cache_size = (unsigned)atoi(v);
        else if (strcmp(a, "--repeat") == 0 && v)
            repeat = atoi(v);
        else if (strcmp(a, "--pause-ms") == 0 && v)
            interval_ms = atoi(v);
        else if (strcmp(a, "--parallel") == 0 && v)
            parallel = atoi(v);
        else if (strcmp(a, "--api") == 0 && v)
            cfg.production_domain_check.api_server = v;
        else if (strcmp(a, "--token-file") == 0 && v)
            cfg.production_domain_check.token_file = v;
        else if (strcmp(a, "--kubeconfig") == 0 && v)
            cfg.production_domain_check.kubeconfig = v;
        else if (strcmp(a, "--namespace") == 0 && v)
            cfg.production_namespace = v;
        else if (strcmp(a, "--ttl") == 0 && v)
            cfg.production_domain_check.ttl_seconds = (unsigned)atoi(v);
        else if (strcmp(a, "--gets") == 0 && v)
            gets = atoi(v);
        else if (strcmp(a, "--interval-ms") == 0 && v)
            interval_ms = atoi(v);
        else if (strcmp(a, "--reload") == 0)
            reload = true, takes = false;
        else if (a[0] == '-')
            return usage();
        else if (n_images < 64)
            images[n_images++] = a, takes = false;
        else
            return usage();
        if (takes)
            i++;
    }
    char err[512] = "";

    if (strcmp(cmd, "reg") == 0) {
        cfg.registry_check.enabled = true;
        regcheck_t *rc = regcheck_new(&cfg.registry_check, cfg.auth, NULL, err, sizeof err);
        if (!rc) {
            printf("error: %s\n", err);
            return 1;
        }
        for (int r = 0; r < repeat; r++) {
            if (r && interval_ms)
                usleep((useconds_t)interval_ms * 1000);
            if (parallel <= 1) {
                lookup_all(rc, cfg.registry_check.timeout_ms);
                continue;
            }
            pthread_t th[32];
            reg_job_t job = {rc, cfg.registry_check.timeout_ms};
            int n = parallel > 32 ? 32 : parallel;
            for (int t = 0; t < n; t++)
                if (pthread_create(&th[t], NULL, reg_thread, &job) != 0)
                    return 1;
            for (int t = 0; t < n; t++)
                pthread_join(th[t], NULL);
        }
        printf("requests=%lu\n", regcheck_requests(rc));
        buf_t m = BUF_INIT;
        regcheck_metrics(rc, &m);
        fputs(m.data ? m.data : "", stdout);
        buf_free(&m);
        regcheck_free(rc);
        return 0;
    }

    if (strcmp(cmd, "ns") == 0) {
        cfg.production_domain_check.enabled = true;
        uint64_t t0 = clock_mono_ms();
        nscheck_t *ns = nscheck_new(&cfg.production_domain_check, cfg.production_namespace, NULL,
                                    err, sizeof err);
        if (!ns) {
            printf("error: %s\n", err);
            return 1;
        }
        for (int g = 0; g < gets; g++) {
            if (g && interval_ms)
                usleep((useconds_t)interval_ms * 1000);
            nscheck_info_t info;
            uint64_t s = clock_mono_ms();
            check_answer_t a = nscheck_get(ns, &info);
            printf("answer=%s waited=%d ms=%llu since_start=%llu status=%ld detail=%s\n",
                   regcheck_answer_name(a), info.waited, (unsigned long long)(clock_mono_ms() - s),
                   (unsigned long long)(clock_mono_ms() - t0), info.http_status, info.detail);
            fflush(stdout);
        }
        printf("requests=%lu\n", nscheck_requests(ns));
        buf_t m = BUF_INIT;
        nscheck_metrics(ns, &m);
        fputs(m.data ? m.data : "", stdout);
        buf_free(&m);
        nscheck_free(ns);
        return 0;
    }

    if (strcmp(cmd, "facade") == 0) {
        cfg.registry_check.enabled = n_images > 0;
        cfg.production_domain_check.enabled =
            cfg.production_domain_check.api_server[0] || cfg.production_domain_check.kubeconfig[0];
        livecheck_t *lc = livecheck_new(&cfg, err, sizeof err);
        if (!lc) {
            printf("error: %s\n", err);
            return 1;
        }
        target_t targets[64];
        memset(targets, 0, sizeof targets);
        for (size_t i = 0; i < n_images; i++) {
            targets[i].container = "c";
            targets[i].original = (char *)images[i];
            targets[i].target = (char *)images[i];
            targets[i].build = true;
        }
        decision_t d;
        memset(&d, 0, sizeof d);
        d.outcome = OUTCOME_MUTATED;
        d.targets = targets;
        d.n_targets = n_images ? n_images : 1;
        if (!n_images) { /* a pod whose only target needs no build */
            targets[0].container = "c";
            targets[0].original = targets[0].target = "cr.union.ai/x:1";
        }
        for (int round = 0; round < 2; round++) {
            if (round == 1 && reload) {
                livecheck_t *nl = livecheck_new_from(lc, &cfg, err, sizeof err);
                if (!nl) {
                    printf("error: %s\n", err);
                    return 1;
                }
                livecheck_free(lc);
                lc = nl;
                printf("reloaded\n");
            }
            wh_checks_t checks;
            livecheck_scratch_t s = LIVECHECK_SCRATCH_INIT;
            bool asked = livecheck_answer(lc, &d, &checks, &s);
            printf("round=%d asked=%d ns=%s images=%zu\n", round, asked,
                   regcheck_answer_name(checks.production_namespace), checks.n_images);
            buf_t b = BUF_INIT;
            livecheck_describe(lc, &s, &b);
            fputs(b.data ? b.data : "", stdout);
            buf_free(&b);
            livecheck_scratch_free(&s);
        }
        buf_t m = BUF_INIT;
        livecheck_metrics(lc, &m);
        fputs(m.data ? m.data : "", stdout);
        buf_free(&m);
        livecheck_free(lc);
        return 0;
    }
    return usage();
}
