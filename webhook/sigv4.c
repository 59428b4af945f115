/* sigv4: AWS Signature Version 4 header signing (see sigv4.h). */
#include "sigv4.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

void sigv4_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

bool sigv4_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(data ? data : "", n, md, &len, EVP_sha256(), NULL) || len != 32)
        return false;
    sigv4_hex(md, 32, out);
    return true;
}

static bool hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
    size_t outlen = 0;
    return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, (const unsigned char *)msg,
                     strlen(msg), out, 32, &outlen) != NULL &&
           outlen == 32;
}

bool sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char key[SIGV4_KEY_LEN])
{
    size_t sl = strlen(secret);
    char *k = malloc(sl + 5);
    if (!k)
        return false;
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, sl + 1);
    unsigned char a[32], b[32];
    bool ok = hmac(k, sl + 4, date8, a) && hmac(a, 32, region, b) && hmac(b, 32, service, a) &&
              hmac(a, 32, "aws4_request", key);
    memset(k, 0, sl + 4);
    free(k);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    return ok;
}

/* ---- canonical request -------------------------------------------------------------- */

typedef struct {
    char name[64];
    const char *value;
} hdr_t;

static int hdr_cmp(const void *a, const void *b)
{
    return strcmp(((const hdr_t *)a)->name, ((const hdr_t *)b)->name);
}

/* A header value with its leading and trailing spaces removed and inner
 * runs of spaces collapsed to one. */
static void put_trimmed(buf_t *out, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    bool space = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = true;
            continue;
        }
        if (space)
            buf_putc(out, ' ');
        space = false;
        buf_putc(out, *v);
    }
}

/* Lowercased, sorted names; values of one name joined with ','. */
static bool put_headers(const sigv4_request_t *r, buf_t *out, buf_t *names)
{
    hdr_t h[SIGV4_MAX_HEADERS];
    size_t n = r->n_headers;
    if (n == 0 || n > SIGV4_MAX_HEADERS)
        return false;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(r->headers[i].name);
        if (nl == 0 || nl >= sizeof h[i].name)
            return false;
        for (size_t j = 0; j <= nl; j++) {
            char c = r->headers[i].name[j];
            h[i].name[j] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
        h[i].value = r->headers[i].value ? r->headers[i].value : "";
    }
    qsort(h, n, sizeof h[0], hdr_cmp);
    for (size_t i = 0; i < n; i++) {
        bool same = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
        if (same) {
            buf_putc(out, ',');
        } else {
            if (i > 0) {
                buf_putc(out, '\n');
                buf_putc(names, ';');
            }
            buf_puts(out, h[i].name);
            buf_putc(out, ':');
            buf_puts(names, h[i].name);
        }
        put_trimmed(out, h[i].value);
    }
    buf_putc(out, '\n');
    return !out->oom && !names->oom;
}

typedef struct {
    const char *p;
    size_t n;
} param_t;

static int param_cmp(const void *a, const void *b)
{
    const param_t *x = a, *y = b;
    size_t xk = strcspn(x->p, "=&"), yk = strcspn(y->p, "=&");
    if (xk > x->n)
        xk = x->n;
    if (yk > y->n)
        yk = y->n;
    size_t m = xk < yk ? xk : yk;
    int c = memcmp(x->p, y->p, m);
    if (c || xk != yk)
        return c ? c : (xk < yk ? -1 : 1);
    m = x->n < y->n ? x->n : y->n; /* same name: by value */
    c = memcmp(x->p, y->p, m);
    return c ? c : (x->n < y->n ? -1 : x->n > y->n);
}

/* The query's parameters sorted by name, then value; "k" becomes "k=". */
static bool put_query(const char *q, buf_t *out)
{
    size_t count = 0;
    for (const char *s = q; s && *s; s += strcspn(s, "&"), s += *s == '&')
        count++;
    if (count == 0)
        return true;
    param_t *p = calloc(count, sizeof *p);
    if (!p)
        return false;
    size_t k = 0;
    for (const char *s = q; *s && k < count; s += *s == '&') {
        size_t n = strcspn(s, "&");
        if (n)
            p[k++] = (param_t){s, n};
        s += n;
    }
    qsort(p, k, sizeof *p, param_cmp);
    for (size_t i = 0; i < k; i++) {
        if (i)
            buf_putc(out, '&');
        buf_append(out, p[i].p, p[i].n);
        if (!memchr(p[i].p, '=', p[i].n))
            buf_putc(out, '=');
    }
    free(p);
    return !out->oom;
}

