/* Unit tests: AWS answers (STS XML, credential and ECR JSON), timestamps
 * and endpoint rules. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "awsproto.h"

static const char sts_ok[] =
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    "<AssumeRoleWithWebIdentityResult><Credentials>"
    "<SessionToken>FwoGZXIvYXdzEXAMPLE//token==</SessionToken>"
    "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>"
    "<Expiration>2030-01-02T03:04:05Z</Expiration>"
    "<AccessKeyId>ASIAEXAMPLE</AccessKeyId>"
    "</Credentials><Provider>oidc</Provider></AssumeRoleWithWebIdentityResult>"
    "<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>"
    "</AssumeRoleWithWebIdentityResponse>";

START_TEST(sts_credentials)
{
    awsproto_creds_t c;
    char why[128] = "";
    ck_assert_msg(awsproto_sts_creds(sts_ok, strlen(sts_ok), &c, why, sizeof why), "%s", why);
    ck_assert_str_eq(c.access_key_id, "ASIAEXAMPLE");
    ck_assert_str_eq(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    ck_assert_str_eq(c.session_token, "FwoGZXIvYXdzEXAMPLE//token==");
    ck_assert_int_eq(c.expires, 1893553445);
    awsproto_creds_free(&c);
    ck_assert_ptr_null(c.access_key_id);
}
END_TEST

START_TEST(sts_credentials_refused)
{
    awsproto_creds_t c;
    char why[128] = "";
    const char *no_token = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                           "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
                           "</SecretAccessKey><Expiration>2030-01-02T03:04:05Z</Expiration>"
                           "</Credentials></AssumeRoleWithWebIdentityResult>"
                           "</AssumeRoleWithWebIdentityResponse>";
    ck_assert(!awsproto_sts_creds(no_token, strlen(no_token), &c, why, sizeof why));
    ck_assert_str_eq(why, "STS answer without a usable Credentials/SessionToken");
    ck_assert_ptr_null(c.access_key_id);
    const char *bad_key = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                          "<Credentials><AccessKeyId>A B</AccessKeyId></Credentials>"
                          "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
    ck_assert(!awsproto_sts_creds(bad_key, strlen(bad_key), &c, why, sizeof why));
    ck_assert_str_eq(why, "AccessKeyId is missing or not a printable token");
    const char *bad_exp = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                          "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
                          "</SecretAccessKey><SessionToken>T</SessionToken><Expiration>soon"
                          "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
                          "</AssumeRoleWithWebIdentityResponse>";
    ck_assert(!awsproto_sts_creds(bad_exp, strlen(bad_exp), &c, why, sizeof why));
    ck_assert_str_eq(why, "STS answer without a valid Credentials/Expiration");
    ck_assert(!awsproto_sts_creds("", 0, &c, why, sizeof why));
}
END_TEST

START_TEST(sts_errors)
{
    const char *e = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                    "<Error><Type>Sender</Type><Code>AccessDenied</Code>"
                    "<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message>"
                    "</Error><RequestId>x</RequestId></ErrorResponse>";
    char out[128];
    awsproto_sts_error(e, strlen(e), out, sizeof out);
    ck_assert_str_eq(out, "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity");
    const char *t = "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>";
    awsproto_sts_error(t, strlen(t), out, sizeof out);
    ck_assert_str_eq(out, "Throttling");
    const char *nl = "<ErrorResponse><Error><Code>X</Code><Message>a\nb</Message></Error>"
                     "</ErrorResponse>";
    awsproto_sts_error(nl, strlen(nl), out, sizeof out);
    ck_assert_str_eq(out, "X: a b");
    awsproto_sts_error("not xml", 7, out, sizeof out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(container_and_imds_credentials)
{
    const char *pod =
        "{\"AccessKeyId\":\"ASIAPOD\",\"SecretAccessKey\":\"s3cr3t\",\"Token\":\"tok\","
        "\"AccountId\":\"123456789012\",\"Expiration\":\"2030-01-02T03:04:05Z\"}";
    awsproto_creds_t c;
    char why[128] = "";
    ck_assert_msg(awsproto_json_creds(pod, strlen(pod), &c, why, sizeof why), "%s", why);
    ck_assert_str_eq(c.access_key_id, "ASIAPOD");
    ck_assert_str_eq(c.secret_access_key, "s3cr3t");
    ck_assert_str_eq(c.session_token, "tok");
    ck_assert_int_eq(c.expires, 1893553445);
    awsproto_creds_free(&c);
    const char *imds = "{\"Code\":\"Success\",\"LastUpdated\":\"2030-01-01T00:00:00Z\",\"Type\":"
                       "\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":\"k\","
                       "\"Token\":\"t\",\"Expiration\":\"2030-01-02T03:04:05.123+01:00\"}";
    ck_assert_msg(awsproto_json_creds(imds, strlen(imds), &c, why, sizeof why), "%s", why);
    ck_assert_int_eq(c.expires, 1893553445 - 3600);
    awsproto_creds_free(&c);
    const char *failed = "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\"}";
    ck_assert(!awsproto_json_creds(failed, strlen(failed), &c, why, sizeof why));
    ck_assert_str_eq(why, "credentials answer has Code \"AssumeRoleUnauthorizedAccess\"");
    const char *nosecret = "{\"AccessKeyId\":\"A\"}";
    ck_assert(!awsproto_json_creds(nosecret, strlen(nosecret), &c, why, sizeof why));
    ck_assert_str_eq(why, "SecretAccessKey is missing or not a printable token");
    ck_assert(!awsproto_json_creds("[1]", 3, &c, why, sizeof why));
    ck_assert_str_eq(why, "credentials answer is not a JSON object");
}
END_TEST

START_TEST(ecr_authorization_token)
{
    const char *ok = "{\"authorizationData\":[{\"authorizationToken\":\"QVdTOnBhc3N3b3Jk\","
                     "\"expiresAt\":1893553445.25,\"proxyEndpoint\":"
                     "\"https://123456789012.dkr.ecr.us-east-1.amazonaws.com\"}]}";
    char *user = NULL, *pass = NULL, why[128] = "";
    int64_t exp = 0;
    ck_assert_msg(awsproto_ecr_token(ok, strlen(ok), &user, &pass, &exp, why, sizeof why), "%s",
                  why);
    ck_assert_str_eq(user, "AWS");
    ck_assert_str_eq(pass, "password");
    ck_assert_int_eq(exp, 1893553445);
    free(user);
    free(pass);
    const char *bad[] = {
        "{\"authorizationData\":[]}",
        "{\"authorizationData\":[{\"authorizationToken\":\"QVdT\"}]}",         /* "AWS": no colon */
        "{\"authorizationData\":[{\"authorizationToken\":\"OnB3\"}]}",         /* ":pw": no user */
        "{\"authorizationData\":[{\"authorizationToken\":\"QVdTOnBhIHNz\"}]}", /* a space */
        "{\"authorizationData\":[{\"authorizationToken\":\"!!\"}]}",
        "{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(
            !awsproto_ecr_token(bad[i], strlen(bad[i]), &user, &pass, &exp, why, sizeof why), "%s",
            bad[i]);
        ck_assert_ptr_null(user);
        ck_assert_ptr_null(pass);
    }
}
END_TEST

