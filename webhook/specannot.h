/* specannot: an ImageSpec written by a person (YAML or JSON, flytekit's
 * field names; one spec or a list of them) turned into the pod label and
 * annotation that attach it, ready to paste: a YAML metadata snippet (a
 * pod's or a PodTemplate's) and Python dicts for flytekit's
 * @task(labels=..., annotations=...) or PodTemplate. The spec is checked
 * by the webhook's own ImageSpec reader (imagespec.c), so what is printed
 * is what the webhook accepts. Pure: bytes in, text out. */
#ifndef WH_SPECANNOT_H
#define WH_SPECANNOT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Which parts to print. */
#define SPECANNOT_YAML   1u /* metadata: {labels: ..., annotations: ...} */
#define SPECANNOT_PYTHON 2u /* LABELS = {...} and ANNOTATIONS = {...} */

/* Reads the ImageSpec in text[0..len) (JSON when it starts with '{' or
 * '[', YAML otherwise) and appends the parts named by `parts` to `out`,
 * each opened by a comment line. False with a one-line reason in `why`
 * when the input is not an ImageSpec the webhook would build from: not
 * parseable, refused by the webhook's reader, no spec with builder union,
 * or a python_version that YAML read as a number (3.10 is 3.1). */
bool specannot_render(const char *text, size_t len, unsigned parts, buf_t *out, char *why,
                      size_t whysz);

#endif
