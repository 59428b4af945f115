/* checks: names of the live-check answers and the look-up of one image's
 * answer (see checks.h). */
#include "checks.h"

#include <string.h>

const char *check_answer_name(check_answer_t a)
{
    switch (a) {
    case CHECK_PRESENT:
        return "present";
    case CHECK_ABSENT:
        return "absent";
    case CHECK_FAILED:
        return "failed";
    case CHECK_NOT_RUN:
        break;
    }
    return "not-run";
}

static const image_answer_t *find(const wh_checks_t *c, const char *image)
{
    for (size_t i = 0; c && i < c->n_images; i++)
        if (c->images[i].image && strcmp(c->images[i].image, image) == 0)
            return &c->images[i];
    return NULL;
}

check_answer_t checks_image_answer(const wh_checks_t *c, const char *image)
{
    const image_answer_t *a = find(c, image);
    return a ? a->answer : CHECK_NOT_RUN;
}

const char *checks_image_reason(const wh_checks_t *c, const char *image)
{
    const image_answer_t *a = find(c, image);
    return a && a->reason && a->reason[0] ? a->reason : NULL;
}