bool sigv4_canonical_request(const sigv4_request_t *r, buf_t *out, buf_t *signed_headers)
{
    char payload_hash[65];
    if (!r->amz_date || strlen(r->amz_date) != 16 || !r->method)
        return false;
    buf_puts(out, r->method);
    buf_putc(out, '\n');
    buf_puts(out, r->path && r->path[0] ? r->path : "/");
    buf_putc(out, '\n');
    if (!put_query(r->query, out))
        return false;
    buf_putc(out, '\n');
    if (!put_headers(r, out, signed_headers))
        return false;
    buf_putc(out, '\n');
    buf_append(out, signed_headers->data, signed_headers->len);
    buf_putc(out, '\n');
    if (!sigv4_sha256_hex(r->payload, r->payload_len, payload_hash))
        return false;
    buf_puts(out, payload_hash);
    return !out->oom;
}

static void put_scope(const sigv4_request_t *r, buf_t *out)
{
    buf_printf(out, "%.8s/%s/%s/aws4_request", r->amz_date, r->region, r->service);
}

bool sigv4_string_to_sign(const sigv4_request_t *r, const char *canonical, size_t canonical_len,
                          buf_t *out)
{
    char h[65];
    if (!sigv4_sha256_hex(canonical, canonical_len, h))
        return false;
    buf_printf(out, "%s\n%s\n", SIGV4_ALGORITHM, r->amz_date);
    put_scope(r, out);
    buf_printf(out, "\n%s", h);
    return !out->oom;
}

bool sigv4_authorization(const sigv4_request_t *r, buf_t *out)
{
    buf_t creq = BUF_INIT, names = BUF_INIT, sts = BUF_INIT;
    unsigned char key[SIGV4_KEY_LEN], sig[32];
    char date8[9], hex[65];
    bool ok = false;
    if (!r->region || !r->service || !r->access_key || !r->secret_key)
        goto out;
    if (!sigv4_canonical_request(r, &creq, &names) ||
        !sigv4_string_to_sign(r, creq.data, creq.len, &sts))
        goto out;
    memcpy(date8, r->amz_date, 8);
    date8[8] = '\0';
    if (!sigv4_signing_key(r->secret_key, date8, r->region, r->service, key) ||
        !hmac(key, sizeof key, sts.data, sig))
        goto out;
    sigv4_hex(sig, sizeof sig, hex);
    buf_printf(out, "%s Credential=%s/", SIGV4_ALGORITHM, r->access_key);
    put_scope(r, out);
    buf_printf(out, ", SignedHeaders=%s, Signature=%s", names.data, hex);
    ok = !out->oom;
out:
    memset(key, 0, sizeof key);
    buf_free(&creq);
    buf_free(&names);
    buf_free(&sts);
    return ok;
}

/* ---- time ------------------------------------------------------------------------------ */

/* The civil date of a count of days since 1970-01-01 (proleptic Gregorian). */
static void civil_of_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468; /* days since 0000-03-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                    /* March = 0 */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

bool sigv4_amz_date(int64_t t, char out[17])
{
    if (t < 0 || t > 253402300799) /* 9999-12-31T23:59:59Z */
        return false;
    int64_t y;
    unsigned mo, d;
    civil_of_days(t / 86400, &y, &mo, &d);
    unsigned s = (unsigned)(t % 86400);
    static const char dg[] = "0123456789";
    char *p = out;
    *p++ = dg[y / 1000 % 10];
    *p++ = dg[y / 100 % 10];
    *p++ = dg[y / 10 % 10];
    *p++ = dg[y % 10];
    *p++ = dg[mo / 10];
    *p++ = dg[mo % 10];
    *p++ = dg[d / 10];
    *p++ = dg[d % 10];
    *p++ = 'T';
    *p++ = dg[s / 36000];
    *p++ = dg[s / 3600 % 10];
    *p++ = dg[s % 3600 / 600];
    *p++ = dg[s % 3600 / 60 % 10];
    *p++ = dg[s % 60 / 10];
    *p++ = dg[s % 10];
    *p++ = 'Z';
    *p = '\0';
    return true;
}
