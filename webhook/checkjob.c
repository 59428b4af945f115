/* checkjob: a live-check job's trip from a loop to the check threads and
 * back, and the deadline that answers for it when it is late (see
 * checkjob.h).
 *
 * A job belongs to the loop that made it and is freed there, only when it
 * is back from the check threads: whatever happened to the request
 * meanwhile (answered at the deadline, or gone with its client), the
 * thread still running the job never touches freed memory. Its timer is
 * an h2o_timeout_t of its own (libh2o 2.2.5 keeps one duration per
 * h2o_timeout_t), registered on the loop at submission and disposed of
 * when the job is back: never from a timer callback, since libh2o walks
 * its list of timeouts while it runs them. */
#include "checkjob.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "deadline.h"
#include "jsonarena.h"
#include "livecheck.h"
#include "log.h"
#include "metrics.h"

/* How long the loop waits past the checks' deadline for their own answer
 * (which names what timed out) before it answers without them. */
#define LATE_GRACE_MS 50

/* How much lower than the loops' the large-review thread's priority is. */
#define LARGE_REVIEW_NICE 10

typedef struct check_job {
    h2o_multithread_message_t msg; /* first: messages are jobs */
    worker_t *w;
    h2o_req_t *req;          /* NULL once the request is answered or gone */
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
    uint64_t deadline_ms;  /* clock_mono_ms() by which the checks are done */
    uint64_t budget_ms;    /* the time they were given from the request's arrival */
    uint64_t answer_by_ms; /* large reviews: by when the thread must have answered */
    bool large;            /* a large review (checkjob_submit_body) */
    atomic_bool abandoned; /* answered without the checks, or the client is gone */
    h2o_timeout_t timer;
    h2o_timeout_entry_t timer_entry;
} check_job_t;

typedef struct check_link {
    check_job_t *job;
} check_link_t;

static void check_link_dispose(void *p)
{
    check_link_t *l = p;
    if (l->job) {
        l->job->req = NULL;
        atomic_store(&l->job->abandoned, true);
    }
}

/* A large review's body leaves the lane (checkjob_submit_body). */
static void lane_let_go(check_job_t *j)
{
    if (!j->body)
        return;
    free(j->body);
    j->body = NULL;
    atomic_fetch_sub(&j->w->srv->large_bytes, j->len);
}

/* The answer of a review whose checks ran out of time, without them
 * (livecheck_respond_unchecked), and the warning in the log. */
static bool respond_late(check_job_t *j, const review_t *rv, livecheck_scratch_t *scratch,
                         admission_response_t *resp)
{
    const cfg_bundle_t *b = j->held->obj;
    char reason[64];
    snprintf(reason, sizeof reason, "no answer within %llu ms", (unsigned long long)j->budget_ms);
    bool ok = livecheck_respond_unchecked(b->lc, b->policy, rv, reason, scratch, resp);
    log_line_t *l = log_begin(LOG_WARN, "live checks out of time; answered without them");
    log_str(l, "uid", rv->uid);
    log_uint(l, "budgetMillis", j->budget_ms);
    log_end(l);
    return ok;
}

/* On a check thread. A job whose request was already answered (or left)
 * asks nothing: it only goes back to be freed. */
static void check_job_run(void *arg)
{
    check_job_t *j = arg;
    const cfg_bundle_t *b = j->held->obj;
    if (!atomic_load(&j->abandoned))
        j->ok =
            livecheck_respond_by(b->lc, b->policy, &j->rv, j->deadline_ms, &j->scratch, &j->resp);
    h2o_multithread_send_message(&j->w->checked, &j->msg);
}

/* What the loop reads of a large review, moved out of this thread's JSON
 * arena before it is dropped: the review's strings (the answer and its
 * decision are in malloc'd memory already). The review's tree is let go
 * here: freed, or, in the arena (`arena`), left to go with it without
 * being walked. */
