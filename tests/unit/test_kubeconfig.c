/* Unit tests: kubeconfig reading: the current context, data and file
 * fields, and the messages for what cannot be used. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "kubeconfig.h"

static const char kc_text[] = "apiVersion: v1\n"
                              "kind: Config\n"
                              "current-context: dev\n"
                              "clusters:\n"
                              "- name: other\n"
                              "  cluster: {server: https://wrong.example}\n"
                              "- name: kind\n"
                              "  cluster:\n"
                              "    server: https://127.0.0.1:6443\n"
                              "    certificate-authority-data: LS0tLS1CRUdJTg==\n"
                              "contexts:\n"
                              "- name: dev\n"
                              "  context: {cluster: kind, user: admin}\n"
                              "users:\n"
                              "- name: admin\n"
                              "  user:\n"
                              "    token: abc.def\n"
                              "    client-certificate: certs/admin.crt\n"
                              "    client-key: /abs/admin.key\n";

START_TEST(kubeconfig_current_context)
{
    kubeconfig_t k;
    char err[256] = "";
    ck_assert_msg(
        kubeconfig_parse(kc_text, strlen(kc_text), "/home/dev/.kube", &k, err, sizeof err), "%s",
        err);
    ck_assert_str_eq(k.server, "https://127.0.0.1:6443");
    ck_assert_uint_eq(k.ca_len, 10);
    ck_assert(memcmp(k.ca_data, "-----BEGIN", 10) == 0);
    ck_assert_str_eq(k.token, "abc.def");
    ck_assert_str_eq(k.cert_file, "/home/dev/.kube/certs/admin.crt");
    ck_assert_str_eq(k.key_file, "/abs/admin.key");
    ck_assert(!k.insecure_skip_verify);
    kubeconfig_free(&k);
}
END_TEST

START_TEST(kubeconfig_errors)
{
    static const char *bad[] = {
        "apiVersion: v1\n",                   /* no current-context */
        "current-context: x\ncontexts: []\n", /* context missing */
        "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n", /* no cluster */
        "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n"
        "- name: c\n  cluster: {server: ftp://h}\n",
        "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n"
        "- name: c\n  cluster: {server: 'https://h', certificate-authority-data: '!!'}\n",
        "current-context: [unclosed\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kubeconfig_t k;
        char err[256] = "";
        ck_assert_msg(!kubeconfig_parse(bad[i], strlen(bad[i]), NULL, &k, err, sizeof err),
                      "accepted #%zu", i);
        ck_assert(err[0]);
    }
}
END_TEST

START_TEST(kubeconfig_data_fields_and_flags)
{
    /* "Y2VydA==" is base64("cert"), "a2V5" base64("key") */
    static const char text[] = "current-context: c\n"
                               "contexts:\n"
                               "- name: c\n"
                               "  context: {cluster: k, user: u}\n"
                               "clusters:\n"
                               "- name: k\n"
                               "  cluster:\n"
                               "    server: http://127.0.0.1:8080\n"
                               "    certificate-authority: ca.pem\n"
                               "    insecure-skip-tls-verify: true\n"
                               "users:\n"
                               "- name: u\n"
                               "  user:\n"
                               "    tokenFile: tok\n"
                               "    client-certificate-data: |\n"
                               "      Y2Vy\n"
                               "      dA==\n"
                               "    client-key-data: a2V5\n";
    kubeconfig_t k;
    char err[256] = "";
    ck_assert_msg(kubeconfig_parse(text, strlen(text), "kube", &k, err, sizeof err), "%s", err);
    ck_assert_str_eq(k.server, "http://127.0.0.1:8080");
    ck_assert_str_eq(k.ca_file, "kube/ca.pem");
    ck_assert_ptr_null(k.ca_data);
    ck_assert(k.insecure_skip_verify);
    ck_assert_ptr_null(k.token);
    ck_assert_str_eq(k.token_file, "kube/tok");
    ck_assert_uint_eq(k.cert_len, 4);
    ck_assert(memcmp(k.cert_data, "cert", 4) == 0);
    ck_assert_ptr_null(k.cert_file);
    ck_assert_uint_eq(k.key_len, 3);
    ck_assert(memcmp(k.key_data, "key", 3) == 0);
    kubeconfig_free(&k);
}
END_TEST

static void expect_error(const char *text, const char *want)
{
    kubeconfig_t k;
    char err[256] = "";
    ck_assert_msg(!kubeconfig_parse(text, strlen(text), NULL, &k, err, sizeof err), "accepted: %s",
                  text);
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(k.server); /* nothing left behind */
}

START_TEST(kubeconfig_error_messages)
{
    static const char head[] = "current-context: c\n"
                               "contexts:\n"
                               "- name: c\n"
                               "  context: {cluster: k, user: u}\n"
                               "clusters:\n"
                               "- name: k\n"
                               "  cluster: {server: 'https://h'}\n";
    char text[1024];
    expect_error("apiVersion: v1\n", "kubeconfig has no current-context");
    expect_error("current-context: x\ncontexts: []\n", "kubeconfig: context 'x' not found");
    snprintf(text, sizeof text, "%s", head);
    expect_error(text, "kubeconfig: user 'u' not found");
    snprintf(text, sizeof text, "%susers:\n- name: u\n  user: {exec: {command: aws}}\n", head);
    expect_error(text, "kubeconfig: user 'u' authenticates with exec/auth-provider, which is not "
                       "supported; use a token or a client certificate");
    snprintf(text, sizeof text, "%susers:\n- name: u\n  user: {client-key-data: '@@'}\n", head);
    expect_error(text, "kubeconfig: client-key-data is not base64");
    expect_error("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\n",
                 "kubeconfig: cluster 'k' not found or has no server");
}
END_TEST

START_TEST(kubeconfig_exec_with_a_token_is_fine)
{
    static const char text[] = "current-context: c\n"
                               "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                               "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
                               "users: [{name: u, user: {token: t, exec: {command: x}}}]\n";
    kubeconfig_t k;
    char err[256] = "";
    ck_assert_msg(kubeconfig_parse(text, strlen(text), NULL, &k, err, sizeof err), "%s", err);
    ck_assert_str_eq(k.token, "t");
    kubeconfig_free(&k);
}
END_TEST

Suite *suite_kubeconfig(void)
{
    Suite *s = suite_create("kubeconfig");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, kubeconfig_current_context);
    tcase_add_test(tc, kubeconfig_errors);
    tcase_add_test(tc, kubeconfig_data_fields_and_flags);
    tcase_add_test(tc, kubeconfig_error_messages);
    tcase_add_test(tc, kubeconfig_exec_with_a_token_is_fine);
    suite_add_tcase(s, tc);
    return s;
}
