/* watch: stat polling of files with a one-interval settle (see watch.h). */
#include "watch.h"

#include <string.h>
#include <sys/stat.h>

static void sig_of(const char *path, watch_sig_t *s)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    if (!path || !*path || stat(path, &st) != 0)
        return;
    s->exists = true;
    s->dev = (uint64_t)st.st_dev;
    s->ino = (uint64_t)st.st_ino;
    s->size = (uint64_t)st.st_size;
    s->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    s->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

static bool sig_eq(const watch_sig_t *a, const watch_sig_t *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

void watch_init(watch_t *w, const char *const *paths, size_t n)
{
    memset(w, 0, sizeof *w);
    if (n > WATCH_MAX_FILES)
        n = WATCH_MAX_FILES;
    w->n = n;
    for (size_t i = 0; i < n; i++) {
        w->paths[i] = paths[i];
        sig_of(paths[i], &w->accepted[i]);
        w->seen[i] = w->accepted[i];
    }
}

bool watch_poll(watch_t *w)
{
    bool differs = false, stable = true;
    watch_sig_t now[WATCH_MAX_FILES];
    for (size_t i = 0; i < w->n; i++) {
        sig_of(w->paths[i], &now[i]);
        if (!sig_eq(&now[i], &w->accepted[i]))
            differs = true;
        if (!sig_eq(&now[i], &w->seen[i]))
            stable = false;
        w->seen[i] = now[i];
    }
    if (!differs || !stable)
        return false;
    for (size_t i = 0; i < w->n; i++)
        w->accepted[i] = now[i];
    return true;
}
