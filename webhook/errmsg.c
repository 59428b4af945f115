/* errmsg: one-line error messages into caller buffers (see errmsg.h). */
#include "errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void errmsg_vset(char *err, size_t errsz, const char *fmt, va_list ap)
{
    if (!err || errsz == 0)
        return;
    if (vsnprintf(err, errsz, fmt, ap) < 0)
        err[0] = '\0';
}

void errmsg_set(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(err, errsz, fmt, ap);
    va_end(ap);
}

void errmsg_errno(char *err, size_t errsz, const char *what, int en)
{
    char eb[128];
    if (strerror_r(en, eb, sizeof eb) != 0)
        snprintf(eb, sizeof eb, "error %d", en);
    errmsg_set(err, errsz, "%s: %s", what, eb);
}
