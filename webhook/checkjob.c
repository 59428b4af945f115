/* checkjob: a live-check job's trip from a loop to the check threads and
 * back (see checkjob.h). */
#include "checkjob.h"

#include <stdlib.h>
#include <string.h>

#include "livecheck.h"
#include "metrics.h"

typedef struct check_job {
    h2o_multithread_message_t msg; /* first: messages are jobs */
    worker_t *w;
    h2o_req_t *req;          /* NULL once the request is gone */
    struct check_link *link; /* the request pool's pointer back to this job */
    published_obj_t *held;   /* the cfg_bundle_t the request started with */
    checkjob_done_fn done;
    review_t rv;
    livecheck_scratch_t scratch;
    admission_response_t resp;
    bool ok;
    uint64_t t0;
} check_job_t;

typedef struct check_link {
    check_job_t *job;
} check_link_t;

static void check_link_dispose(void *p)
{
    check_link_t *l = p;
    if (l->job)
        l->job->req = NULL;
}

/* On a check thread. */
static void check_job_run(void *arg)
{
    check_job_t *j = arg;
    const cfg_bundle_t *b = j->held->obj;
    j->ok = livecheck_respond(b->lc, b->policy, &j->rv, &j->scratch, &j->resp);
    h2o_multithread_send_message(&j->w->checked, &j->msg);
}

static void check_job_free(check_job_t *j)
{
    admission_response_free(&j->resp);
    livecheck_scratch_free(&j->scratch);
    review_free(&j->rv);
    published_drop(j->held);
    free(j);
}

void checkjob_on_back(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    worker_t *w = H2O_STRUCT_FROM_MEMBER(worker_t, checked, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        check_job_t *j = (check_job_t *)m;
        w->jobs_out--;
        metrics_in_flight(w->mx, -1);
        if (j->req) {
            j->link->job = NULL;
            j->done(w, j->req, &j->rv, j->ok ? &j->resp : NULL, j->t0);
        }
        check_job_free(j);
    }
}

bool checkjob_submit(worker_t *w, h2o_req_t *req, review_t *rv, uint64_t t0, checkjob_done_fn done)
{
    check_job_t *j = calloc(1, sizeof *j);
    if (!j)
        return false;
    j->w = w;
    j->req = req;
    j->t0 = t0;
    j->done = done;
    j->scratch = (livecheck_scratch_t)LIVECHECK_SCRATCH_INIT;
    j->held = published_hold(&w->config);
    j->rv = *rv;
    if (!workpool_submit(w->srv->checks, check_job_run, j)) {
        published_drop(j->held);
        free(j);
        return false;
    }
    memset(rv, 0, sizeof *rv); /* the job owns the review now */
    j->link = h2o_mem_alloc_shared(&req->pool, sizeof *j->link, check_link_dispose);
    j->link->job = j;
    w->jobs_out++;
    metrics_in_flight(w->mx, 1);
    return true;
}
