/* imagespec: the ImageSpec annotation of a pod (`imagebuilder.union.ai/image-spec`),
 * a JSON object or an array of objects with flytekit ImageSpec fields.
 *
 * Only what the webhook acts on is read (name, builder, registry,
 * builder_options.imagepull_secret_name); every other field is handed to
 * the build unchanged: each spec's own text, byte for byte, never
 * re-printed. So that the webhook and the builder read the same spec, the
 * text must be strict JSON with no member name given twice in an object and
 * no \u0000 in a string (jsonscan.h). */
#ifndef WH_IMAGESPEC_H
#define WH_IMAGESPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define IMAGESPEC_MAX_SPECS    64
#define IMAGESPEC_REGISTRY_MAX 256
/* The annotation's largest size: what the API server accepts for all of a
 * pod's annotations together (mutating webhooks see pods before that check). */
#define IMAGESPEC_MAX_BYTES (256u * 1024)

typedef struct {
    const cJSON *json; /* the spec object (inside imagespec_list_t.root); NULL when borrowed */
    const char *text;  /* its text in the annotation (not NUL-terminated) */
    size_t text_len;
    char *name;          /* lowercased, as flytekit does */
    const char *builder; /* NULL when absent */
    bool is_union;       /* builder "union" or its alias "unionai" */
    bool has_registry;
    char registry[IMAGESPEC_REGISTRY_MAX]; /* normalised (lowercase, no scheme) */
    bool scheme_stripped;                  /* the registry had http:// or https:// */
    const char *pull_secret; /* builder_options.imagepull_secret_name, NULL when absent */
    const char *given_name;  /* "name" as written when a string, else NULL (messages) */
} imagespec_t;

typedef struct {
    cJSON *root;
    imagespec_t *specs;
    size_t n;
    bool borrowed; /* it all belongs to a cache (specache.h): freeing only forgets it */
} imagespec_list_t;

/* Parses the annotation value (at most IMAGESPEC_MAX_BYTES). Union specs
 * are validated fully (name, registry, builder_options); other specs only
 * need to be objects with a string or absent `builder`. Returns false with
 * a one-line reason in `why` that names the spec and the field (or the
 * key given twice, or the string holding \u0000). The specs' `text`
 * points into `text`, which must outlive the list. */
bool imagespec_parse(const char *text, size_t len, imagespec_list_t *out, char *why, size_t whysz);
/* Frees what the list owns (nothing when borrowed) and zeroes it. */
void imagespec_list_free(imagespec_list_t *l);

#endif
