/* jsonout: the JSON string escaper (see jsonout.h). */
#include "jsonout.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* The bytes of `x` that are below 0x20, '"' or '\\' have their high bit set
 * in the result, and so may bytes above the first of them (a borrow runs
 * upwards); the lowest bit set is always the first such byte. */
static inline uint64_t escape_mask(uint64_t x)
{
    uint64_t low = (x - ONES * 0x20) & ~x;
    uint64_t q = x ^ (ONES * '"'), bs = x ^ (ONES * '\\');
    q = (q - ONES) & ~q;
    bs = (bs - ONES) & ~bs;
    return (low | q | bs) & HIGHS;
}

/* How many bytes of a word with `mask` != 0 come before the first byte
 * that needs an escape (0 where the byte order does not tell: the byte loop
 * then finds it). */
static inline size_t plain_prefix(uint64_t mask)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (size_t)__builtin_ctzll(mask) >> 3;
#else
    (void)mask;
    return 0;
#endif
}

static inline bool byte_needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* Writes the escape of `c` (one that needs one) at `o`; its length. */
static size_t put_escape(char *o, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    o[0] = '\\';
    switch (c) {
    case '"':
    case '\\':
        o[1] = (char)c;
        return 2;
    case '\b':
        o[1] = 'b';
        return 2;
    case '\f':
        o[1] = 'f';
        return 2;
    case '\n':
        o[1] = 'n';
        return 2;
    case '\r':
        o[1] = 'r';
        return 2;
    case '\t':
        o[1] = 't';
        return 2;
    default:
        o[1] = 'u', o[2] = '0', o[3] = '0', o[4] = hex[c >> 4], o[5] = hex[c & 15];
        return 6;
    }
}

/* The escaper itself, with the quotes around when `quoted`. The room left
 * in the buffer always holds what is left of the input unescaped, the
 * closing quote and the NUL; an escape makes more room first when needed.
 * Plain bytes go 16 (with SSE2) or 8 at a time: each block is stored
 * before it is looked at (the room is there), and the output only advances
 * past its plain bytes. */
static bool put_chars(buf_t *b, const char *s, size_t n, bool quoted)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t q = quoted ? 1 : 0;
    if (b->oom || b->cap - b->len < n + 2 * q + 1) {
        if (!buf_reserve(b, n + 2 * q))
            return false;
    }
    char *o = b->data + b->len, *lim = b->data + b->cap;
    if (quoted)
        *o++ = '"';
    for (;;) {
#if defined(__SSE2__)
        /* 16 at a time: a byte needs an escape where it is '"', '\\' or
         * its unsigned minimum with 0x1f is itself */
        while (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            _mm_storeu_si128((__m128i *)(void *)o, x);
            __m128i e = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x),
                                     _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                                  _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
            unsigned m = (unsigned)_mm_movemask_epi8(e);
            if (m) {
                size_t k = (size_t)__builtin_ctz(m);
                p += k, o += k;
                goto escape;
            }
            p += 16, o += 16;
        }
#endif
        while (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, sizeof x);
            memcpy(o, &x, sizeof x);
            uint64_t m = escape_mask(x);
            if (m) {
                size_t k = plain_prefix(m);
                p += k, o += k;
                break;
            }
            p += 8, o += 8;
        }
#if defined(__SSE2__)
    escape:
#endif
        while (p < end && !byte_needs_escape(*p))
            *o++ = (char)*p++;
        if (p == end)
            break;
        size_t need = 6 + (size_t)(end - p) + q; /* the escape, the rest, the quote */
        if ((size_t)(lim - o) < need + 1) {
            b->len = (size_t)(o - b->data);
            if (!buf_reserve(b, need))
                return false;
            o = b->data + b->len, lim = b->data + b->cap;
        }
        o += put_escape(o, *p++);
    }
    if (quoted)
        *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return true;
}

bool json_put_chars(buf_t *b, const char *s, size_t n)
{
    return put_chars(b, s, n, false);
}

bool json_put_string(buf_t *b, const char *s, size_t n)
{
    return put_chars(b, s, n, true);
}

bool json_put_str(buf_t *b, const char *s)
{
    return put_chars(b, s, strlen(s), true);
}
