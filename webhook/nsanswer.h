/* nsanswer: what the Kubernetes API's answer to `GET
 * /api/v1/namespaces/<name>` means for the production namespace check:
 * 200 with that Namespace object is PRESENT, 404 is ABSENT, anything else
 * (other statuses, a body that is not the namespace) is FAILED. Pure. */
#ifndef WH_NSANSWER_H
#define WH_NSANSWER_H

#include <stddef.h>

#include "decide.h"

/* The answer for HTTP `status` with `body` (may be NULL) about namespace
 * `ns`, with one line in `detail` saying what was seen. `note` (may be "")
 * is added to a failure's detail: why no credentials were sent. */
check_answer_t nsanswer_read(long status, const char *body, size_t len, const char *ns,
                             const char *note, char *detail, size_t dsz);

#endif
