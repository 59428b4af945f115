/* base64: padded standard base64 and unpadded URL-safe base64 over OpenSSL,
 * and the encoder of a growing text with precomputed constants (see base64.h). */
#include "base64.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "secret.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

unsigned char *base64_decode(const char *s, size_t n, int flags, size_t *outlen)
{
    *outlen = 0;
    if (n == 0 || n > INT_MAX / 2)
        return NULL;
    if (!(flags & BASE64_SKIP_SPACE))
        for (size_t i = 0; i < n; i++)
            if (is_space(s[i]))
                return NULL;
    /* at most 3 bytes per 4 characters, plus the NUL */
    size_t cap = n / 4 * 3 + 3 + 1;
    unsigned char *out = malloc(cap);
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    int len = 0, tail = 0;
    bool ok = out && ctx;
    if (ok) {
        EVP_DecodeInit(ctx);
        ok = EVP_DecodeUpdate(ctx, out, &len, (const unsigned char *)s, (int)n) >= 0 &&
             EVP_DecodeFinal(ctx, out + len, &tail) == 1 && len + tail > 0;
    }
    EVP_ENCODE_CTX_free(ctx);
    if (!ok) {
        secret_free_n(out, cap); /* what was decoded may be a secret */
        return NULL;
    }
    len += tail;
    out[len] = '\0';
    *outlen = (size_t)len;
    return out;
}

char *base64_encode(const void *data, size_t n)
{
    if (n > INT_MAX / 4 * 3 - 3)
        return NULL;
    char *out = malloc(4 * ((n + 2) / 3) + 1); /* EVP_EncodeBlock writes the NUL */
    if (out)
        EVP_EncodeBlock((unsigned char *)out, data, (int)n);
    return out;
}

char *base64url_encode(const void *data, size_t n)
{
    char *out = base64_encode(data, n);
    if (!out)
        return NULL;
    size_t len = strlen(out);
    while (len && out[len - 1] == '=')
        out[--len] = '\0';
    for (char *p = out; *p; p++)
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    return out;
}

static bool url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

unsigned char *base64url_decode(const char *s, size_t n, size_t *outlen)
{
    *outlen = 0;
    if (n == 0 || n % 4 == 1 || n > INT_MAX / 2)
        return NULL;
    size_t padded = (n + 3) / 4 * 4;
    char *std = malloc(padded);
    if (!std)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!url_char(s[i])) {
            free(std);
            return NULL;
        }
        std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    }
    memset(std + n, '=', padded - n);
    unsigned char *out = base64_decode(std, padded, 0, outlen);
    secret_free_n(std, padded); /* a token's payload may be a secret */
    return out;
}

/* ---- growing text -------------------------------------------------------- */

/* For a constant met with `a` bytes waiting: the first `skip` bytes
 * complete their group, text[skip..end) is whole groups encoded as `enc`,
 * and text[end..len) waits for the next piece. enc is NULL when the text is
 * too short to complete the group. */
struct base64_const {
    char *text;
    size_t len;
    struct {
        size_t skip, end;
        char *enc;
        size_t enc_len;
    } at[3];
};

/* Encodes data[0..n) at the end of `out`, in one call of EVP_EncodeBlock
 * when n fits an int; a last group of fewer than 3 bytes is padded. */
static bool encode_groups(buf_t *out, const unsigned char *data, size_t n)
{
    while (n) {
        size_t part = n < ((size_t)3 << 28) ? n : ((size_t)3 << 28); /* within an int */
        size_t len = (part + 2) / 3 * 4;
        if (!buf_reserve(out, len)) /* and the NUL EVP_EncodeBlock writes */
            return false;
        EVP_EncodeBlock((unsigned char *)out->data + out->len, data, (int)part);
        out->len += len;
        data += part;
        n -= part;
    }
    return true;
}

base64_const_t *base64_const_new(const char *text, size_t len)
{
    base64_const_t *c = calloc(1, sizeof *c);
    if (!c || !(c->text = malloc(len + 1))) {
        free(c);
        return NULL;
    }
    memcpy(c->text, text, len);
    c->text[len] = '\0';
    c->len = len;
    for (size_t a = 0; a < 3; a++) {
        size_t skip = (3 - a) % 3;
        if (len < skip)
            continue;
        size_t end = skip + (len - skip) / 3 * 3;
        buf_t enc = BUF_INIT;
        if (!encode_groups(&enc, (const unsigned char *)text + skip, end - skip) ||
            !buf_reserve(&enc, 0)) {
            buf_free(&enc);
            base64_const_free(c);
            return NULL;
        }
        c->at[a].skip = skip;
        c->at[a].end = end;
        c->at[a].enc_len = enc.len;
        c->at[a].enc = buf_steal(&enc);
    }
    return c;
}

void base64_const_free(base64_const_t *c)
{
    if (!c)
        return;
    for (size_t a = 0; a < 3; a++)
        free(c->at[a].enc);
    free(c->text);
    free(c);
}

const char *base64_const_text(const base64_const_t *c)
{
    return c->text;
}

size_t base64_const_len(const base64_const_t *c)
{
    return c->len;
}

bool base64_put_const(buf_t *text, size_t *encoded, buf_t *out, const base64_const_t *c)
{
    size_t at = text->len;
    if (!buf_append(text, c->text, c->len))
        return false;
    size_t a = (at - *encoded) % 3;
    if (!c->at[a].enc) /* too short to complete the group: it waits with the rest */
        return !out->oom;
    /* the bytes before it and its first ones end on a whole group */
    size_t run = at + c->at[a].skip - *encoded;
    if (run && !encode_groups(out, (const unsigned char *)text->data + *encoded, run))
        return false;
    *encoded = at + c->at[a].end;
    return buf_append(out, c->at[a].enc, c->at[a].enc_len);
}

bool base64_put_rest(const buf_t *text, size_t *encoded, buf_t *out)
{
    size_t n = text->len - *encoded;
    if (n && !encode_groups(out, (const unsigned char *)text->data + *encoded, n))
        return false;
    *encoded = text->len;
    return buf_reserve(out, 0);
}
