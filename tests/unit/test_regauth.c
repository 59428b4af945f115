/* Unit tests: registry authentication without a network: token request
 * URLs (percent-encoded by libcurl), Basic header lines, the answers to
 * challenges that need no token endpoint, and the header-line cache. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "httpc.h"
#include "regauth.h"
#include "wwwauth.h"

static bool parse(const char *s, wwwauth_t *w, const char **why)
{
    return wwwauth_parse(s, strlen(s), w, why);
}

START_TEST(token_url_encodes_and_repeats_scope)
{
    wwwauth_t w;
    ck_assert(parse("Bearer realm=\"https://auth.example/token\",service=\"reg example\","
                    "scope=\"repository:a/b:pull repository:c:pull,push\"",
                    &w, NULL));
    buf_t b = BUF_INIT;
    ck_assert(regauth_token_url(&w, "repository:ignored:pull", &b));
    ck_assert_str_eq(b.data, "https://auth.example/token?service=reg%20example"
                             "&scope=repository%3Aa%2Fb%3Apull&scope=repository%3Ac%3Apull%2Cpush");
    buf_free(&b);
}
END_TEST

START_TEST(token_url_default_scope_and_existing_query)
{
    wwwauth_t w;
    ck_assert(parse("Bearer realm=\"https://a/token?x=1\"", &w, NULL));
    buf_t b = BUF_INIT;
    ck_assert(regauth_token_url(&w, "repository:union/foo:pull", &b));
    ck_assert_str_eq(b.data, "https://a/token?x=1&scope=repository%3Aunion%2Ffoo%3Apull");
    buf_free(&b);
}
END_TEST

/* Whatever a registry puts in a challenge, the token URL is one request-line
 * token: no space, no control byte, no byte above ASCII, and the values'
 * own '&', '=' and '#' cannot add parameters. */
START_TEST(token_url_safe_for_a_request_line)
{
    static const char *challenges[] = {
        "Bearer realm=\"https://a/t\",service=\"a&b=c#d\",scope=\"x&scope=y\"",
        "Bearer realm=\"https://a/t\",service=\"caf\xc3\xa9\",scope=\"\xff\xfe \"",
        "Bearer realm=\"https://a/t\",service=\"q\\\"uote\",scope=\"  a   b  \"",
        "Bearer realm=\"https://a/t\",service=\"100%\",scope=\"+plus\"",
        "Bearer realm=\"https://a/t\",scope=\"\t tab\"",
    };
    for (size_t i = 0; i < sizeof challenges / sizeof challenges[0]; i++) {
        wwwauth_t w;
        const char *why = NULL;
        ck_assert_msg(parse(challenges[i], &w, &why), "#%zu: %s", i, why);
        buf_t b = BUF_INIT;
        ck_assert(regauth_token_url(&w, "repository:x/y:pull", &b));
        for (size_t k = 0; k < b.len; k++)
            ck_assert_msg((unsigned char)b.data[k] > 0x20 && (unsigned char)b.data[k] < 0x7f,
                          "#%zu: byte %02x in %s", i, (unsigned char)b.data[k], b.data);
        if (i == 0)
            ck_assert_str_eq(b.data, "https://a/t?service=a%26b%3Dc%23d&scope=x%26scope%3Dy");
        buf_free(&b);
    }
}
END_TEST

START_TEST(basic_line)
{
    char *l = regauth_basic_line("user", "pass");
    ck_assert_str_eq(l, "Authorization: Basic dXNlcjpwYXNz");
    free(l);
    l = regauth_basic_line("", "");
    ck_assert_str_eq(l, "Authorization: Basic Og==");
    free(l);
}
END_TEST

/* ---- answering challenges ----------------------------------------------------------- */

typedef struct {
    char path[64];
    httpc_t *http;
    regauth_t *auth;
} fixture_t;

static void setup_auth(fixture_t *f, const char *docker_config_json)
{
    char err[200] = "";
    snprintf(f->path, sizeof f->path, "/tmp/regauth-test-XXXXXX");
    int fd = mkstemp(f->path);
    ck_assert_int_ge(fd, 0);
    size_t n = strlen(docker_config_json);
    ck_assert_int_eq(write(fd, docker_config_json, n), (ssize_t)n);
    close(fd);
    f->http = httpc_new(NULL, err, sizeof err);
    ck_assert_msg(f->http != NULL, "%s", err);
    f->auth = regauth_new(f->path, NULL, f->http, err, sizeof err);
    ck_assert_msg(f->auth != NULL, "%s", err);
}

static void teardown_auth(fixture_t *f)
{
    regauth_free(f->auth);
    httpc_free(f->http);
    unlink(f->path);
}

static const char docker_config[] = "{\"auths\":{"
                                    "\"reg.example\":{\"auth\":\"dXNlcjpwYXNz\"},"
                                    "\"tok.example\":{\"identitytoken\":\"refresh-xyz\"}}}";

