/* log: JSON log lines, escaped, one write(2) per line (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct log_line {
    buf_t b;
    bool in_array;
    bool array_empty;
    bool active;
};

static atomic_int g_level = LOG_INFO;
static atomic_int g_fd = 2;
static _Thread_local struct log_line tl_line;
/* Lines of an event-loop thread wait here until log_flush(): one write per
 * loop turn instead of one per request. */
static _Thread_local bool tl_buffered;
static _Thread_local buf_t tl_pending;

#define PENDING_FLUSH_BYTES (64 * 1024)

void log_set_level(log_level_t level)
{
    atomic_store_explicit(&g_level, (int)level, memory_order_relaxed);
}

bool log_enabled(log_level_t level)
{
    return (int)level >= atomic_load_explicit(&g_level, memory_order_relaxed);
}

void log_set_fd(int fd)
{
    atomic_store_explicit(&g_fd, fd, memory_order_relaxed);
}

const char *log_level_name(log_level_t level)
{
    switch (level) {
    case LOG_DEBUG:
        return "debug";
    case LOG_INFO:
        return "info";
    case LOG_WARN:
        return "warn";
    case LOG_ERROR:
        return "error";
    }
    return "info";
}

/* Whether any byte of w needs more than a copy in a JSON string: below
 * 0x20, 0x7f and above, '"' or '\\'. Exact as a whole (a borrow or carry
 * only ever marks a byte above one that is marked anyway). */
#define ONES  0x0101010101010101u
#define HIGHS 0x8080808080808080u
static inline uint64_t has_zero(uint64_t x)
{
    return (x - ONES) & ~x & HIGHS;
}
static inline uint64_t not_plain(uint64_t w)
{
    return ((w | (w - 0x20 * ONES) | (w + ONES)) & HIGHS) | has_zero(w ^ ('"' * ONES)) |
           has_zero(w ^ ('\\' * ONES));
}

/* 1 for the bytes a JSON string takes as they are: printable ASCII but '"'
 * and '\\'. */
static const unsigned char k_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static inline bool plain(unsigned char c)
{
    return k_plain[c];
}

/* The bytes log_json_string writes for s[0..n) at most: quotes, "...",
 * and 6 for each byte (\u00XX); SIZE_MAX when that does not fit a size. */
static size_t escaped_max(size_t n)
{
    return n > (SIZE_MAX / 2 - 8) / 6 ? SIZE_MAX : 6 * n + 5;
}

/* One byte or sequence that is not plain at p[i] (i < n), escaped at o;
 * advances *i. Returns NULL for a sequence split by the cut (the end). */
static char *put_special(char *o, const unsigned char *p, size_t *i, size_t n, bool cut)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = p[*i];
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
        *o++ = '\\';
        *o++ = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
        ++*i;
        return o;
    }
    unsigned cp = c;
    size_t len = 1;
    if (c >= 0x80) {
        len = utf8_seq_len(p + *i, n - *i);
        if (len == 0 && cut && n - *i < 4)
            return NULL; /* a sequence split by the cut: drop its tail */
        cp = len == 0 ? 0xfffd : utf8_unsafe(p + *i, len);
        if (cp == 0) { /* well-formed and safe: as it is */
            memcpy(o, p + *i, len);
            *i += len;
            return o + len;
        }
        if (len == 0)
            len = 1;
    }
    /* controls (C0, DEL, C1), bidi, separators, and U+FFFD for bad bytes */
    o[0] = '\\', o[1] = 'u';
    o[2] = hex[cp >> 12 & 15], o[3] = hex[cp >> 8 & 15], o[4] = hex[cp >> 4 & 15];
    o[5] = hex[cp & 15];
    *i += len;
    return o + 6;
}

/* Writes s[0..n) as log_json_string does, at o (escaped_max(n) bytes of
 * room); returns the end. Printable ASCII is copied 8 bytes at a time. */
static char *put_escaped(char *o, const unsigned char *p, size_t n, bool cut)
{
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, sizeof w);
            if (not_plain(w))
                break;
            memcpy(o, &w, sizeof w);
            o += 8;
            i += 8;
        }
        while (i < n && plain(p[i]))
            *o++ = (char)p[i++];
        if (i < n) {
            char *next = put_special(o, p, &i, n, cut);
            if (!next)
                break;
            o = next;
        }
    }
    if (cut) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o++ = '"';
    return o;
}
/* Room for `extra` more bytes (and the NUL) at the end of b; NULL when out
 * of memory. */
