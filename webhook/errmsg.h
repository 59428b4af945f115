/* errmsg: the one way a function reports why it failed to its caller: a
 * one-line message written into a caller-supplied buffer (char *err,
 * size_t errsz), always NUL-terminated, cut to fit. Functions that fail
 * this way return NULL or false. */
#ifndef WH_ERRMSG_H
#define WH_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>

/* printf-style into err (nothing when err is NULL or errsz is 0). */
void errmsg_set(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same with a va_list, for functions that take a format themselves. */
void errmsg_vset(char *err, size_t errsz, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* "<what>: <strerror(en)>". */
void errmsg_errno(char *err, size_t errsz, const char *what, int en);

#endif
