/* watch: notices when files change, including Kubernetes' way of updating
 * a mounted Secret or ConfigMap (the `..data` symlink is swapped to a new
 * directory, so the path resolves to another inode).
 *
 * Polling: each call stats every path (following symlinks) and compares
 * device, inode, size and modification time with what was last accepted.
 * A change is reported once it has stayed the same for one polling
 * interval, so a writer that replaces a certificate and then its key is
 * seen as one change, not two. */
#ifndef WH_WATCH_H
#define WH_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WATCH_MAX_FILES 4

typedef struct {
    bool exists;
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
} watch_sig_t;

typedef struct {
    const char *paths[WATCH_MAX_FILES]; /* borrowed; NULL or "" = unused */
    watch_sig_t accepted[WATCH_MAX_FILES];
    watch_sig_t seen[WATCH_MAX_FILES];
    size_t n;
} watch_t;

/* Records the current state of up to WATCH_MAX_FILES paths as accepted. */
void watch_init(watch_t *w, const char *const *paths, size_t n);
/* True when some file differs from the accepted state and has been stable
 * since the previous call; the new state is then accepted. */
bool watch_poll(watch_t *w);

#endif