static bool detach(check_job_t *j, bool arena)
{
    review_t *rv = &j->rv;
    const char *parts[] = {rv->uid, rv->namespace_, rv->name, rv->operation};
    size_t sz[4], total = 0;
    for (size_t i = 0; i < 4; i++)
        total += (sz[i] = strlen(parts[i]) + 1);
    if (!(j->strings = malloc(total)))
        return false;
    char *at = j->strings;
    const char **dst[] = {&rv->uid, &rv->namespace_, &rv->name, &rv->operation};
    for (size_t i = 0; i < 4; i++) {
        memcpy(at, parts[i], sz[i]);
        *dst[i] = at;
        at += sz[i];
    }
    if (!arena)
        cJSON_Delete(rv->root);
    rv->root = NULL;
    rv->pod = NULL;
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
    if (atomic_load(&j->abandoned)) {
        /* answered at its deadline while it waited, or its client is gone */
        lane_let_go(j);
        h2o_multithread_send_message(&j->w->checked, &j->msg);
        return;
    }
    const cfg_bundle_t *b = j->held->obj;
    bool checks_on = livecheck_registry_enabled(b->lc) || livecheck_namespace_enabled(b->lc);
    bool arena = !checks_on;
    if (arena)
        jsonarena_begin();
    j->bad = !admission_parse(j->body, j->len, &j->rv, j->why, sizeof j->why);
    lane_let_go(j);
    if (!j->bad) {
        if (checks_on && clock_mono_ms() >= j->deadline_ms)
            /* the checks' time went by while it waited: answered without
             * them, as the loop answers a small review that is late */
            j->ok = respond_late(j, &j->rv, &j->scratch, &j->resp);
        else
            j->ok = livecheck_respond_by(b->lc, b->policy, &j->rv, j->deadline_ms, &j->scratch,
                                         &j->resp);
        if (!detach(j, arena)) {
            review_free(&j->rv);
            admission_response_free(&j->resp);
            j->ok = false;
        }
    }
    if (arena)
        jsonarena_release(); /* all of it: large reviews are rare, the thread keeps nothing */
    h2o_multithread_send_message(&j->w->checked, &j->msg);
    /* j may be gone now. What the heaps hold free (a review parsed with a
     * malloc per node, body buffers) goes back to the system: rare and off
     * the loops, so small reviews never pay for it (see jsonarena_trim). */
    jsonarena_trim();
}

static void check_job_free(check_job_t *j)
{
    lane_let_go(j);
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
        h2o_timeout_unlink(&j->timer_entry);
        h2o_timeout_dispose(w->ctx.loop, &j->timer);
        if (j->req) {
            j->link->job = NULL;
            j->done(w, j->req, &j->rv, j->ok ? &j->resp : NULL, j->bad ? j->why : NULL, j->t0);
        }
        check_job_free(j);
    }
}

/* The checks are late: the loop answers from the request's own body, read
 * again here (the job's copy is the check thread's meanwhile), as for
 * checks that failed: builds and warnings, never a denial because of them. */
static void answer_without_checks(check_job_t *j, h2o_req_t *req)
{
    char why[256] = "";
    review_t rv;
    admission_response_t resp;
    livecheck_scratch_t scratch = LIVECHECK_SCRATCH_INIT;
    const char *body = req->entity.base ? req->entity.base : "";
    bool parsed = admission_parse(body, req->entity.len, &rv, why, sizeof why);
    bool ok = parsed && respond_late(j, &rv, &scratch, &resp);
    j->done(j->w, req, parsed ? &rv : NULL, ok ? &resp : NULL, parsed ? NULL : why, j->t0);
    livecheck_scratch_free(&scratch);
    if (parsed)
        review_free(&rv);
}

/* The job's timer, on its loop: the review is answered here, without its
 * checks. For a large review that is the last resort: its thread answers
 * without them once their time is up, so the loop reads it only when the
 * thread did not get to it within the request's own time. */
static void on_deadline(h2o_timeout_entry_t *entry)
{
    check_job_t *j = H2O_STRUCT_FROM_MEMBER(check_job_t, timer_entry, entry);
    atomic_store(&j->abandoned, true);
    h2o_req_t *req = j->req;
    if (!req)
        return;
    j->req = NULL;
    j->link->job = NULL;
    if (j->large)
        log_msg(LOG_WARN, "large review read on its event loop",
                "the large-review thread did not get to it within the request's time");
    answer_without_checks(j, req);
}

