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

char *file_read(const char *path, size_t max, size_t *len, char *err, size_t errsz)
{
    *len = 0;
    /* O_NONBLOCK: opening a FIFO with no writer must not wait. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        errmsg_errno(err, errsz, "cannot open", errno);
        return NULL;
    }
    struct stat st;
    char *data = NULL;
    if (fstat(fd, &st) != 0) {
        errmsg_errno(err, errsz, "cannot inspect", errno);
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        errmsg_set(err, errsz, "is a directory, not a file");
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        errmsg_set(err, errsz, "is not a regular file");
        goto fail;
    }
    if ((unsigned long long)st.st_size > max) {
        errmsg_set(err, errsz, "is larger than %zu bytes (%lld)", max, (long long)st.st_size);
        goto fail;
    }
    /* up to the limit plus one byte, in case the file grew since fstat */
    if (!(data = malloc(max + 1))) {
        errmsg_set(err, errsz, "out of memory");
        goto fail;
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, data + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            errmsg_errno(err, errsz, "cannot read", errno);
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) {
            errmsg_set(err, errsz, "is larger than %zu bytes", max);
            goto fail;
        }
    }
    close(fd);
    data[n] = '\0';
    *len = n;
    return data;
fail:
    close(fd);
    free(data);
    return NULL;
}
