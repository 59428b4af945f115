/* Unit tests: Docker config files, credential-helper names and answers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockercfg.h"

static bool cfg_parse(const char *json, dockercfg_t *c, char *err, size_t errsz)
{
    return dockercfg_parse(json, strlen(json), c, err, errsz);
}

START_TEST(dockercfg_auths_and_lookup)
{
    /* "dXNlcjpwYXNzOndvcmQ=" is base64("user:pass:word") */
    const char *j = "{\"auths\":{"
                    "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOnNlY3JldA==\"},"
                    "\"Registry.Example.com:5000\":{\"auth\":\"dXNlcjpwYXNzOndvcmQ=\"},"
                    "\"tok.example\":{\"identitytoken\":\"refresh-xyz\"}},"
                    "\"credHelpers\":{\"123.dkr.ecr.us-east-1.amazonaws.com\":\"ecr-login\"},"
                    "\"credsStore\":\"desktop\"}";
    dockercfg_t c;
    char err[200] = "";
    ck_assert_msg(cfg_parse(j, &c, err, sizeof err), "%s", err);
    ck_assert_uint_eq(c.n_auths, 3);
    const dockercfg_auth_t *a;
    const char *helper;

    dockercfg_lookup(&c, "registry.example.com:5000", &a, &helper);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(helper);
    ck_assert_str_eq(a->username, "user");
    ck_assert_str_eq(a->password, "pass:word"); /* only the first colon splits */

    dockercfg_lookup(&c, "registry-1.docker.io", &a, &helper);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->username, "hub");
    ck_assert_str_eq(a->password, "secret");

    dockercfg_lookup(&c, "123.dkr.ecr.us-east-1.amazonaws.com", &a, &helper);
    ck_assert_ptr_null(a);
    ck_assert_str_eq(helper, "ecr-login");

    dockercfg_lookup(&c, "elsewhere.example", &a, &helper);
    ck_assert_ptr_null(a);
    ck_assert_str_eq(helper, "desktop");

    dockercfg_cred_t cred;
    dockercfg_lookup(&c, "tok.example", &a, &helper);
    ck_assert_ptr_nonnull(a);
    ck_assert(dockercfg_cred_from_auth(a, &cred));
    ck_assert(cred.identity_token);
    ck_assert_str_eq(cred.secret, "refresh-xyz");
    dockercfg_cred_free(&cred);
    dockercfg_free(&c);
}
END_TEST

START_TEST(dockercfg_anonymous_without_entries)
{
    dockercfg_t c;
    char err[200];
    ck_assert(cfg_parse("{\"auths\":{}}", &c, err, sizeof err));
    const dockercfg_auth_t *a = (void *)1;
    const char *helper = (void *)1;
    dockercfg_lookup(&c, "ghcr.io", &a, &helper);
    ck_assert_ptr_null(a);
    ck_assert_ptr_null(helper);
    dockercfg_free(&c);
}
END_TEST

START_TEST(dockercfg_rejects_bad_files)
{
    static const char *bad[] = {
        "[]",
        "{\"auths\":[]}",
        "{\"auths\":{\"r.example\":{\"auth\":\"bm9jb2xvbg==\"}}}", /* "nocolon" */
        "{\"auths\":{\"r.example\":{\"auth\":\"***\"}}}",
        "{\"credHelpers\":{\"r.example\":\"../../bin/sh\"}}",
        "{\"credHelpers\":{\"r.example\":\"a b\"}}",
        "{\"credsStore\":\"x;rm -rf /\"}",
        "{\"credsStore\":5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dockercfg_t c;
        char err[200] = "";
        ck_assert_msg(!cfg_parse(bad[i], &c, err, sizeof err), "accepted: %s", bad[i]);
        ck_assert_msg(err[0], "no message for %s", bad[i]);
    }
}
END_TEST

START_TEST(dockercfg_helper_names)
{
    ck_assert(dockercfg_helper_name_valid("ecr-login"));
    ck_assert(dockercfg_helper_name_valid("gcloud"));
    ck_assert(dockercfg_helper_name_valid("acr_env.v2"));
    ck_assert(!dockercfg_helper_name_valid(""));
    ck_assert(!dockercfg_helper_name_valid("../x"));
    ck_assert(!dockercfg_helper_name_valid("a/b"));
    ck_assert(!dockercfg_helper_name_valid("-rf"));
    ck_assert(!dockercfg_helper_name_valid("a$b"));
    char longname[80];
    memset(longname, 'a', 70);
    longname[70] = '\0';
    ck_assert(!dockercfg_helper_name_valid(longname));
}
END_TEST

START_TEST(dockercfg_helper_server_url)
{
    char b[300];
    ck_assert_str_eq(dockercfg_helper_server("registry-1.docker.io", b, sizeof b),
                     "https://index.docker.io/v1/");
    ck_assert_str_eq(dockercfg_helper_server("ghcr.io", b, sizeof b), "ghcr.io");
}
END_TEST

START_TEST(dockercfg_helper_output)
{
    dockercfg_cred_t c;
    char err[200];
    const char *ok = "{\"ServerURL\":\"x\",\"Username\":\"AWS\",\"Secret\":\"pw\"}";
    ck_assert(dockercfg_parse_helper_output(ok, strlen(ok), &c, err, sizeof err));
    ck_assert_str_eq(c.username, "AWS");
    ck_assert_str_eq(c.secret, "pw");
    ck_assert(!c.identity_token);
    dockercfg_cred_free(&c);
    const char *tok = "{\"Username\":\"<token>\",\"Secret\":\"rt\"}";
    ck_assert(dockercfg_parse_helper_output(tok, strlen(tok), &c, err, sizeof err));
    ck_assert(c.identity_token);
    dockercfg_cred_free(&c);
    const char *notfound = "credentials not found in native keychain";
    ck_assert(!dockercfg_parse_helper_output(notfound, strlen(notfound), &c, err, sizeof err));
    const char *nosecret = "{\"Username\":\"u\"}";
    ck_assert(!dockercfg_parse_helper_output(nosecret, strlen(nosecret), &c, err, sizeof err));
}
END_TEST

START_TEST(dockercfg_refuses_invalid_helper_before_running)
{
    dockercfg_cred_t c;
    char err[200] = "";
    ck_assert(!dockercfg_run_helper("../../bin/true", "x", 1000, &c, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "invalid credential helper name"));
}
END_TEST

Suite *suite_dockercfg(void)
{
    Suite *s = suite_create("dockercfg");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, dockercfg_auths_and_lookup);
    tcase_add_test(tc, dockercfg_anonymous_without_entries);
    tcase_add_test(tc, dockercfg_rejects_bad_files);
    tcase_add_test(tc, dockercfg_helper_names);
    tcase_add_test(tc, dockercfg_helper_server_url);
    tcase_add_test(tc, dockercfg_helper_output);
    tcase_add_test(tc, dockercfg_refuses_invalid_helper_before_running);
    suite_add_tcase(s, tc);
    return s;
}
