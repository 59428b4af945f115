/* Unit tests: the live checks' HTTP client against a small HTTP server on
 * 127.0.0.1 run in a thread of the test: status, captured header, body cap,
 * deadline, protocols, redirects, request headers and credentials (and that
 * none stay in a pooled handle), percent-encoding. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "httpc.h"

#define MAX_EXCHANGES 4

/* Answers each connection with the next canned response (the last one
 * repeats; NULL: never answers) and keeps what each request said. */
typedef struct {
    int lfd, stop[2];
    int port;
    pthread_t th;
    const char *responses[MAX_EXCHANGES];
    size_t n_responses;
    char requests[MAX_EXCHANGES][4096];
    size_t n_requests;
} srv_t;

/* Waits for fd or the stop pipe; true when fd is readable. */
static bool wait_readable(srv_t *s, int fd)
{
    struct pollfd p[2] = {{fd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
    return poll(p, 2, 10000) > 0 && !(p[1].revents & POLLIN) && (p[0].revents & POLLIN);
}

static void read_request(srv_t *s, int fd, char *req, size_t sz)
{
    size_t len = 0;
    while (len + 1 < sz && wait_readable(s, fd)) {
        ssize_t r = read(fd, req + len, sz - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        req[len] = '\0';
        char *end = strstr(req, "\r\n\r\n");
        const char *cl = strstr(req, "Content-Length: ");
        if (end && (!cl || len >= (size_t)(end + 4 - req) + (size_t)atoi(cl + 16)))
            break;
    }
    req[len] = '\0';
}

static void *serve(void *arg)
{
    srv_t *s = arg;
    for (size_t i = 0; wait_readable(s, s->lfd); i++) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        size_t k = i < MAX_EXCHANGES ? i : MAX_EXCHANGES - 1;
        read_request(s, fd, s->requests[k], sizeof s->requests[k]);
        s->n_requests = i + 1;
        const char *resp = s->responses[i < s->n_responses ? i : s->n_responses - 1];
        if (resp) {
            ssize_t w = write(fd, resp, strlen(resp));
            (void)w;
        } else {
            char b[256];
            while (wait_readable(s, fd) && read(fd, b, sizeof b) > 0) {
            }
        }
        close(fd);
    }
    return NULL;
}

/* `n` responses, served in order (the last one repeats). */
static void srv_start(srv_t *s, const char *const *responses, size_t n)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < n && i < MAX_EXCHANGES; i++)
        s->responses[i] = responses[i];
    s->n_responses = n;
    ck_assert_int_eq(pipe(s->stop), 0);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s->lfd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(s->lfd, 8), 0);
    ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&s->th, NULL, serve, s), 0);
}

static void srv_stop(srv_t *s)
{
    ssize_t w = write(s->stop[1], "x", 1);
    (void)w;
    pthread_join(s->th, NULL);
    close(s->lfd);
    close(s->stop[0]);
    close(s->stop[1]);
}

static char *url_of(const srv_t *s, const char *path, char *buf, size_t sz)
{
    snprintf(buf, sz, "http://127.0.0.1:%d%s", s->port, path);
    return buf;
}

