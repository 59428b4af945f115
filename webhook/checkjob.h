/* checkjob: live checks off the event loop.
 *
 * With a live check switched on, a pod CREATE is answered by a job on the
 * check threads (the checks may wait on the network, bounded by their
 * timeouts); the answer comes back to the request's loop as a message and
 * is sent from there. If the client goes away meanwhile, the request's pool
 * is cleared and the job finds the request gone when it is back: the
 * answer is dropped. A job keeps the configuration bundle the request
 * started with, whatever reloads happen meanwhile.
 *
 * Every job has a deadline counted from the request's arrival: the
 * smallest of the checks' own timeoutMs, the `?timeout=` kube-apiserver
 * sent less a safety margin (deadline.h), and webhook.requestTimeoutMs.
 * The checks stop by then; and should the check threads still be busy
 * (the job waiting in their queue, a check stuck), a timer on the loop
 * answers 50 ms later without the checks, as for checks that failed: the
 * builds are injected with a warning. The late job is then dropped when it
 * comes back.
 *
 * Large reviews take the same trip to a thread of their own, which also
 * reads them (checkjob_submit_body). */
#ifndef WH_CHECKJOB_H
#define WH_CHECKJOB_H

#include <stdbool.h>
#include <stdint.h>

#include "admission.h"
#include "worker.h"

/* Called on the request's loop when its job is back: `resp` is the answer
 * (the callee frees it), or NULL when it could not be made; `bad` (when not
 * NULL) says why the body is not a review that can be read (answer 400). */
typedef void (*checkjob_done_fn)(worker_t *w, h2o_req_t *req, const review_t *rv,
                                 admission_response_t *resp, const char *bad, uint64_t t0);

/* Hands the review to the check threads (the job takes it over and *rv is
 * emptied). Returns false when it cannot (queue full, out of memory): *rv
 * is untouched and the caller answers without the checks. */
bool checkjob_submit(worker_t *w, h2o_req_t *req, review_t *rv, uint64_t t0, checkjob_done_fn done);

/* Large reviews: the body is copied and handed to the one thread of
 * w->srv->large, which reads the review and answers it (with the live
 * checks when they are on), so that the seconds' worth of parsing a few
 * MiB of JSON never holds up the loop's other requests, and one large
 * review at a time is in memory as a tree. The copies the lane holds
 * (waiting, or being read) are bounded in bytes, srv->large_bytes_max.
 * Returns false when the lane is full or out of memory: the caller
 * answers 503. */
bool checkjob_submit_body(worker_t *w, h2o_req_t *req, uint64_t t0, checkjob_done_fn done);

/* The receiver of jobs coming back (w->checked). */
void checkjob_on_back(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

#endif
