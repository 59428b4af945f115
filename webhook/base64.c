/* base64: padded standard base64 and unpadded URL-safe base64 over OpenSSL
 * (see base64.h). */
#include "base64.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

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
        if (out) /* what was decoded may be a secret */
            memset(out, 0, cap);
        free(out);
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
    memset(std, 0, padded); /* a token's payload may be a secret */
    free(std);
    return out;
}