static char *room(buf_t *b, size_t extra)
{
    if (extra == SIZE_MAX || !buf_reserve(b, extra))
        return NULL;
    return b->data + b->len;
}

/* The end of what was written at the end of b, up to o. */
static void wrote(buf_t *b, char *o)
{
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
}

bool log_json_string(buf_t *b, const char *s, size_t n, size_t max)
{
    bool cut = false;
    if (max > 0 && n > max) {
        n = max;
        cut = true;
    }
    char *o = room(b, escaped_max(n));
    if (!o) {
        b->oom = true;
        return false;
    }
    wrote(b, put_escaped(o, (const unsigned char *)s, n, cut));
    return true;
}

/* Writes p[0..n) to the log descriptor; logging never fails the caller. */
static void write_all(const char *p, size_t n)
{
    int fd = atomic_load_explicit(&g_fd, memory_order_relaxed);
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

void log_buffer_lines(bool on)
{
    if (!on)
        log_flush();
    tl_buffered = on;
}

void log_flush(void)
{
    if (tl_pending.len)
        write_all(tl_pending.data, tl_pending.len);
    buf_reset(&tl_pending);
    tl_pending.oom = false;
    if (tl_pending.cap > 4 * PENDING_FLUSH_BYTES)
        buf_free(&tl_pending);
}

/* "2006-01-02T15:04:05" for the second `sec` (the date is the same for a
 * whole second, so a thread formats it once per second); *known: the
 * time is known (else the zero date, as when the clock fails). */
static const char *second_text(time_t sec, bool *known)
{
    static _Thread_local struct {
        bool set;
        time_t sec;
        char text[20];
    } cache;
    if (*known && cache.set && cache.sec == sec)
        return cache.text;
    struct tm tm;
    if (!*known || gmtime_r(&sec, &tm) == NULL) {
        memset(&tm, 0, sizeof tm);
        *known = false;
    }
    int year = tm.tm_year + 1900;
    int fields[] = {year / 100, year % 100, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min,  tm.tm_sec};
    static const char seps[] = {0, 0, '-', '-', 'T', ':', ':'};
    size_t n = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (seps[i])
            cache.text[n++] = seps[i];
        int f = fields[i] < 0 ? 0 : fields[i] % 100;
        cache.text[n++] = (char)('0' + f / 10);
        cache.text[n++] = (char)('0' + f % 10);
    }
    cache.text[n] = '\0';
    cache.set = *known;
    cache.sec = sec;
    return cache.text;
}

/* Appends the literal `s` (n bytes) at o; returns the end. */
static char *put_lit(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}
#define PUT_LIT(o, s) put_lit(o, s, sizeof s - 1)

log_line_t *log_begin(log_level_t level, const char *msg)
{
    if (!log_enabled(level))
        return NULL;
    struct log_line *l = &tl_line;
    buf_reset(&l->b);
    l->b.oom = false;
    l->in_array = false;
    l->active = true;

    /* 2006-01-02T15:04:05.000Z, without printf on every line */
    struct timespec ts;
    bool known = clock_gettime(CLOCK_REALTIME, &ts) == 0;
    const char *second = second_text(known ? ts.tv_sec : 0, &known);
    long ms = known ? ts.tv_nsec / 1000000 : 0;
    const char *name = log_level_name(level);
    size_t name_len = strlen(name), msg_len = msg ? strlen(msg) : 0;
    bool cut = msg_len > LOG_MAX_VALUE;
    char *o = room(&l->b, 64 + escaped_max(cut ? LOG_MAX_VALUE : msg_len));
    if (!o)
        return l;
    o = PUT_LIT(o, "{\"ts\":\"");
    o = put_lit(o, second, 19);
    *o++ = '.';
    *o++ = (char)('0' + ms / 100);
    *o++ = (char)('0' + ms / 10 % 10);
    *o++ = (char)('0' + ms % 10);
    o = PUT_LIT(o, "Z\",\"level\":\"");
    o = put_lit(o, name, name_len);
    o = PUT_LIT(o, "\",\"msg\":");
    o = put_escaped(o, (const unsigned char *)(msg ? msg : ""), cut ? LOG_MAX_VALUE : msg_len, cut);
    wrote(&l->b, o);
    return l;
}

/* Starts a field: ",<key>:" (the key cut at 128 bytes), with room after it
 * for `value_max` bytes. NULL when the line cannot take a field. */
