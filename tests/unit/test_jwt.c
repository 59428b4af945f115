/* Unit tests: RS256 tokens signed by jwt.c verify with the public key
 * (OpenSSL's verification, keys made by the test), in PKCS #8 and PKCS #1
 * PEM; keys that are not unencrypted RSA keys are refused; claims and
 * expiry are read from well-formed tokens only. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base64.h"
#include "jwt.h"

static EVP_PKEY *rsa_key(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    ck_assert_ptr_nonnull(k);
    return k;
}

/* The key as PEM text (caller frees): PKCS #8, or the traditional form. */
static char *pem_of(EVP_PKEY *k, bool traditional, const char *pass)
{
    BIO *b = BIO_new(BIO_s_mem());
    ck_assert_ptr_nonnull(b);
    int rc;
    if (pass)
        rc = PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_128_cbc(), pass, (int)strlen(pass), NULL,
                                           NULL);
    else if (traditional)
        rc = PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL);
    else
        rc = PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    ck_assert_int_eq(rc, 1);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(b);
    return out;
}

/* The decoded JSON of a base64url part. */
static char *part(const char *s, size_t n)
{
    size_t len = 0;
    unsigned char *d = base64url_decode(s, n, &len);
    ck_assert_ptr_nonnull(d);
    return (char *)d;
}

static void verify(EVP_PKEY *k, const char *tok)
{
    const char *d2 = strrchr(tok, '.');
    ck_assert_ptr_nonnull(d2);
    size_t siglen = 0;
    unsigned char *sig = base64url_decode(d2 + 1, strlen(d2 + 1), &siglen);
    ck_assert_ptr_nonnull(sig);
    ck_assert_uint_eq(siglen, 256);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
    ck_assert_int_eq(
        EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)tok, (size_t)(d2 - tok)), 1);
    /* one flipped byte of the signed text: no longer verifies */
    char *bad = strdup(tok);
    bad[3] ^= 1;
    ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
    ck_assert_int_ne(
        EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)bad, (size_t)(d2 - tok)), 1);
    free(bad);
    EVP_MD_CTX_free(ctx);
    free(sig);
}

START_TEST(rs256_verifies_with_the_public_key)
{
    EVP_PKEY *k = rsa_key();
    const char *claims = "{\"iss\":\"sa@p.iam.gserviceaccount.com\",\"exp\":1700003600}";
    for (int traditional = 0; traditional < 2; traditional++) {
        char *pem = pem_of(k, traditional, NULL);
        char err[200] = "";
        char *tok =
            jwt_sign_rs256(traditional ? NULL : "key-1", claims, pem, strlen(pem), err, sizeof err);
        ck_assert_msg(tok != NULL, "%s", err);
        verify(k, tok);
        const char *d1 = strchr(tok, '.');
        char *hdr = part(tok, (size_t)(d1 - tok));
        ck_assert_str_eq(hdr, traditional
                                  ? "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
                                  : "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"key-1\"}");
        char *body = part(d1 + 1, (size_t)(strrchr(tok, '.') - d1 - 1));
        ck_assert_str_eq(body, claims);
        int64_t exp = 0;
        ck_assert(jwt_expiry(tok, strlen(tok), &exp, NULL));
        ck_assert_int_eq(exp, 1700003600);
        free(hdr);
        free(body);
        free(tok);
        free(pem);
    }
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(keys_that_cannot_sign_are_refused)
{
    EVP_PKEY *rsa = rsa_key();
    char *encrypted = pem_of(rsa, false, "secret-pass");
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(ec);
    char *ecpem = pem_of(ec, false, NULL);
    struct {
        const char *pem, *why;
    } cases[] = {
        {encrypted, "not an unencrypted PEM private key"},
        {ecpem, "not an RSA key"},
        {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not an unencrypted"},
        {"not a key at all", "not an unencrypted"},
        {"", "empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[200] = "";
        char *tok = jwt_sign_rs256(NULL, "{}", cases[i].pem, strlen(cases[i].pem), err, sizeof err);
        ck_assert_msg(tok == NULL, "case %zu signed", i);
        ck_assert_msg(strstr(err, cases[i].why) != NULL, "case %zu: %s", i, err);
        ck_assert_ptr_null(strstr(err, "BEGIN"));
    }
    free(encrypted);
    free(ecpem);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
}
END_TEST

START_TEST(claims_of_well_formed_tokens_only)
{
    /* {"alg":"none"} . {"exp":1800000000,"sub":"x"} . sig */
    const char *ok = "eyJhbGciOiJub25lIn0.eyJleHAiOjE4MDAwMDAwMDAsInN1YiI6IngifQ.c2ln";
    const char *why = NULL;
    cJSON *c = jwt_claims(ok, strlen(ok), &why);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(cJSON_GetObjectItem(c, "sub")->valuestring, "x");
    cJSON_Delete(c);
    int64_t exp = 0;
    ck_assert(jwt_expiry(ok, strlen(ok), &exp, &why));
    ck_assert_int_eq(exp, 1800000000);

    static const char *bad[] = {
        "",
        "onlyonepart",
        "two.parts",
        "eyJhbGciOiJub25lIn0.eyJleHAiOjE4MDAwMDAwMDAsInN1YiI6IngifQ.c2ln.extra",
        "a..c",
        "a.e30=.c",               /* padded payload */
        "a.W10.c",                /* [] : not an object */
        "a.eyJleHAiOg.c",         /* {"exp": : truncated JSON */
        "a.eyJleHAiOiIxMjMifQ.c", /* {"exp":"123"} : not a number */
        "a.eyJleHAiOi01fQ.c",     /* {"exp":-5} */
        "a.eyJzdWIiOiJ4In0.c",    /* {"sub":"x"} : no exp */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        ck_assert_msg(!jwt_expiry(bad[i], strlen(bad[i]), &exp, &why), "accepted '%s'", bad[i]);
        ck_assert(why && why[0]);
        ck_assert_int_eq(exp, 0);
    }
}
END_TEST

Suite *suite_jwt(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, rs256_verifies_with_the_public_key);
    tcase_add_test(tc, keys_that_cannot_sign_are_refused);
    tcase_add_test(tc, claims_of_well_formed_tokens_only);
    suite_add_tcase(s, tc);
    return s;
}
