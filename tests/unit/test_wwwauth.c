/* Unit tests: WWW-Authenticate challenges and token answers. */
#include <check.h>
#include <string.h>

#include "wwwauth.h"

static bool parse(const char *s, wwwauth_t *w, const char **why)
{
    return wwwauth_parse(s, strlen(s), w, why);
}

START_TEST(bearer_basic_fields)
{
    wwwauth_t w;
    const char *why = NULL;
    ck_assert(parse("Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
                    "scope=\"repository:union/foo:pull\"",
                    &w, &why));
    ck_assert_int_eq(w.scheme, WWWAUTH_BEARER);
    ck_assert_str_eq(w.realm, "https://auth.example/token");
    ck_assert_str_eq(w.service, "registry.example");
    ck_assert_str_eq(w.scope, "repository:union/foo:pull");
}
END_TEST

START_TEST(quoted_commas_and_escapes)
{
    wwwauth_t w;
    const char *why = NULL;
    ck_assert(parse("bearer  scope=\"repository:a/b:pull,push\" , realm=\"https://x/t?a=1,2\","
                    "service=\"svc \\\"q\\\"\"",
                    &w, &why));
    ck_assert_int_eq(w.scheme, WWWAUTH_BEARER);
    ck_assert_str_eq(w.scope, "repository:a/b:pull,push");
    ck_assert_str_eq(w.realm, "https://x/t?a=1,2");
    ck_assert_str_eq(w.service, "svc \"q\"");
}
END_TEST

START_TEST(case_insensitive_names_and_tokens)
{
    wwwauth_t w;
    ck_assert(parse("BEARER Realm=https://a.example/token, SERVICE=reg", &w, NULL));
    ck_assert_int_eq(w.scheme, WWWAUTH_BEARER);
    ck_assert_str_eq(w.realm, "https://a.example/token");
    ck_assert_str_eq(w.service, "reg");
    ck_assert_str_eq(w.scope, "");
}
END_TEST

START_TEST(basic_challenge)
{
    wwwauth_t w;
    ck_assert(parse("Basic realm=\"Registry Realm\"", &w, NULL));
    ck_assert_int_eq(w.scheme, WWWAUTH_BASIC);
    ck_assert_str_eq(w.realm, "Registry Realm");
}
END_TEST

START_TEST(first_challenge_only)
{
    wwwauth_t w;
    ck_assert(parse("Bearer realm=\"https://a/t\", service=\"s\", Basic realm=\"b\"", &w, NULL));
    ck_assert_int_eq(w.scheme, WWWAUTH_BEARER);
    ck_assert_str_eq(w.realm, "https://a/t");
    ck_assert_str_eq(w.service, "s");
}
END_TEST

START_TEST(error_parameter)
{
    wwwauth_t w;
    ck_assert(parse("Bearer realm=\"https://a/t\",error=\"insufficient_scope\"", &w, NULL));
    ck_assert_str_eq(w.error, "insufficient_scope");
}
END_TEST

START_TEST(unknown_scheme_parses)
{
    wwwauth_t w;
    ck_assert(parse("Negotiate", &w, NULL));
    ck_assert_int_eq(w.scheme, WWWAUTH_UNKNOWN);
}
END_TEST

START_TEST(malformed_rejected)
{
    static const char *bad[] = {
        "",
        "   ",
        "Bearer realm=\"https://a/t",                         /* unterminated quote */
        "Bearer service=\"s\"",                               /* no realm */
        "Bearer realm=\"ftp://a/t\"",                         /* not http(s) */
        "Bearer realm=\"https://a/t\" service=\"s\"",         /* missing comma */
        "Bearer realm=",                                      /* empty value */
        "Bearer realm=\"https://a/t\",realm=\"https://b/t\"", /* repeated */
        "Bearer realm=\"https://a/\x01t\"",                   /* control character */
        "Bearer realm=\"https://a /t\"",                      /* whitespace in realm */
        "Bearer,realm",                                       /* parameter without a value */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wwwauth_t w;
        const char *why = NULL;
        ck_assert_msg(!parse(bad[i], &w, &why), "accepted: %s", bad[i]);
        ck_assert_ptr_nonnull(why);
    }
}
END_TEST

START_TEST(oversized_value_rejected)
{
    char big[3000];
    strcpy(big, "Bearer realm=\"https://a/t\",scope=\"");
    size_t l = strlen(big);
    memset(big + l, 'x', 2000);
    strcpy(big + l + 2000, "\"");
    wwwauth_t w;
    const char *why = NULL;
    ck_assert(!parse(big, &w, &why));
    ck_assert_str_eq(why, "parameter value too long");
}
END_TEST

START_TEST(token_answers)
{
    char tok[64];
    unsigned exp = 0;
    const char *why = NULL;
    const char *a = "{\"token\":\"abc.def\",\"expires_in\":300}";
    ck_assert(wwwauth_parse_token(a, strlen(a), tok, sizeof tok, &exp, &why));
    ck_assert_str_eq(tok, "abc.def");
    ck_assert_uint_eq(exp, 300);
    const char *b = "{\"access_token\":\"zzz\"}";
    ck_assert(wwwauth_parse_token(b, strlen(b), tok, sizeof tok, &exp, &why));
    ck_assert_str_eq(tok, "zzz");
    ck_assert_uint_eq(exp, 60);
    const char *c = "{\"token\":\"\",\"access_token\":\"yy\",\"expires_in\":-5}";
    ck_assert(wwwauth_parse_token(c, strlen(c), tok, sizeof tok, &exp, &why));
    ck_assert_str_eq(tok, "yy");
    ck_assert_uint_eq(exp, 60);
}
END_TEST

START_TEST(token_answers_rejected)
{
    static const char *bad[] = {"",
                                "not json",
                                "[]",
                                "{}",
                                "{\"token\":5}",
                                "{\"token\":\"a b\"}",
                                "{\"token\":\"a\\r\\nX-Evil: 1\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char tok[64];
        unsigned exp;
        const char *why = NULL;
        ck_assert_msg(!wwwauth_parse_token(bad[i], strlen(bad[i]), tok, sizeof tok, &exp, &why),
                      "accepted: %s", bad[i]);
        ck_assert_ptr_nonnull(why);
    }
    char small[4];
    unsigned exp;
    const char *why = NULL;
    const char *t = "{\"token\":\"abcdef\"}";
    ck_assert(!wwwauth_parse_token(t, strlen(t), small, sizeof small, &exp, &why));
}
END_TEST

Suite *suite_wwwauth(void)
{
    Suite *s = suite_create("wwwauth");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, bearer_basic_fields);
    tcase_add_test(tc, quoted_commas_and_escapes);
    tcase_add_test(tc, case_insensitive_names_and_tokens);
    tcase_add_test(tc, basic_challenge);
    tcase_add_test(tc, first_challenge_only);
    tcase_add_test(tc, error_parameter);
    tcase_add_test(tc, unknown_scheme_parses);
    tcase_add_test(tc, malformed_rejected);
    tcase_add_test(tc, oversized_value_rejected);
    tcase_add_test(tc, token_answers);
    tcase_add_test(tc, token_answers_rejected);
    suite_add_tcase(s, tc);
    return s;
}