static httpc_t *client(void)
{
    /* the loopback server is reached directly, whatever the environment says */
    static const char *proxies[] = {"http_proxy",  "https_proxy", "HTTP_PROXY",
                                    "HTTPS_PROXY", "all_proxy",   "ALL_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        unsetenv(proxies[i]);
    char err[200] = "";
    httpc_t *c = httpc_new(NULL, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

START_TEST(status_body_and_captured_header)
{
    const char *resp[] = {
        "HTTP/1.1 401 Unauthorized\r\nwww-authenticate:   Bearer realm=\"x\"  \r\n"
        "Content-Length: 5\r\nConnection: close\r\n\r\nhello"};
    srv_t s;
    srv_start(&s, resp, 1);
    httpc_t *c = client();
    char url[100], err[200] = "";
    httpc_req_t q = {.url = url_of(&s, "/v2/", url, sizeof url),
                     .allow_http = true,
                     .body_max = 100,
                     .capture = "WWW-Authenticate",
                     .deadline_ms = clock_mono_ms() + 5000};
    httpc_resp_t r = {0};
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_OK);
    ck_assert_int_eq(r.status, 401);
    ck_assert(r.header_seen && !r.header_trunc);
    ck_assert_str_eq(r.header, "Bearer realm=\"x\"");
    ck_assert_uint_eq(r.body.len, 5);
    ck_assert(memcmp(r.body.data, "hello", 5) == 0);
    ck_assert_uint_eq(httpc_requests(c), 1);
    ck_assert_ptr_nonnull(strstr(s.requests[0], "GET /v2/ HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(s.requests[0], "User-Agent: imagebuilder-webhook/"));
    httpc_resp_free(&r);
    httpc_free(c);
    srv_stop(&s);
}
END_TEST

START_TEST(body_over_the_cap_aborts)
{
    static char resp[20000];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\nConnection: close\r\n\r\n");
    memset(resp + n, 'x', 10000);
    const char *responses[] = {resp};
    srv_t s;
    srv_start(&s, responses, 1);
    httpc_t *c = client();
    char url[100], err[200] = "";
    httpc_req_t q = {.url = url_of(&s, "/", url, sizeof url),
                     .allow_http = true,
                     .body_max = 1024,
                     .deadline_ms = clock_mono_ms() + 5000};
    httpc_resp_t r = {0};
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_ETRANSFER);
    ck_assert(r.body_over);
    ck_assert(r.body.len <= 1024);
    ck_assert(err[0]);
    httpc_resp_free(&r);
    httpc_free(c);
    srv_stop(&s);
}
END_TEST

START_TEST(deadline_bounds_a_hanging_server)
{
    const char *never[] = {NULL};
    srv_t s;
    srv_start(&s, never, 1);
    httpc_t *c = client();
    char url[100], err[200] = "";
    uint64_t t0 = clock_mono_ms();
    httpc_req_t q = {
        .url = url_of(&s, "/", url, sizeof url), .allow_http = true, .deadline_ms = t0 + 300};
    httpc_resp_t r = {0};
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_ETRANSFER);
    ck_assert(r.timed_out);
    uint64_t took = clock_mono_ms() - t0;
    ck_assert_msg(took >= 250 && took < 3000, "took %llu ms", (unsigned long long)took);
    /* connected (a numeric host: nothing to resolve), then no answer */
    ck_assert_int_eq(r.fail, HTTPC_FAIL_TIMEOUT);
    ck_assert_str_eq(httpc_fail_words(r.fail), "timed out");
    httpc_resp_free(&r);
    httpc_free(c);
    srv_stop(&s);
}
END_TEST

START_TEST(out_of_time_sends_nothing)
{
    httpc_t *c = client();
    char err[200] = "";
    httpc_req_t q = {.url = "http://127.0.0.1:9/", .allow_http = true, .deadline_ms = 1};
    httpc_resp_t r = {0};
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_ELOCAL);
    ck_assert_str_eq(err, "out of time before the request");
    ck_assert_int_eq(r.fail, HTTPC_FAIL_TIMEOUT);
    ck_assert_uint_eq(httpc_requests(c), 0);
    httpc_free(c);
}
END_TEST

START_TEST(failures_are_named)
{
    ck_assert_str_eq(httpc_fail_words(HTTPC_FAIL_NONE), "");
    ck_assert_str_eq(httpc_fail_words(HTTPC_FAIL_DNS_TIMEOUT), "DNS lookup timed out");
    ck_assert_str_eq(httpc_fail_words(HTTPC_FAIL_DNS), "DNS lookup failed");
    ck_assert_str_eq(httpc_fail_words(HTTPC_FAIL_CONNECT), "connection failed");
    ck_assert_str_eq(httpc_fail_words(HTTPC_FAIL_TLS), "TLS failed");
    ck_assert_str_eq(httpc_fail_words(HTTPC_FAIL_OTHER), "transfer failed");
    /* a port nobody listens on: refused at once */
    httpc_t *c = client();
    char err[200] = "";
    httpc_req_t q = {
        .url = "http://127.0.0.1:1/", .allow_http = true, .deadline_ms = clock_mono_ms() + 2000};
    httpc_resp_t r = {0};
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_ETRANSFER);
    ck_assert_int_eq(r.fail, HTTPC_FAIL_CONNECT);
    httpc_resp_free(&r);
    httpc_free(c);
}
END_TEST

START_TEST(plain_http_only_when_allowed)
{
    const char *ok[] = {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"};
    srv_t s;
    srv_start(&s, ok, 1);
    httpc_t *c = client();
    char url[100], err[200] = "";
    httpc_req_t q = {.url = url_of(&s, "/", url, sizeof url),
                     .deadline_ms = clock_mono_ms() + 5000};
    httpc_resp_t r = {0};
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_ETRANSFER);
    ck_assert_uint_eq(s.n_requests, 0);
    httpc_resp_free(&r);
    httpc_free(c);
    srv_stop(&s);
}
END_TEST

