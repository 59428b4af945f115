/* fuzzutil: helpers shared by the libFuzzer targets: copies of the input
 * (NUL-terminated or exact) and an abort that names the broken property. */
#ifndef WH_FUZZUTIL_H
#define WH_FUZZUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A heap copy of data[0..size) followed by a NUL (the bytes themselves may
 * hold NULs). Exact size, so ASan sees any read past the end. */
static inline char *fuzz_dup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A heap copy of exactly data[0..size), with no NUL after it: for parsers
 * that take a length and must not read past it. */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    return s;
}

/* An input broke a property the module promises: report it as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
