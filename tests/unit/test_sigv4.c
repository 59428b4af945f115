/* Unit tests: Signature Version 4 against AWS's published examples: the
 * signing-key derivation example, the IAM ListUsers request of the
 * signing walkthrough, and cases of the Signature Version 4 test suite
 * (credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
 * 2015-08-30T12:36:00Z, us-east-1, service "service"). The expected values
 * are AWS's, not computed here. */
#include <check.h>
#include <string.h>

#include "sigv4.h"

#define AKID   "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define WHEN   "20150830T123600Z"

static void key_hex(const char *date, const char *region, const char *service, char out[65])
{
    unsigned char k[SIGV4_KEY_LEN];
    ck_assert(sigv4_signing_key(SECRET, date, region, service, k));
    sigv4_hex(k, sizeof k, out);
}

START_TEST(signing_key_derivation_example)
{
    char hex[65];
    key_hex("20120215", "us-east-1", "iam", hex);
    ck_assert_str_eq(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    key_hex("20150830", "us-east-1", "iam", hex);
    ck_assert_str_eq(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}
END_TEST

/* GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08 */
START_TEST(iam_list_users_example)
{
    sigv4_header_t h[] = {
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
        {"Host", "iam.amazonaws.com"},
        {"X-Amz-Date", WHEN},
    };
    sigv4_request_t r = {.method = "GET",
                         .path = "/",
                         .query = "Action=ListUsers&Version=2010-05-08",
                         .headers = h,
                         .n_headers = 3,
                         .amz_date = WHEN,
                         .region = "us-east-1",
                         .service = "iam",
                         .access_key = AKID,
                         .secret_key = SECRET};
    buf_t creq = BUF_INIT, names = BUF_INIT, sts = BUF_INIT, auth = BUF_INIT;
    ck_assert(sigv4_canonical_request(&r, &creq, &names));
    ck_assert_str_eq(creq.data, "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
                                "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
                                "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                                "content-type;host;x-amz-date\n"
                                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    char h1[65];
    ck_assert(sigv4_sha256_hex(creq.data, creq.len, h1));
    ck_assert_str_eq(h1, "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    ck_assert(sigv4_string_to_sign(&r, creq.data, creq.len, &sts));
    ck_assert_str_eq(sts.data,
                     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
                     "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    ck_assert(sigv4_authorization(&r, &auth));
    ck_assert_str_eq(auth.data,
                     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                     "SignedHeaders=content-type;host;x-amz-date, "
                     "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    buf_free(&creq);
    buf_free(&names);
    buf_free(&sts);
    buf_free(&auth);
}
END_TEST

/* One case of the test suite: the Authorization value for the request. */
static void suite_case(const char *method, const char *query, const sigv4_header_t *h, size_t n,
                       const char *body, const char *want_sts_hash, const char *want)
{
    sigv4_request_t r = {.method = method,
                         .path = "/",
                         .query = query,
                         .headers = h,
                         .n_headers = n,
                         .payload = body,
                         .payload_len = body ? strlen(body) : 0,
                         .amz_date = WHEN,
                         .region = "us-east-1",
                         .service = "service",
                         .access_key = AKID,
                         .secret_key = SECRET};
    buf_t creq = BUF_INIT, names = BUF_INIT, sts = BUF_INIT, auth = BUF_INIT;
    ck_assert(sigv4_canonical_request(&r, &creq, &names));
    ck_assert(sigv4_string_to_sign(&r, creq.data, creq.len, &sts));
    const char *last = strrchr(sts.data, '\n');
    ck_assert_ptr_nonnull(last);
    ck_assert_str_eq(last + 1, want_sts_hash);
    ck_assert(sigv4_authorization(&r, &auth));
    ck_assert_str_eq(auth.data, want);
    buf_free(&creq);
    buf_free(&names);
    buf_free(&sts);
    buf_free(&auth);
}

#define SCOPE_PREFIX                                                                               \
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "

START_TEST(suite_get_and_post_vanilla)
{
    sigv4_header_t h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", WHEN}};
    suite_case(
        "GET", NULL, h, 2, NULL, "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        SCOPE_PREFIX "SignedHeaders=host;x-amz-date, "
                     "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    suite_case("POST", NULL, h, 2, NULL,
               "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
               SCOPE_PREFIX
               "SignedHeaders=host;x-amz-date, "
               "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}
END_TEST

START_TEST(suite_query_order_key_case)
{
    sigv4_header_t h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", WHEN}};
    suite_case("GET", "Param2=value2&Param1=value1", h, 2, NULL,
               "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
               SCOPE_PREFIX
               "SignedHeaders=host;x-amz-date, "
               "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}
END_TEST

START_TEST(suite_session_tokens)
{
    sigv4_header_t g[] = {
        {"Host", "example.amazonaws.com"},
        {"X-Amz-Date", WHEN},
        {"X-Amz-Security-Token",
         "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"},
    };
    suite_case(
        "GET", NULL, g, 3, NULL, "067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b",
        SCOPE_PREFIX "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                     "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
    sigv4_header_t p[] = {
        {"Host", "example.amazonaws.com"},
        {"X-Amz-Security-Token",
         "AQoDYXdzEPT//////////"
         "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIY"
         "RqTflfKD8YUuwthAx7mSEI/qkPpKPi/"
         "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDv"
         "p75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"
         "scqKmlzm8FDrypNC9Yjc8fPOL"
         "n9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="},
        {"X-Amz-Date", WHEN},
    };
    suite_case("POST", NULL, p, 3, NULL,
               "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
               SCOPE_PREFIX
               "SignedHeaders=host;x-amz-date;x-amz-security-token, "
               "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead");
}
END_TEST

/* The body is hashed; every header given is signed, in sorted order. */
START_TEST(suite_post_form_body)
{
    sigv4_header_t h[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Host", "example.amazonaws.com"},
        {"Content-Length", "13"},
        {"X-Amz-Date", WHEN},
        {"x-amz-content-sha256",
         "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"},
    };
    suite_case("POST", NULL, h, 5, "Param1=value1",
               "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
               SCOPE_PREFIX
               "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;"
               "x-amz-date, "
               "Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");
}
END_TEST

START_TEST(header_values_trimmed_and_names_lowercased)
{
    sigv4_header_t h[] = {{"X-Amz-Date", WHEN}, {"HOST", "  a.example   b  "}};
    sigv4_request_t r = {.method = "GET", .headers = h, .n_headers = 2, .amz_date = WHEN};
    buf_t creq = BUF_INIT, names = BUF_INIT;
    ck_assert(sigv4_canonical_request(&r, &creq, &names));
    ck_assert_ptr_nonnull(strstr(creq.data, "\nhost:a.example b\nx-amz-date:"));
    ck_assert_str_eq(names.data, "host;x-amz-date");
    buf_free(&creq);
    buf_free(&names);
}
END_TEST

START_TEST(malformed_requests_refused)
{
    sigv4_header_t h[] = {{"Host", "x"}};
    sigv4_request_t r = {.method = "GET", .headers = h, .n_headers = 1, .amz_date = "2015"};
    buf_t a = BUF_INIT, b = BUF_INIT;
    ck_assert(!sigv4_canonical_request(&r, &a, &b)); /* short date */
    r.amz_date = WHEN;
    r.n_headers = 0;
    ck_assert(!sigv4_canonical_request(&r, &a, &b)); /* nothing signed */
    r.n_headers = 1;
    ck_assert(!sigv4_authorization(&r, &a)); /* no region, service or keys */
    buf_free(&a);
    buf_free(&b);
}
END_TEST

START_TEST(amz_date_formats_utc)
{
    char d[17];
    ck_assert(sigv4_amz_date(1440938160, d));
    ck_assert_str_eq(d, "20150830T123600Z");
    ck_assert(sigv4_amz_date(0, d));
    ck_assert_str_eq(d, "19700101T000000Z");
    ck_assert(sigv4_amz_date(1709208000, d));
    ck_assert_str_eq(d, "20240229T120000Z");
    ck_assert(sigv4_amz_date(951782400, d));
    ck_assert_str_eq(d, "20000229T000000Z");
    ck_assert(sigv4_amz_date(253402300799, d));
    ck_assert_str_eq(d, "99991231T235959Z");
    ck_assert(!sigv4_amz_date(-1, d));
    ck_assert(!sigv4_amz_date(253402300800, d));
}
END_TEST

Suite *suite_sigv4(void)
{
    Suite *s = suite_create("sigv4");
    TCase *tc = tcase_create("sigv4");
    tcase_add_test(tc, signing_key_derivation_example);
    tcase_add_test(tc, iam_list_users_example);
    tcase_add_test(tc, suite_get_and_post_vanilla);
    tcase_add_test(tc, suite_query_order_key_case);
    tcase_add_test(tc, suite_session_tokens);
    tcase_add_test(tc, suite_post_form_body);
    tcase_add_test(tc, header_values_trimmed_and_names_lowercased);
    tcase_add_test(tc, malformed_requests_refused);
    tcase_add_test(tc, amz_date_formats_utc);
    suite_add_tcase(s, tc);
    return s;
}
