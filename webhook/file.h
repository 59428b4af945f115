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

#endif
