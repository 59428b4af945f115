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

START_TEST(terminating_and_reasons)
{
    nsanswer_t a;
    const char *active = "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ok-production\"},"
                         "\"status\":{\"phase\":\"Active\"}}";
    nsanswer_parse(200, active, strlen(active), "ok-production", "", &a);
    ck_assert_int_eq(a.answer, CHECK_PRESENT);
    ck_assert(!a.terminating);
    ck_assert_str_eq(a.reason, "");
    const char *term = "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ok-production\","
                       "\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"},"
                       "\"status\":{\"phase\":\"Terminating\"}}";
    nsanswer_parse(200, term, strlen(term), "ok-production", NULL, &a);
    ck_assert_int_eq(a.answer, CHECK_PRESENT);
    ck_assert(a.terminating);
    ck_assert_str_eq(a.detail, "HTTP 200, namespace ok-production (terminating)");
    const char *odd = "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ok-production\"},"
                      "\"status\":{\"phase\":7}}";
    nsanswer_parse(200, odd, strlen(odd), "ok-production", NULL, &a);
    ck_assert_int_eq(a.answer, CHECK_PRESENT);
    ck_assert(!a.terminating);

    nsanswer_parse(404, NULL, 0, "ok-production", NULL, &a);
    ck_assert_int_eq(a.answer, CHECK_ABSENT);
    ck_assert_str_eq(a.reason, "");
    nsanswer_parse(403, "{}", 2, "ok-production", "", &a);
    ck_assert_int_eq(a.answer, CHECK_FAILED);
    ck_assert_str_eq(a.reason, "API answered 403 (RBAC)");
    nsanswer_parse(401, NULL, 0, "ok-production", "token file /t: cannot open", &a);
    ck_assert_str_eq(a.reason, "API answered 401 (RBAC)");
    nsanswer_parse(503, NULL, 0, "ok-production", NULL, &a);
    ck_assert_str_eq(a.reason, "API answered 503");
    nsanswer_parse(200, "[]", 2, "ok-production", NULL, &a);
    ck_assert_int_eq(a.answer, CHECK_FAILED);
    ck_assert_str_eq(a.reason, "unexpected API answer");
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
    tcase_add_test(tc, terminating_and_reasons);
    suite_add_tcase(s, tc);
    return s;
}