START_TEST(redirects_only_when_asked)
{
    const char *redirect = "HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n"
                           "Connection: close\r\n\r\n";
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    const char *resp[] = {redirect, redirect, ok};
    srv_t s;
    srv_start(&s, resp, 3);
    httpc_t *c = client();
    char url[100], err[200] = "";
    httpc_req_t q = {.url = url_of(&s, "/first", url, sizeof url),
                     .allow_http = true,
                     .deadline_ms = clock_mono_ms() + 5000};
    httpc_resp_t r = {0};
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_OK);
    ck_assert_int_eq(r.status, 302);
    q.follow_redirects = true;
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(s.requests[2], "GET /next HTTP/1.1\r\n"));
    httpc_resp_free(&r);
    httpc_free(c);
    srv_stop(&s);
}
END_TEST

START_TEST(headers_credentials_and_post_do_not_linger)
{
    const char *ok[] = {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"};
    srv_t s;
    srv_start(&s, ok, 1);
    httpc_t *c = client();
    char url[100], err[200] = "";
    httpc_req_t q = {.url = url_of(&s, "/token", url, sizeof url),
                     .method = HTTPC_POST,
                     .headers = {NULL, "Accept: application/json", NULL, "X-Extra: 1"},
                     .user = "u",
                     .pass = "p",
                     .post = "a=1&b=2",
                     .allow_http = true,
                     .deadline_ms = clock_mono_ms() + 5000};
    httpc_resp_t r = {0};
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_OK);
    const char *req = s.requests[0];
    ck_assert_ptr_nonnull(strstr(req, "POST /token HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(req, "Authorization: Basic dTpw\r\n")); /* u:p */
    ck_assert_ptr_nonnull(strstr(req, "Accept: application/json\r\n"));
    ck_assert_ptr_nonnull(strstr(req, "X-Extra: 1\r\n"));
    ck_assert_ptr_nonnull(strstr(req, "\r\n\r\na=1&b=2"));
    /* the same (pooled) handle, a bare HEAD: nothing of the POST is left */
    httpc_req_t bare = {.url = url,
                        .method = HTTPC_HEAD,
                        .allow_http = true,
                        .deadline_ms = clock_mono_ms() + 5000};
    ck_assert_int_eq(httpc_perform(c, &bare, &r, err, sizeof err), HTTPC_OK);
    req = s.requests[1];
    ck_assert_ptr_nonnull(strstr(req, "HEAD /token HTTP/1.1\r\n"));
    ck_assert_ptr_null(strstr(req, "Authorization"));
    ck_assert_ptr_null(strstr(req, "X-Extra"));
    ck_assert_ptr_null(strstr(req, "a=1"));
    httpc_resp_free(&r);
    httpc_free(c);
    srv_stop(&s);
}
END_TEST

START_TEST(put_with_eight_headers_then_get)
{
    const char *ok[] = {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\ntok"};
    srv_t s;
    srv_start(&s, ok, 1);
    httpc_t *c = client();
    char url[100], err[200] = "";
    httpc_req_t q = {.url = url_of(&s, "/latest/api/token", url, sizeof url),
                     .method = HTTPC_PUT,
                     .headers = {"H1: 1", "H2: 2", "H3: 3", "H4: 4", "H5: 5", "H6: 6", "H7: 7",
                                 "X-aws-ec2-metadata-token-ttl-seconds: 21600"},
                     .allow_http = true,
                     .body_max = 16,
                     .deadline_ms = clock_mono_ms() + 5000};
    httpc_resp_t r = {0};
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_OK);
    ck_assert_str_eq(r.body.data, "tok");
    const char *req = s.requests[0];
    ck_assert_ptr_nonnull(strstr(req, "PUT /latest/api/token HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(req, "H1: 1\r\n"));
    ck_assert_ptr_nonnull(strstr(req, "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n"));
    ck_assert_ptr_nonnull(strstr(req, "Content-Length: 0\r\n"));
    httpc_resp_free(&r);
    memset(&r, 0, sizeof r);
    /* the pooled handle sends a plain GET next */
    httpc_req_t get = {
        .url = url, .allow_http = true, .body_max = 16, .deadline_ms = clock_mono_ms() + 5000};
    ck_assert_int_eq(httpc_perform(c, &get, &r, err, sizeof err), HTTPC_OK);
    ck_assert_ptr_nonnull(strstr(s.requests[1], "GET /latest/api/token HTTP/1.1\r\n"));
    ck_assert_ptr_null(strstr(s.requests[1], "H7"));
    httpc_resp_free(&r);
    httpc_free(c);
    srv_stop(&s);
}
END_TEST

START_TEST(test_hook_connects_a_name_to_loopback)
{
    const char *ok[] = {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"};
    srv_t s;
    srv_start(&s, ok, 1);
    char list[200], err[200] = "";
    snprintf(list, sizeof list,
             " other.test:443:127.0.0.1:1 ,registry.example.test:80:127.0.0.1:%d", s.port);
    ck_assert_int_eq(setenv(HTTPC_TEST_CONNECT_TO_ENV, list, 1), 0);
    httpc_t *c = client();
    ck_assert_int_eq(unsetenv(HTTPC_TEST_CONNECT_TO_ENV), 0);
    httpc_req_t q = {.url = "http://registry.example.test/v2/",
                     .allow_http = true,
                     .deadline_ms = clock_mono_ms() + 5000};
    httpc_resp_t r = {0};
    ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_OK);
    ck_assert_int_eq(r.status, 200);
    /* the name stays the request's: only the connection goes elsewhere */
    ck_assert_ptr_nonnull(strstr(s.requests[0], "Host: registry.example.test\r\n"));
    httpc_resp_free(&r);
    httpc_free(c);
    srv_stop(&s);
}
END_TEST

/* PUT and PATCH carry their body and Content-Type; the next request on
 * the pooled handle is a plain GET again. */
START_TEST(put_and_patch_with_a_body)
{
    const char *ok[] = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"};
    srv_t s;
    srv_start(&s, ok, 1);
    httpc_t *c = client();
    char url[100], err[200] = "";
    static const httpc_method_t methods[] = {HTTPC_PUT, HTTPC_PATCH};
    static const char *const names[] = {"PUT", "PATCH"};
    httpc_resp_t r = {0};
    for (size_t i = 0; i < 2; i++) {
        httpc_req_t q = {.url = url_of(&s, "/obj", url, sizeof url),
                         .method = methods[i],
                         .headers = {"Content-Type: application/json-patch+json"},
                         .post = "[{\"op\":\"test\"}]",
                         .allow_http = true,
                         .body_max = 64,
                         .deadline_ms = clock_mono_ms() + 5000};
        ck_assert_int_eq(httpc_perform(c, &q, &r, err, sizeof err), HTTPC_OK);
        ck_assert_int_eq(r.status, 200);
        const char *req = s.requests[i];
        char line[32];
        snprintf(line, sizeof line, "%s /obj HTTP/1.1\r\n", names[i]);
        ck_assert_msg(strncmp(req, line, strlen(line)) == 0, "%s", req);
        ck_assert_ptr_nonnull(strstr(req, "Content-Type: application/json-patch+json\r\n"));
        ck_assert_ptr_nonnull(strstr(req, "Content-Length: 15\r\n"));
        ck_assert_ptr_nonnull(strstr(req, "\r\n\r\n[{\"op\":\"test\"}]"));
        buf_free(&r.body);
    }
    httpc_req_t get = {
        .url = url, .allow_http = true, .body_max = 64, .deadline_ms = clock_mono_ms() + 5000};
    ck_assert_int_eq(httpc_perform(c, &get, &r, err, sizeof err), HTTPC_OK);
    ck_assert_ptr_nonnull(strstr(s.requests[2], "GET /obj HTTP/1.1\r\n"));
    ck_assert_ptr_null(strstr(s.requests[2], "Content-Type"));
    httpc_resp_free(&r);
    httpc_free(c);
    srv_stop(&s);
}
END_TEST

START_TEST(escape_by_libcurl)
{
    buf_t b = BUF_INIT;
    ck_assert(httpc_escape(&b, "", 0));
    ck_assert_uint_eq(b.len, 0);
    const char *s = "repository:a/b:pull,push x~y_z.-";
    ck_assert(httpc_escape(&b, s, strlen(s)));
    ck_assert_str_eq(b.data, "repository%3Aa%2Fb%3Apull%2Cpush%20x~y_z.-");
    buf_free(&b);
    ck_assert(httpc_escape(&b, "\xc3\xa9\n", 3));
    ck_assert_str_eq(b.data, "%C3%A9%0A");
    buf_free(&b);
}
END_TEST

Suite *suite_httpc(void)
{
    Suite *s = suite_create("httpc");
    TCase *tc = tcase_create("loopback");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, status_body_and_captured_header);
    tcase_add_test(tc, body_over_the_cap_aborts);
    tcase_add_test(tc, deadline_bounds_a_hanging_server);
    tcase_add_test(tc, out_of_time_sends_nothing);
    tcase_add_test(tc, failures_are_named);
    tcase_add_test(tc, plain_http_only_when_allowed);
    tcase_add_test(tc, redirects_only_when_asked);
    tcase_add_test(tc, headers_credentials_and_post_do_not_linger);
    tcase_add_test(tc, put_with_eight_headers_then_get);
    tcase_add_test(tc, test_hook_connects_a_name_to_loopback);
    tcase_add_test(tc, put_and_patch_with_a_body);
    tcase_add_test(tc, escape_by_libcurl);
    suite_add_tcase(s, tc);
    return s;
}
