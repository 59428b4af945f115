/* Unit tests: the Google and Azure credential providers before any
 * network exchange: which hosts they serve, which source they pick from
 * the environment (a table given to cloudcred_new), and the reasons they
 * give when the environment or the files it names are not usable. The
 * exchanges themselves are tested against fakes in tests/live. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cloudcred.h"

static const char *env_table[16][2];

static const char *fake_env(const char *name)
{
    for (size_t i = 0; i < 16 && env_table[i][0]; i++)
        if (strcmp(env_table[i][0], name) == 0)
            return env_table[i][1];
    return NULL;
}

static void set_env(const char *const *kv)
{
    memset(env_table, 0, sizeof env_table);
    for (size_t i = 0; kv && kv[2 * i] && i < 15; i++) {
        env_table[i][0] = kv[2 * i];
        env_table[i][1] = kv[2 * i + 1];
    }
}

static httpc_t *http;

/* The client every lookup uses, made once. */
static httpc_t *client(void)
{
    char err[200];
    if (!http) {
        /* loopback is reached directly, whatever the environment says */
        static const char *proxies[] = {"http_proxy",  "https_proxy", "HTTP_PROXY",
                                        "HTTPS_PROXY", "all_proxy",   "ALL_PROXY"};
        for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
            unsetenv(proxies[i]);
        http = httpc_new(NULL, err, sizeof err);
    }
    ck_assert_ptr_nonnull(http);
    return http;
}

/* One lookup through `c` (source: 64 bytes, why: 200). */
static bool ask_with(cloudcred_t *c, const char *host, uint64_t deadline, char *source, char *why)
{
    dockercfg_cred_t cred = {0};
    source[0] = why[0] = '\0';
    bool ok = cloudcred_get(c, host, deadline, &cred, source, 64, why, 200);
    dockercfg_cred_free(&cred);
    return ok;
}

/* One lookup with 2 s to go. */
static bool ask_soon(cloudcred_t *c, const char *host, char *source, char *why)
{
    return ask_with(c, host, clock_mono_ms() + 2000, source, why);
}

/* One lookup by a provider of its own, with 2 s to go. */
static bool ask(auth_type_t type, const char *host, char *source, char *why)
{
    cloudcred_t *c = cloudcred_new(type, client(), fake_env, NULL);
    ck_assert_ptr_nonnull(c);
    bool ok = ask_soon(c, host, source, why);
    cloudcred_free(c);
    return ok;
}

/* A file in /tmp with `text` (path in buf). */
static const char *temp_file(char *buf, size_t sz, const char *text)
{
    snprintf(buf, sz, "/tmp/test-cloudcred-XXXXXX");
    int fd = mkstemp(buf);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return buf;
}

START_TEST(no_provider_without_a_cloud_type)
{
    ck_assert_ptr_null(cloudcred_new(AUTH_NOOP, NULL, NULL, NULL));
    ck_assert_ptr_null(cloudcred_new(AUTH_BASIC, NULL, NULL, NULL));
    char source[64] = "x", why[200] = "";
    ck_assert(!cloudcred_get(NULL, "gcr.io", 0, NULL, source, sizeof source, why, sizeof why));
    ck_assert_str_eq(source, "");
}
END_TEST

START_TEST(google_serves_google_registries_only)
{
    char source[64], why[200];
    set_env(NULL);
    static const char *others[] = {"registry-1.docker.io", "gcr.io.evil.example", "x.azurecr.io",
                                   "docker.pkg.dev.example", "127.0.0.1:5000"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        ck_assert_msg(!ask(AUTH_GOOGLE, others[i], source, why), "%s", others[i]);
        ck_assert_str_eq(source, "");
        ck_assert_ptr_nonnull(strstr(why, "is not a Google registry"));
    }
}
END_TEST

