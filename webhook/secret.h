/* secret: freeing strings that hold credentials (tokens, passwords,
 * private keys) so that their bytes do not stay behind in freed memory. */
#ifndef WH_SECRET_H
#define WH_SECRET_H

/* Overwrites the NUL-terminated `s` with zeros (OPENSSL_cleanse: a store
 * the compiler cannot drop as dead) and frees it. NULL is a no-op. */
void secret_free(char *s);

#endif
