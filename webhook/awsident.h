/* awsident: the webhook's own AWS identity, found the way the AWS SDKs
 * find it, through their environment variables, in this order (the first
 * source that is configured is the one used; when it fails, that failure
 * is the answer, nothing further down is tried):
 *   1. web identity (IRSA): AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE
 *      (+ AWS_ROLE_SESSION_NAME) -> STS AssumeRoleWithWebIdentity;
 *   2. the container credential endpoint: EKS Pod Identity
 *      (AWS_CONTAINER_CREDENTIALS_FULL_URI with
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN), or ECS
 *      (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
 *   3. static keys: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 *      (+ AWS_SESSION_TOKEN);
 *   4. the node's instance role through IMDSv2 (AWS_EC2_METADATA_DISABLED,
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT, _ENDPOINT_MODE).
 * STS's endpoint follows AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL,
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, AWS_REGION, AWS_DEFAULT_REGION and
 * AWS_STS_REGIONAL_ENDPOINTS (awsproto.h). Requests go through httpc and
 * end by the caller's deadline. */
#ifndef WH_AWSIDENT_H
#define WH_AWSIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awsproto.h"
#include "cloudcred.h"
#include "httpc.h"

/* Source names, as metrics, logs and `review --explain` show them. */
#define AWSIDENT_WEB_IDENTITY "aws:web-identity"
#define AWSIDENT_POD_IDENTITY "aws:pod-identity"
#define AWSIDENT_ECS          "aws:ecs"
#define AWSIDENT_STATIC_KEYS  "aws:static-keys"
#define AWSIDENT_IMDS         "aws:imds"
#define AWSIDENT_NONE         "aws:none"

/* Credentials of the first configured source. `region_hint` (the
 * registry's region) is STS's region when the environment names none.
 * True with *out filled (free with awsproto_creds_free) and the source's
 * name in `source`; false with the reason in `why` and in `source` the
 * source that failed (AWSIDENT_NONE when none is configured). */
bool awsident_get(httpc_t *http, cloudcred_getenv_fn env, const char *region_hint,
                  uint64_t deadline_ms, awsproto_creds_t *out, char *source, size_t sourcesz,
                  char *why, size_t whysz);

#endif
