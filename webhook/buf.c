/* buf: growable NUL-terminated byte buffer (see buf.h). */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void buf_free(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

bool buf_reserve_grow(buf_t *b, size_t extra)
{
    if (b->oom)
        return false;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    bool fresh = b->data == NULL;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    if (fresh)
        b->data[0] = '\0';
    return true;
}

bool buf_append_grow(buf_t *b, const void *p, size_t n)
{
    if (!buf_reserve_grow(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0 || !buf_reserve(b, (size_t)n))
        return false;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return true;
}

bool buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return ok;
}

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = s[0], min;
    size_t k;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        k = 1, min = 0x80, c &= 0x1F;
    else if ((c & 0xF0) == 0xE0)
        k = 2, min = 0x800, c &= 0x0F;
    else if ((c & 0xF8) == 0xF0)
        k = 3, min = 0x10000, c &= 0x07;
    else
        return 0;
    if (n <= k)
        return 0;
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[j] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return k + 1;
}

/* Whether any of the 8 bytes of w is below 0x20 or 0x80 and above. A byte
 * below 0x20 (the lowest such one, which no borrow reaches) has its top
 * bit set by the subtraction; bytes 0x20-0x7f, with no borrow from below,
 * keep it clear; the bytes from 0x80 have it set in w itself. */
#define TEXT_ONES  0x0101010101010101u
#define TEXT_HIGHS 0x8080808080808080u
static inline uint64_t not_plain(uint64_t w)
{
    return (w | (w - 0x20 * TEXT_ONES)) & TEXT_HIGHS;
}

bool json_text_ok(const char *text, size_t n, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        /* runs of printable ASCII (nearly all of a document), 64 (with
         * SSE2), 32 then 8 bytes at a time: stop at any byte >= 0x80 or
         * < 0x20 */
#if defined(__SSE2__)
        /* as signed bytes, those from 0x80 are negative: both kinds are
         * below 0x20 */
        const __m128i lim = _mm_set1_epi8(0x20);
        while (n - i >= 64) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));
            __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 32));
            __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 48));
            __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(a, lim), _mm_cmplt_epi8(b, lim)),
                                     _mm_or_si128(_mm_cmplt_epi8(c, lim), _mm_cmplt_epi8(d, lim)));
            if (_mm_movemask_epi8(m))
                break;
            i += 64;
        }
#endif
        while (n - i >= 32) {
            uint64_t a, b, c, d;
            memcpy(&a, s + i, 8);
            memcpy(&b, s + i + 8, 8);
            memcpy(&c, s + i + 16, 8);
            memcpy(&d, s + i + 24, 8);
            if (not_plain(a) | not_plain(b) | not_plain(c) | not_plain(d))
                break;
            i += 32;
        }
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, sizeof w);
            if (not_plain(w))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = s[i];
        size_t k =
            c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ? utf8_seq_len(s + i, n - i) : 0;
        if (k == 0) {
            *bad = i;
            return false;
        }
        i += k;
    }
    return true;
}

unsigned utf8_unsafe(const unsigned char *s, size_t len)
{
    unsigned cp;
    if (len == 2)
        cp = ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
    else if (len == 3)
        cp = ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
    else
        return 0;
    bool c1 = cp >= 0x80 && cp <= 0x9F;
    bool bidi = cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
                (cp >= 0x2066 && cp <= 0x2069);
    bool separator = cp == 0x2028 || cp == 0x2029;
    return c1 || bidi || separator ? cp : 0;
}

bool buf_put_oneline(buf_t *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return false;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len(u + i, n - i);
        if (k == 0) {
            b->data[b->len++] = '?';
            i++;
        } else if (k == 1) {
            b->data[b->len++] = (u[i] < 0x20 || u[i] == 0x7f) ? ' ' : (char)u[i];
            i++;
        } else if (utf8_unsafe(u + i, k)) {
            b->data[b->len++] = ' ';
            i += k;
        } else {
            memcpy(b->data + b->len, s + i, k);
            b->len += k;
            i += k;
        }
    }
    b->data[b->len] = '\0';
    return true;
}

char *buf_steal(buf_t *b)
{
    if (b->oom) {
        buf_free(b);
        return NULL;
    }
    if (!b->data && !buf_reserve(b, 0))
        return NULL;
    char *p = b->data;
    p[b->len] = '\0';
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
