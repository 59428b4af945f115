/* file: bounded, non-blocking reads of small regular files (see file.h). */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"

static char *fail(int fd, char *data, file_status_t *st, file_fail_t why, int en, long long size)
{
    *st = (file_status_t){why, en, size};
    if (fd >= 0)
        close(fd);
    free(data);
    return NULL;
}

char *file_read_status(const char *path, size_t max, size_t *len, file_status_t *st)
{
    *len = 0;
    *st = (file_status_t){FILE_OK, 0, 0};
    /* O_NONBLOCK: opening a FIFO with no writer must not wait. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return fail(fd, NULL, st, FILE_ERR_OPEN, errno, 0);
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return fail(fd, NULL, st, FILE_ERR_INSPECT, errno, 0);
    if (S_ISDIR(sb.st_mode))
        return fail(fd, NULL, st, FILE_ERR_DIRECTORY, 0, 0);
    if (!S_ISREG(sb.st_mode))
        return fail(fd, NULL, st, FILE_ERR_NOT_REGULAR, 0, 0);
    if ((unsigned long long)sb.st_size > max)
        return fail(fd, NULL, st, FILE_ERR_TOO_LARGE, 0, (long long)sb.st_size);
    /* up to the limit plus one byte, in case the file grew since fstat */
    char *data = malloc(max + 1);
    if (!data)
        return fail(fd, NULL, st, FILE_ERR_NO_MEMORY, 0, 0);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, data + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return fail(fd, data, st, FILE_ERR_READ, errno, 0);
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max)
            return fail(fd, data, st, FILE_ERR_TOO_LARGE, 0, -1);
    }
    close(fd);
    data[n] = '\0';
    *len = n;
    return data;
}

char *file_read(const char *path, size_t max, size_t *len, char *err, size_t errsz)
{
    file_status_t st;
    char *data = file_read_status(path, max, len, &st);
    switch (st.fail) {
    case FILE_OK:
        break;
    case FILE_ERR_OPEN:
        errmsg_errno(err, errsz, "cannot open", st.errnum);
        break;
    case FILE_ERR_INSPECT:
        errmsg_errno(err, errsz, "cannot inspect", st.errnum);
        break;
    case FILE_ERR_DIRECTORY:
        errmsg_set(err, errsz, "is a directory, not a file");
        break;
    case FILE_ERR_NOT_REGULAR:
        errmsg_set(err, errsz, "is not a regular file");
        break;
    case FILE_ERR_TOO_LARGE:
        if (st.size >= 0)
            errmsg_set(err, errsz, "is larger than %zu bytes (%lld)", max, st.size);
        else
            errmsg_set(err, errsz, "is larger than %zu bytes", max);
        break;
    case FILE_ERR_NO_MEMORY:
        errmsg_set(err, errsz, "out of memory");
        break;
    case FILE_ERR_READ:
        errmsg_errno(err, errsz, "cannot read", st.errnum);
        break;
    }
    return data;
}