START_TEST(basic_challenge_answered_from_the_docker_config)
{
    fixture_t f;
    setup_auth(&f, docker_config);
    char *line = NULL, why[192] = "", src[64] = "";
    uint64_t ttl = 0, deadline = clock_mono_ms() + 5000;
    ck_assert_msg(regauth_answer(f.auth, "reg.example", "a/b", "Basic realm=\"r\"", false, deadline,
                                 &line, &ttl, src, sizeof src, why, sizeof why),
                  "%s", why);
    ck_assert_str_eq(line, "Authorization: Basic dXNlcjpwYXNz");
    ck_assert_uint_eq(ttl, 5 * 60 * 1000);
    ck_assert_str_eq(src, "docker-config");
    free(line);
    line = NULL;
    char cached[64];
    regauth_cached_source(f.auth, "reg.example", "a/b", cached, sizeof cached);
    ck_assert_str_eq(cached, "docker-config");
    /* no credentials, or only an identity token: no Basic answer */
    ck_assert(!regauth_answer(f.auth, "other.example", "a/b", "Basic realm=\"r\"", false, deadline,
                              &line, &ttl, src, sizeof src, why, sizeof why));
    ck_assert_str_eq(
        why, "registry asks for Basic credentials and none are configured for other.example");
    ck_assert_str_eq(src, ""); /* nothing in the Docker config, no cloud identity */
    ck_assert(!regauth_answer(f.auth, "tok.example", "a/b", "Basic realm=\"r\"", false, deadline,
                              &line, &ttl, src, sizeof src, why, sizeof why));
    ck_assert_ptr_null(line);
    ck_assert_str_eq(src, "docker-config");
    ck_assert_uint_eq(httpc_requests(f.http), 0);
    buf_t m = BUF_INIT;
    regauth_metrics(f.auth, &m);
    ck_assert_ptr_nonnull(strstr(m.data, "imagebuilder_webhook_registry_credentials_total{"
                                         "source=\"docker-config\",result=\"ok\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(m.data, "imagebuilder_webhook_registry_credentials_total{"
                                         "source=\"docker-config\",result=\"error\"} 0\n"));
    buf_free(&m);
    teardown_auth(&f);
}
END_TEST

START_TEST(challenges_refused_before_any_request)
{
    fixture_t f;
    setup_auth(&f, docker_config);
    char *line = NULL, why[192] = "", src[64] = "";
    uint64_t ttl = 0, deadline = clock_mono_ms() + 5000;
    ck_assert(!regauth_answer(f.auth, "reg.example", "a/b", "Bearer service=\"s\"", false, deadline,
                              &line, &ttl, src, sizeof src, why, sizeof why));
    ck_assert_str_eq(why, "malformed WWW-Authenticate: bearer challenge without a realm");
    ck_assert(!regauth_answer(f.auth, "reg.example", "a/b", "Negotiate", false, deadline, &line,
                              &ttl, src, sizeof src, why, sizeof why));
    ck_assert_str_eq(why, "unsupported authentication scheme in 'Negotiate'");
    ck_assert(!regauth_answer(f.auth, "reg.example", "a/b", "Bearer realm=\"http://auth/t\"", false,
                              deadline, &line, &ttl, src, sizeof src, why, sizeof why));
    ck_assert_str_eq(
        why, "token realm http://auth/t is plain HTTP for a registry not listed as insecure");
    ck_assert(!regauth_answer(f.auth, "reg.example", "a/b", "Bearer realm=\"https://auth/t\"",
                              false, 1, &line, &ttl, src, sizeof src, why,
                              sizeof why)); /* out of time */
    ck_assert_str_eq(why, "token endpoint: out of time before the request");
    ck_assert_ptr_null(line);
    ck_assert_uint_eq(httpc_requests(f.http), 0);
    teardown_auth(&f);
}
END_TEST

START_TEST(header_lines_cached_per_repository)
{
    fixture_t f;
    setup_auth(&f, "{}");
    ck_assert_ptr_null(regauth_cached(f.auth, "reg.example", "a/b"));
    regauth_remember(f.auth, "reg.example", "a/b", "Authorization: Bearer t", 60000);
    char *l = regauth_cached(f.auth, "reg.example", "a/b");
    ck_assert_str_eq(l, "Authorization: Bearer t");
    free(l);
    ck_assert_ptr_null(regauth_cached(f.auth, "reg.example", "a/c"));
    ck_assert_ptr_null(regauth_cached(f.auth, "other.example", "a/b"));
    regauth_remember(f.auth, "reg.example", "a/b", NULL, 0);
    ck_assert_ptr_null(regauth_cached(f.auth, "reg.example", "a/b"));
    teardown_auth(&f);
}
END_TEST

START_TEST(unreadable_docker_config_is_an_error)
{
    httpc_t *http = httpc_new(NULL, NULL, 0);
    ck_assert_ptr_nonnull(http);
    char err[200] = "";
    ck_assert_ptr_null(regauth_new("/nonexistent/config.json", NULL, http, err, sizeof err));
    ck_assert_str_eq(err, "docker config /nonexistent/config.json: cannot open: No such file or "
                          "directory");
    regauth_t *anon = regauth_new(NULL, NULL, http, err, sizeof err);
    ck_assert_ptr_nonnull(anon);
    regauth_free(anon);
    httpc_free(http);
}
END_TEST

Suite *suite_regauth(void)
{
    Suite *s = suite_create("regauth");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, token_url_encodes_and_repeats_scope);
    tcase_add_test(tc, token_url_default_scope_and_existing_query);
    tcase_add_test(tc, token_url_safe_for_a_request_line);
    tcase_add_test(tc, basic_line);
    tcase_add_test(tc, basic_challenge_answered_from_the_docker_config);
    tcase_add_test(tc, challenges_refused_before_any_request);
    tcase_add_test(tc, header_lines_cached_per_repository);
    tcase_add_test(tc, unreadable_docker_config_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}
