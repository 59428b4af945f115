/* base64: padded standard base64 over OpenSSL (see base64.h). */
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
