/* secret: wiping and freeing credentials (see secret.h). */
#include "secret.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void secret_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void secret_free_n(void *p, size_t n)
{
    if (p) {
        OPENSSL_cleanse(p, n);
        free(p);
    }
}

void secret_buf_free(buf_t *b)
{
    secret_free_n(b->data, b->len);
    *b = (buf_t)BUF_INIT;
}
