/* log: structured JSON log lines on stderr (or another descriptor).
 *
 * One line is one JSON object with "ts", "level" and "msg" first, then the
 * fields the caller adds. Every string value is escaped (quotes, backslash,
 * control characters, invalid UTF-8), so text taken from requests can never
 * break a line or forge a field. A line is built in a per-thread buffer that
 * is reused, and written with a single write(2): lines from several threads
 * never interleave and the hot path takes no lock. */
#ifndef WH_LOG_H
#define WH_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "loglevel.h"

/* Longest string value kept in a line; longer ones are cut and marked. */
#define LOG_MAX_VALUE 4096

void log_set_level(log_level_t level);
bool log_enabled(log_level_t level);
/* Where lines go (default 2, stderr). */
void log_set_fd(int fd);
const char *log_level_name(log_level_t level); /* "debug", "info", "warn", "error" */

typedef struct log_line log_line_t;

/* Starts a line; returns NULL when `level` is below the configured level
 * (every other function accepts NULL and does nothing then). */
log_line_t *log_begin(log_level_t level, const char *msg);
void log_str(log_line_t *l, const char *key, const char *val); /* NULL val: null */
void log_strn(log_line_t *l, const char *key, const char *val, size_t n);
void log_int(log_line_t *l, const char *key, long long v);
void log_uint(log_line_t *l, const char *key, unsigned long long v);
void log_bool(log_line_t *l, const char *key, bool v);
/* An array of strings: log_array_begin, log_array_str..., log_array_end. */
void log_array_begin(log_line_t *l, const char *key);
void log_array_str(log_line_t *l, const char *val);
void log_array_end(log_line_t *l);
/* Finishes the line and writes it. */
void log_end(log_line_t *l);

/* A line with only a message (and an optional "error" text). */
void log_msg(log_level_t level, const char *msg, const char *error);

/* Appends `s` (n bytes) as a JSON string literal, quotes included, cut to
 * `max` bytes of input (0: no limit) with a trailing "..." marker when cut.
 * Invalid UTF-8 becomes U+FFFD. Control characters (C0, DEL, C1), bidi
 * controls and U+2028/U+2029 are written as \uXXXX escapes, never as
 * such: a log line stays one line and reads the same in any viewer. */
bool log_json_string(buf_t *b, const char *s, size_t n, size_t max);

/* On an event-loop thread: keep this thread's lines until log_flush(),
 * which the loop calls after each turn (and at most 64 KiB wait). Off:
 * flush and write each line at once again. */
void log_buffer_lines(bool on);
void log_flush(void);

/* Flushes and frees the calling thread's buffers (threads call it before exiting). */
void log_thread_cleanup(void);

#endif