START_TEST(google_key_file_wins_and_says_what_is_wrong)
{
    char source[64], why[200], path[64];
    const char *missing[] = {"GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json",
                             "GCE_METADATA_HOST", "127.0.0.1:1", NULL};
    set_env(missing);
    ck_assert(!ask(AUTH_GOOGLE, "us-docker.pkg.dev", source, why));
    ck_assert_str_eq(source, "google:service-account-key");
    ck_assert_str_eq(why, "GOOGLE_APPLICATION_CREDENTIALS /nonexistent/key.json: cannot open: No "
                          "such file or directory");

    temp_file(path, sizeof path, "{\"type\":\"authorized_user\",\"refresh_token\":\"r\"}");
    const char *user[] = {"GOOGLE_APPLICATION_CREDENTIALS", path, NULL};
    set_env(user);
    ck_assert(!ask(AUTH_GOOGLE, "gcr.io", source, why));
    ck_assert_ptr_nonnull(strstr(why, "type is \"authorized_user\", not \"service_account\""));
    unlink(path);

    temp_file(path, sizeof path,
              "{\"type\":\"service_account\",\"client_email\":\"e\",\"private_key\":\"garbage\"}");
    set_env(user);
    ck_assert(!ask(AUTH_GOOGLE, "eu.gcr.io", source, why));
    ck_assert_ptr_nonnull(strstr(why, "not an unencrypted PEM private key"));
    unlink(path);
}
END_TEST

START_TEST(google_metadata_host_from_the_environment)
{
    char source[64], why[200];
    const char *bad[] = {"GCE_METADATA_HOST", "evil.example/path?", NULL};
    set_env(bad);
    ck_assert(!ask(AUTH_GOOGLE, "europe-west1-docker.pkg.dev", source, why));
    ck_assert_str_eq(source, "google:metadata");
    ck_assert_str_eq(why, "GCE_METADATA_HOST is not a host[:port]");
    /* nothing listens on port 1 of loopback: the reason says unreachable */
    const char *closed[] = {"GCE_METADATA_ROOT", "127.0.0.1:1", NULL};
    set_env(closed);
    ck_assert(!ask(AUTH_GOOGLE, "gcr.io", source, why));
    ck_assert_msg(strncmp(why, "metadata server unreachable: ", 29) == 0, "%s", why);
}
END_TEST

