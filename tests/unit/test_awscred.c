/* Unit tests: the AWS credential provider's choice of source and its
 * reasons, with an injected environment and nothing listening (the
 * exchanges themselves are tested against fakes in tests/live). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cloudcred.h"
#include "log.h"

#define ECR_HOST "123456789012.dkr.ecr.eu-west-1.amazonaws.com"

static const char *const *test_env;

static const char *fake_env(const char *name)
{
    for (size_t i = 0; test_env && test_env[i]; i += 2)
        if (strcmp(test_env[i], name) == 0)
            return test_env[i + 1];
    return NULL;
}

typedef struct {
    bool ok;
    char source[64], why[320];
} outcome_t;

static outcome_t lookup(const char *const *env, const char *host)
{
    test_env = env;
    log_set_level(LOG_WARN); /* no "credentials obtained" lines in the test output */
    char err[200] = "";
    httpc_t *http = httpc_new(NULL, err, sizeof err);
    ck_assert_msg(http != NULL, "%s", err);
    cloudcred_t *c = cloudcred_new(AUTH_AWS, http, fake_env, NULL);
    ck_assert_ptr_nonnull(c);
    outcome_t o = {0};
    dockercfg_cred_t cred = {0};
    o.ok = cloudcred_get(c, host, clock_mono_ms() + 3000, &cred, o.source, sizeof o.source, o.why,
                         sizeof o.why);
    dockercfg_cred_free(&cred);
    cloudcred_free(c);
    httpc_free(http);
    return o;
}

START_TEST(only_ecr_hosts)
{
    const char *env[] = {"AWS_ACCESS_KEY_ID", "AKID", "AWS_SECRET_ACCESS_KEY", "s", NULL};
    outcome_t o = lookup(env, "registry-1.docker.io");
    ck_assert(!o.ok);
    ck_assert_str_eq(o.source, "");
    ck_assert_str_eq(o.why, "registry-1.docker.io is not an Amazon ECR registry");
    o = lookup(env, "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example");
    ck_assert_str_eq(o.source, "");
}
END_TEST

START_TEST(nothing_configured)
{
    const char *env[] = {"AWS_EC2_METADATA_DISABLED", "TRUE", NULL};
    outcome_t o = lookup(env, ECR_HOST);
    ck_assert(!o.ok);
    ck_assert_str_eq(o.source, "aws:none");
    ck_assert_ptr_nonnull(strstr(o.why, "no AWS credentials found"));
}
END_TEST

/* Every source configured: web identity is the one used (and its failure,
 * here an unreadable token file, is the answer). */
START_TEST(web_identity_comes_first)
{
    const char *env[] = {"AWS_ROLE_ARN",
                         "arn:aws:iam::123456789012:role/r",
                         "AWS_WEB_IDENTITY_TOKEN_FILE",
                         "/nonexistent/token",
                         "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                         "http://127.0.0.1:1/creds",
                         "AWS_ACCESS_KEY_ID",
                         "AKID",
                         "AWS_SECRET_ACCESS_KEY",
                         "s",
                         "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                         "http://127.0.0.1:1",
                         NULL};
    outcome_t o = lookup(env, ECR_HOST);
    ck_assert(!o.ok);
    ck_assert_str_eq(o.source, "aws:web-identity");
    ck_assert_str_eq(o.why, "AWS_WEB_IDENTITY_TOKEN_FILE /nonexistent/token: cannot open: No such "
                            "file or directory");
}
END_TEST

START_TEST(half_configured_sources_are_errors)
{
    const char *arn[] = {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r", NULL};
    outcome_t o = lookup(arn, ECR_HOST);
    ck_assert_str_eq(o.source, "aws:web-identity");
    ck_assert_str_eq(o.why, "AWS_ROLE_ARN is set without the other (AWS_ROLE_ARN, "
                            "AWS_WEB_IDENTITY_TOKEN_FILE)");
    const char *key[] = {"AWS_ACCESS_KEY_ID", "AKID", NULL};
    o = lookup(key, ECR_HOST);
    ck_assert_str_eq(o.source, "aws:static-keys");
    ck_assert_str_eq(o.why, "AWS_ACCESS_KEY_ID is set without the other (AWS_ACCESS_KEY_ID, "
                            "AWS_SECRET_ACCESS_KEY)");
}
END_TEST

START_TEST(container_url_must_be_local_or_https)
{
    const char *env[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI",
                         "http://creds.example.com/x",
                         "AWS_ACCESS_KEY_ID",
                         "AKID",
                         "AWS_SECRET_ACCESS_KEY",
                         "s",
                         NULL};
    outcome_t o = lookup(env, ECR_HOST);
    ck_assert(!o.ok);
    ck_assert_str_eq(o.source, "aws:pod-identity");
    ck_assert_ptr_nonnull(strstr(o.why, "http://creds.example.com/x is neither https://"));
}
END_TEST

/* Static keys go on to ECR: the configured ECR endpoint is asked (here
 * nothing listens there) and the source is named with the failure. */
START_TEST(static_keys_then_the_configured_ecr_endpoint)
{
    const char *env[] = {"AWS_ACCESS_KEY_ID",
                         "AKID",
                         "AWS_SECRET_ACCESS_KEY",
                         "s",
                         "AWS_ENDPOINT_URL_ECR",
                         "http://127.0.0.1:1",
                         "AWS_ENDPOINT_URL",
                         "http://127.0.0.1:2",
                         NULL};
    outcome_t o = lookup(env, ECR_HOST);
    ck_assert(!o.ok);
    ck_assert_str_eq(o.source, "aws:static-keys");
    ck_assert_msg(strstr(o.why, "ECR GetAuthorizationToken: ") == o.why &&
                      strstr(o.why, "127.0.0.1 port 1"),
                  "%s", o.why);
}
END_TEST

START_TEST(imds_last)
{
    const char *env[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1/", NULL};
    outcome_t o = lookup(env, ECR_HOST);
    ck_assert(!o.ok);
    ck_assert_str_eq(o.source, "aws:imds");
    ck_assert_msg(strstr(o.why, "IMDS: ") == o.why, "%s", o.why);
}
END_TEST

Suite *suite_awscred(void)
{
    Suite *s = suite_create("awscred");
    TCase *tc = tcase_create("sources");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, only_ecr_hosts);
    tcase_add_test(tc, nothing_configured);
    tcase_add_test(tc, web_identity_comes_first);
    tcase_add_test(tc, half_configured_sources_are_errors);
    tcase_add_test(tc, container_url_must_be_local_or_https);
    tcase_add_test(tc, static_keys_then_the_configured_ecr_endpoint);
    tcase_add_test(tc, imds_last);
    suite_add_tcase(s, tc);
    return s;
}
