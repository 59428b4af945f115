/* buf: a growable, always NUL-terminated byte buffer.
 *
 * Every append is bounded by the buffer's own accounting; an allocation
 * failure sets `oom` and makes later appends no-ops, so callers may append
 * freely and check once at the end. */
#ifndef WH_BUF_H
#define WH_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct {
    char *data; /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    bool oom;
} buf_t;

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0, false                                                                          \
    }

void buf_free(buf_t *b);
void buf_reset(buf_t *b);
/* The functions below that append do so in place when the room is there
 * (inline: most calls are short texts into a buffer reserved ahead), and
 * through these, which grow the buffer, otherwise. */
bool buf_reserve_grow(buf_t *b, size_t extra);
bool buf_append_grow(buf_t *b, const void *p, size_t n);

static inline bool buf_reserve(buf_t *b, size_t extra)
{
    if (!b->oom && extra < b->cap - b->len) /* cap 0: never */
        return true;
    return buf_reserve_grow(b, extra);
}

static inline bool buf_append(buf_t *b, const void *p, size_t n)
{
    if (b->oom || n >= b->cap - b->len)
        return buf_append_grow(b, p, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static inline bool buf_puts(buf_t *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

static inline bool buf_putc(buf_t *b, char c)
{
    if (b->oom || b->cap - b->len < 2)
        return buf_append_grow(b, &c, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return true;
}
bool buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/* Appends `s` with every control character (below 0x20, 0x7f, the C1
 * controls U+0080-U+009F), every bidirectional control (U+061C,
 * U+200E-U+200F, U+202A-U+202E, U+2066-U+2069) and the line and paragraph
 * separators (U+2028, U+2029) replaced by a space, and every byte that does
 * not start a well-formed UTF-8 sequence by '?': the form used for text
 * that ends up in one-line messages (denials, warnings, errors), which
 * must not break lines or reorder what a reader sees. */
bool buf_put_oneline(buf_t *b, const char *s, size_t n);
/* Length of the well-formed UTF-8 sequence at s[0..n) (1 to 4), or 0 when
 * the bytes there are not one (overlong forms and surrogates included). */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* The code point of the well-formed sequence of `len` bytes at s, when it
 * is one buf_put_oneline replaces beyond ASCII (C1, bidi, U+2028/U+2029);
 * 0 otherwise. */
unsigned utf8_unsafe(const unsigned char *s, size_t len);

/* Whether s[0..n) can be JSON text: well-formed UTF-8 with no control
 * character but tab, newline and carriage return. Sets *bad to the offset
 * of the first offending byte when not. */
bool json_text_ok(const char *s, size_t n, size_t *bad);

/* Hands the data over to the caller (never NULL unless out of memory). */
char *buf_steal(buf_t *b);

#endif
