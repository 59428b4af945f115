/* secret: freeing strings that hold credentials (tokens, passwords,
 * private keys) so that their bytes do not stay behind in freed memory. */
#ifndef WH_SECRET_H
#define WH_SECRET_H

#include <stddef.h>

#include "buf.h"

/* Overwrites the NUL-terminated `s` with zeros (OPENSSL_cleanse: a store
 * the compiler cannot drop as dead) and frees it. NULL is a no-op. */
void secret_free(char *s);
/* The same for the n bytes at p (a secret that may hold NUL bytes). */
void secret_free_n(void *p, size_t n);
/* The same for a buffer's bytes (a request body with a token, an answer
 * with one); the buffer is left empty and can be used again. */
void secret_buf_free(buf_t *b);

#endif
