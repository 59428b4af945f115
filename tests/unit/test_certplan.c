/* Tests for certplan: the Service's names, reading a kubernetes.io/tls
 * Secret, judging its certificate at a given time (fixed fixtures: a CA
 * valid 2020-2040, a certificate for wh in namespace ns valid 2020-2030,
 * its key, another key, another CA, a certificate lacking a name), the
 * Secret objects to send and the caBundle patch. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base64.h"
#include "certplan.h"

/* Made once with Go's crypto/x509 (EC P-256). */
static const char CA_PEM[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIBWjCCAQGgAwIBAgIBATAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpmaXh0dXJl\n"
                             "IENBMB4XDTIwMDEwMTAwMDAwMFoXDTQwMDEwMTAwMDAwMFowFTETMBEGA1UEAxMK\n"
                             "Zml4dHVyZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJJvUddQ4b8/WDd7\n"
                             "/WVty8vLiikUz4I4SBEkGAsWEW9/TKPN+tx1TGT+ZkrOQmwNvx66EPi952KaL3Gx\n"
                             "vounv0GjQjBAMA4GA1UdDwEB/wQEAwICBDAPBgNVHRMBAf8EBTADAQH/MB0GA1Ud\n"
                             "DgQWBBSy86aV6L7PcNYLu3oTg/fAcchWXjAKBggqhkjOPQQDAgNHADBEAiAeAGuu\n"
                             "0nYKjBa3K2xMYcZOWgjjIypTIJtbrjRls7EPwQIgCMAqnRSkzSqI071vlRuaOP+b\n"
                             "jKPDodEmh1LjzWfT9p0=\n"
                             "-----END CERTIFICATE-----\n";
static const char LEAF_PEM[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBljCCATugAwIBAgIBAjAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpmaXh0dXJl\n"
                               "IENBMB4XDTIwMDEwMTAwMDAwMFoXDTMwMDEwMTAwMDAwMFowDTELMAkGA1UEAxMC\n"
                               "d2gwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASXHNoBgK+V8OUu5fE6Gldit+Np\n"
                               "dADzbrXQBPlIjIn8Ew7sbeFk1lAGNHj1XuXVNKhcSaOUvWgrcpbHTU7W+1c1o4GD\n"
                               "MIGAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAfBgNVHSME\n"
                               "GDAWgBSy86aV6L7PcNYLu3oTg/fAcchWXjA4BgNVHREEMTAvggJ3aIIFd2gubnOC\n"
                               "CXdoLm5zLnN2Y4IXd2gubnMuc3ZjLmNsdXN0ZXIubG9jYWwwCgYIKoZIzj0EAwID\n"
                               "SQAwRgIhAKyPvTRDYRnt3q5nsrStqUoJe4G+IQsBkpdnkZq+UEbtAiEAm0N0pALy\n"
                               "G9VGHmq8ptyfHFnDsfu4mA2ovgvWv6Vhzdo=\n"
                               "-----END CERTIFICATE-----\n";
static const char KEY_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg6+H1ecDF3UUuKUM/\n"
                              "OCQ78Q1GeXjCJsvIvBpA0B1et8mhRANCAASXHNoBgK+V8OUu5fE6Gldit+NpdADz\n"
                              "brXQBPlIjIn8Ew7sbeFk1lAGNHj1XuXVNKhcSaOUvWgrcpbHTU7W+1c1\n"
                              "-----END PRIVATE KEY-----\n";
static const char OTHER_KEY_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8duL98Qjn75Z048F\n"
    "8apIkwlDeifRDdQaKJPk/YBZmuyhRANCAARuJNzeag1L0kghwXcbdRtHCe7vUzfM\n"
    "q4ewAJsh9NzJf17y+1sKYqNUAuM9WFqW9KE5mbsaw4p4AbuQ8AgT6sqS\n"
    "-----END PRIVATE KEY-----\n";
static const char OTHER_CA_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBVjCB/aADAgECAgEBMAoGCCqGSM49BAMCMBMxETAPBgNVBAMTCG90aGVyIENB\n"
    "MB4XDTIwMDEwMTAwMDAwMFoXDTQwMDEwMTAwMDAwMFowEzERMA8GA1UEAxMIb3Ro\n"
    "ZXIgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARkIjykuEaJJ7lLmY8rhNq4\n"
    "shgaXPJ4NcxtVJO8e7ueN08f2apqdJIC3Wi4IfIAcrDfJXF0MzgzAiCTsT+TuYxS\n"
    "o0IwQDAOBgNVHQ8BAf8EBAMCAgQwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQU\n"
    "h7AdLXUnnEIJm7tzZsWA4PKl0cMwCgYIKoZIzj0EAwIDSAAwRQIhANXOdNxO9Wx4\n"
    "YLZdRKbPqnphS4xlDigOTEQVexj313FgAiBFT9umzR/Ea2LsI4xiJ95ZwcXIyiq9\n"
    "1VRhX09f2DF8wQ==\n"
    "-----END CERTIFICATE-----\n";
static const char LEAF_SHORT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjzCCATWgAwIBAgIBAjAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpmaXh0dXJl\n"
    "IENBMB4XDTIwMDEwMTAwMDAwMFoXDTMwMDEwMTAwMDAwMFowIjEgMB4GA1UEAxMX\n"
    "d2gubnMuc3ZjLmNsdXN0ZXIubG9jYWwwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
    "AASXHNoBgK+V8OUu5fE6Gldit+NpdADzbrXQBPlIjIn8Ew7sbeFk1lAGNHj1XuXV\n"
    "NKhcSaOUvWgrcpbHTU7W+1c1o2kwZzAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAww\n"
    "CgYIKwYBBQUHAwEwHwYDVR0jBBgwFoAUsvOmlei+z3DWC7t6E4P3wHHIVl4wHwYD\n"
    "VR0RBBgwFoICd2iCBXdoLm5zggl3aC5ucy5zdmMwCgYIKoZIzj0EAwIDSAAwRQIg\n"
    "WAOc9QDYG33WHpOkQjsTQ0lja23Mku88srQR5UpuVrUCIQDB0HYwuePw0mVQfjTv\n"
    "uM32YY4Xu7rCsjaqqRQpVRAXDg==\n"
    "-----END CERTIFICATE-----\n";

#define NOT_AFTER 1893456000 /* 2030-01-01T00:00:00Z, the certificates' end */
#define RENEW     (30 * 86400)

static const char *const NAMES[] = {"wh", "wh.ns", "wh.ns.svc", "wh.ns.svc.cluster.local"};

static certplan_pems_t pems(const char *cert, const char *key, const char *ca)
{
    certplan_pems_t p = {strdup(cert), strdup(key), strdup(ca)};
    ck_assert(p.cert && p.key && p.ca);
    return p;
}

/* certplan_usable on these PEMs at `now`; the reason in why. */
static bool usable(const char *cert, const char *key, const char *ca, long long now, char *why,
                   size_t whysz)
{
    certplan_pems_t p = pems(cert, key, ca);
    int64_t na = -1;
    why[0] = '\0';
    bool ok = certplan_usable(&p, NAMES, 4, now, RENEW, &na, why, whysz);
    ck_assert_int_eq(na, strstr(cert, "BEGIN CERTIFICATE") ? NOT_AFTER : 0);
    certplan_pems_free(&p);
    return ok;
}

START_TEST(names_of_a_service)
{
    char n[CERTPLAN_NAMES][CERTPLAN_NAME_MAX];
    ck_assert(certplan_names("wh", "ns", n));
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(n[i], NAMES[i]);
    char longest[64];
    memset(longest, 'a', 63);
    longest[63] = '\0';
    ck_assert(certplan_names(longest, longest, n));
    ck_assert_uint_eq(strlen(n[3]), 63 + 1 + 63 + strlen(".svc.cluster.local"));
    ck_assert(!certplan_names("Wh", "ns", n));
    ck_assert(!certplan_names("wh", "n.s", n));
    ck_assert(!certplan_names("", "ns", n));
}
END_TEST

START_TEST(judged_at_a_time)
{
    char why[200];
    ck_assert_msg(usable(LEAF_PEM, KEY_PEM, CA_PEM, 1861920000, why, sizeof why), "%s", why);
    /* exactly 30 days before the end still passes; a second later it does not */
    ck_assert(usable(LEAF_PEM, KEY_PEM, CA_PEM, NOT_AFTER - RENEW, why, sizeof why));
    ck_assert(!usable(LEAF_PEM, KEY_PEM, CA_PEM, NOT_AFTER - RENEW + 1, why, sizeof why));
    ck_assert_str_eq(why, "the certificate expires at 2030-01-01T00:00:00Z, within 30 days");
    ck_assert(!usable(LEAF_PEM, KEY_PEM, CA_PEM, NOT_AFTER + 86400, why, sizeof why));
    ck_assert_str_eq(why, "the certificate expires at 2030-01-01T00:00:00Z, within 30 days");
}
END_TEST

START_TEST(what_makes_it_unusable)
{
    char why[200];
    const long long now = 1861920000;
    ck_assert(!usable(LEAF_PEM, OTHER_KEY_PEM, CA_PEM, now, why, sizeof why));
    ck_assert_str_eq(why, "tls.key is not the key of tls.crt");
    ck_assert(!usable(LEAF_PEM, KEY_PEM, OTHER_CA_PEM, now, why, sizeof why));
    ck_assert_str_eq(why, "ca.crt did not issue tls.crt");
    ck_assert(!usable(LEAF_SHORT_PEM, KEY_PEM, CA_PEM, now, why, sizeof why));
    ck_assert_str_eq(why, "the certificate does not name wh.ns.svc.cluster.local");
    ck_assert(!usable("junk", KEY_PEM, CA_PEM, now, why, sizeof why));
    ck_assert_str_eq(why, "tls.crt is not a PEM certificate");
    ck_assert(!usable(LEAF_PEM, "junk", CA_PEM, now, why, sizeof why));
    ck_assert_str_eq(why, "tls.key is not a PEM private key");
    ck_assert(!usable(LEAF_PEM, KEY_PEM, KEY_PEM, now, why, sizeof why));
    ck_assert_str_eq(why, "ca.crt is not a PEM certificate");
    /* the leaf as its own CA did not issue itself */
    ck_assert(!usable(LEAF_PEM, KEY_PEM, LEAF_PEM, now, why, sizeof why));
    ck_assert_str_eq(why, "ca.crt did not issue tls.crt");
}
END_TEST

/* A Secret object with these data values (already base64, or NULL: absent). */
static cJSON *secret_with(const char *crt, const char *key, const char *ca)
{
    cJSON *s = cJSON_CreateObject();
    cJSON *d = cJSON_AddObjectToObject(s, "data");
    const char *k[3] = {"tls.crt", "tls.key", "ca.crt"}, *v[3] = {crt, key, ca};
    for (size_t i = 0; i < 3; i++)
        if (v[i])
            cJSON_AddStringToObject(d, k[i], v[i]);
    return s;
}

START_TEST(secret_read_and_written)
{
    certplan_pems_t p = pems(LEAF_PEM, KEY_PEM, CA_PEM);
    cJSON *s = certplan_new_secret("ns", "wh-tls", &p);
    ck_assert_ptr_nonnull(s);
    char *text = cJSON_PrintUnformatted(s);
    ck_assert_ptr_nonnull(strstr(text, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\""));
    ck_assert_ptr_nonnull(strstr(text, "\"metadata\":{\"labels\":{\"app.kubernetes.io/managed-by\":"
                                       "\"imagebuilder-webhook-certgen\"},\"name\":\"wh-tls\","
                                       "\"namespace\":\"ns\"},\"type\":\"kubernetes.io/tls\""));
    free(text);
    certplan_pems_t back;
    char why[100];
    ck_assert(certplan_read_secret(s, &back, why, sizeof why));
    ck_assert_str_eq(back.cert, LEAF_PEM);
    ck_assert_str_eq(back.key, KEY_PEM);
    ck_assert_str_eq(back.ca, CA_PEM);
    certplan_pems_free(&back);
    cJSON_Delete(s);

    /* an update keeps the metadata and drops stringData */
    s = cJSON_Parse(
        "{\"metadata\":{\"name\":\"wh-tls\",\"resourceVersion\":\"7\"},\"type\":"
        "\"kubernetes.io/tls\",\"stringData\":{\"x\":\"y\"},\"data\":{\"old\":\"AA==\"}}");
    ck_assert(certplan_update_secret(s, &p));
    ck_assert(certplan_read_secret(s, &back, why, sizeof why));
    ck_assert_str_eq(back.ca, CA_PEM);
    certplan_pems_free(&back);
    ck_assert_ptr_null(cJSON_GetObjectItem(s, "stringData"));
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "data"), "old"));
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(s, "metadata"), "resourceVersion")->valuestring,
        "7");
    cJSON_Delete(s);
    certplan_pems_free(&p);

    s = secret_with("QQ==", "QQ==", NULL);
    ck_assert(!certplan_read_secret(s, &back, why, sizeof why));
    ck_assert_str_eq(why, "it has no ca.crt");
    cJSON_Delete(s);
    s = secret_with("QQ==", "not base64!", "QQ==");
    ck_assert(!certplan_read_secret(s, &back, why, sizeof why));
    ck_assert_str_eq(why, "its tls.key is not base64 of a PEM text");
    cJSON_Delete(s);
    s = secret_with("AEE=", "QQ==", "QQ=="); /* a NUL inside */
    ck_assert(!certplan_read_secret(s, &back, why, sizeof why));
    ck_assert_str_eq(why, "its tls.crt is not base64 of a PEM text");
    cJSON_Delete(s);
    ck_assert(!certplan_read_secret(NULL, &back, why, sizeof why));
    ck_assert_str_eq(why, "it has no tls.crt");
}
END_TEST

