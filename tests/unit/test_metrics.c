/* Unit tests for metrics: counters summed over slots, histogram, extras. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* The value of one exposition line "NAME VALUE" (-1 when absent). */
static double value_of(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') {
            double v;
            if (sscanf(p + n + 1, "%lf", &v) == 1)
                return v;
        }
    }
    return -1;
}

static void extra(buf_t *out)
{
    buf_puts(out, "imagebuilder_webhook_extra_total 42\n");
}

START_TEST(counts_and_histogram)
{
    metrics_reset();
    metrics_slot_t *a = metrics_slot_new(), *b = metrics_slot_new();
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    metrics_request(a, MX_MUTATED, 40000, 5);      /* 40 µs: first bucket */
    metrics_request(b, MX_MUTATED, 2000000, 3);    /* 2 ms */
    metrics_request(b, MX_DENIED, 20000000000, 0); /* 20 s: the 30 s bucket */
    metrics_request(a, MX_ERROR, 40000000000, 0);  /* 40 s: +Inf only */
    metrics_http_response(a, 413);
    metrics_http_response(b, 413);
    metrics_http_response(b, 299);
    metrics_in_flight(a, 2);
    metrics_in_flight(b, -1);
    metrics_config_reload(false);
    metrics_cert_reload(true);
    metrics_net(MXN_TOO_LARGE);
    metrics_net(MXN_TOO_LARGE);
    metrics_net(MXN_CLOSE_RESETS);
    metrics_net(MXN_PAUSE_FD);
    metrics_net(MXN_COUNT); /* not an event: ignored */
    ck_assert(metrics_register_extra(extra));

    buf_t out = BUF_INIT;
    ck_assert(metrics_render(&out));
    const char *t = out.data;
    ck_assert(value_of(t, "imagebuilder_webhook_requests_total{outcome=\"mutated\"}") == 2);
    ck_assert(value_of(t, "imagebuilder_webhook_request_too_large_total") == 2);
    ck_assert(value_of(t, "imagebuilder_webhook_client_certificate_refused_total") == 0);
    ck_assert(
        value_of(t, "imagebuilder_webhook_connections_closed_total{reason=\"http2_resets\"}") == 1);
    ck_assert(value_of(t, "imagebuilder_webhook_connections_closed_total{reason=\"idle\"}") == 0);
    ck_assert(value_of(t, "imagebuilder_webhook_accept_pauses_total{reason=\"fd_limit\"}") == 1);
    ck_assert(value_of(t, "imagebuilder_webhook_requests_total{outcome=\"denied\"}") == 1);
    ck_assert(value_of(t, "imagebuilder_webhook_requests_total{outcome=\"allowed\"}") == 0);
    ck_assert(value_of(t, "imagebuilder_webhook_requests_total{outcome=\"error\"}") == 1);
    ck_assert(value_of(t, "imagebuilder_webhook_request_duration_seconds_bucket{le=\"5e-05\"}") ==
              1);
    ck_assert(value_of(t, "imagebuilder_webhook_request_duration_seconds_bucket{le=\"0.0025\"}") ==
              2);
    ck_assert(value_of(t, "imagebuilder_webhook_request_duration_seconds_bucket{le=\"10\"}") == 2);
    ck_assert(value_of(t, "imagebuilder_webhook_request_duration_seconds_bucket{le=\"30\"}") == 3);
    ck_assert(value_of(t, "imagebuilder_webhook_request_duration_seconds_bucket{le=\"+Inf\"}") ==
              4);
    ck_assert(value_of(t, "imagebuilder_webhook_request_duration_seconds_count") == 4);
    double sum = value_of(t, "imagebuilder_webhook_request_duration_seconds_sum");
    ck_assert(sum > 60.0019 && sum < 60.0021);
    ck_assert(value_of(t, "imagebuilder_webhook_patch_operations_total") == 8);
    ck_assert(value_of(t, "imagebuilder_webhook_http_responses_total{code=\"413\"}") == 2);
    ck_assert(value_of(t, "imagebuilder_webhook_http_responses_total{code=\"other\"}") == 1);
    ck_assert(value_of(t, "imagebuilder_webhook_in_flight_requests") == 1);
    ck_assert(value_of(t, "imagebuilder_webhook_config_reloads_total{result=\"failure\"}") == 1);
    ck_assert(value_of(t, "imagebuilder_webhook_certificate_reloads_total{result=\"success\"}") ==
              1);
    ck_assert(value_of(t, "imagebuilder_webhook_extra_total") == 42);
    ck_assert_ptr_nonnull(strstr(t, "# TYPE imagebuilder_webhook_request_duration_seconds "
                                    "histogram\n"));
    buf_free(&out);

    metrics_reset();
    ck_assert(metrics_render(&out));
    ck_assert(value_of(out.data, "imagebuilder_webhook_requests_total{outcome=\"mutated\"}") == 0);
    ck_assert(value_of(out.data, "imagebuilder_webhook_extra_total") == -1);
    buf_free(&out);
}
END_TEST

Suite *suite_metrics(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, counts_and_histogram);
    suite_add_tcase(s, tc);
    return s;
}
