/* Tests for kubeapi: locating the API (in-cluster variables, an explicit
 * server, a kubeconfig), refusing what cannot work with a clear reason,
 * and the reason read out of an error answer. Requests themselves are
 * tested through certgen against a fake API (tests/certgen). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kubeapi.h"

static char dir[] = "/tmp/kubeapi-test-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    static const char *const files[] = {"token", "kubeconfig"};
    char path[256];
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    ck_assert_int_eq(rmdir(dir), 0);
    strcpy(dir, "/tmp/kubeapi-test-XXXXXX");
}

START_TEST(in_cluster_and_explicit_server)
{
    char err[300] = "";
    char token[256];
    snprintf(token, sizeof token, "%s", write_file("token", "abc\n"));
    unsetenv("KUBERNETES_SERVICE_HOST");
    kubeapi_options_t o = {.token_file = token, .timeout_ms = 1000};
    ck_assert_ptr_null(kubeapi_new(&o, err, sizeof err));
    ck_assert_str_eq(err, "not running in a cluster (KUBERNETES_SERVICE_HOST is not set): give "
                          "--kubeconfig or --api-server");
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    kubeapi_t *k = kubeapi_new(&o, err, sizeof err);
    ck_assert_msg(k != NULL, "%s", err);
    ck_assert_str_eq(kubeapi_server(k), "https://[fd00::1]:6443");
    kubeapi_free(k);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    o.api_server = "https://api.example.com:6443//";
    k = kubeapi_new(&o, err, sizeof err);
    ck_assert_msg(k != NULL, "%s", err);
    ck_assert_str_eq(kubeapi_server(k), "https://api.example.com:6443");
    kubeapi_free(k);
    o.api_server = "api.example.com";
    ck_assert_ptr_null(kubeapi_new(&o, err, sizeof err));
    ck_assert_str_eq(err, "API server api.example.com is not an http:// or https:// URL");
}
END_TEST

START_TEST(credentials_that_cannot_work)
{
    char err[300] = "", path[256];
    kubeapi_options_t o = {.api_server = "https://127.0.0.1:1", .timeout_ms = 1000};
    snprintf(path, sizeof path, "%s/missing", dir);
    o.token_file = path;
    ck_assert_ptr_null(kubeapi_new(&o, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "service account token "));
    ck_assert_ptr_nonnull(strstr(err, "missing: cannot open"));
    snprintf(path, sizeof path, "%s", write_file("token", "  \n"));
    ck_assert_ptr_null(kubeapi_new(&o, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "is empty or has characters a header cannot carry"));
    snprintf(path, sizeof path, "%s", write_file("token", "a b"));
    ck_assert_ptr_null(kubeapi_new(&o, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "is empty or has characters a header cannot carry"));
    snprintf(path, sizeof path, "%s", write_file("token", "abc"));
    char ca[256];
    snprintf(ca, sizeof ca, "%s/no-ca.crt", dir);
    o.ca_file = ca;
    ck_assert_ptr_null(kubeapi_new(&o, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "no-ca.crt: not a readable file"));
    char kc[256];
    snprintf(kc, sizeof kc, "%s", write_file("kubeconfig", "apiVersion: v1\nkind: Config\n"));
    kubeapi_options_t ko = {.kubeconfig = kc, .timeout_ms = 1000};
    ck_assert_ptr_null(kubeapi_new(&ko, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "kubeconfig "));
}
END_TEST

START_TEST(kubeconfig_server_and_override)
{
    char err[300] = "", kc[256];
    snprintf(kc, sizeof kc, "%s",
             write_file("kubeconfig", "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n"
                                      "  cluster: {server: \"https://10.0.0.1:443/\"}\nusers:\n"
                                      "- name: u\n  user: {token: t0k}\ncontexts:\n- name: x\n"
                                      "  context: {cluster: c, user: u}\ncurrent-context: x\n"));
    kubeapi_options_t o = {.kubeconfig = kc, .timeout_ms = 1000};
    kubeapi_t *k = kubeapi_new(&o, err, sizeof err);
    ck_assert_msg(k != NULL, "%s", err);
    ck_assert_str_eq(kubeapi_server(k), "https://10.0.0.1:443");
    kubeapi_free(k);
    o.api_server = "http://127.0.0.1:8080";
    k = kubeapi_new(&o, err, sizeof err);
    ck_assert_msg(k != NULL, "%s", err);
    ck_assert_str_eq(kubeapi_server(k), "http://127.0.0.1:8080");
    kubeapi_free(k);
}
END_TEST

static void reason_of(long status, const char *body, const char *want)
{
    kubeapi_resp_t r = {status, BUF_INIT};
    if (body)
        ck_assert(buf_append(&r.body, body, strlen(body)));
    char out[200];
    kubeapi_reason(&r, out, sizeof out);
    ck_assert_str_eq(out, want);
    kubeapi_resp_free(&r);
}

START_TEST(reasons_of_error_answers)
{
    reason_of(403,
              "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"secrets \\\"x\\\" is "
              "forbidden: User cannot get\",\"reason\":\"Forbidden\",\"code\":403}",
              "secrets \"x\" is forbidden: User cannot get");
    reason_of(502, "<html>bad\tgateway</html>\nmore", "<html>bad gateway</html>");
    reason_of(500, NULL, "HTTP 500 with no body");
    reason_of(409, "{\"kind\":\"Status\",\"message\":\"\"}",
              "{\"kind\":\"Status\",\"message\":\"\"}");
}
END_TEST

Suite *suite_kubeapi(void)
{
    Suite *s = suite_create("kubeapi");
    TCase *tc = tcase_create("locate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, in_cluster_and_explicit_server);
    tcase_add_test(tc, credentials_that_cannot_work);
    tcase_add_test(tc, kubeconfig_server_and_override);
    tcase_add_test(tc, reasons_of_error_answers);
    suite_add_tcase(s, tc);
    return s;
}
