/* Unit tests: the registry check's image -> manifest URL mapping, and
 * kubeconfig reading. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nscheck.h"
#include "regcheck.h"

/* ---- image -> manifest URL ----------------------------------------------------- */

START_TEST(target_urls)
{
    regcheck_target_t t;
    const char *why = NULL;
    char *ins_items[] = {"localhost:5000", "reg.local"};
    strlist_t insecure = {ins_items, 2};

    ck_assert(regcheck_target("ghcr.io/org/app:abc123", &insecure, &t, &why));
    ck_assert_str_eq(t.url, "https://ghcr.io/v2/org/app/manifests/abc123");
    ck_assert_str_eq(t.host, "ghcr.io");
    ck_assert_str_eq(t.repo, "org/app");

    ck_assert(regcheck_target("localhost:5000/union/foo:t1", &insecure, &t, &why));
    ck_assert_str_eq(t.url, "http://localhost:5000/v2/union/foo/manifests/t1");

    ck_assert(regcheck_target("reg.local:8443/a/b:t", &insecure, &t, &why)); /* any port */
    ck_assert_str_eq(t.scheme, "http");
    ck_assert(regcheck_target("localhost:5001/a:t", &insecure, &t, &why)); /* port differs */
    ck_assert_str_eq(t.scheme, "https");

    ck_assert(regcheck_target("nginx:1.25", &insecure, &t, &why));
    ck_assert_str_eq(t.url, "https://registry-1.docker.io/v2/library/nginx/manifests/1.25");
    ck_assert(regcheck_target("docker.io/org/app", &insecure, &t, &why));
    ck_assert_str_eq(t.url, "https://registry-1.docker.io/v2/org/app/manifests/latest");

    const char *dg = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char img[200];
    snprintf(img, sizeof img, "ghcr.io/org/app:tag@%s", dg);
    ck_assert(regcheck_target(img, NULL, &t, &why));
    ck_assert_str_eq(t.reference, dg); /* digest wins */

    ck_assert(!regcheck_target("ghcr.io/org/Upper:tag", NULL, &t, &why));
    ck_assert_ptr_nonnull(why);
    ck_assert(!regcheck_target("", NULL, &t, &why));
}
END_TEST

/* ---- kubeconfig ------------------------------------------------------------------- */

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

Suite *suite_regcheck(void)
{
    Suite *s = suite_create("regcheck");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, target_urls);
    tcase_add_test(tc, kubeconfig_current_context);
    tcase_add_test(tc, kubeconfig_errors);
    suite_add_tcase(s, tc);
    return s;
}
