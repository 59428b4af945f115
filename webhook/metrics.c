/* metrics: per-thread counters and the Prometheus exposition (see metrics.h). */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

#ifndef WH_VERSION
#define WH_VERSION "0.0.0"
#endif

const double metrics_buckets[MX_N_BUCKETS] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,     0.25,   0.5,     1,      2.5,   5,      10,    15,   30,
};

static const int status_codes[MX_N_CODES] = {200, 400, 403, 404, 405, 408,
                                             413, 415, 431, 500, 503, 0 /* other */};

struct metrics_slot {
    _Atomic uint64_t requests[MX_N_OUTCOMES];
    _Atomic uint64_t buckets[MX_N_BUCKETS + 1]; /* last: above every bound */
    _Atomic uint64_t sum_nanos;
    _Atomic uint64_t ops;
    _Atomic uint64_t codes[MX_N_CODES];
    _Atomic int64_t in_flight;
    struct metrics_slot *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_slot *g_slots;
static _Atomic uint64_t g_config_reloads[2]; /* [0] failure, [1] success */
static _Atomic uint64_t g_cert_reloads[2];
static _Atomic int64_t g_cert_not_after;
static _Atomic uint64_t g_net[MXN_COUNT];
static atomic_bool g_ready;
static void (*g_extra[8])(buf_t *);
static size_t g_n_extra;

#define ADD(field, v) atomic_fetch_add_explicit(&(field), (v), memory_order_relaxed)
#define LOAD(field)   atomic_load_explicit(&(field), memory_order_relaxed)

metrics_slot_t *metrics_slot_new(void)
{
    struct metrics_slot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (pthread_mutex_lock(&g_lock) != 0) {
        free(s);
        return NULL;
    }
    s->next = g_slots;
    g_slots = s;
    pthread_mutex_unlock(&g_lock);
    return s;
}

void metrics_request(metrics_slot_t *s, mx_outcome_t outcome, uint64_t nanos, size_t ops)
{
    if (!s || outcome >= MX_N_OUTCOMES)
        return;
    ADD(s->requests[outcome], 1);
    double secs = (double)nanos / 1e9;
    size_t b = 0;
    while (b < MX_N_BUCKETS && secs > metrics_buckets[b])
        b++;
    ADD(s->buckets[b], 1);
    ADD(s->sum_nanos, nanos);
    ADD(s->ops, (uint64_t)ops);
}

void metrics_http_response(metrics_slot_t *s, int status)
{
    if (!s)
        return;
    size_t i = 0;
    while (i < MX_N_CODES - 1 && status_codes[i] != status)
        i++;
    ADD(s->codes[i], 1);
}

void metrics_in_flight(metrics_slot_t *s, int delta)
{
    if (s)
        ADD(s->in_flight, delta);
}

void metrics_net(mx_net_t event)
{
    if (event < MXN_COUNT)
        ADD(g_net[event], 1);
}

void metrics_config_reload(bool ok)
{
    ADD(g_config_reloads[ok ? 1 : 0], 1);
}

void metrics_cert_reload(bool ok)
{
    ADD(g_cert_reloads[ok ? 1 : 0], 1);
}

void metrics_cert_not_after(int64_t unix_time)
{
    atomic_store(&g_cert_not_after, unix_time);
}

void metrics_set_ready(bool ready)
{
    atomic_store(&g_ready, ready);
}

bool metrics_register_extra(void (*render)(buf_t *out))
{
    bool ok = false;
    if (!render || pthread_mutex_lock(&g_lock) != 0)
        return false;
    if (g_n_extra < sizeof g_extra / sizeof g_extra[0]) {
        g_extra[g_n_extra++] = render;
        ok = true;
    }
    pthread_mutex_unlock(&g_lock);
    return ok;
}

static void header(buf_t *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP " METRICS_PREFIX "%s %s\n# TYPE " METRICS_PREFIX "%s %s\n", name, help,
               name, type);
}

/* The network series: one line each, and one family with a reason label. */
static void render_net(buf_t *out)
{
    static const struct {
        mx_net_t ev;
        const char *name, *help;
    } plain[] = {
        {MXN_ACCEPTED, "connections_accepted_total", "Connections accepted on the admission port."},
        {MXN_TOO_LARGE, "request_too_large_total",
         "Request bodies refused for passing webhook.maxRequestBytes."},
        {MXN_CLIENT_CERT_REFUSED, "client_certificate_refused_total",
         "TLS handshakes refused because of the client certificate."},
        {MXN_BUSY_ANSWER, "busy_answers_total",
         "Answers replaced by 503 because webhook.maxBufferedBytes was reached."},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        header(out, plain[i].name, "counter", plain[i].help);
        buf_printf(out, METRICS_PREFIX "%s %llu\n", plain[i].name,
                   (unsigned long long)LOAD(g_net[plain[i].ev]));
    }
    header(out, "accept_pauses_total", "counter", "Times accepting connections paused, by reason.");
    buf_printf(out, METRICS_PREFIX "accept_pauses_total{reason=\"connection_cap\"} %llu\n",
               (unsigned long long)LOAD(g_net[MXN_PAUSE_CAP]));
    buf_printf(out, METRICS_PREFIX "accept_pauses_total{reason=\"fd_limit\"} %llu\n",
               (unsigned long long)LOAD(g_net[MXN_PAUSE_FD]));
    static const char *const reasons[] = {"buffer_budget", "write_timeout", "body_timeout", "idle",
                                          "http2_streams", "http2_resets",  "http2_flood"};
    header(out, "connections_closed_total", "counter",
           "Connections the server closed because a limit was passed, by reason.");
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        buf_printf(out, METRICS_PREFIX "connections_closed_total{reason=\"%s\"} %llu\n", reasons[i],
                   (unsigned long long)LOAD(g_net[MXN_CLOSE_BUDGET + i]));
}

