/* Unit tests: the namespace API's answer read as present/absent/failed. */
#include <check.h>
#include <string.h>

#include "nsanswer.h"

static check_answer_t read_answer(long status, const char *body, const char *note, char *detail,
                                  size_t dsz)
{
    return nsanswer_read(status, body, body ? strlen(body) : 0, "ok-production", note, detail, dsz);
}

START_TEST(namespace_present)
{
    char d[192];
    const char *body =
        "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\","
        "\"metadata\":{\"name\":\"ok-production\"},\"status\":{\"phase\":\"Active\"}}";
    ck_assert_int_eq(read_answer(200, body, "", d, sizeof d), CHECK_PRESENT);
    ck_assert_str_eq(d, "HTTP 200, namespace ok-production");
    const char *terminating = "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ok-production\"},"
                              "\"status\":{\"phase\":\"Terminating\"}}";
    ck_assert_int_eq(read_answer(200, terminating, "", d, sizeof d), CHECK_PRESENT);
    ck_assert_str_eq(d, "HTTP 200, namespace ok-production (terminating)");
}
END_TEST

START_TEST(namespace_absent)
{
    char d[192];
    ck_assert_int_eq(read_answer(404, "{\"kind\":\"Status\"}", "", d, sizeof d), CHECK_ABSENT);
    ck_assert_str_eq(d, "HTTP 404: namespace ok-production does not exist");
}
END_TEST

START_TEST(a_200_that_is_not_the_namespace_fails)
{
    static const char *bodies[] = {
        NULL,
        "",
        "not json",
        "[]",
        "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"other\"}}",
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"ok-production\"}}",
        "{\"kind\":\"Namespace\",\"metadata\":{\"name\":7}}",
        "{\"kind\":\"Namespace\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char d[192];
        ck_assert_msg(read_answer(200, bodies[i], "", d, sizeof d) == CHECK_FAILED, "#%zu", i);
        ck_assert_str_eq(d, "HTTP 200 but the body is not the Namespace ok-production");
    }
}
END_TEST

START_TEST(other_statuses_fail_with_hints)
{
    char d[192];
    ck_assert_int_eq(read_answer(403, "{}", "", d, sizeof d), CHECK_FAILED);
    ck_assert_str_eq(d,
                     "API answered HTTP 403 (RBAC: the service account needs get on namespaces)");
    ck_assert_int_eq(read_answer(401, NULL, "token file /t: cannot open: No such file or directory",
                                 d, sizeof d),
                     CHECK_FAILED);
    ck_assert_str_eq(d, "API answered HTTP 401 (RBAC: the service account needs get on "
                        "namespaces); token file /t: cannot open: No such file or directory");
    ck_assert_int_eq(read_answer(500, "oops", "", d, sizeof d), CHECK_FAILED);
    ck_assert_str_eq(d, "API answered HTTP 500");
    ck_assert_int_eq(read_answer(302, NULL, NULL, d, sizeof d), CHECK_FAILED);
    ck_assert_str_eq(d, "API answered HTTP 302");
}
END_TEST

START_TEST(detail_cut_to_the_buffer)
{
    char d[16];
    ck_assert_int_eq(read_answer(404, NULL, "", d, sizeof d), CHECK_ABSENT);
    ck_assert_str_eq(d, "HTTP 404: names");
}
END_TEST

Suite *suite_nsanswer(void)
{
    Suite *s = suite_create("nsanswer");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, namespace_present);
    tcase_add_test(tc, namespace_absent);
    tcase_add_test(tc, a_200_that_is_not_the_namespace_fails);
    tcase_add_test(tc, other_statuses_fail_with_hints);
    tcase_add_test(tc, detail_cut_to_the_buffer);
    suite_add_tcase(s, tc);
    return s;
}
