/* Tests for certmake: what it issues is what certplan accepts for the
 * names (key, CA, names, dates), a renewal is due a year later, and the
 * parts are what Kubernetes and the webhook expect (EC P-256, a CA
 * certificate, a serving certificate with its names as SANs only). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certmake.h"
#include "certplan.h"

static const char *const NAMES[] = {"wh", "wh.ns", "wh.ns.svc", "wh.ns.svc.cluster.local"};

static X509 *cert_of(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    ck_assert_ptr_nonnull(x);
    return x;
}

static long long days_left(const X509 *x, long long now)
{
    int days = 0, secs = 0;
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)now);
    ck_assert(ASN1_TIME_diff(&days, &secs, t, X509_get0_notAfter(x)));
    ASN1_TIME_free(t);
    return days;
}

START_TEST(issued_certificates_are_usable)
{
    const long long now = 1800000000; /* 2027-01-15 */
    certplan_pems_t p;
    char err[200] = "", why[200] = "";
    ck_assert_msg(certmake_issue(NAMES, 4, now, &p, err, sizeof err), "%s", err);
    int64_t not_after = 0;
    ck_assert_msg(certplan_usable(&p, NAMES, 4, now, 30 * 86400, &not_after, why, sizeof why), "%s",
                  why);
    ck_assert_int_eq(not_after, now + 365 * 86400LL);
    /* due for renewal 30 days before the year is out */
    ck_assert(!certplan_usable(&p, NAMES, 4, now + 336 * 86400LL, 30 * 86400, &not_after, why,
                               sizeof why));
    X509 *leaf = cert_of(p.cert), *ca = cert_of(p.ca);
    ck_assert_int_eq(days_left(leaf, now), 365);
    ck_assert_int_eq(days_left(ca, now), 3650);
    ck_assert_int_eq(X509_check_ca(ca), 1);
    ck_assert_int_eq(X509_check_ca(leaf), 0);
    ck_assert(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
    /* valid from an hour before now (clock skew) */
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_get0_notBefore(leaf), (time_t)(now - 3600)), 0);
    EVP_PKEY *k = X509_get0_pubkey(leaf);
    ck_assert_int_eq(EVP_PKEY_get_base_id(k), EVP_PKEY_EC);
    char group[32];
    size_t gl = 0;
    ck_assert(EVP_PKEY_get_group_name(k, group, sizeof group, &gl));
    ck_assert_str_eq(group, "prime256v1");
    ck_assert_ptr_nonnull(strstr(p.key, "-----BEGIN PRIVATE KEY-----"));
    /* two issues: two CAs, two serials */
    certplan_pems_t q;
    ck_assert(certmake_issue(NAMES, 4, now, &q, err, sizeof err));
    ck_assert_str_ne(p.ca, q.ca);
    X509 *leaf2 = cert_of(q.cert);
    ck_assert_int_ne(ASN1_INTEGER_cmp(X509_get0_serialNumber(leaf), X509_get0_serialNumber(leaf2)),
                     0);
    X509_free(leaf2);
    X509_free(leaf);
    X509_free(ca);
    certplan_pems_free(&p);
    certplan_pems_free(&q);
}
END_TEST

START_TEST(the_longest_names_fit)
{
    char n[CERTPLAN_NAMES][CERTPLAN_NAME_MAX], label[64];
    memset(label, 'a', 63);
    label[63] = '\0';
    ck_assert(certplan_names(label, label, n));
    const char *names[CERTPLAN_NAMES] = {n[0], n[1], n[2], n[3]};
    certplan_pems_t p;
    char err[200] = "", why[200] = "";
    ck_assert_msg(certmake_issue(names, 4, 1800000000, &p, err, sizeof err), "%s", err);
    int64_t na;
    ck_assert_msg(certplan_usable(&p, names, 4, 1800000000, 0, &na, why, sizeof why), "%s", why);
    certplan_pems_free(&p);
}
END_TEST

Suite *suite_certmake(void)
{
    Suite *s = suite_create("certmake");
    TCase *tc = tcase_create("openssl");
    tcase_add_test(tc, issued_certificates_are_usable);
    tcase_add_test(tc, the_longest_names_fit);
    suite_add_tcase(s, tc);
    return s;
}
