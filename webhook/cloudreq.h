/* cloudreq: one HTTP exchange of a cloud credential provider (a metadata
 * server, a token endpoint, a registry's token exchange) over the live
 * checks' client, with the reason worded for the operator when it fails:
 * "<server> timed out", "<server> unreachable: <libcurl's reason>",
 * "<server> answered 403 (invalid_grant: ...)". */
#ifndef WH_CLOUDREQ_H
#define WH_CLOUDREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "httpc.h"

/* Answers larger than this are refused. */
#define CLOUDREQ_BODY_MAX (64 * 1024)

/* Performs q (its body_max raised to CLOUDREQ_BODY_MAX when 0). True when
 * the server answered 200, with the answer in *r; the caller frees it with
 * secret_buf_free(&r->body), since it may hold a token. False with why,
 * naming the server as `what`. */
bool cloudreq_do(httpc_t *http, httpc_req_t q, const char *what, httpc_resp_t *r, char *why,
                 size_t whysz);

#endif
