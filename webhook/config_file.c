/* config_file: reading the configuration file and printing its errors
 * (see config_file.h); the parsing and checking are config_load_buffer's. */
#include "config_file.h"

#include <stdlib.h>

#include "buf.h"
#include "errmsg.h"
#include "file.h"

#define CONFIG_MAX_FILE (4u * 1024 * 1024)

/* The reason a configuration file could not be read, worded for someone
 * who is pointing the webhook at it. */
static void file_problem(const file_status_t *st, buf_t *msg)
{
    char why[160];
    switch (st->fail) {
    case FILE_OK:
        break;
    case FILE_ERR_OPEN:
        errmsg_errno(why, sizeof why, "cannot open the file", st->errnum);
        buf_printf(msg, "%s; check the path and its permissions", why);
        return;
    case FILE_ERR_INSPECT:
        errmsg_errno(why, sizeof why, "cannot inspect the file", st->errnum);
        buf_puts(msg, why);
        return;
    case FILE_ERR_DIRECTORY:
        buf_puts(msg, "is a directory; pass the path of the YAML configuration file");
        return;
    case FILE_ERR_NOT_REGULAR:
        buf_puts(msg, "is not a regular file; pass the path of the YAML configuration file");
        return;
    case FILE_ERR_TOO_LARGE:
        if (st->size >= 0)
            buf_printf(msg,
                       "is larger than 4 MiB (%lld bytes); a configuration file is much smaller",
                       st->size);
        else
            buf_puts(msg, "is larger than 4 MiB; a configuration file is much smaller");
        return;
    case FILE_ERR_NO_MEMORY:
        buf_puts(msg, "out of memory");
        return;
    case FILE_ERR_READ:
        errmsg_errno(why, sizeof why, "cannot read the file", st->errnum);
        buf_printf(msg, "%s; check its permissions", why);
        return;
    }
    buf_puts(msg, "cannot load the file");
}

wh_config_t *config_load_file(const char *path, config_errors_t *errs)
{
    config_errors_t local = {NULL, 0};
    config_errors_t *e = errs ? errs : &local;
    if (!path || !*path) {
        (void)config_errors_add(e, "config", 0, 0,
                                "no configuration file given; pass the path of a YAML file");
        config_errors_free(&local);
        return NULL;
    }
    size_t len = 0;
    file_status_t st;
    char *data = file_read_status(path, CONFIG_MAX_FILE, &len, &st);
    wh_config_t *c = NULL;
    if (data) {
        c = config_load_buffer(path, data, len, e);
        free(data);
    } else {
        buf_t msg = BUF_INIT;
        file_problem(&st, &msg);
        (void)config_errors_add(e, path, 0, 0, msg.oom ? "cannot load the file" : msg.data);
        buf_free(&msg);
    }
    config_errors_free(&local);
    return c;
}

void config_errors_print(const config_errors_t *errs, FILE *f)
{
    for (size_t i = 0; errs && i < errs->n; i++) {
        buf_t b = BUF_INIT;
        config_error_format(&errs->items[i], &b);
        if (b.len)
            fwrite(b.data, 1, b.len, f ? f : stderr);
        buf_free(&b);
    }
}
