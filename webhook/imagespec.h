/* imagespec: the ImageSpec annotation of a pod (`imagebuilder.union.ai/image-spec`),
 * a JSON object or an array of objects with flytekit ImageSpec fields.
 *
 * Only what the webhook acts on is read (name, builder, registry,
 * builder_options.imagepull_secret_name); every other field is kept as is
 * and handed to the build unchanged. */
#ifndef WH_IMAGESPEC_H
#define WH_IMAGESPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define IMAGESPEC_MAX_SPECS    64
#define IMAGESPEC_REGISTRY_MAX 256

typedef struct {
    const cJSON *json;   /* the spec object (inside imagespec_list_t.root) */
    char *name;          /* lowercased, as flytekit does */
    const char *builder; /* NULL when absent */
    bool is_union;       /* builder "union" or its alias "unionai" */
    bool has_registry;
    char registry[IMAGESPEC_REGISTRY_MAX]; /* normalised (lowercase, no scheme) */
    bool scheme_stripped;                  /* the registry had http:// or https:// */
    const char *pull_secret; /* builder_options.imagepull_secret_name, NULL when absent */
} imagespec_t;

typedef struct {
    cJSON *root;
    imagespec_t *specs;
    size_t n;
} imagespec_list_t;

/* Parses the annotation value. Union specs are validated fully (name,
 * registry, builder_options); other specs only need to be objects with a
 * string or absent `builder`. Returns false with a one-line reason in
 * `why` that names the spec and the field. */
bool imagespec_parse(const char *text, size_t len, imagespec_list_t *out, char *why, size_t whysz);
void imagespec_list_free(imagespec_list_t *l);

#endif