START_TEST(azure_serves_acr_only_and_needs_workload_identity)
{
    char source[64], why[200], path[64];
    set_env(NULL);
    ck_assert(!ask(AUTH_AZURE, "gcr.io", source, why));
    ck_assert_str_eq(source, "");
    ck_assert_ptr_nonnull(strstr(why, "is not an Azure Container Registry"));
    ck_assert(!ask(AUTH_AZURE, "myreg.azurecr.io", source, why));
    ck_assert_str_eq(source, "azure:workload-identity");
    ck_assert_str_eq(why, "AZURE_CLIENT_ID is not set (no Azure workload identity: the pod needs "
                          "the label azure.workload.identity/use: \"true\")");
    /* the national clouds' registries are served; Azure Germany's are named as closed */
    ck_assert(!ask(AUTH_AZURE, "myreg.azurecr.cn", source, why));
    ck_assert_ptr_nonnull(strstr(why, "AZURE_CLIENT_ID is not set"));
    ck_assert(!ask(AUTH_AZURE, "myreg.azurecr.us:443", source, why));
    ck_assert_ptr_nonnull(strstr(why, "AZURE_CLIENT_ID is not set"));
    ck_assert(!ask(AUTH_AZURE, "myreg.azurecr.de", source, why));
    ck_assert_str_eq(source, "azure:workload-identity");
    ck_assert_str_eq(why,
                     "myreg.azurecr.de is in Azure Germany, which closed in 2021: no Entra to ask");

    const char *no_file[] = {"AZURE_CLIENT_ID", "c1", "AZURE_TENANT_ID", "t1", NULL};
    set_env(no_file);
    ck_assert(!ask(AUTH_AZURE, "myreg.azurecr.io", source, why));
    ck_assert_ptr_nonnull(strstr(why, "AZURE_FEDERATED_TOKEN_FILE is not set"));

    const char *bad_tenant[] = {"AZURE_CLIENT_ID",
                                "c1",
                                "AZURE_TENANT_ID",
                                "t1/../x",
                                "AZURE_FEDERATED_TOKEN_FILE",
                                "/x",
                                NULL};
    set_env(bad_tenant);
    ck_assert(!ask(AUTH_AZURE, "myreg.azurecr.io", source, why));
    ck_assert_str_eq(why, "AZURE_TENANT_ID is not valid");

    const char *plain[] = {"AZURE_CLIENT_ID",
                           "c1",
                           "AZURE_TENANT_ID",
                           "t1",
                           "AZURE_FEDERATED_TOKEN_FILE",
                           "/x",
                           "AZURE_AUTHORITY_HOST",
                           "http://login.example/",
                           NULL};
    set_env(plain);
    ck_assert(!ask(AUTH_AZURE, "myreg.azurecr.io", source, why));
    ck_assert_str_eq(why, "AZURE_AUTHORITY_HOST is not an https:// URL");

    const char *missing[] = {
        "AZURE_CLIENT_ID",    "c1", "AZURE_TENANT_ID", "t1", "AZURE_FEDERATED_TOKEN_FILE",
        "/nonexistent/token", NULL};
    set_env(missing);
    ck_assert(!ask(AUTH_AZURE, "myreg.azurecr.io", source, why));
    ck_assert_str_eq(why, "AZURE_FEDERATED_TOKEN_FILE /nonexistent/token: cannot open: No such "
                          "file or directory");

    temp_file(path, sizeof path, "\n");
    const char *empty[] = {
        "AZURE_CLIENT_ID", "c1", "AZURE_TENANT_ID", "t1", "AZURE_FEDERATED_TOKEN_FILE", path, NULL};
    set_env(empty);
    ck_assert(!ask(AUTH_AZURE, "myreg.azurecr.io", source, why));
    ck_assert_ptr_nonnull(strstr(why, "does not hold a token"));
    unlink(path);
}
END_TEST

/* ---- failed lookups are remembered for the backoff --------------------------------- */

