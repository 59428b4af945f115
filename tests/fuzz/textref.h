/* textref: the plain byte-by-byte reference for json_text_ok (buf.h),
 * written from the Unicode table of well-formed UTF-8 byte sequences, for
 * the fuzz target and the unit tests that compare the two. */
#ifndef WH_TEXTREF_H
#define WH_TEXTREF_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..n) is well-formed UTF-8 with no control character below
 * 0x20 but tab, newline and carriage return; *bad: the first offending
 * byte (the start of a sequence that is not well-formed). */
static inline bool textref_json_text_ok(const unsigned char *s, size_t n, size_t *bad)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], lo = 0x80, hi = 0xBF;
        size_t len;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            len = 0;
        else if (c < 0x80)
            len = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3, lo = c == 0xE0 ? 0xA0 : lo, hi = c == 0xED ? 0x9F : hi;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4, lo = c == 0xF0 ? 0x90 : lo, hi = c == 0xF4 ? 0x8F : hi;
        else
            len = 0;
        bool ok = len > 0 && n - i >= len && (len == 1 || (s[i + 1] >= lo && s[i + 1] <= hi));
        for (size_t j = 2; ok && j < len; j++)
            ok = (s[i + j] & 0xC0) == 0x80;
        if (!ok) {
            *bad = i;
            return false;
        }
        i += len;
    }
    return true;
}

#endif