START_TEST(cabundle_patch)
{
    char *b64 = base64_encode(CA_PEM, strlen(CA_PEM));
    char mwc[4096];
    snprintf(mwc, sizeof mwc,
             "{\"webhooks\":[{\"name\":\"a\",\"clientConfig\":{\"caBundle\":\"%s\"}},"
             "{\"name\":\"b\",\"clientConfig\":{\"service\":{\"name\":\"wh\"}}},"
             "{\"name\":\"c\"},{\"name\":\"d\",\"clientConfig\":{\"caBundle\":\"b2xk\"}}]}",
             b64);
    cJSON *m = cJSON_Parse(mwc), *patch = NULL;
    size_t changed = 0;
    char why[100] = "";
    ck_assert(certplan_cabundle_patch(m, CA_PEM, &patch, &changed, why, sizeof why));
    ck_assert_uint_eq(changed, 3);
    char *text = cJSON_PrintUnformatted(patch);
    char want[8192];
    snprintf(
        want, sizeof want,
        "[{\"op\":\"test\",\"path\":\"/webhooks/1/name\",\"value\":\"b\"},"
        "{\"op\":\"add\",\"path\":\"/webhooks/1/clientConfig/caBundle\",\"value\":\"%s\"},"
        "{\"op\":\"test\",\"path\":\"/webhooks/2/name\",\"value\":\"c\"},"
        "{\"op\":\"add\",\"path\":\"/webhooks/2/clientConfig\",\"value\":{\"caBundle\":\"%s\"}},"
        "{\"op\":\"test\",\"path\":\"/webhooks/3/name\",\"value\":\"d\"},"
        "{\"op\":\"add\",\"path\":\"/webhooks/3/clientConfig/caBundle\",\"value\":\"%s\"}]",
        b64, b64, b64);
    ck_assert_str_eq(text, want);
    free(text);
    cJSON_Delete(patch);
    cJSON_Delete(m);

    /* every webhook current: nothing to send */
    snprintf(mwc, sizeof mwc,
             "{\"webhooks\":[{\"name\":\"a\",\"clientConfig\":{\"caBundle\":\"%s\"}}]}", b64);
    m = cJSON_Parse(mwc);
    ck_assert(certplan_cabundle_patch(m, CA_PEM, &patch, &changed, why, sizeof why));
    ck_assert_ptr_null(patch);
    ck_assert_uint_eq(changed, 0);
    cJSON_Delete(m);
    m = cJSON_Parse("{\"webhooks\":[]}");
    ck_assert(!certplan_cabundle_patch(m, CA_PEM, &patch, &changed, why, sizeof why));
    ck_assert_str_eq(why, "it has no webhooks");
    cJSON_Delete(m);
    free(b64);
}
END_TEST

Suite *suite_certplan(void)
{
    Suite *s = suite_create("certplan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, names_of_a_service);
    tcase_add_test(tc, judged_at_a_time);
    tcase_add_test(tc, what_makes_it_unusable);
    tcase_add_test(tc, secret_read_and_written);
    tcase_add_test(tc, cabundle_patch);
    suite_add_tcase(s, tc);
    return s;
}
