/* Tests for config: defaults, every key, every validation error with its
 * exact line and column, unknown keys with suggestions, Helm values files
 * and the formatting of errors. Reading files, printing errors and the
 * example files under tests/config/ are in test_config_file.c. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"

static wh_config_t *load_raw(const char *yaml, config_errors_t *errs)
{
    return config_load_buffer("config.yaml", yaml, strlen(yaml), errs);
}

/* A file must set imageBuilder: (test top_level_is_checked); the cases
 * about other keys of a map get an "imageBuilder: {}" line after theirs,
 * which leaves their lines and columns as they are. */
static wh_config_t *load(const char *yaml, config_errors_t *errs)
{
    if (strstr(yaml, "imageBuilder") || !strchr(yaml, ':'))
        return load_raw(yaml, errs);
    buf_t b = BUF_INIT;
    ck_assert(buf_printf(&b, "%s\nimageBuilder: {}\n", yaml));
    wh_config_t *c = config_load_buffer("config.yaml", b.data, b.len, errs);
    buf_free(&b);
    return c;
}

static wh_config_t *load_ok(const char *yaml)
{
    config_errors_t errs = {0};
    wh_config_t *c = load(yaml, &errs);
    if (!c) {
        buf_t out = BUF_INIT;
        config_errors_format(&errs, &out);
        ck_abort_msg("unexpected errors for:\n%s\n%s", yaml, out.data ? out.data : "");
    }
    ck_assert_uint_eq(errs.n, 0);
    return c;
}

static bool has_error(const config_errors_t *errs, size_t line, size_t col, const char *text)
{
    for (size_t i = 0; i < errs->n; i++)
        if (errs->items[i].line == line && errs->items[i].col == col &&
            strstr(errs->items[i].msg, text))
            return true;
    return false;
}

static char *dump_errors(const config_errors_t *errs)
{
    buf_t out = BUF_INIT;
    ck_assert(config_errors_format(errs, &out));
    char *s = buf_steal(&out);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Loads a file the way config_file.c does (its bytes, named by its path),
 * without the file reader itself: that one is tested in test_config_file.c. */
static wh_config_t *load_path(const char *path, config_errors_t *errs)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    buf_t b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ck_assert(buf_append(&b, chunk, n));
    ck_assert(!ferror(f));
    fclose(f);
    wh_config_t *c = config_load_buffer(path, b.data ? b.data : "", b.len, errs);
    buf_free(&b);
    return c;
}

/* Loading fails with (at least) the error at line:col containing `text`. */
static void expect_error_n(const char *yaml, size_t line, size_t col, const char *text,
                           size_t count)
{
    config_errors_t errs = {0};
    wh_config_t *c = load(yaml, &errs);
    char *all = dump_errors(&errs);
    ck_assert_msg(c == NULL, "loaded, expected %zu:%zu %s\n%s", line, col, text, yaml);
    ck_assert_msg(has_error(&errs, line, col, text), "no error %zu:%zu '%s' for\n%s\ngot:\n%s",
                  line, col, text, yaml, all);
    if (count)
        ck_assert_msg(errs.n == count, "expected %zu errors, got:\n%s", count, all);
    free(all);
    config_errors_free(&errs);
}

static void expect_error(const char *yaml, size_t line, size_t col, const char *text)
{
    expect_error_n(yaml, line, col, text, 1);
}

/* ---- defaults ---------------------------------------------------------------- */

static void assert_defaults(const wh_config_t *c)
{
    ck_assert(c->policy.enabled);
    ck_assert_str_eq(c->policy.target_configmap, "build-image-config");
    ck_assert_str_eq(c->policy.buildkit_uri, "");
    ck_assert_str_eq(c->policy.default_repository, "");
    ck_assert_int_eq(c->policy.auth, AUTH_NOOP);
    ck_assert(c->policy.buildkit_enabled);
    ck_assert_int_eq(c->policy.layout, LAYOUT_AUTO);
    ck_assert_uint_eq(c->policy.logical_registries.n, 1);
    ck_assert_str_eq(c->policy.logical_registries.items[0], "cr.union.ai");
    ck_assert_uint_eq(c->policy.domains.n, 3);
    ck_assert_str_eq(c->policy.domains.items[0], "development");
    ck_assert_str_eq(c->policy.domains.items[1], "staging");
    ck_assert_str_eq(c->policy.domains.items[2], "production");
    ck_assert_str_eq(c->policy.production_domain, "production");
    ck_assert_str_eq(c->policy.build_project, "system");
    ck_assert_str_eq(c->policy.namespace_template, "{{ project }}-{{ domain }}");
    ck_assert_str_eq(c->policy.production_namespace, "system-production");
    ck_assert_uint_eq(c->policy.basic_auth_registries.n, 0);
    ck_assert(!c->policy.production_domain_check.enabled);
    ck_assert_str_eq(c->policy.production_domain_check.api_server, "");
    ck_assert_str_eq(c->policy.production_domain_check.kubeconfig, "");
    ck_assert_str_eq(c->policy.production_domain_check.token_file,
                     "/var/run/secrets/kubernetes.io/serviceaccount/token");
    ck_assert_str_eq(c->policy.production_domain_check.ca_file,
                     "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    ck_assert_uint_eq(c->policy.production_domain_check.ttl_seconds, 60);
    ck_assert_uint_eq(c->policy.production_domain_check.absent_ttl_seconds, 2);
    ck_assert_uint_eq(c->policy.production_domain_check.timeout_ms, 1000);
    ck_assert(!c->policy.registry_check.enabled);
    ck_assert_uint_eq(c->policy.registry_check.timeout_ms, 1500);
    ck_assert_uint_eq(c->policy.registry_check.positive_ttl_seconds, 600);
    ck_assert_uint_eq(c->policy.registry_check.negative_ttl_seconds, 10);
    ck_assert_uint_eq(c->policy.registry_check.failure_backoff_seconds, 10);
    ck_assert_uint_eq(c->policy.registry_check.cache_size, 4096);
    ck_assert_str_eq(c->policy.registry_check.docker_config, "");
    ck_assert_str_eq(c->policy.registry_check.ca_file, "");
    ck_assert_uint_eq(c->policy.registry_check.insecure_registries.n, 0);
    ck_assert_str_eq(c->policy.build_image.image,
                     "public.ecr.aws/g1m2l3c1/imagebuilder-staging/build-image:latest");
    ck_assert_str_eq(c->policy.build_image.pull_policy, "IfNotPresent");
    char *res = cJSON_PrintUnformatted(c->policy.build_image.resources);
    ck_assert_str_eq(res, "{\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"},\"limits\":{"
                          "\"memory\":\"4Gi\"}}");
    free(res);
    ck_assert_str_eq(c->server.listen, ":8443");
    ck_assert_str_eq(c->server.path, "/mutate");
    ck_assert_str_eq(c->server.tls_cert_file, "");
    ck_assert_str_eq(c->server.tls_key_file, "");
    ck_assert_str_eq(c->server.tls_client_ca_file, "");
    ck_assert_uint_eq(c->server.threads, 0);
    ck_assert_uint_eq(c->server.max_request_bytes, 3u * 1024 * 1024);
    ck_assert_str_eq(c->server.metrics_listen, "");
    ck_assert_int_eq(c->server.log_level, LOG_INFO);
    ck_assert_uint_eq(c->server.request_timeout_ms, 10000);
    ck_assert_uint_eq(c->server.shutdown_timeout_ms, 20000);
    ck_assert_uint_eq(c->server.shutdown_delay_ms, 5000);
    ck_assert_uint_eq(c->server.max_connections, 1024);
    ck_assert_uint_eq(c->server.max_buffered_bytes, 64u * 1024 * 1024);
    ck_assert_uint_eq(c->server.write_timeout_ms, 10000);
    ck_assert(!c->server.http2_enabled);
    ck_assert_uint_eq(c->server.http2_max_streams, 100);
    ck_assert_uint_eq(c->server.http2_max_resets, 100);
}

