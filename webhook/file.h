/* file: reading a small file whole, with a size bound, without ever
 * blocking on something that is not a regular file (a FIFO, a device, a
 * directory). Every file the webhook reads (configuration, certificates,
 * keys, tokens, kubeconfig, Docker config) goes through here. */
#ifndef WH_FILE_H
#define WH_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* Reads `path` into a NUL-terminated buffer (caller frees) of at most `max`
 * bytes, its length in *len. NULL on failure, with a one-line reason in
 * `err` that says what is wrong with the file ("cannot open: No such file
 * or directory", "is not a regular file", "is larger than N bytes", ...),
 * without the path (the caller names the file). */
char *file_read(const char *path, size_t max, size_t *len, char *err, size_t errsz);

/* Why a read failed, for callers that word the reason themselves. */
typedef enum {
    FILE_OK = 0,
    FILE_ERR_OPEN,        /* open(2) failed: errnum */
    FILE_ERR_INSPECT,     /* fstat(2) failed: errnum */
    FILE_ERR_DIRECTORY,   /* a directory */
    FILE_ERR_NOT_REGULAR, /* a FIFO, a device, a socket */
    FILE_ERR_TOO_LARGE,   /* over `max`: size as fstat saw it, or -1 when it grew while read */
    FILE_ERR_NO_MEMORY,
    FILE_ERR_READ, /* read(2) failed: errnum */
} file_fail_t;

typedef struct {
    file_fail_t fail;
    int errnum;     /* errno, for the failures of a system call */
    long long size; /* for FILE_ERR_TOO_LARGE */
} file_status_t;

/* file_read with the reason as data instead of text. */
char *file_read_status(const char *path, size_t max, size_t *len, file_status_t *st);

#endif
