/* config_file: reading the configuration file, once it holds still, and
 * printing its errors (see config_file.h); the parsing and checking are
 * config_load_buffer's. */
#include "config_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "errmsg.h"
#include "file.h"

#define CONFIG_MAX_FILE (4u * 1024 * 1024)
/* A file changed less than this long ago may be in the middle of a write:
 * it is read again this long after, until two reads agree. */
#define QUIET_MS  200
#define MAX_READS 16 /* then it is refused: about 3 s of changes */

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

/* What a read saw of the file: a writer changes at least one of these. */
typedef struct {
    bool ok;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
} file_sig_t;

static file_sig_t sig_of(const char *path)
{
    struct stat sb;
    file_sig_t s = {0};
    if (stat(path, &sb) == 0)
        s = (file_sig_t){true, sb.st_dev, sb.st_ino, sb.st_size, sb.st_mtim, sb.st_ctim};
    return s;
}

static bool sig_eq(const file_sig_t *a, const file_sig_t *b)
{
    return a->ok && b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Whether the file's last change is older than the quiet period. */
static bool quiet_since(const file_sig_t *s)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return false;
    const struct timespec *last =
        s->ctime.tv_sec > s->mtime.tv_sec ||
                (s->ctime.tv_sec == s->mtime.tv_sec && s->ctime.tv_nsec > s->mtime.tv_nsec)
            ? &s->ctime
            : &s->mtime;
    long long age_ms =
        (long long)(now.tv_sec - last->tv_sec) * 1000 + (now.tv_nsec - last->tv_nsec) / 1000000;
    return age_ms >= QUIET_MS;
}

static void pause_quiet(void)
{
    struct timespec d = {0, QUIET_MS * 1000000L};
    while (nanosleep(&d, &d) != 0 && errno == EINTR)
        ;
}

/* Reads the file once it holds still: at once when nothing changed it for
 * the quiet period and nothing changed it during the read, else again
 * after each quiet period until two reads agree (same bytes, same size,
 * times and inode), at most MAX_READS times. A writer that truncates the
 * file and writes it in pieces is thus never read half-way. NULL with *st
 * set when it cannot be read, or with *unstable when it kept changing. */
static char *read_stable(const char *path, size_t *len, file_status_t *st, bool *unstable)
{
    *unstable = false;
    char *prev = NULL;
    size_t prev_len = 0;
    file_sig_t prev_sig = {0};
    for (int n = 0; n < MAX_READS; n++) {
        if (n)
            pause_quiet();
        file_sig_t before = sig_of(path);
        char *data = file_read_status(path, CONFIG_MAX_FILE, len, st);
        file_sig_t after = sig_of(path);
        if (!data) {
            free(prev);
            return NULL;
        }
        bool held = sig_eq(&before, &after);
        if ((held && n == 0 && quiet_since(&after)) ||
            (held && prev && sig_eq(&prev_sig, &after) && prev_len == *len &&
             memcmp(prev, data, *len) == 0)) {
            free(prev);
            return data;
        }
        free(prev);
        prev = data;
        prev_len = *len;
        prev_sig = held ? after : (file_sig_t){0};
    }
    free(prev);
    *unstable = true;
    return NULL;
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
    bool unstable;
    char *data = read_stable(path, &len, &st, &unstable);
    wh_config_t *c = NULL;
    if (data) {
        c = config_load_buffer(path, data, len, e);
        free(data);
    } else if (unstable) {
        buf_t msg = BUF_INIT;
        buf_printf(&msg,
                   "kept changing while it was read (%d reads, %d ms apart); write it in one "
                   "step (to a new file, then rename it over this one)",
                   MAX_READS, QUIET_MS);
        (void)config_errors_add(e, path, 0, 0, msg.oom ? "kept changing" : msg.data);
        buf_free(&msg);
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