bool metrics_render(buf_t *out)
{
    static const char *const outcome_names[MX_N_OUTCOMES] = {"mutated", "allowed", "denied",
                                                             "error"};
    uint64_t req[MX_N_OUTCOMES] = {0}, buckets[MX_N_BUCKETS + 1] = {0}, codes[MX_N_CODES] = {0};
    uint64_t sum = 0, ops = 0;
    int64_t in_flight = 0;
    void (*extra[8])(buf_t *);
    size_t n_extra;

    if (pthread_mutex_lock(&g_lock) != 0)
        return false;
    for (struct metrics_slot *s = g_slots; s; s = s->next) {
        for (size_t i = 0; i < MX_N_OUTCOMES; i++)
            req[i] += LOAD(s->requests[i]);
        for (size_t i = 0; i <= MX_N_BUCKETS; i++)
            buckets[i] += LOAD(s->buckets[i]);
        for (size_t i = 0; i < MX_N_CODES; i++)
            codes[i] += LOAD(s->codes[i]);
        sum += LOAD(s->sum_nanos);
        ops += LOAD(s->ops);
        in_flight += LOAD(s->in_flight);
    }
    n_extra = g_n_extra;
    memcpy(extra, g_extra, sizeof extra);
    pthread_mutex_unlock(&g_lock);

    header(out, "build_info", "gauge", "Version of the running webhook.");
    buf_printf(out, METRICS_PREFIX "build_info{version=\"%s\"} 1\n", WH_VERSION);
    header(out, "ready", "gauge", "1 when configuration and certificate are loaded.");
    buf_printf(out, METRICS_PREFIX "ready %d\n", atomic_load(&g_ready) ? 1 : 0);

    header(out, "requests_total", "counter", "Admission requests answered, by outcome.");
    for (size_t i = 0; i < MX_N_OUTCOMES; i++)
        buf_printf(out, METRICS_PREFIX "requests_total{outcome=\"%s\"} %llu\n", outcome_names[i],
                   (unsigned long long)req[i]);

    histogram_render(out, METRICS_PREFIX "request_duration_seconds",
                     "Time from a complete admission request to its answer.", metrics_buckets,
                     MX_N_BUCKETS, buckets, sum, 9);

    header(out, "patch_operations_total", "counter", "JSON Patch operations sent in responses.");
    buf_printf(out, METRICS_PREFIX "patch_operations_total %llu\n", (unsigned long long)ops);

    header(out, "in_flight_requests", "gauge", "Admission requests being answered.");
    buf_printf(out, METRICS_PREFIX "in_flight_requests %lld\n", (long long)in_flight);

    header(out, "http_responses_total", "counter", "HTTP responses sent, by status code.");
    for (size_t i = 0; i < MX_N_CODES; i++) {
        if (status_codes[i] == 0)
            buf_printf(out, METRICS_PREFIX "http_responses_total{code=\"other\"} %llu\n",
                       (unsigned long long)codes[i]);
        else
            buf_printf(out, METRICS_PREFIX "http_responses_total{code=\"%d\"} %llu\n",
                       status_codes[i], (unsigned long long)codes[i]);
    }

    header(out, "config_reloads_total", "counter", "Configuration reloads, by result.");
    buf_printf(out, METRICS_PREFIX "config_reloads_total{result=\"success\"} %llu\n",
               (unsigned long long)LOAD(g_config_reloads[1]));
    buf_printf(out, METRICS_PREFIX "config_reloads_total{result=\"failure\"} %llu\n",
               (unsigned long long)LOAD(g_config_reloads[0]));
    header(out, "certificate_reloads_total", "counter", "Serving certificate reloads, by result.");
    buf_printf(out, METRICS_PREFIX "certificate_reloads_total{result=\"success\"} %llu\n",
               (unsigned long long)LOAD(g_cert_reloads[1]));
    buf_printf(out, METRICS_PREFIX "certificate_reloads_total{result=\"failure\"} %llu\n",
               (unsigned long long)LOAD(g_cert_reloads[0]));
    int64_t na = atomic_load(&g_cert_not_after);
    if (na > 0) {
        header(out, "certificate_expiry_timestamp_seconds", "gauge",
               "Expiry of the serving certificate in use (Unix time).");
        buf_printf(out, METRICS_PREFIX "certificate_expiry_timestamp_seconds %lld\n",
                   (long long)na);
    }

    render_net(out);
    for (size_t i = 0; i < n_extra; i++)
        extra[i](out);
    return !out->oom;
}

void metrics_reset(void)
{
    if (pthread_mutex_lock(&g_lock) != 0)
        return;
    struct metrics_slot *s = g_slots;
    g_slots = NULL;
    g_n_extra = 0;
    pthread_mutex_unlock(&g_lock);
    while (s) {
        struct metrics_slot *next = s->next;
        free(s);
        s = next;
    }
    for (int i = 0; i < 2; i++) {
        atomic_store(&g_config_reloads[i], 0);
        atomic_store(&g_cert_reloads[i], 0);
    }
    atomic_store(&g_cert_not_after, 0);
    for (size_t i = 0; i < MXN_COUNT; i++)
        atomic_store(&g_net[i], 0);
    atomic_store(&g_ready, false);
}