/* How long ago the request started to arrive (libh2o stamps it with the
 * wall clock), within [0, cap]. */
static uint64_t request_age_ms(const h2o_req_t *req, uint64_t cap)
{
    const struct timeval *b = &req->timestamps.request_begin_at;
    struct timeval now;
    if ((b->tv_sec == 0 && b->tv_usec == 0) || gettimeofday(&now, NULL) != 0)
        return 0;
    int64_t ms = ((int64_t)now.tv_sec - b->tv_sec) * 1000 + (now.tv_usec - b->tv_usec) / 1000;
    if (ms < 0)
        return 0;
    return (uint64_t)ms > cap ? cap : (uint64_t)ms;
}

/* The checks' deadline: from the request's arrival, the smallest of their
 * own limit, kube-apiserver's ?timeout= less a margin (deadline.h) and
 * webhook.requestTimeoutMs. */
static void set_deadline(check_job_t *j, const cfg_bundle_t *b, h2o_req_t *req)
{
    uint64_t request_ms = b->cfg->server.request_timeout_ms;
    uint64_t api_ms = 0;
    if (req->query_at != SIZE_MAX && req->query_at < req->path.len &&
        !deadline_query_timeout(req->path.base + req->query_at + 1,
                                req->path.len - req->query_at - 1, &api_ms))
        api_ms = 0;
    /* With no live check on (a large review read on its own thread) nothing
     * can be late but the request itself: the budget is the request's, as
     * is the time a large review may take in all (answer_by_ms). */
    uint64_t longest_ms = request_ms ? request_ms : 60000; /* 0: no request timeout */
    uint64_t request_budget_ms = deadline_budget_ms(longest_ms, api_ms, request_ms);
    uint64_t checks_ms = livecheck_time_limit_ms(b->lc);
    j->budget_ms =
        checks_ms ? deadline_budget_ms(checks_ms, api_ms, request_ms) : request_budget_ms;
    uint64_t now = clock_mono_ms();
    uint64_t arrived = now - request_age_ms(req, longest_ms);
    j->deadline_ms = arrived + j->budget_ms;
    j->answer_by_ms = arrived + request_budget_ms;
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
    atomic_init(&j->abandoned, false);
    set_deadline(j, j->held->obj, req);
    return j;
}

/* The job is queued: the request learns of it, the loop counts it and
 * arms the timer that answers without it when it is late. */
static void job_out(worker_t *w, h2o_req_t *req, check_job_t *j)
{
    j->link = h2o_mem_alloc_shared(&req->pool, sizeof *j->link, check_link_dispose);
    j->link->job = j;
    uint64_t now = clock_mono_ms();
    uint64_t fire = (j->large ? j->answer_by_ms : j->deadline_ms) + LATE_GRACE_MS;
    h2o_timeout_init(w->ctx.loop, &j->timer, fire > now ? fire - now : 0);
    j->timer_entry.cb = on_deadline;
    h2o_timeout_link(w->ctx.loop, &j->timer, &j->timer_entry);
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
    server_shared_t *srv = w->srv;
    size_t len = req->entity.len;
    if (!srv->large)
        return false;
    if (atomic_fetch_add(&srv->large_bytes, len) + len > srv->large_bytes_max) {
        atomic_fetch_sub(&srv->large_bytes, len);
        return false;
    }
    check_job_t *j = job_new(w, req, t0, done);
    /* the request's body goes with its connection: the job reads a copy */
    char *body = j ? malloc(len ? len : 1) : NULL;
    if (body) {
        memcpy(body, req->entity.base, len);
        j->body = body;
        j->len = len;
        j->large = true;
        if (workpool_submit(srv->large, body_job_run, j)) {
            job_out(w, req, j);
            return true;
        }
        lane_let_go(j);
    } else {
        atomic_fetch_sub(&srv->large_bytes, len);
    }
    if (j) {
        published_drop(j->held);
        free(j);
    }
    return false;
}
