/* awsproto: the AWS wire formats and endpoint rules the registry check
 * needs to turn an AWS identity into Amazon ECR credentials. Pure: text
 * in, values out.
 *
 * - STS answers (query API, XML read with awsxml.h): AssumeRoleWithWebIdentity's
 *   credentials and STS error codes;
 * - JSON answers: the container credential endpoint (EKS Pod Identity
 *   agent) and IMDS role credentials, ECR GetAuthorizationToken, ECR errors;
 * - timestamps (ISO 8601 as AWS writes them);
 * - endpoints: the service URLs the AWS SDKs use by default (regional STS,
 *   the ECR API of a registry host's region and partition, FIPS and
 *   dual-stack), the configured overrides, and the hosts a plain-HTTP
 *   container credential URL may name. */
#ifndef WH_AWSPROTO_H
#define WH_AWSPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest value taken from an answer (session tokens are the largest). */
#define AWSPROTO_VALUE_MAX 8192

typedef struct {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL: long-term keys */
    int64_t expires;     /* Unix seconds; 0: does not expire */
} awsproto_creds_t;

/* Wipes and frees the strings; the struct is zeroed. */
void awsproto_creds_free(awsproto_creds_t *c);

/* ---- STS (XML, read with awsxml.h) -------------------------------------------------- */

/* Credentials of an AssumeRoleWithWebIdentity answer. */
bool awsproto_sts_creds(const char *xml, size_t n, awsproto_creds_t *out, char *why, size_t whysz);
/* "<Code>: <Message>" of an STS error answer (ErrorResponse), or "" when
 * the body is not one. One line, cut to fit. */
void awsproto_sts_error(const char *xml, size_t n, char *out, size_t outsz);

/* ---- JSON ----------------------------------------------------------------------------- */

/* Credentials as the container credential endpoint and IMDS send them:
 * AccessKeyId, SecretAccessKey, Token, Expiration (and Code, which must
 * be "Success" when present). */
bool awsproto_json_creds(const char *json, size_t n, awsproto_creds_t *out, char *why,
                         size_t whysz);

/* ECR GetAuthorizationToken's answer: authorizationData[0].authorizationToken
 * (base64 of "user:password") and expiresAt (Unix seconds; 0 when absent).
 * The caller frees (and should wipe) *user and *pass. */
bool awsproto_ecr_token(const char *json, size_t n, char **user, char **pass, int64_t *expires,
                        char *why, size_t whysz);
/* "<type>: <message>" of an AWS JSON protocol error ({"__type", "message"}),
 * or "" when the body is not one. */
void awsproto_json_error(const char *json, size_t n, char *out, size_t outsz);

/* ---- time ----------------------------------------------------------------------------- */

/* "2015-08-30T12:36:00Z", with optional fractional seconds and a "Z" or
 * "+HH:MM"/"-HH:MM" offset, as Unix seconds. */
bool awsproto_iso8601(const char *s, size_t n, int64_t *out);

/* ---- endpoints ---------------------------------------------------------------------------- */

/* The configured endpoint URL as the AWS SDKs pick it: the service's own
 * (AWS_ENDPOINT_URL_<SERVICE>) before the global one (AWS_ENDPOINT_URL),
 * none when `ignore` (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS) is "true".
 * NULL: use the default endpoint. */
const char *awsproto_configured_endpoint(const char *service_url, const char *global_url,
                                         const char *ignore);

/* The DNS suffix of the partition a region belongs to ("amazonaws.com",
 * "amazonaws.com.cn", ...), or NULL when `region` is not a region name. */
const char *awsproto_dns_suffix(const char *region);

/* STS's endpoint for `region`: regional, https://sts.<region>.<suffix>,
 * unless `legacy` (AWS_STS_REGIONAL_ENDPOINTS=legacy) and the region is in
 * the commercial partition: then the global https://sts.amazonaws.com.
 * `region` NULL or "": the global endpoint. False when the region is not a
 * region name or the URL does not fit. */
bool awsproto_sts_url(const char *region, bool legacy, char *out, size_t outsz);

/* For an Amazon ECR registry host (host[:port]): its region (the signing
 * region) and the ECR API endpoint of that region and partition, FIPS or
 * dual-stack like the host. False when the host is not an ECR host. */
bool awsproto_ecr_api(const char *host, char *region, size_t regionsz, char *url, size_t urlsz);

/* Splits an http(s) URL into the Host header value (host[:port], the port
 * left out when it is the scheme's default) and the path ("/" when
 * empty). False for another scheme, user information, a query or a
 * fragment, or pieces that do not fit. */
bool awsproto_url_parts(const char *url, char *host, size_t hostsz, char *path, size_t pathsz,
                        bool *https);

/* Whether the AWS SDKs accept `url` as a container credential URL:
 * https:// to any host, http:// only to a loopback address or the ECS
 * (169.254.170.2) and EKS Pod Identity (169.254.170.23, fd00:ec2::23)
 * agent addresses. */
bool awsproto_container_url_ok(const char *url);

#endif