static cloudcred_t *google_with_backoff(uint64_t backoff_ms)
{
    cloudcred_backoff_t b = {.backoff_ms = backoff_ms, .timeout_ms = 1000};
    cloudcred_t *c = cloudcred_new(AUTH_GOOGLE, client(), fake_env, &b);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* A Google provider whose key file (/nonexistent/a.json) cannot be read. */
static cloudcred_t *google_failing(uint64_t backoff_ms)
{
    static const char *missing[] = {"GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/a.json", NULL};
    set_env(missing);
    return google_with_backoff(backoff_ms);
}

START_TEST(a_failed_lookup_is_not_made_again_within_the_backoff)
{
    char source[64], why[200];
    cloudcred_t *c = google_failing(3600 * 1000);
    ck_assert(!ask_soon(c, "gcr.io", source, why));
    ck_assert(!cloudcred_not_asked(why));
    ck_assert_ptr_nonnull(strstr(why, "/nonexistent/a.json: cannot open"));

    /* the environment now names another file: the host is not asked again */
    const char *other[] = {"GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/b.json", NULL};
    set_env(other);
    ck_assert(!ask_soon(c, "gcr.io", source, why));
    ck_assert_msg(cloudcred_not_asked(why), "%s", why);
    ck_assert_str_eq(source, "google:service-account-key");
    const char *want = "not asked: failed 0 s ago (GOOGLE_APPLICATION_CREDENTIALS "
                       "/nonexistent/a.json: cannot open";
    ck_assert_msg(strncmp(why, want, strlen(want)) == 0, "%s", why);
    ck_assert_ptr_nonnull(strstr(why, "); registryCheck.failureBackoffSeconds"));

    /* another host is asked */
    ck_assert(!ask_soon(c, "eu.gcr.io", source, why));
    ck_assert_msg(!cloudcred_not_asked(why), "%s", why);
    ck_assert_ptr_nonnull(strstr(why, "/nonexistent/b.json: cannot open"));
    cloudcred_free(c);
}
END_TEST

START_TEST(a_remembered_failure_ends_with_its_backoff)
{
    char source[64], why[200];
    cloudcred_t *c = google_failing(100);
    ck_assert(!ask_soon(c, "gcr.io", source, why));
    ck_assert(!ask_soon(c, "gcr.io", source, why));
    ck_assert_msg(cloudcred_not_asked(why), "%s", why);
    /* asked again once 100 ms have passed (bounded wait for that) */
    uint64_t until = clock_mono_ms() + 5000;
    while (cloudcred_not_asked(why) && clock_mono_ms() < until) {
        ck_assert_int_eq(usleep(10000), 0);
        ck_assert(!ask_soon(c, "gcr.io", source, why));
    }
    ck_assert_msg(!cloudcred_not_asked(why), "%s", why);
    ck_assert_ptr_nonnull(strstr(why, "/nonexistent/a.json: cannot open"));
    cloudcred_free(c);
}
END_TEST

START_TEST(a_lookup_cut_short_by_the_callers_deadline_is_not_remembered)
{
    char source[64], why[200];
    cloudcred_t *c = google_with_backoff(3600 * 1000);
    const char *closed[] = {"GCE_METADATA_ROOT", "127.0.0.1:1", NULL};
    set_env(closed);
    /* no time left: the lookup fails at once, which says nothing of the server */
    ck_assert(!ask_with(c, "gcr.io", clock_mono_ms(), source, why));
    ck_assert_str_eq(source, "google:metadata");
    ck_assert(!ask_soon(c, "gcr.io", source, why));
    ck_assert_msg(strncmp(why, "metadata server unreachable: ", 29) == 0, "%s", why);
    /* that failure, within the time, is remembered */
    ck_assert(!ask_soon(c, "gcr.io", source, why));
    ck_assert_msg(cloudcred_not_asked(why), "%s", why);
    ck_assert_ptr_nonnull(strstr(why, "(metadata server unreachable: "));
    cloudcred_free(c);
}
END_TEST

START_TEST(without_a_backoff_every_lookup_is_made)
{
    char source[64], why[200];
    cloudcred_t *c = google_failing(0);
    for (int i = 0; i < 3; i++) {
        ck_assert(!ask_soon(c, "gcr.io", source, why));
        ck_assert_msg(!cloudcred_not_asked(why), "%s", why);
    }
    cloudcred_free(c);
    ck_assert(!cloudcred_not_asked("no AWS credentials found"));
    ck_assert(!cloudcred_not_asked(NULL));
}
END_TEST

Suite *suite_cloudcred(void)
{
    Suite *s = suite_create("cloudcred");
    TCase *tc = tcase_create("providers");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, no_provider_without_a_cloud_type);
    tcase_add_test(tc, google_serves_google_registries_only);
    tcase_add_test(tc, google_key_file_wins_and_says_what_is_wrong);
    tcase_add_test(tc, google_metadata_host_from_the_environment);
    tcase_add_test(tc, azure_serves_acr_only_and_needs_workload_identity);
    suite_add_tcase(s, tc);
    tc = tcase_create("backoff");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, a_failed_lookup_is_not_made_again_within_the_backoff);
    tcase_add_test(tc, a_remembered_failure_ends_with_its_backoff);
    tcase_add_test(tc, a_lookup_cut_short_by_the_callers_deadline_is_not_remembered);
    tcase_add_test(tc, without_a_backoff_every_lookup_is_made);
    suite_add_tcase(s, tc);
    return s;
}