START_TEST(defaults_builtin_and_empty_inputs)
{
    wh_config_t *c = config_defaults();
    ck_assert_ptr_nonnull(c);
    assert_defaults(c);
    config_free(c);

    const char *empties[] = {"imageBuilder: {}\n", "imageBuilder: {}\nwebhook: {}\n",
                             "imageBuilder: {}\nwebhook:\n",
                             "imageBuilder:\n  buildkitUri:\n  defaultRepository: ~\n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        c = load_ok(empties[i]);
        assert_defaults(c);
        ck_assert_str_eq(c->source, "config.yaml");
        config_free(c);
    }
    ck_assert_str_eq(repo_layout_name(LAYOUT_AUTO), "auto");
    ck_assert_str_eq(repo_layout_name(LAYOUT_PATH), "path");
    ck_assert_str_eq(repo_layout_name(LAYOUT_TAG), "tag");
    config_free(NULL);
}
END_TEST

/* An empty file, one without imageBuilder:, or one whose imageBuilder: has
 * nothing below it: what a file caught in the middle of a write looks
 * like. Never a configuration of defaults. */
START_TEST(top_level_is_checked)
{
    static const struct {
        const char *yaml;
        size_t line, col;
        const char *text;
    } bad[] = {
        {"", 1, 1, "the file is empty"},
        {"# nothing\n", 1, 1, "the file is empty"},
        {"\n\n# nothing\n", 1, 1, "the file is empty"},
        {"{}\n", 1, 1, "the file is empty"},
        {"~\n", 1, 1, "the file is empty"},
        {"webhook:\n  threads: 2\n", 1, 1, "no imageBuilder: at the top level"},
        {"global: {}\n", 1, 1, "no imageBuilder: at the top level"},
        {"imageBuilder:\nwebhook:\n", 1, 1, "imageBuilder: has no settings"},
        {"webhook: {}\nimageBuilder: ~\n", 2, 1, "imageBuilder: has no settings"},
        {"# cut\nwebhook: {}\n", 2, 1, "no imageBuilder: at the top level"},
        {"- imageBuilder\n", 1, 1, "the file must hold a map"},
        {"imageBuilder", 1, 1,
         "the file must hold a map with imageBuilder: and webhook: at the "
         "top level, not a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        config_errors_t errs = {0};
        wh_config_t *c = load_raw(bad[i].yaml, &errs);
        char *all = dump_errors(&errs);
        ck_assert_msg(c == NULL, "accepted:\n%s", bad[i].yaml);
        ck_assert_msg(errs.n == 1 && has_error(&errs, bad[i].line, bad[i].col, bad[i].text),
                      "case %zu: want %zu:%zu %s, got:\n%s", i, bad[i].line, bad[i].col,
                      bad[i].text, all);
        free(all);
        config_errors_free(&errs);
    }
    /* a misspelt imageBuilder is reported as such, not also as missing */
    config_errors_t errs = {0};
    ck_assert_ptr_null(load_raw("imageBuildr:\n  enabled: true\n", &errs));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert(has_error(&errs, 1, 1, "did you mean imageBuilder?"));
    config_errors_free(&errs);
}
END_TEST

/* ---- every key ------------------------------------------------------------------ */

START_TEST(every_key_is_read)
{
    config_errors_t errs = {0};
    wh_config_t *c = load_path("tests/config/good-full.yaml", &errs);
    char *all = dump_errors(&errs);
    ck_assert_msg(c != NULL, "%s", all);
    free(all);
    ck_assert_str_eq(c->source, "tests/config/good-full.yaml");
    ck_assert(c->policy.enabled);
    ck_assert_str_eq(c->policy.target_configmap, "my-build-config");
    ck_assert_str_eq(c->policy.buildkit_uri, "tcp://buildkitd.buildkit.svc.cluster.local:1234");
    ck_assert_str_eq(c->policy.default_repository, "us-central1-docker.pkg.dev/my-project/images");
    ck_assert_int_eq(c->policy.auth, AUTH_GOOGLE);
    ck_assert(!c->policy.buildkit_enabled);
    ck_assert_int_eq(c->policy.layout, LAYOUT_PATH);
    ck_assert_uint_eq(c->policy.logical_registries.n, 2);
    ck_assert_str_eq(c->policy.logical_registries.items[1], "registry.internal:5000/team");
    ck_assert_uint_eq(c->policy.domains.n, 2);
    ck_assert_str_eq(c->policy.domains.items[1], "prod");
    ck_assert_str_eq(c->policy.production_domain, "prod");
    ck_assert_str_eq(c->policy.build_project, "builds");
    ck_assert_str_eq(c->policy.namespace_template, "{{ domain }}-{{ project }}");
    ck_assert_str_eq(c->policy.production_namespace, "prod-builds");
    ck_assert(c->policy.production_domain_check.enabled);
    ck_assert_str_eq(c->policy.production_domain_check.api_server, "https://10.0.0.1:6443");
    ck_assert_str_eq(c->policy.production_domain_check.kubeconfig, "/etc/kube/config");
    ck_assert_str_eq(c->policy.production_domain_check.token_file, "/var/run/token");
    ck_assert_str_eq(c->policy.production_domain_check.ca_file, "/var/run/ca.crt");
    ck_assert_uint_eq(c->policy.production_domain_check.ttl_seconds, 30);
    ck_assert_uint_eq(c->policy.production_domain_check.absent_ttl_seconds, 5);
    ck_assert_uint_eq(c->policy.production_domain_check.timeout_ms, 500);
    ck_assert(c->policy.registry_check.enabled);
    ck_assert_uint_eq(c->policy.registry_check.timeout_ms, 800);
    ck_assert_uint_eq(c->policy.registry_check.positive_ttl_seconds, 3600);
    ck_assert_uint_eq(c->policy.registry_check.negative_ttl_seconds, 5);
    ck_assert_uint_eq(c->policy.registry_check.failure_backoff_seconds, 30);
    ck_assert_uint_eq(c->policy.registry_check.cache_size, 100);
    ck_assert_str_eq(c->policy.registry_check.docker_config, "/etc/docker/config.json");
    ck_assert_str_eq(c->policy.registry_check.ca_file, "/etc/ssl/registry-ca.pem");
    ck_assert_uint_eq(c->policy.registry_check.insecure_registries.n, 1);
    ck_assert_str_eq(c->policy.registry_check.insecure_registries.items[0],
                     "registry.internal:5000");
    ck_assert_str_eq(c->policy.build_image.image, "ghcr.io/my-org/build-image:1.2.3");
    ck_assert_str_eq(c->policy.build_image.pull_policy, "Always");
    char *res = cJSON_PrintUnformatted(c->policy.build_image.resources);
    ck_assert_str_eq(res, "{\"requests\":{\"cpu\":\"1\",\"memory\":\"2Gi\"},\"limits\":{"
                          "\"memory\":\"8Gi\",\"ephemeral-storage\":\"20Gi\"}}");
    free(res);
    ck_assert_uint_eq(c->policy.basic_auth_registries.n, 1);
    ck_assert_str_eq(c->policy.basic_auth_registries.items[0], "registry.internal:5000");
    ck_assert_str_eq(c->server.listen, "0.0.0.0:9443");
    ck_assert_str_eq(c->server.path, "/mutate/pods");
    ck_assert_str_eq(c->server.tls_cert_file, "/etc/tls/tls.crt");
    ck_assert_str_eq(c->server.tls_key_file, "/etc/tls/tls.key");
    ck_assert_str_eq(c->server.tls_client_ca_file, "/etc/tls/ca.crt");
    ck_assert_uint_eq(c->server.threads, 4);
    ck_assert_uint_eq(c->server.max_request_bytes, 1048576);
    ck_assert_str_eq(c->server.metrics_listen, ":9090");
    ck_assert_int_eq(c->server.log_level, LOG_DEBUG);
    ck_assert_uint_eq(c->server.request_timeout_ms, 5000);
    ck_assert_uint_eq(c->server.shutdown_timeout_ms, 30000);
    ck_assert_uint_eq(c->server.shutdown_delay_ms, 2500);
    ck_assert_uint_eq(c->server.max_connections, 300);
    ck_assert_uint_eq(c->server.max_buffered_bytes, 32u * 1024 * 1024);
    ck_assert_uint_eq(c->server.write_timeout_ms, 7000);
    ck_assert(c->server.http2_enabled);
    ck_assert_uint_eq(c->server.http2_max_streams, 8);
    ck_assert_uint_eq(c->server.http2_max_resets, 50);
    config_free(c);
}
END_TEST

START_TEST(enums_and_simple_values)
{
    static const struct {
        const char *v;
        auth_type_t t;
    } auths[] = {{"noop", AUTH_NOOP},
                 {"google", AUTH_GOOGLE},
                 {"aws", AUTH_AWS},
                 {"azure", AUTH_AZURE},
                 {"basic", AUTH_BASIC}};
    for (size_t i = 0; i < 5; i++) {
        char y[128];
        snprintf(y, sizeof y, "imageBuilder:\n  authenticationType: %s\n", auths[i].v);
        wh_config_t *c = load_ok(y);
        ck_assert_int_eq(c->policy.auth, auths[i].t);
        config_free(c);
    }
    wh_config_t *c = load_ok("imageBuilder:\n  repositoryLayout: tag\n  enabled: false\n");
    ck_assert_int_eq(c->policy.layout, LAYOUT_TAG);
    ck_assert(!c->policy.enabled);
    config_free(c);
    const char *levels[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < 4; i++) {
        char y[64];
        snprintf(y, sizeof y, "webhook:\n  logLevel: %s\n", levels[i]);
        c = load_ok(y);
        ck_assert_int_eq(c->server.log_level, (log_level_t)i);
        config_free(c);
    }
    /* YAML boolean spellings Kubernetes accepts */
    c = load_ok("imageBuilder:\n  enabled: False\n  registryCheck: {enabled: TRUE}\n");
    ck_assert(!c->policy.enabled);
    ck_assert(c->policy.registry_check.enabled);
    config_free(c);
    /* hex is still a whole number */
    c = load_ok("webhook:\n  maxRequestBytes: 0x100000\n  threads: 0\n");
    ck_assert_uint_eq(c->server.max_request_bytes, 1048576);
    config_free(c);
    /* "/" stays "/", trailing slashes go */
    c = load_ok("webhook:\n  path: /\n");
    ck_assert_str_eq(c->server.path, "/");
    config_free(c);
    c = load_ok("webhook:\n  path: /hook//\n");
    ck_assert_str_eq(c->server.path, "/hook");
    config_free(c);
}
END_TEST

START_TEST(enum_errors)
{
    expect_error("imageBuilder:\n  authenticationType: gogle\n", 2, 23,
                 "imageBuilder.authenticationType: \"gogle\" is not one of noop, google, aws, "
                 "azure, basic");
    expect_error("imageBuilder:\n  authenticationType: AWS\n", 2, 23, "is not one of");
    expect_error("imageBuilder:\n  repositoryLayout: flat\n", 2, 21,
                 "imageBuilder.repositoryLayout: \"flat\" is not one of auto, path, tag");
    expect_error("webhook:\n  logLevel: verbose\n", 2, 13,
                 "webhook.logLevel: \"verbose\" is not one of debug, info, warn, error");
    expect_error("imageBuilder:\n  buildImage:\n    imagePullPolicy: sometimes\n", 3, 22,
                 "is not one of Always, IfNotPresent, Never");
}
END_TEST

/* ---- types --------------------------------------------------------------------- */

START_TEST(type_errors)
{
    expect_error("imageBuilder:\n  enabled: \"true\"\n", 2, 12,
                 "imageBuilder.enabled: expected true or false, got \"true\" (write it without "
                 "quotes)");
    expect_error("imageBuilder:\n  enabled: yes\n", 2, 12, "expected true or false, got \"yes\"");
    expect_error("imageBuilder:\n  enabled: [true]\n", 2, 12, "expected true or false, got a list");
    expect_error("imageBuilder:\n  productionDomain: true\n", 2, 21,
                 "expected a string, got a boolean \"true\"; put it in quotes");
    expect_error("imageBuilder:\n  buildProject: 123\n", 2, 17,
                 "expected a string, got an integer \"123\"");
    expect_error("imageBuilder:\n  targetConfigMapName: {a: b}\n", 2, 24,
                 "expected a string, got a map");
    expect_error("imageBuilder:\n  domains: production\n", 2, 12,
                 "imageBuilder.domains: expected a list of strings");
    expect_error("imageBuilder:\n  domains: [dev, [x]]\n", 2, 18,
                 "imageBuilder.domains[1]: expected a string, got a list");
    expect_error("imageBuilder:\n  domains: [dev, 7]\n", 2, 18,
                 "imageBuilder.domains[1]: expected a string, got an integer");
    expect_error("imageBuilder:\n  registryCheck: true\n", 2, 18,
                 "imageBuilder.registryCheck: expected a map of settings, got \"true\"");
    expect_error("webhook:\n  threads: \"4\"\n", 2, 12,
                 "webhook.threads: expected a whole number from 0 to 256, got \"4\" (write it "
                 "without quotes");
    expect_error("webhook:\n  threads: 2.5\n", 2, 12, "expected a whole number");
    expect_error("webhook:\n  threads: -1\n", 2, 12,
                 "-1 is out of range; use a number from 0 to 256");
    expect_error("webhook:\n  threads: 257\n", 2, 12, "257 is out of range");
    expect_error("webhook:\n  maxRequestBytes: 3Mi\n", 2, 20,
                 "expected a whole number from 1024 to 67108864, got \"3Mi\"");
    expect_error("webhook:\n  maxRequestBytes: 1023\n", 2, 20, "1023 is out of range");
    expect_error("webhook:\n  maxRequestBytes: 67108865\n", 2, 20, "out of range");
    expect_error("webhook:\n  requestTimeoutMs: 50\n", 2, 21, "out of range");
    expect_error("imageBuilder:\n  registryCheck:\n    timeoutMs: 20000\n", 3, 16,
                 "imageBuilder.registryCheck.timeoutMs: 20000 is out of range");
    expect_error("imageBuilder:\n  registryCheck:\n    cacheSize: 0\n", 3, 16, "out of range");
    expect_error("imageBuilder:\n  productionDomainCheck:\n    ttlSeconds: 0\n", 3, 17,
                 "out of range");
    expect_error("imageBuilder:\n  productionDomainCheck:\n    absentTtlSeconds: 0\n", 3, 23,
                 "imageBuilder.productionDomainCheck.absentTtlSeconds: 0 is out of range; use a "
                 "number from 1 to 60");
    expect_error("imageBuilder:\n  productionDomainCheck:\n    absentTtlSeconds: 61\n", 3, 23,
                 "out of range");
    expect_error("imageBuilder:\n  registryCheck:\n    failureBackoffSeconds: 301\n", 3, 28,
                 "imageBuilder.registryCheck.failureBackoffSeconds: 301 is out of range; use a "
                 "number from 0 to 300");
    expect_error("imageBuilder:\n  registryCheck:\n    positiveTtlSeconds: 86400\n", 3, 25,
                 "imageBuilder.registryCheck.positiveTtlSeconds: 86400 is too long; use at most "
                 "3600: an image removed from the registry (e.g. by a lifecycle policy) would be "
                 "taken as present for that long and get no build");
    expect_error("imageBuilder:\n  registryCheck:\n    positiveTtlSeconds: 3601\n", 3, 25,
                 "is too long; use at most 3600");
    expect_error("imageBuilder: [a]\n", 1, 15, "imageBuilder: expected a map of settings");
    expect_error("webhook: ':8443'\n", 1, 10, "webhook: expected a map of settings");
}
END_TEST

START_TEST(aliases_and_merge_keys_refused_where_read)
{
    expect_error("x: &r ghcr.io/a\nimageBuilder:\n  defaultRepository: *r\n", 3, 22,
                 "imageBuilder.defaultRepository: YAML aliases are not supported here; write the "
                 "value out");
    expect_error("x: &ib {enabled: true}\nimageBuilder: *ib\n", 2, 15,
                 "imageBuilder: YAML aliases are not supported here");
    expect_error("x: &d [a]\nimageBuilder:\n  domains: *d\n", 3, 12, "YAML aliases");
    expect_error("x: &d a\nimageBuilder:\n  domains: [*d, b]\n", 3, 13,
                 "imageBuilder.domains[0]: YAML aliases");
    expect_error("x: &b {enabled: false}\nimageBuilder:\n  buildkit: *b\n", 3, 13, "YAML aliases");
    expect_error("x: &f false\nimageBuilder:\n  buildkit:\n    enabled: *f\n", 4, 14,
                 "imageBuilder.buildkit.enabled: YAML aliases");
    expect_error("x: &k enabled\nimageBuilder:\n  *k : true\n", 3, 3, "YAML aliases");
    expect_error("x: &m {enabled: true}\nimageBuilder:\n  <<: *m\n", 3, 3,
                 "YAML merge keys (<<) are not supported here; write the keys out");
    expect_error("x: &q 1Gi\nimageBuilder:\n  buildImage:\n    resources:\n      limits: "
                 "{memory: *q}\n",
                 5, 24, "YAML aliases");
    /* aliases inside the chart's buildkit block are not read, so they pass */
    wh_config_t *c = load_ok("x: &l {a: b}\nimageBuilder:\n  buildkit:\n    podLabels: *l\n");
    ck_assert(c->policy.buildkit_enabled);
    config_free(c);
}
END_TEST

/* ---- unknown keys ---------------------------------------------------------------- */

START_TEST(unknown_keys_with_suggestions)
{
    expect_error("imageBuilder:\n  defaultRepositry: ghcr.io/a\n", 2, 3,
                 "imageBuilder: unknown key \"defaultRepositry\"; did you mean defaultRepository?");
    expect_error("imageBuilder:\n  buildkitURI: tcp://a:1\n", 2, 3, "did you mean buildkitUri?");
    expect_error("imageBuilder:\n  registryCheck:\n    timeout: 5\n", 3, 5,
                 "imageBuilder.registryCheck: unknown key \"timeout\"; did you mean timeoutMs?");
    expect_error("webhook:\n  tls:\n    certfile: a\n", 3, 5, "did you mean certFile?");
    expect_error("webhook:\n  tls:\n    cert: a\n", 3, 5,
                 "webhook.tls: unknown key \"cert\"; the keys allowed here are: certFile, keyFile, "
                 "clientCAFile");
    expect_error("imageBuilder:\n  buildImage:\n    resources:\n      limit: {cpu: 1}\n", 4, 7,
                 "did you mean limits?");
    expect_error("imageBuilder:\n  something: 1\n", 2, 3,
                 "unknown key \"something\"; the keys allowed here are: enabled, ");
    expect_error("imagebuilder:\n  enabled: true\n", 1, 1,
                 "unknown top-level key \"imagebuilder\"; did you mean imageBuilder?");
    expect_error("Webhook: {}\n", 1, 1, "did you mean webhook?");
    expect_error("imageBuildr:\n  enabled: true\n", 1, 1,
                 "unknown top-level key \"imageBuildr\"; did you mean imageBuilder?");
    expect_error("webhooks: 1\n", 1, 1,
                 "unknown top-level key \"webhooks\"; did you mean webhook?");
    expect_error("imageBuilder: {}\nimagebuilderx: 2\n", 2, 1, "did you mean imageBuilder?");
    expect_error("imageBuilder: {}\nwebHok: {}\n", 2, 1, "did you mean webhook?");
    expect_error("imageBuilder:\n  [a]: 1\n", 2, 3, "keys must be plain names");
    /* unknown keys are found even next to other errors, all reported */
    expect_error_n("imageBuilder:\n  foo: 1\n  bar: 2\n  enabled: maybe\n", 3, 3,
                   "unknown key \"bar\"", 3);
    /* duplicate keys */
    expect_error("imageBuilder:\n  enabled: true\n  enabled: false\n", 3, 3,
                 "imageBuilder.enabled is set twice (first at line 2); remove one of them");
    expect_error("imageBuilder: {}\nimageBuilder: {}\n", 2, 1, "imageBuilder is set twice");
    /* the chart's other top-level keys are ignored, near-misses are not (above) */
    wh_config_t *c = load_ok("global: {a: *x}\nimage: {}\nmetrics: 1\nservice: {}\n"
                             "certificates: {}\nadmission: {}\ndeployment: {}\nimageBuilder: {}\n");
    config_free(c);
}
END_TEST

/* ---- defaultRepository -------------------------------------------------------- */

START_TEST(default_repository_valid)
{
    static const struct {
        const char *in, *stored, *basic;
    } ok[] = {
        {"ghcr.io/my-org/images", "ghcr.io/my-org/images", "ghcr.io"},
        {"ghcr.io/my-org/images/", "ghcr.io/my-org/images", "ghcr.io"},
        {"myacr.azurecr.io", "myacr.azurecr.io", "myacr.azurecr.io"},
        {"k3d-registry:5000/union", "k3d-registry:5000/union", "k3d-registry:5000"},
        {"localhost:5000", "localhost:5000", "localhost:5000"},
        {"localhost/images", "localhost/images", "localhost"},
        {"123456789012.dkr.ecr.us-east-1.amazonaws.com/union",
         "123456789012.dkr.ecr.us-east-1.amazonaws.com/union",
         "123456789012.dkr.ecr.us-east-1.amazonaws.com"},
        {"europe-west4-docker.pkg.dev/proj/repo/prefix",
         "europe-west4-docker.pkg.dev/proj/repo/prefix", "europe-west4-docker.pkg.dev"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char y[256];
        snprintf(y, sizeof y, "imageBuilder:\n  defaultRepository: \"%s\"\n", ok[i].in);
        wh_config_t *c = load_ok(y);
        ck_assert_str_eq(c->policy.default_repository, ok[i].stored);
        ck_assert_uint_eq(c->policy.basic_auth_registries.n, 1);
        ck_assert_str_eq(c->policy.basic_auth_registries.items[0], ok[i].basic);
        config_free(c);
    }
    /* explicit basicAuth.registries win over the default */
    wh_config_t *c = load_ok("imageBuilder:\n  defaultRepository: ghcr.io/a\n  authenticationType: "
                             "basic\n  basicAuth:\n    registries: [docker.io, r.local:5000]\n");
    ck_assert_uint_eq(c->policy.basic_auth_registries.n, 2);
    ck_assert_str_eq(c->policy.basic_auth_registries.items[0], "docker.io");
    ck_assert_str_eq(c->policy.basic_auth_registries.items[1], "r.local:5000");
    config_free(c);
    c = load_ok("imageBuilder:\n  basicAuth:\n    registries: []\n");
    ck_assert_uint_eq(c->policy.basic_auth_registries.n, 0);
    config_free(c);
}
END_TEST

static void repo_error(const char *value, const char *text)
{
    char y[512];
    snprintf(y, sizeof y, "imageBuilder:\n  defaultRepository: \"%s\"\n", value);
    expect_error(y, 2, 22, text);
}

START_TEST(default_repository_errors)
{
    repo_error("https://ghcr.io/my-org/images", "remove the https:// prefix");
    repo_error("http://registry.local/x", "remove the http:// prefix");
    repo_error("oci://ghcr.io/x", "a repository has no scheme");
    repo_error("GHCR.io/My-Org", "must be lowercase; write \"ghcr.io/my-org\"");
    repo_error("ghcr.io/my-org/images:v1", "remove the tag \":v1\"");
    repo_error("localhost:5000/images:latest", "remove the tag \":latest\"");
    repo_error("ghcr.io/my-org/images@sha256:"
               "0123456789012345678901234567890123456789012345678901234567890123",
               "remove the digest");
    repo_error("union-dataplane", "has no registry host");
    repo_error("union/dataplane", "has no registry host");
    repo_error("union-dataplane:latest", "has no registry host");
    repo_error(".dkr.ecr.us-east-1.amazonaws.com/union-dataplane",
               "the ECR host needs the 12-digit account id");
    repo_error("12345.dkr.ecr.us-east-1.amazonaws.com/x",
               "the ECR host needs the 12-digit account id");
    repo_error("123456789012.dkr.ecr.us-east-1.example.com/x", "is not a valid Amazon ECR host");
    repo_error("ghcr.io/my org", "contains whitespace");
    repo_error("ghcr.io//images", "is not a valid repository");
    repo_error("ghcr.io/-images", "is not a valid repository");
}
END_TEST

START_TEST(default_repository_against_auth)
{
    static const struct {
        const char *auth, *repo;
        bool ok;
    } cases[] = {
        {"aws", "123456789012.dkr.ecr.us-east-1.amazonaws.com/union", true},
        {"aws", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/union", true},
        {"aws", "ghcr.io/my-org/images", false},
        {"aws", "myacr.azurecr.io", false},
        {"google", "us-central1-docker.pkg.dev/proj/repo", true},
        {"google", "gcr.io/proj", true},
        {"google", "eu.gcr.io/proj", true},
        {"google", "123456789012.dkr.ecr.us-east-1.amazonaws.com/union", false},
        {"azure", "myacr.azurecr.io", true},
        {"azure", "myacr.azurecr.cn/images", true},
        {"azure", "gcr.io/proj", false},
        {"basic", "ghcr.io/my-org/images", true},
        {"basic", "123456789012.dkr.ecr.us-east-1.amazonaws.com/union", true},
        {"noop", "ghcr.io/my-org/images", true},
        {"noop", "123456789012.dkr.ecr.us-east-1.amazonaws.com/union", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char y[256];
        snprintf(y, sizeof y, "imageBuilder:\n  authenticationType: %s\n  defaultRepository: %s\n",
                 cases[i].auth, cases[i].repo);
        if (cases[i].ok) {
            wh_config_t *c = load_ok(y);
            config_free(c);
        } else {
            expect_error(y, 3, 22, "change imageBuilder.authenticationType");
        }
    }
    expect_error("imageBuilder:\n  authenticationType: aws\n  defaultRepository: ghcr.io/x\n", 3,
                 22,
                 "imageBuilder.defaultRepository: \"ghcr.io/x\" is a other registry repository, "
                 "which authenticationType \"aws\" cannot log in to (it reaches Amazon ECR");
    /* an empty repository is not checked against the type */
    wh_config_t *c = load_ok("imageBuilder:\n  authenticationType: aws\n");
    config_free(c);
}
END_TEST

/* ---- registries lists ---------------------------------------------------------- */

START_TEST(registry_lists)
{
    wh_config_t *c = load_ok("imageBuilder:\n  logicalRegistries: [cr.union.ai, "
                             "images.example.com/flyte, localhost:5000]\n");
    ck_assert_uint_eq(c->policy.logical_registries.n, 3);
    ck_assert_str_eq(c->policy.logical_registries.items[1], "images.example.com/flyte");
    config_free(c);
    c = load_ok("imageBuilder:\n  logicalRegistries: []\n");
    ck_assert_uint_eq(c->policy.logical_registries.n, 0);
    config_free(c);

    expect_error("imageBuilder:\n  logicalRegistries: [cr.union.ai, CR.example.com]\n", 2, 36,
                 "imageBuilder.logicalRegistries[1]: \"CR.example.com\" must be lowercase");
    expect_error("imageBuilder:\n  logicalRegistries:\n    - https://cr.union.ai\n", 3, 7,
                 "remove the https:// prefix");
    expect_error("imageBuilder:\n  logicalRegistries:\n    - cr.union.ai/x:tag\n", 3, 7,
                 "is not a valid registry: registry must not contain a tag or digest");
    expect_error("imageBuilder:\n  logicalRegistries:\n    - cr.union.ai/\n", 3, 7,
                 "is not a valid registry");
    expect_error("imageBuilder:\n  logicalRegistries:\n    -\n", 3, 6, "empty list item");
    expect_error("imageBuilder:\n  basicAuth:\n    registries: [ghcr.io/org]\n", 3, 18,
                 "write the registry host only");
    expect_error("imageBuilder:\n  registryCheck:\n    insecureRegistries: [\"bad host\"]\n", 3, 26,
                 "imageBuilder.registryCheck.insecureRegistries[0]: \"bad host\" is not a valid "
                 "registry");
}
END_TEST

/* ---- domains, project, namespace ----------------------------------------------- */

START_TEST(domains_and_namespace)
{
    wh_config_t *c = load_ok("imageBuilder:\n  buildProject: flytesnacks\n");
    ck_assert_str_eq(c->policy.production_namespace, "flytesnacks-production");
    config_free(c);
    c = load_ok("imageBuilder:\n  namespaceTemplate: \"{{ project }}\"\n  buildProject: p1\n");
    ck_assert_str_eq(c->policy.production_namespace, "p1");
    config_free(c);
    c = load_ok("imageBuilder:\n  namespaceTemplate: \"ns-{{ domain }}-{{ domain }}\"\n");
    ck_assert_str_eq(c->policy.production_namespace, "ns-production-production");
    config_free(c);

    expect_error("imageBuilder:\n  domains: []\n", 2, 12,
                 "imageBuilder.domains: the list is empty; list the project domains");
    expect_error("imageBuilder:\n  domains: [development, Production]\n", 2, 26,
                 "imageBuilder.domains[1]: \"Production\" is not a valid domain name");
    expect_error("imageBuilder:\n  domains: [production, staging, production]\n", 2, 34,
                 "imageBuilder.domains[2]: \"production\" is listed twice (also item 0)");
    expect_error("imageBuilder:\n  domains: [development, staging]\n", 2, 12,
                 "imageBuilder.productionDomain: \"production\" is not in imageBuilder.domains "
                 "[development, staging]; add it to imageBuilder.domains or set productionDomain");
    expect_error("imageBuilder:\n  productionDomain: prod\n", 2, 21,
                 "\"prod\" is not in imageBuilder.domains [development, staging, production]");
    expect_error("imageBuilder:\n  productionDomain: prod_1\n", 2, 21,
                 "imageBuilder.productionDomain: \"prod_1\" is not a valid name");
    expect_error("imageBuilder:\n  buildProject: My-Project\n", 2, 17,
                 "imageBuilder.buildProject: \"My-Project\" is not a valid name");
    expect_error("imageBuilder:\n  buildProject: \"\"\n", 2, 17, "is not a valid name");
    expect_error("imageBuilder:\n  namespaceTemplate: \"{{project}}-{{domain}}\"\n", 2, 22,
                 "uses neither {{ project }} nor {{ domain }}");
    expect_error("imageBuilder:\n  namespaceTemplate: \"{{ project }}_{{ domain }}\"\n", 2, 22,
                 "it gives the namespace \"system_production\", which is not a valid namespace "
                 "name");
    expect_error(
        "imageBuilder:\n  buildProject: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaa\n",
        2, 17, "it gives the namespace");
}
END_TEST

/* ---- buildkit ------------------------------------------------------------------ */

START_TEST(buildkit_rules)
{
    wh_config_t *c = load_ok("imageBuilder:\n  buildkit:\n    enabled: false\n  buildkitUri: "
                             "unix:///run/buildkit/buildkitd.sock\n");
    ck_assert(!c->policy.buildkit_enabled);
    config_free(c);
    c = load_ok("imageBuilder:\n  buildkitUri: kube-pod://buildkitd-0\n  buildkit:\n    "
                "rootless: true\n    replicaCount: 3\n    nodeSelector: {a: b}\n    tolerations: "
                "[]\n    image: {repository: moby/buildkit}\n");
    ck_assert(c->policy.buildkit_enabled);
    ck_assert_str_eq(c->policy.buildkit_uri, "kube-pod://buildkitd-0");
    config_free(c);
    /* a disabled image builder needs no builder */
    c = load_ok("imageBuilder:\n  enabled: false\n  buildkit: {enabled: false}\n");
    config_free(c);

    expect_error("imageBuilder:\n  buildkit:\n    enabled: false\n", 3, 14,
                 "imageBuilder.buildkit.enabled is false and imageBuilder.buildkitUri is empty, so "
                 "nothing can build images; set buildkitUri");
    expect_error("imageBuilder:\n  buildkitUri: \"\"\n  buildkit: {enabled: false}\n", 3, 23,
                 "nothing can build images");
    expect_error("imageBuilder:\n  buildkitUri: http://buildkitd:1234\n", 2, 16,
                 "imageBuilder.buildkitUri: \"http://buildkitd:1234\" is not a buildkit address; "
                 "write tcp://HOST:PORT, unix:///PATH or kube-pod://POD");
    expect_error("imageBuilder:\n  buildkitUri: tcp://\n", 2, 16, "is not a buildkit address");
    expect_error("imageBuilder:\n  buildkit:\n    enabled: \"false\"\n", 3, 14,
                 "imageBuilder.buildkit.enabled: expected true or false");
    expect_error("imageBuilder:\n  buildkit: true\n", 2, 13, "expected a map of settings");
}
END_TEST

/* ---- webhook ------------------------------------------------------------------- */

START_TEST(webhook_listen_and_path)
{
    const char *ok[] = {":8443",   "0.0.0.0:8443",    "[::]:8443",
                        "[::1]:1", "localhost:65535", "webhook.example.com:443"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char y[128];
        snprintf(y, sizeof y, "webhook:\n  listen: \"%s\"\n", ok[i]);
        wh_config_t *c = load_ok(y);
        ck_assert_str_eq(c->server.listen, ok[i]);
        config_free(c);
    }
    static const struct {
        const char *v, *text;
    } bad[] = {
        {"8443", "there is no port"},
        {":0", "the port must be a number from 1 to 65535"},
        {":65536", "the port must be a number from 1 to 65535"},
        {":https", "the port must be a number"},
        {"::1:8443", "put an IPv6 address in brackets"},
        {"[::1]8443", "write the port after the address"},
        {"[::1:8443", "closing ']'"},
        {"host name:80", "the host may only have letters"},
        {"", "it is empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char y[128];
        snprintf(y, sizeof y, "webhook:\n  listen: \"%s\"\n", bad[i].v);
        expect_error(y, 2, 11, bad[i].text);
    }
    expect_error("webhook:\n  listen: 8443\n", 2, 11, "expected a string, got an integer");
    expect_error("webhook:\n  metricsListen: \"9090\"\n", 2, 18, "webhook.metricsListen");
    expect_error("webhook:\n  metricsListen: \":8443\"\n", 2, 18,
                 "webhook.metricsListen: \":8443\" is also webhook.listen");
    expect_error("webhook:\n  path: mutate\n", 2, 9,
                 "webhook.path: \"mutate\" is not a URL path; write one that starts with '/'");
    expect_error("webhook:\n  path: \"/mutate?x=1\"\n", 2, 9, "is not a URL path");
    expect_error("webhook:\n  path: \"\"\n", 2, 9, "is not a URL path");
    expect_error("webhook:\n  tls:\n    certFile: /tls/tls.crt\n", 3, 15,
                 "webhook.tls.certFile is set but webhook.tls.keyFile is not; set both or neither");
    expect_error("webhook:\n  tls:\n    keyFile: /tls/tls.key\n", 3, 14,
                 "webhook.tls.keyFile is set but webhook.tls.certFile is not");
    expect_error("webhook:\n  maxBufferedBytes: 1048576\n  maxRequestBytes: 2097152\n", 2, 21,
                 "webhook.maxBufferedBytes (1048576) is smaller than webhook.maxRequestBytes "
                 "(2097152)");
    expect_error("webhook:\n  maxBufferedBytes: 1000\n", 2, 21, "webhook.maxBufferedBytes");
    expect_error("webhook:\n  maxConnections: 0\n", 2, 19, "webhook.maxConnections");
    expect_error("webhook:\n  http2:\n    maxConcurrentStreams: 101\n", 3, 27,
                 "webhook.http2.maxConcurrentStreams");
    expect_error("webhook:\n  http2:\n    enabled: yes please\n", 3, 14, "webhook.http2.enabled");
    expect_error("webhook:\n  http2:\n    maxStreams: 4\n", 3, 5,
                 "webhook.http2: unknown key \"maxStreams\"");
    expect_error("imageBuilder:\n  productionDomainCheck:\n    apiServer: kubernetes:443\n", 3, 16,
                 "is not an API server URL; write https://HOST[:PORT]");
}
END_TEST

/* ---- buildImage ----------------------------------------------------------------- */

START_TEST(build_image_and_resources)
{
    wh_config_t *c =
        load_ok("imageBuilder:\n  buildImage:\n    image: busybox\n    resources:\n"
                "      requests: {cpu: 0.5, memory: 512Mi, example.com/gpu: 1}\n"
                "      limits: {cpu: 1e3, memory: \"1.5G\", ephemeral-storage: +2Ki}\n");
    ck_assert_str_eq(c->policy.build_image.image, "busybox");
    char *res = cJSON_PrintUnformatted(c->policy.build_image.resources);
    ck_assert_str_eq(res, "{\"requests\":{\"cpu\":\"0.5\",\"memory\":\"512Mi\",\"example.com/"
                          "gpu\":\"1\"},\"limits\":{\"cpu\":\"1e3\",\"memory\":\"1.5G\","
                          "\"ephemeral-storage\":\"+2Ki\"}}");
    free(res);
    config_free(c);
    /* resources replace the default whole; an empty map means none */
    c = load_ok("imageBuilder:\n  buildImage:\n    resources: {}\n");
    res = cJSON_PrintUnformatted(c->policy.build_image.resources);
    ck_assert_str_eq(res, "{}");
    free(res);
    config_free(c);
    c = load_ok("imageBuilder:\n  buildImage:\n    resources: {limits: {memory: 8Gi}}\n");
    res = cJSON_PrintUnformatted(c->policy.build_image.resources);
    ck_assert_str_eq(res, "{\"limits\":{\"memory\":\"8Gi\"}}");
    free(res);
    config_free(c);

    expect_error("imageBuilder:\n  buildImage:\n    image: Ghcr.io/Org/Build:1\n", 3, 12,
                 "imageBuilder.buildImage.image: \"Ghcr.io/Org/Build:1\" is not a valid image "
                 "reference: repository name must be lowercase");
    expect_error("imageBuilder:\n  buildImage:\n    image: \"ghcr.io/x:\"\n", 3, 12,
                 "is not a valid image reference");
    const char *bad_q[] = {"lots", "-1", "1.2.3", "1Kb", "Gi", ".", "1e", "true", "1 Gi"};
    for (size_t i = 0; i < sizeof bad_q / sizeof bad_q[0]; i++) {
        char y[160];
        snprintf(y, sizeof y,
                 "imageBuilder:\n  buildImage:\n    resources:\n      limits:\n"
                 "        memory: %s\n",
                 bad_q[i]);
        expect_error(y, 5, 17, "imageBuilder.buildImage.resources.limits.memory");
    }
    expect_error("imageBuilder:\n  buildImage:\n    resources:\n      limits:\n        memory:\n",
                 5, 16, "is not a Kubernetes quantity");
    expect_error("imageBuilder:\n  buildImage:\n    resources:\n      limits: [1]\n", 4, 15,
                 "imageBuilder.buildImage.resources.limits: expected a map of settings");
    expect_error("imageBuilder:\n  buildImage:\n    resources:\n      limits: {\"a b\": 1}\n", 4,
                 16, "is not a resource name");
    expect_error("imageBuilder:\n  buildImage:\n    resources: 1Gi\n", 3, 16, "expected a map");
    expect_error("imageBuilder:\n  targetConfigMapName: Build_Config\n", 2, 24,
                 "is not a valid ConfigMap name");
}
END_TEST

/* ---- whole files ------------------------------------------------------------------- */

START_TEST(all_errors_are_collected)
{
    const char *y = "imageBuilder:\n"
                    "  authenticationType: gogle\n"
                    "  repositoryLayout: flat\n"
                    "  domains: []\n"
                    "webhook:\n"
                    "  path: nope\n"
                    "  threads: 999\n";
    config_errors_t errs = {0};
    ck_assert_ptr_null(load(y, &errs));
    ck_assert_uint_eq(errs.n, 5);
    ck_assert_uint_eq(errs.items[0].line, 2);
    ck_assert_uint_eq(errs.items[1].line, 3);
    ck_assert_uint_eq(errs.items[2].line, 4);
    ck_assert_uint_eq(errs.items[3].line, 6);
    ck_assert_uint_eq(errs.items[4].line, 7);
    for (size_t i = 0; i < errs.n; i++)
        ck_assert_str_eq(errs.items[i].file, "config.yaml");
    config_errors_free(&errs);
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_ptr_null(errs.items);

    /* a file with a great many errors stays bounded and says so */
    buf_t b = BUF_INIT;
    buf_puts(&b, "imageBuilder:\n");
    for (int i = 0; i < 500; i++)
        buf_printf(&b, "  bogus%d: 1\n", i);
    ck_assert_ptr_null(load(b.data, &errs));
    ck_assert_uint_le(errs.n, 102);
    ck_assert_ptr_nonnull(strstr(errs.items[errs.n - 1].msg, "more errors not shown"));
    config_errors_free(&errs);
    buf_free(&b);
}
END_TEST

START_TEST(errors_format_lines)
{
    config_errors_t errs = {0};
    ck_assert(config_errors_add(&errs, "a.yaml", 3, 7, "first\nsecond"));
    ck_assert(config_errors_add(&errs, NULL, 0, 0, "no position"));
    ck_assert_uint_eq(errs.n, 2);
    buf_t b = BUF_INIT;
    ck_assert(config_errors_format(&errs, &b));
    ck_assert_str_eq(b.data, "a.yaml:3:7: error: first second\nconfig: error: no position\n");
    buf_free(&b);
    ck_assert(config_error_format(&errs.items[1], &b));
    ck_assert_str_eq(b.data, "config: error: no position\n");
    buf_free(&b);
    config_errors_free(&errs);
}
END_TEST

START_TEST(yaml_level_errors)
{
    expect_error("imageBuilder:\n  enabled: true\n---\nwebhook: {}\n", 3, 1,
                 "YAML: a second YAML document starts here");
    expect_error("imageBuilder:\n  enabled: [true\n", 3, 1, "YAML:");
    expect_error("- imageBuilder\n", 1, 1,
                 "the file must hold a map with imageBuilder: and webhook: at the top level");
    expect_error("just text\n", 1, 1, "the file must hold a map");
    /* errors keep the name they were given */
    config_errors_t errs = {0};
    ck_assert_ptr_null(config_load_buffer("values.yaml", "a: [", 4, &errs));
    ck_assert_str_eq(errs.items[0].file, "values.yaml");
    config_errors_free(&errs);
    /* no error list given: still refused, nothing leaks */
    ck_assert_ptr_null(config_load_buffer("x", "webhook: {threads: x}", 21, NULL));
    /* deep nesting in the rest of the file is bounded */
    buf_t b = BUF_INIT;
    buf_puts(&b, "other: ");
    for (int i = 0; i < 100; i++)
        buf_putc(&b, '[');
    for (int i = 0; i < 100; i++)
        buf_putc(&b, ']');
    expect_error(b.data, 1, 71, "deeper than 64"); /* the top-level map is a level */
    buf_free(&b);
}
END_TEST

START_TEST(helm_values_file_accepted)
{
    config_errors_t errs = {0};
    wh_config_t *c = load_path("tests/config/good-helm-values.yaml", &errs);
    char *all = dump_errors(&errs);
    ck_assert_msg(c != NULL, "%s", all);
    free(all);
    ck_assert_str_eq(c->policy.default_repository, "myregistry.azurecr.io");
    ck_assert_int_eq(c->policy.auth, AUTH_AZURE);
    ck_assert(c->policy.buildkit_enabled);
    ck_assert_str_eq(c->server.listen, ":8443");
    config_free(c);
}
END_TEST

Suite *suite_config(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, defaults_builtin_and_empty_inputs);
    tcase_add_test(tc, top_level_is_checked);
    tcase_add_test(tc, every_key_is_read);
    tcase_add_test(tc, enums_and_simple_values);
    tcase_add_test(tc, enum_errors);
    tcase_add_test(tc, type_errors);
    tcase_add_test(tc, aliases_and_merge_keys_refused_where_read);
    tcase_add_test(tc, unknown_keys_with_suggestions);
    tcase_add_test(tc, default_repository_valid);
    tcase_add_test(tc, default_repository_errors);
    tcase_add_test(tc, default_repository_against_auth);
    tcase_add_test(tc, registry_lists);
    tcase_add_test(tc, domains_and_namespace);
    tcase_add_test(tc, buildkit_rules);
    tcase_add_test(tc, webhook_listen_and_path);
    tcase_add_test(tc, build_image_and_resources);
    tcase_add_test(tc, all_errors_are_collected);
    tcase_add_test(tc, errors_format_lines);
    tcase_add_test(tc, yaml_level_errors);
    tcase_add_test(tc, helm_values_file_accepted);
    suite_add_tcase(s, tc);
    return s;
}
