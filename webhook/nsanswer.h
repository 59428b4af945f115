/* nsanswer: what the Kubernetes API's answer to `GET
 * /api/v1/namespaces/<name>` means for the production namespace check:
 * 200 with that Namespace object is PRESENT (being deleted when its
 * status.phase is Terminating), 404 is ABSENT, anything else (other
 * statuses, a body that is not the namespace) is FAILED. Pure. */
#ifndef WH_NSANSWER_H
#define WH_NSANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "decide.h"

typedef struct {
    check_answer_t answer;
    bool terminating; /* PRESENT, and status.phase is Terminating */
    char detail[192]; /* one line saying what was seen */
    char reason[64];  /* FAILED: why, in a few words ("API answered 500"); else "" */
} nsanswer_t;

/* Reads HTTP `status` with `body` (may be NULL) about namespace `ns`.
 * `note` (may be NULL or "") is added to a failure's detail: why no
 * credentials were sent. */
void nsanswer_parse(long status, const char *body, size_t len, const char *ns, const char *note,
                    nsanswer_t *out);

/* The same, as the answer with the detail line in `detail`. */
check_answer_t nsanswer_read(long status, const char *body, size_t len, const char *ns,
                             const char *note, char *detail, size_t dsz);

#endif
