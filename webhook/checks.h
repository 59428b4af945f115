/* checks: the answers of the live checks (does an image exist in its
 * registry, does the production namespace exist) as the decision reads
 * them, and the names those answers have in logs and metrics. Pure.
 *
 * The checks themselves (regcheck, nscheck) run in the shell; only their
 * answers cross into the core. */
#ifndef WH_CHECKS_H
#define WH_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    CHECK_NOT_RUN = 0, /* check disabled or not asked */
    CHECK_PRESENT,
    CHECK_ABSENT,
    CHECK_FAILED, /* error or timeout: never denies */
} check_answer_t;

/* `reason`: why a check FAILED, in a few words ("registry timed out",
 * "DNS lookup timed out"), for the warning the user sees; NULL: none. */
typedef struct {
    const char *image;
    check_answer_t answer;
    const char *reason;
} image_answer_t;

typedef struct {
    check_answer_t production_namespace;
    const image_answer_t *images; /* answers of the registry existence check */
    size_t n_images;
    const char *namespace_reason; /* why the namespace check FAILED, or NULL */
    bool namespace_terminating;   /* PRESENT, but being deleted (status.phase Terminating) */
} wh_checks_t;

/* "not-run", "present", "absent", "failed" */
const char *check_answer_name(check_answer_t a);

/* The registry check's answer for `image` (exact string match);
 * CHECK_NOT_RUN when `c` is NULL or the image was not asked about. */
check_answer_t checks_image_answer(const wh_checks_t *c, const char *image);
/* The reason given with that answer, or NULL. */
const char *checks_image_reason(const wh_checks_t *c, const char *image);

#endif
