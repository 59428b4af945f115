/* Unit tests: the pure parts of the live checks: Docker config and
 * credential-helper answers, the answer cache (injected clock, LRU bound,
 * single flight), image -> manifest URL, and kubeconfig reading. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dockercfg.h"
#include "nscheck.h"
#include "regcheck.h"
#include "ttlcache.h"

/* ---- Docker config ------------------------------------------------------------ */

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

/* ---- cache ---------------------------------------------------------------------- */

static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

START_TEST(cache_ttl_expiry)
{
    fake_now = 1000;
    ttlcache_t *c = ttlcache_new(8, fake_clock, NULL);
    int v = -1;
    ck_assert_int_eq(ttlcache_acquire(c, "a", &v, 10), TTLC_FETCH);
    ttlcache_complete(c, "a", 7, 500);
    ck_assert_int_eq(ttlcache_acquire(c, "a", &v, 10), TTLC_HIT);
    ck_assert_int_eq(v, 7);
    fake_now += 499;
    ck_assert_int_eq(ttlcache_acquire(c, "a", &v, 10), TTLC_HIT);
    fake_now += 1;
    ck_assert_int_eq(ttlcache_acquire(c, "a", &v, 10), TTLC_FETCH); /* expired */
    ttlcache_complete(c, "a", 3, 0);                                /* not stored */
    ck_assert_uint_eq(ttlcache_count(c), 0);
    ck_assert_int_eq(ttlcache_acquire(c, "a", &v, 10), TTLC_FETCH);
    ttlcache_complete(c, "a", 3, 10);
    ck_assert_uint_eq(ttlcache_count(c), 1);
    ttlcache_unref(c);
}
END_TEST

START_TEST(cache_lru_bound)
{
    fake_now = 0;
    ttlcache_t *c = ttlcache_new(3, fake_clock, NULL);
    int v;
    const char *keys[] = {"k1", "k2", "k3"};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(ttlcache_acquire(c, keys[i], &v, 10), TTLC_FETCH);
        ttlcache_complete(c, keys[i], i, 100000);
    }
    ck_assert_int_eq(ttlcache_acquire(c, "k1", &v, 10), TTLC_HIT); /* k1 now most recent */
    ck_assert_int_eq(ttlcache_acquire(c, "k4", &v, 10), TTLC_FETCH);
    ttlcache_complete(c, "k4", 4, 100000);
    ck_assert_uint_eq(ttlcache_count(c), 3);
    ck_assert_int_eq(ttlcache_acquire(c, "k1", &v, 10), TTLC_HIT);
    ck_assert_int_eq(ttlcache_acquire(c, "k3", &v, 10), TTLC_HIT);
    ck_assert_int_eq(ttlcache_acquire(c, "k4", &v, 10), TTLC_HIT);
    ck_assert_int_eq(ttlcache_acquire(c, "k2", &v, 10), TTLC_FETCH); /* evicted */
    ttlcache_complete(c, "k2", 2, 1);
    ck_assert_uint_eq(ttlcache_count(c), 3);
    ttlcache_unref(c);
}
END_TEST

typedef struct {
    ttlcache_t *c;
    int result;
    int value;
    unsigned wait_ms;
} waiter_t;

static void *waiter(void *arg)
{
    waiter_t *w = arg;
    w->result = ttlcache_acquire(w->c, "img", &w->value, w->wait_ms);
    return NULL;
}

START_TEST(cache_single_flight)
{
    ttlcache_t *c = ttlcache_new(8, NULL, NULL);
    int v;
    ck_assert_int_eq(ttlcache_acquire(c, "img", &v, 10), TTLC_FETCH);
    waiter_t w[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (waiter_t){c, -1, -1, 5000};
        ck_assert_int_eq(pthread_create(&th[i], NULL, waiter, &w[i]), 0);
    }
    usleep(50 * 1000); /* the waiters are blocked on the owner's lookup */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(w[i].result, -1);
    ttlcache_complete(c, "img", 42, 0); /* shared even though not stored */
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].result, TTLC_SHARED);
        ck_assert_int_eq(w[i].value, 42);
    }
    ttlcache_unref(c);
}
END_TEST

START_TEST(cache_waiter_gives_up)
{
    ttlcache_t *c = ttlcache_new(8, NULL, NULL);
    int v;
    ck_assert_int_eq(ttlcache_acquire(c, "img", &v, 10), TTLC_FETCH);
    waiter_t w = {c, -1, -1, 30};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, waiter, &w), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(w.result, TTLC_BUSY);
    ttlcache_complete(c, "img", 1, 1000);
    ck_assert_int_eq(ttlcache_acquire(c, "img", &v, 10), TTLC_HIT);
    ttlcache_unref(c);
}
END_TEST

START_TEST(cache_shared_by_reference)
{
    ttlcache_t *c = ttlcache_new(8, NULL, NULL);
    ttlcache_t *c2 = ttlcache_ref(c);
    int v;
    ck_assert_int_eq(ttlcache_acquire(c, "x", &v, 10), TTLC_FETCH);
    ttlcache_complete(c, "x", 5, 100000);
    ttlcache_unref(c);
    ck_assert_int_eq(ttlcache_acquire(c2, "x", &v, 10), TTLC_HIT);
    ck_assert_int_eq(v, 5);
    ttlcache_unref(c2);
}
END_TEST

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

Suite *suite_ttlcache(void)
{
    Suite *s = suite_create("ttlcache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, cache_ttl_expiry);
    tcase_add_test(tc, cache_lru_bound);
    tcase_add_test(tc, cache_single_flight);
    tcase_add_test(tc, cache_waiter_gives_up);
    tcase_add_test(tc, cache_shared_by_reference);
    suite_add_tcase(s, tc);
    return s;
}

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