static char *put_key(log_line_t *l, const char *key, size_t value_max)
{
    if (!l || !l->active || l->in_array)
        return NULL;
    size_t n = strlen(key);
    bool cut = n > 128;
    n = cut ? 128 : n;
    char *o = room(&l->b, escaped_max(n) + 2 + value_max);
    if (!o)
        return NULL;
    *o++ = ',';
    o = put_escaped(o, (const unsigned char *)key, n, cut);
    *o++ = ':';
    return o;
}

/* A string value (or null) at o, cut at LOG_MAX_VALUE; `room` must be
 * value_room(n) bytes. */
static size_t value_room(size_t n)
{
    return escaped_max(n > LOG_MAX_VALUE ? LOG_MAX_VALUE : n);
}
static char *put_value(char *o, const char *val, size_t n)
{
    if (val == NULL)
        return PUT_LIT(o, "null");
    bool cut = n > LOG_MAX_VALUE;
    return put_escaped(o, (const unsigned char *)val, cut ? LOG_MAX_VALUE : n, cut);
}

void log_strn(log_line_t *l, const char *key, const char *val, size_t n)
{
    char *o = put_key(l, key, value_room(val ? n : 0));
    if (o)
        wrote(&l->b, put_value(o, val, n));
}

void log_str(log_line_t *l, const char *key, const char *val)
{
    log_strn(l, key, val, val ? strlen(val) : 0);
}

/* Decimal digits of v, written backwards into the end of buf; returns the start. */
static char *put_digits(char *end, unsigned long long v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* v in decimal (with a '-' when negative) at o; returns the end. */
static char *put_number(char *o, unsigned long long mag, bool negative)
{
    char digits[24];
    char *p = put_digits(digits + sizeof digits, mag);
    if (negative)
        *--p = '-';
    return put_lit(o, p, (size_t)(digits + sizeof digits - p));
}

void log_int(log_line_t *l, const char *key, long long v)
{
    char *o = put_key(l, key, 24);
    unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    if (o)
        wrote(&l->b, put_number(o, mag, v < 0));
}

void log_uint(log_line_t *l, const char *key, unsigned long long v)
{
    char *o = put_key(l, key, 24);
    if (o)
        wrote(&l->b, put_number(o, v, false));
}

void log_bool(log_line_t *l, const char *key, bool v)
{
    char *o = put_key(l, key, 5);
    if (o)
        wrote(&l->b, v ? PUT_LIT(o, "true") : PUT_LIT(o, "false"));
}

void log_array_begin(log_line_t *l, const char *key)
{
    char *o = put_key(l, key, 1);
    if (!o)
        return;
    *o++ = '[';
    wrote(&l->b, o);
    l->in_array = true;
    l->array_empty = true;
}

void log_array_str(log_line_t *l, const char *val)
{
    if (!l || !l->active || !l->in_array)
        return;
    size_t n = val ? strlen(val) : 0;
    char *o = room(&l->b, 1 + value_room(n));
    if (!o)
        return;
    if (!l->array_empty)
        *o++ = ',';
    l->array_empty = false;
    wrote(&l->b, put_value(o, val, n));
}

void log_array_end(log_line_t *l)
{
    if (!l || !l->active || !l->in_array)
        return;
    buf_putc(&l->b, ']');
    l->in_array = false;
}

void log_end(log_line_t *l)
{
    if (!l || !l->active)
        return;
    l->active = false;
    if (l->in_array)
        log_array_end(l);
    buf_puts(&l->b, "}\n");
    if (l->b.oom)
        return; /* nothing sensible to write */
    if (tl_buffered && !tl_pending.oom) {
        buf_append(&tl_pending, l->b.data, l->b.len);
        if (tl_pending.len >= PENDING_FLUSH_BYTES)
            log_flush();
    } else {
        write_all(l->b.data, l->b.len);
    }
    /* keep the buffer, but do not let one huge line pin memory forever */
    if (l->b.cap > 256 * 1024)
        buf_free(&l->b);
}

void log_msg(log_level_t level, const char *msg, const char *error)
{
    log_line_t *l = log_begin(level, msg);
    if (error)
        log_str(l, "error", error);
    log_end(l);
}

void log_thread_cleanup(void)
{
    log_flush();
    buf_free(&tl_pending);
    tl_buffered = false;
    buf_free(&tl_line.b);
}
