/* workpool: threads for blocking jobs (see workpool.h). */
#include "workpool.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"

typedef struct job {
    struct job *next;
    void (*run)(void *);
    void *arg;
} job_t;

struct workpool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job_t *head, *tail;
    size_t queued, max_queued;
    bool stopping;
    pthread_t *tids;
    size_t n_threads;
};

static void *worker(void *arg)
{
    workpool_t *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        job_t *j = p->head;
        if (!j)
            break; /* stopping and nothing left */
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->lock);
        j->run(j->arg);
        free(j);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    log_thread_cleanup(); /* the jobs' log lines */
    return NULL;
}

workpool_t *workpool_new(size_t threads, size_t max_queued)
{
    workpool_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->tids = calloc(threads ? threads : 1, sizeof *p->tids);
    if (!p->tids || pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->tids);
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cond, NULL) != 0) {
        pthread_mutex_destroy(&p->lock);
        free(p->tids);
        free(p);
        return NULL;
    }
    p->max_queued = max_queued;
    for (size_t i = 0; i < threads; i++) {
        if (pthread_create(&p->tids[i], NULL, worker, p) != 0)
            break;
        p->n_threads++;
    }
    if (p->n_threads == 0) {
        workpool_free(p);
        return NULL;
    }
    return p;
}

bool workpool_submit(workpool_t *p, void (*run)(void *), void *arg)
{
    job_t *j = malloc(sizeof *j);
    if (!j)
        return false;
    j->next = NULL;
    j->run = run;
    j->arg = arg;
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->queued >= p->max_queued) {
        pthread_mutex_unlock(&p->lock);
        free(j);
        return false;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return true;
}

void workpool_free(workpool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->n_threads; i++)
        pthread_join(p->tids[i], NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->tids);
    free(p);
}
