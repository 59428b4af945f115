/* checks: the answers of the live checks (does an image exist in its
 * registry, does the production namespace exist) as the decision reads
 * them, and the names those answers have in logs and metrics. Pure.
 *
 * The checks themselves (regcheck, nscheck) run in the shell; only their
 * answers cross into the core. */
#ifndef WH_CHECKS_H
#define WH_CHECKS_H

#include <stddef.h>

typedef enum {
    CHECK_NOT_RUN = 0, /* check disabled or not asked */
    CHECK_PRESENT,
    CHECK_ABSENT,
    CHECK_FAILED, /* error or timeout: never denies */
} check_answer_t;

typedef struct {
    const char *image;
    check_answer_t answer;
} image_answer_t;

typedef struct {
    check_answer_t production_namespace;
    const image_answer_t *images; /* answers of the registry existence check */
    size_t n_images;
} wh_checks_t;

/* "not-run", "present", "absent", "failed" */
const char *check_answer_name(check_answer_t a);

/* The registry check's answer for `image` (exact string match);
 * CHECK_NOT_RUN when `c` is NULL or the image was not asked about. */
check_answer_t checks_image_answer(const wh_checks_t *c, const char *image);

#endif
