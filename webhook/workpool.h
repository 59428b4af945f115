/* workpool: a small pool of threads that run blocking jobs (the live
 * checks) away from the event loops. Jobs run in submission order; the
 * queue is bounded so that an outage cannot pile up work without end. */
#ifndef WH_WORKPOOL_H
#define WH_WORKPOOL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct workpool workpool_t;

/* `threads` workers, at most `max_queued` jobs waiting. NULL on failure. */
workpool_t *workpool_new(size_t threads, size_t max_queued);
/* Queues run(arg). Returns false (and does not run it) when the queue is
 * full or the pool is stopping: the caller then does the work itself or
 * without it. */
bool workpool_submit(workpool_t *p, void (*run)(void *), void *arg);
/* Runs what is queued, stops the threads and frees the pool. */
void workpool_free(workpool_t *p);

#endif
