/* Unit tests: the live-check answers as the decision reads them (checks.c). */
#include <check.h>

#include "checks.h"

START_TEST(answer_names)
{
    ck_assert_str_eq(check_answer_name(CHECK_NOT_RUN), "not-run");
    ck_assert_str_eq(check_answer_name(CHECK_PRESENT), "present");
    ck_assert_str_eq(check_answer_name(CHECK_ABSENT), "absent");
    ck_assert_str_eq(check_answer_name(CHECK_FAILED), "failed");
    ck_assert_str_eq(check_answer_name((check_answer_t)42), "not-run");
}
END_TEST

START_TEST(image_answer_is_an_exact_match)
{
    image_answer_t a[] = {
        {"r.io/a:1", CHECK_PRESENT, NULL},
        {NULL, CHECK_ABSENT, NULL},
        {"r.io/b:1", CHECK_FAILED, NULL},
    };
    wh_checks_t c = {.images = a, .n_images = 3};
    ck_assert_int_eq(checks_image_answer(&c, "r.io/a:1"), CHECK_PRESENT);
    ck_assert_int_eq(checks_image_answer(&c, "r.io/b:1"), CHECK_FAILED);
    ck_assert_int_eq(checks_image_answer(&c, "r.io/a:10"), CHECK_NOT_RUN);
    ck_assert_int_eq(checks_image_answer(&c, "R.io/a:1"), CHECK_NOT_RUN);
    ck_assert_int_eq(checks_image_answer(NULL, "r.io/a:1"), CHECK_NOT_RUN);
}
END_TEST

START_TEST(image_reason_goes_with_its_answer)
{
    image_answer_t a[] = {
        {"r.io/a:1", CHECK_FAILED, "registry timed out"},
        {"r.io/b:1", CHECK_FAILED, ""},
        {"r.io/c:1", CHECK_FAILED, NULL},
    };
    wh_checks_t c = {.images = a, .n_images = 3};
    ck_assert_str_eq(checks_image_reason(&c, "r.io/a:1"), "registry timed out");
    ck_assert_ptr_null(checks_image_reason(&c, "r.io/b:1"));
    ck_assert_ptr_null(checks_image_reason(&c, "r.io/c:1"));
    ck_assert_ptr_null(checks_image_reason(&c, "r.io/d:1"));
    ck_assert_ptr_null(checks_image_reason(NULL, "r.io/a:1"));
}
END_TEST

Suite *suite_checks(void)
{
    Suite *s = suite_create("checks");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, answer_names);
    tcase_add_test(tc, image_answer_is_an_exact_match);
    tcase_add_test(tc, image_reason_goes_with_its_answer);
    suite_add_tcase(s, tc);
    return s;
}
