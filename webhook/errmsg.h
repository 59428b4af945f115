/* errmsg: the one way a function reports why it failed to its caller: a
 * one-line message written into a caller-supplied buffer (char *err,
 * size_t errsz), always NUL-terminated, cut to fit. Functions that fail
 * this way return NULL or false. */
#ifndef WH_ERRMSG_H
#define WH_ERRMSG_H

#include <stddef.h>

/* printf-style into err (nothing when err is NULL or errsz is 0). */
void errmsg_set(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "<what>: <strerror(en)>". */
void errmsg_errno(char *err, size_t errsz, const char *what, int en);

#endif
