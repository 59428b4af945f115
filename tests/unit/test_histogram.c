/* Unit tests: the Prometheus histogram text and the live checks' histogram. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "histogram.h"

START_TEST(render_is_cumulative_with_sum_and_count)
{
    static const double bounds[2] = {0.5, 1};
    const uint64_t counts[3] = {2, 0, 1};
    buf_t b = BUF_INIT;
    histogram_render(&b, "x_seconds", "Some help.", bounds, 2, counts, 2750000, 6);
    ck_assert_str_eq(b.data, "# HELP x_seconds Some help.\n"
                             "# TYPE x_seconds histogram\n"
                             "x_seconds_bucket{le=\"0.5\"} 2\n"
                             "x_seconds_bucket{le=\"1\"} 2\n"
                             "x_seconds_bucket{le=\"+Inf\"} 3\n"
                             "x_seconds_sum 2.750000\n"
                             "x_seconds_count 3\n");
    buf_free(&b);
}
END_TEST

START_TEST(nanosecond_sum)
{
    static const double bounds[1] = {5e-05};
    const uint64_t counts[2] = {1, 0};
    buf_t b = BUF_INIT;
    histogram_render(&b, "y", "h", bounds, 1, counts, 40000, 9);
    ck_assert_ptr_nonnull(strstr(b.data, "y_bucket{le=\"5e-05\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "y_sum 0.000040000\ny_count 1\n"));
    buf_free(&b);
}
END_TEST

START_TEST(observe_upper_bounds_inclusive)
{
    histogram_t h;
    memset(&h, 0, sizeof h);
    histogram_observe(&h, 0.005); /* on the first bound: counted in it */
    histogram_observe(&h, 0.0051);
    histogram_observe(&h, 11); /* above every bound */
    buf_t b = BUF_INIT;
    histogram_print(&h, "z", "h", &b);
    ck_assert_ptr_nonnull(strstr(b.data, "z_bucket{le=\"0.005\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "z_bucket{le=\"0.01\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "z_bucket{le=\"10\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "z_bucket{le=\"+Inf\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "z_sum 11.010100\nz_count 3\n"));
    buf_free(&b);
}
END_TEST

Suite *suite_histogram(void)
{
    Suite *s = suite_create("histogram");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, render_is_cumulative_with_sum_and_count);
    tcase_add_test(tc, nanosecond_sum);
    tcase_add_test(tc, observe_upper_bounds_inclusive);
    suite_add_tcase(s, tc);
    return s;
}
