/* Unit tests: Google service-account key files, the claims of their
 * assertion, and the token answers of the GCE metadata server, a token_uri,
 * Microsoft Entra ID and ACR's /oauth2/exchange, as their documentation
 * shows them; error answers as one line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cloudtok.h"

static bool sakey(const char *json, cloudtok_sakey_t *k, char *err, size_t errsz)
{
    return cloudtok_parse_sakey(json, strlen(json), k, err, errsz);
}

START_TEST(service_account_key_file)
{
    cloudtok_sakey_t k;
    char err[200] = "";
    ck_assert(sakey("{\"type\":\"service_account\",\"project_id\":\"p\",\"private_key_id\":\"abc\","
                    "\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nMII\\n-----END PRIVATE "
                    "KEY-----\\n\",\"client_email\":\"sa@p.iam.gserviceaccount.com\","
                    "\"token_uri\":\"https://oauth2.googleapis.com/token\"}",
                    &k, err, sizeof err));
    ck_assert_str_eq(k.client_email, "sa@p.iam.gserviceaccount.com");
    ck_assert_str_eq(k.private_key_id, "abc");
    ck_assert_ptr_nonnull(strstr(k.private_key, "\nMII\n"));
    ck_assert_str_eq(k.token_uri, "https://oauth2.googleapis.com/token");

    char *claims = cloudtok_google_claims(&k, 1700000000);
    ck_assert_ptr_nonnull(claims);
    cJSON *c = cJSON_Parse(claims);
    ck_assert_str_eq(cJSON_GetObjectItem(c, "iss")->valuestring, "sa@p.iam.gserviceaccount.com");
    ck_assert_str_eq(cJSON_GetObjectItem(c, "scope")->valuestring,
                     "https://www.googleapis.com/auth/cloud-platform");
    ck_assert_str_eq(cJSON_GetObjectItem(c, "aud")->valuestring,
                     "https://oauth2.googleapis.com/token");
    ck_assert_int_eq((long long)cJSON_GetObjectItem(c, "iat")->valuedouble, 1700000000);
    ck_assert_int_eq((long long)cJSON_GetObjectItem(c, "exp")->valuedouble, 1700003600);
    ck_assert_int_eq(cJSON_GetArraySize(c), 5);
    cJSON_Delete(c);
    free(claims);
    cloudtok_sakey_free(&k);

    /* no token_uri: Google's; no private_key_id: fine */
    ck_assert(sakey("{\"type\":\"service_account\",\"private_key\":\"K\",\"client_email\":\"e\"}",
                    &k, err, sizeof err));
    ck_assert_str_eq(k.token_uri, "https://oauth2.googleapis.com/token");
    ck_assert_ptr_null(k.private_key_id);
    cloudtok_sakey_free(&k);
}
END_TEST

