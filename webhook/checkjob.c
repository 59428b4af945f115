/* checkjob: a live-check job's trip from a loop to the check threads and
 * back (see checkjob.h). */
#include "checkjob.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jsonarena.h"
#include "livecheck.h"
#include "metrics.h"

/* How much lower than the loops' the large-review thread's priority is. */
#define LARGE_REVIEW_NICE 10

typedef struct check_job {
    h2o_multithread_message_t msg; /* first: messages are jobs */
    worker_t *w;
    h2o_req_t *req;          /* NULL once the request is gone */
    struct check_link *link; /* the request pool's pointer back to this job */
    published_obj_t *held;   /* the cfg_bundle_t the request started with */
    checkjob_done_fn done;
    char *body; /* a large review still to be read (owned), NULL otherwise */
    size_t len;
    char why[256]; /* the body is not a review: why */
    bool bad;
    char *strings; /* a large review's uid, namespace, name, operation (owned) */
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

/* What the loop reads of a large review's answer, moved out of this
 * thread's JSON arena before it is dropped: the answer's text and the
 * review's strings (the rest of the decision is in malloc'd memory); the
 * JSON trees are freed here (a no-op in the arena). */
static bool detach(check_job_t *j)
{
    review_t *rv = &j->rv;
    const char *parts[] = {rv->uid, rv->namespace_, rv->name, rv->operation};
    size_t sz[4], total = 0;
    for (size_t i = 0; i < 4; i++)
        total += (sz[i] = strlen(parts[i]) + 1);
    char *body = j->ok ? malloc(j->resp.len + 1) : NULL;
    j->strings = malloc(total);
    if (!j->strings || (j->ok && !body)) {
        free(body);
        return false;
    }
    char *at = j->strings;
    const char **dst[] = {&rv->uid, &rv->namespace_, &rv->name, &rv->operation};
    for (size_t i = 0; i < 4; i++) {
        memcpy(at, parts[i], sz[i]);
        *dst[i] = at;
        at += sz[i];
    }
    cJSON_Delete(rv->root);
    rv->root = NULL;
    rv->pod = NULL;
    if (j->ok) {
        memcpy(body, j->resp.body, j->resp.len + 1);
        cJSON_free(j->resp.body);
        j->resp.body = body;
        decision_t *d = &j->resp.decision;
        cJSON_Delete(d->patch);
        cJSON_Delete(d->audit);
        cJSON_free(d->patch_json);
        d->patch = d->audit = NULL;
        d->patch_json = NULL;
    }
    return true;
}

/* On the large-review thread: read the review and answer it, in this
 * thread's JSON arena when no live check is on (a tree costs a third less
 * there than with a malloc per node; the checks may keep JSON they read
 * beyond the request), then hand the loop what it needs. */
static void body_job_run(void *arg)
{
    static _Thread_local bool niced;
    if (!niced) {
        /* background work: the event loops' threads come first for the CPU */
        niced = true;
        (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), LARGE_REVIEW_NICE);
    }
    check_job_t *j = arg;
    const cfg_bundle_t *b = j->held->obj;
    bool arena = !livecheck_registry_enabled(b->lc) && !livecheck_namespace_enabled(b->lc);
    if (arena)
        jsonarena_begin();
    j->bad = !admission_parse(j->body, j->len, &j->rv, j->why, sizeof j->why);
    free(j->body);
    j->body = NULL;
    if (!j->bad) {
        j->ok = livecheck_respond(b->lc, b->policy, &j->rv, &j->scratch, &j->resp);
        if (!detach(j)) {
            review_free(&j->rv);
            admission_response_free(&j->resp);
            j->ok = false;
        }
    }
    if (arena)
        jsonarena_release(); /* all of it: large reviews are rare, the thread keeps nothing */
    h2o_multithread_send_message(&j->w->checked, &j->msg);
}

static void check_job_free(check_job_t *j)
{
    free(j->body);
    free(j->strings);
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
            j->done(w, j->req, &j->rv, j->ok ? &j->resp : NULL, j->bad ? j->why : NULL, j->t0);
        }
        check_job_free(j);
    }
}

static check_job_t *job_new(worker_t *w, h2o_req_t *req, uint64_t t0, checkjob_done_fn done)
{
    check_job_t *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->w = w;
    j->req = req;
    j->t0 = t0;
    j->done = done;
    j->scratch = (livecheck_scratch_t)LIVECHECK_SCRATCH_INIT;
    j->held = published_hold(&w->config);
    return j;
}

/* The job is queued: the request learns of it, the loop counts it. */
static void job_out(worker_t *w, h2o_req_t *req, check_job_t *j)
{
    j->link = h2o_mem_alloc_shared(&req->pool, sizeof *j->link, check_link_dispose);
    j->link->job = j;
    w->jobs_out++;
    metrics_in_flight(w->mx, 1);
}

bool checkjob_submit(worker_t *w, h2o_req_t *req, review_t *rv, uint64_t t0, checkjob_done_fn done)
{
    check_job_t *j = job_new(w, req, t0, done);
    if (!j)
        return false;
    j->rv = *rv;
    if (!workpool_submit(w->srv->checks, check_job_run, j)) {
        published_drop(j->held);
        free(j);
        return false;
    }
    memset(rv, 0, sizeof *rv); /* the job owns the review now */
    job_out(w, req, j);
    return true;
}

bool checkjob_submit_body(worker_t *w, h2o_req_t *req, uint64_t t0, checkjob_done_fn done)
{
    check_job_t *j = w->srv->large ? job_new(w, req, t0, done) : NULL;
    if (!j)
        return false;
    /* the request's body goes with its connection: the job reads a copy */
    j->len = req->entity.len;
    j->body = malloc(j->len ? j->len : 1);
    if (j->body && j->len)
        memcpy(j->body, req->entity.base, j->len);
    if (!j->body || !workpool_submit(w->srv->large, body_job_run, j)) {
        free(j->body);
        published_drop(j->held);
        free(j);
        return false;
    }
    job_out(w, req, j);
    return true;
}