START_TEST(json_errors)
{
    char out[128];
    const char *e = "{\"__type\":\"com.amazonaws.ecr#AccessDeniedException\",\"message\":\"User: x "
                    "is not authorized to perform: ecr:GetAuthorizationToken\"}";
    awsproto_json_error(e, strlen(e), out, sizeof out);
    ck_assert_str_eq(out, "AccessDeniedException: User: x is not authorized to perform: "
                          "ecr:GetAuthorizationToken");
    const char *s = "{\"__type\":\"InvalidSignatureException\",\"Message\":\"bad\"}";
    awsproto_json_error(s, strlen(s), out, sizeof out);
    ck_assert_str_eq(out, "InvalidSignatureException: bad");
    awsproto_json_error("{}", 2, out, sizeof out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(timestamps)
{
    int64_t t;
#define TS(s) awsproto_iso8601(s, strlen(s), &t)
    ck_assert(TS("2015-08-30T12:36:00Z"));
    ck_assert_int_eq(t, 1440938160);
    ck_assert(TS("2015-08-30T12:36:00.999999Z"));
    ck_assert_int_eq(t, 1440938160);
    ck_assert(TS("2015-08-30T14:36:00+02:00"));
    ck_assert_int_eq(t, 1440938160);
    ck_assert(TS("2015-08-30T10:36:00-02:00"));
    ck_assert_int_eq(t, 1440938160);
    ck_assert(TS("2024-02-29T12:00:00Z"));
    ck_assert_int_eq(t, 1709208000);
    ck_assert(!TS("2023-02-29T12:00:00Z"));
    ck_assert(!TS("2015-08-30 12:36:00Z"));
    ck_assert(!TS("2015-08-30T12:36:00"));
    ck_assert(!TS("2015-13-01T00:00:00Z"));
    ck_assert(!TS("2015-08-30T12:36:00.Z"));
    ck_assert(!TS("2015-08-30T12:36:00Zjunk"));
    ck_assert(!TS("1969-12-31T23:59:59Z"));
#undef TS
}
END_TEST

START_TEST(configured_endpoints)
{
    ck_assert_str_eq(awsproto_configured_endpoint("http://s", "http://g", NULL), "http://s");
    ck_assert_str_eq(awsproto_configured_endpoint("", "http://g", "false"), "http://g");
    ck_assert_str_eq(awsproto_configured_endpoint(NULL, "http://g", NULL), "http://g");
    ck_assert_ptr_null(awsproto_configured_endpoint(NULL, "", NULL));
    ck_assert_ptr_null(awsproto_configured_endpoint("http://s", "http://g", "TRUE"));
}
END_TEST

START_TEST(sts_endpoints)
{
    char u[128];
    ck_assert(awsproto_sts_url("eu-west-1", false, u, sizeof u));
    ck_assert_str_eq(u, "https://sts.eu-west-1.amazonaws.com");
    ck_assert(awsproto_sts_url("eu-west-1", true, u, sizeof u));
    ck_assert_str_eq(u, "https://sts.amazonaws.com");
    ck_assert(awsproto_sts_url("cn-north-1", true, u, sizeof u));
    ck_assert_str_eq(u, "https://sts.cn-north-1.amazonaws.com.cn");
    ck_assert(awsproto_sts_url("us-gov-west-1", true, u, sizeof u));
    ck_assert_str_eq(u, "https://sts.us-gov-west-1.amazonaws.com");
    ck_assert(awsproto_sts_url("us-isob-east-1", false, u, sizeof u));
    ck_assert_str_eq(u, "https://sts.us-isob-east-1.sc2s.sgov.gov");
    ck_assert(awsproto_sts_url(NULL, false, u, sizeof u));
    ck_assert_str_eq(u, "https://sts.amazonaws.com");
    ck_assert(!awsproto_sts_url("evil.com/x", false, u, sizeof u));
    ck_assert(!awsproto_sts_url("eu-west-1", false, u, 10));
    ck_assert_ptr_null(awsproto_dns_suffix("Upper-1"));
    ck_assert_str_eq(awsproto_dns_suffix("eu-isoe-west-1"), "cloud.adc-e.uk");
}
END_TEST

START_TEST(ecr_api_endpoints)
{
    char r[64], u[160];
    struct {
        const char *host, *region, *url;
    } ok[] = {
        {"123456789012.dkr.ecr.us-east-1.amazonaws.com", "us-east-1",
         "https://api.ecr.us-east-1.amazonaws.com"},
        {"123456789012.dkr.ecr.eu-west-1.amazonaws.com:5000", "eu-west-1",
         "https://api.ecr.eu-west-1.amazonaws.com"},
        {"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1",
         "https://ecr-fips.us-gov-west-1.amazonaws.com"},
        {"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1",
         "https://api.ecr.cn-north-1.amazonaws.com.cn"},
        {"123456789012.dkr-ecr.us-east-2.on.aws", "us-east-2", "https://ecr.us-east-2.api.aws"},
        {"123456789012.dkr-ecr-fips.us-east-2.on.aws", "us-east-2",
         "https://ecr-fips.us-east-2.api.aws"},
        {"123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "us-iso-east-1",
         "https://api.ecr.us-iso-east-1.c2s.ic.gov"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_msg(awsproto_ecr_api(ok[i].host, r, sizeof r, u, sizeof u), "%s", ok[i].host);
        ck_assert_str_eq(r, ok[i].region);
        ck_assert_str_eq(u, ok[i].url);
    }
    ck_assert(!awsproto_ecr_api("registry-1.docker.io", r, sizeof r, u, sizeof u));
    ck_assert(!awsproto_ecr_api("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com", r,
                                sizeof r, u, sizeof u));
}
END_TEST

START_TEST(url_parts)
{
    char h[64], p[64];
    bool tls;
    ck_assert(awsproto_url_parts("http://127.0.0.1:8080", h, sizeof h, p, sizeof p, &tls));
    ck_assert_str_eq(h, "127.0.0.1:8080");
    ck_assert_str_eq(p, "/");
    ck_assert(!tls);
    ck_assert(awsproto_url_parts("https://api.ecr.x.amazonaws.com:443/v1/", h, sizeof h, p,
                                 sizeof p, &tls));
    ck_assert_str_eq(h, "api.ecr.x.amazonaws.com");
    ck_assert_str_eq(p, "/v1/");
    ck_assert(tls);
    ck_assert(awsproto_url_parts("http://[::1]:80", h, sizeof h, p, sizeof p, &tls));
    ck_assert_str_eq(h, "[::1]");
    ck_assert(!awsproto_url_parts("ftp://x", h, sizeof h, p, sizeof p, &tls));
    ck_assert(!awsproto_url_parts("http://u:p@x/", h, sizeof h, p, sizeof p, &tls));
    ck_assert(!awsproto_url_parts("http://x/?a=b", h, sizeof h, p, sizeof p, &tls));
    ck_assert(!awsproto_url_parts("http:///", h, sizeof h, p, sizeof p, &tls));
    ck_assert(!awsproto_url_parts("http://x y/", h, sizeof h, p, sizeof p, &tls));
}
END_TEST

START_TEST(container_urls)
{
    ck_assert(awsproto_container_url_ok("http://169.254.170.23/v1/credentials"));
    ck_assert(awsproto_container_url_ok("http://[fd00:ec2::23]/v1/credentials"));
    ck_assert(awsproto_container_url_ok("http://169.254.170.2/v2/credentials/x"));
    ck_assert(awsproto_container_url_ok("http://127.0.0.1:4567/creds"));
    ck_assert(awsproto_container_url_ok("http://127.10.20.30/creds"));
    ck_assert(awsproto_container_url_ok("http://localhost:1/"));
    ck_assert(awsproto_container_url_ok("http://[::1]:9/"));
    ck_assert(awsproto_container_url_ok("https://creds.example.com/x"));
    ck_assert(!awsproto_container_url_ok("http://creds.example.com/x"));
    ck_assert(!awsproto_container_url_ok("http://169.254.169.254/latest"));
    ck_assert(!awsproto_container_url_ok("http://127.0.0.1.evil.com/"));
    ck_assert(!awsproto_container_url_ok("file:///etc/passwd"));
    ck_assert(!awsproto_container_url_ok(NULL));
}
END_TEST

Suite *suite_awsproto(void)
{
    Suite *s = suite_create("awsproto");
    TCase *tc = tcase_create("awsproto");
    tcase_add_test(tc, sts_credentials);
    tcase_add_test(tc, sts_credentials_refused);
    tcase_add_test(tc, sts_errors);
    tcase_add_test(tc, container_and_imds_credentials);
    tcase_add_test(tc, ecr_authorization_token);
    tcase_add_test(tc, json_errors);
    tcase_add_test(tc, timestamps);
    tcase_add_test(tc, configured_endpoints);
    tcase_add_test(tc, sts_endpoints);
    tcase_add_test(tc, ecr_api_endpoints);
    tcase_add_test(tc, url_parts);
    tcase_add_test(tc, container_urls);
    suite_add_tcase(s, tc);
    return s;
}
