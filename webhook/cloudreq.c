/* cloudreq: a credential provider's HTTP exchange and its reasons (see cloudreq.h). */
#include "cloudreq.h"

#include <string.h>

#include "clock.h"
#include "cloudtok.h"
#include "errmsg.h"

bool cloudreq_do(httpc_t *http, httpc_req_t q, const char *what, httpc_resp_t *r, char *why,
                 size_t whysz)
{
    if (!q.body_max)
        q.body_max = CLOUDREQ_BODY_MAX;
    if (clock_mono_ms() >= q.deadline_ms) {
        errmsg_set(why, whysz, "no time left to ask the %s", what);
        return false;
    }
    char err[200] = "";
    httpc_result_t res = httpc_perform(http, &q, r, err, sizeof err);
    if (res != HTTPC_OK) {
        if (r->timed_out)
            errmsg_set(why, whysz, "%s timed out", what);
        else if (r->body_over)
            errmsg_set(why, whysz, "%s sent an answer larger than %d bytes", what,
                       CLOUDREQ_BODY_MAX);
        else
            errmsg_set(why, whysz, "%s unreachable: %s", what, err);
        return false;
    }
    if (r->status == 200)
        return true;
    char oauth[160];
    cloudtok_oauth_error(r->body.data ? r->body.data : "", r->body.len, oauth, sizeof oauth);
    if (oauth[0])
        errmsg_set(why, whysz, "%s answered %ld (%s)", what, r->status, oauth);
    else
        errmsg_set(why, whysz, "%s answered %ld", what, r->status);
    return false;
}
