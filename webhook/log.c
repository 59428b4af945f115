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

log_level_t log_get_level(void)
{
    return (log_level_t)atomic_load_explicit(&g_level, memory_order_relaxed);
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

bool log_json_string(buf_t *b, const char *s, size_t n, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    bool cut = false;
    if (max > 0 && n > max) {
        n = max;
        cut = true;
    }
    buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        /* copy plain runs in one append */
        while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            buf_append(b, p + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            buf_append(b, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            switch (c) {
            case '\n':
                buf_append(b, "\\n", 2);
                break;
            case '\r':
                buf_append(b, "\\r", 2);
                break;
            case '\t':
                buf_append(b, "\\t", 2);
                break;
            default:
                buf_append(b, e, 6);
            }
            i++;
        } else {
            size_t len = utf8_seq_len(p + i, n - i);
            if (len == 0) {
                if (cut && n - i < 4 && n == max) {
                    /* a sequence split by the cut: drop its tail */
                    break;
                }
                buf_append(b, "\\ufffd", 6);
                i++;
            } else if (utf8_unsafe(p + i, len)) {
                /* C1, bidi and separators: escaped like the C0 controls */
                char e[7];
                snprintf(e, sizeof e, "\\u%04x", utf8_unsafe(p + i, len));
                buf_append(b, e, 6);
                i += len;
            } else {
                buf_append(b, p + i, len);
                i += len;
            }
        }
    }
    if (cut)
        buf_append(b, "...", 3);
    return buf_putc(b, '"');
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

log_line_t *log_begin(log_level_t level, const char *msg)
{
    if (!log_enabled(level))
        return NULL;
    struct log_line *l = &tl_line;
    buf_reset(&l->b);
    l->b.oom = false;
    l->in_array = false;
    l->active = true;

    struct timespec ts;
    struct tm tm;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL) {
        memset(&tm, 0, sizeof tm);
        ts.tv_nsec = 0;
    }
    /* 2006-01-02T15:04:05.000Z, without printf on every line */
    char tbuf[24];
    int year = tm.tm_year + 1900;
    int fields[] = {year / 100, year % 100, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min,  tm.tm_sec};
    static const char seps[] = {0, 0, '-', '-', 'T', ':', ':'};
    size_t n = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (seps[i])
            tbuf[n++] = seps[i];
        int f = fields[i] < 0 ? 0 : fields[i] % 100;
        tbuf[n++] = (char)('0' + f / 10);
        tbuf[n++] = (char)('0' + f % 10);
    }
    long ms = ts.tv_nsec / 1000000;
    tbuf[n++] = '.';
    tbuf[n++] = (char)('0' + ms / 100);
    tbuf[n++] = (char)('0' + ms / 10 % 10);
    tbuf[n++] = (char)('0' + ms % 10);
    tbuf[n++] = 'Z';
    buf_puts(&l->b, "{\"ts\":\"");
    buf_append(&l->b, tbuf, n);
    buf_puts(&l->b, "\",\"level\":\"");
    buf_puts(&l->b, log_level_name(level));
    buf_puts(&l->b, "\",\"msg\":");
    log_json_string(&l->b, msg ? msg : "", msg ? strlen(msg) : 0, LOG_MAX_VALUE);
    return l;
}

static void put_key(log_line_t *l, const char *key)
{
    buf_putc(&l->b, ',');
    log_json_string(&l->b, key, strlen(key), 128);
    buf_putc(&l->b, ':');
}

void log_strn(log_line_t *l, const char *key, const char *val, size_t n)
{
    if (!l || !l->active || l->in_array)
        return;
    put_key(l, key);
    if (val == NULL)
        buf_puts(&l->b, "null");
    else
        log_json_string(&l->b, val, n, LOG_MAX_VALUE);
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

void log_int(log_line_t *l, const char *key, long long v)
{
    if (!l || !l->active || l->in_array)
        return;
    put_key(l, key);
    char digits[24];
    unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    char *p = put_digits(digits + sizeof digits, mag);
    if (v < 0)
        *--p = '-';
    buf_append(&l->b, p, (size_t)(digits + sizeof digits - p));
}

void log_uint(log_line_t *l, const char *key, unsigned long long v)
{
    if (!l || !l->active || l->in_array)
        return;
    put_key(l, key);
    char digits[24];
    char *p = put_digits(digits + sizeof digits, v);
    buf_append(&l->b, p, (size_t)(digits + sizeof digits - p));
}

void log_bool(log_line_t *l, const char *key, bool v)
{
    if (!l || !l->active || l->in_array)
        return;
    put_key(l, key);
    buf_puts(&l->b, v ? "true" : "false");
}

void log_array_begin(log_line_t *l, const char *key)
{
    if (!l || !l->active || l->in_array)
        return;
    put_key(l, key);
    buf_putc(&l->b, '[');
    l->in_array = true;
    l->array_empty = true;
}

void log_array_str(log_line_t *l, const char *val)
{
    if (!l || !l->active || !l->in_array)
        return;
    if (!l->array_empty)
        buf_putc(&l->b, ',');
    l->array_empty = false;
    if (val == NULL)
        buf_puts(&l->b, "null");
    else
        log_json_string(&l->b, val, strlen(val), LOG_MAX_VALUE);
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