START_TEST(key_files_that_are_not_service_account_keys)
{
    struct {
        const char *json, *why;
    } cases[] = {
        {"{\"type\":\"authorized_user\",\"client_id\":\"x\"}", "\"authorized_user\", not"},
        {"{\"type\":\"external_account\"}", "\"external_account\""},
        {"{\"private_key\":\"K\",\"client_email\":\"e\"}", "type is \"\""},
        {"{\"type\":\"service_account\",\"client_email\":\"e\"}", "no \"private_key\""},
        {"{\"type\":\"service_account\",\"private_key\":\"K\"}", "no \"client_email\""},
        {"{\"type\":\"service_account\",\"private_key\":\"K\",\"client_email\":\"e\","
         "\"token_uri\":\"http://insecure/token\"}",
         "not an https:// URL"},
        {"{\"type\":\"service_account\",\"private_key\":\"SECRETKEY\",\"client_email\":\"e\","
         "\"token_uri\":\"https://a b/\"}",
         "not an https:// URL"},
        {"{\"type\":\"a\\u0001b\\r\\nX\"}", "type is \"a b  X\", not"}, /* one line */
        {"[1]", "not a JSON object"},
        {"{\"type\":", "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cloudtok_sakey_t k;
        char err[200] = "";
        ck_assert_msg(!sakey(cases[i].json, &k, err, sizeof err), "case %zu accepted", i);
        ck_assert_msg(strstr(err, cases[i].why) != NULL, "case %zu: %s", i, err);
        ck_assert_ptr_null(strstr(err, "SECRETKEY"));
        ck_assert_ptr_null(k.private_key);
    }
}
END_TEST

static bool access(const char *json, char **tok, int64_t *exp, char *err)
{
    return cloudtok_parse_access(json, strlen(json), tok, exp, err, 200);
}

START_TEST(access_token_answers)
{
    char *tok = NULL, err[200] = "";
    int64_t exp = -1;
    /* the metadata server and Google's token endpoint */
    ck_assert(access("{\"access_token\":\"ya29.c.b0Aaek\",\"expires_in\":3599,"
                     "\"token_type\":\"Bearer\"}",
                     &tok, &exp, err));
    ck_assert_str_eq(tok, "ya29.c.b0Aaek");
    ck_assert_int_eq(exp, 3599);
    free(tok);
    /* Entra (v1 endpoints send numbers as strings) */
    ck_assert(access("{\"token_type\":\"bearer\",\"expires_in\":\"3600\",\"ext_expires_in\":"
                     "\"3600\",\"access_token\":\"eyJ0eXAi.eyJhdWQi.c2ln\"}",
                     &tok, &exp, err));
    ck_assert_int_eq(exp, 3600);
    free(tok);
    ck_assert(access("{\"access_token\":\"t\"}", &tok, &exp, err));
    ck_assert_int_eq(exp, 0);
    free(tok);

    struct {
        const char *json, *why;
    } bad[] = {
        {"{\"expires_in\":3599}", "no access_token"},
        {"{\"access_token\":\"\"}", "no access_token"},
        {"{\"access_token\":7}", "no access_token"},
        {"{\"access_token\":\"a b\"}", "characters a header cannot carry"},
        {"{\"access_token\":\"a\\r\\nX-Injected: 1\"}", "characters a header cannot carry"},
        {"{\"access_token\":\"t\",\"token_type\":\"MAC\"}", "not Bearer"},
        {"{\"access_token\":\"t\",\"expires_in\":-1}", "expires_in"},
        {"{\"access_token\":\"t\",\"expires_in\":\"12x\"}", "expires_in"},
        {"{\"access_token\":\"t\",\"expires_in\":1e300}", "expires_in"},
        {"{\"access_token\":", "not a JSON object"},
        {"", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tok = (char *)"unchanged";
        ck_assert_msg(!access(bad[i].json, &tok, &exp, err), "case %zu accepted", i);
        ck_assert_ptr_null(tok);
        ck_assert_msg(strstr(err, bad[i].why) != NULL, "case %zu: %s", i, err);
    }
    char *big = malloc(CLOUDTOK_TOKEN_MAX + 64);
    int n = snprintf(big, 40, "{\"access_token\":\"");
    memset(big + n, 'a', CLOUDTOK_TOKEN_MAX + 1);
    strcpy(big + n + CLOUDTOK_TOKEN_MAX + 1, "\"}");
    ck_assert(!access(big, &tok, &exp, err));
    free(big);
}
END_TEST

START_TEST(refresh_token_answers)
{
    char *tok = NULL, err[200] = "";
    const char *ok = "{\"refresh_token\":\"eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2ln\"}";
    ck_assert(cloudtok_parse_refresh(ok, strlen(ok), &tok, err, sizeof err));
    ck_assert_str_eq(tok, "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2ln");
    free(tok);
    const char *none = "{\"access_token\":\"x\"}";
    ck_assert(!cloudtok_parse_refresh(none, strlen(none), &tok, err, sizeof err));
    ck_assert_str_eq(err, "no refresh_token in the answer");
    ck_assert(!cloudtok_parse_refresh("{", 1, &tok, err, sizeof err));
}
END_TEST

START_TEST(error_answers_in_one_line)
{
    char out[80];
    const char *google = "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT "
                         "Signature.\"}";
    cloudtok_oauth_error(google, strlen(google), out, sizeof out);
    ck_assert_str_eq(out, "invalid_grant: Invalid JWT Signature.");
    const char *entra = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS700213: No "
                        "matching federated identity record found.\\r\\nTrace ID: 1\\r\\n\","
                        "\"error_codes\":[700213]}";
    cloudtok_oauth_error(entra, strlen(entra), out, sizeof out);
    ck_assert_str_eq(out,
                     "invalid_client: AADSTS700213: No matching federated identity record found.");
    char small[20];
    cloudtok_oauth_error(entra, strlen(entra), small, sizeof small);
    ck_assert_str_eq(small, "invalid_client: AAD");
    const char *acr = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad token\"}]}";
    cloudtok_oauth_error(acr, strlen(acr), out, sizeof out);
    ck_assert_str_eq(out, "UNAUTHORIZED: bad token");
    const char *ctl = "{\"error\":\"x\\u0007y\"}";
    cloudtok_oauth_error(ctl, strlen(ctl), out, sizeof out);
    ck_assert_str_eq(out, "x y");
    static const char *none[] = {"Not Found", "{}", "{\"errors\":{}}", "{\"errors\":[1]}", ""};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        strcpy(out, "x");
        cloudtok_oauth_error(none[i], strlen(none[i]), out, sizeof out);
        ck_assert_str_eq(out, "");
    }
}
END_TEST

Suite *suite_cloudtok(void)
{
    Suite *s = suite_create("cloudtok");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, service_account_key_file);
    tcase_add_test(tc, key_files_that_are_not_service_account_keys);
    tcase_add_test(tc, access_token_answers);
    tcase_add_test(tc, refresh_token_answers);
    tcase_add_test(tc, error_answers_in_one_line);
    suite_add_tcase(s, tc);
    return s;
}
