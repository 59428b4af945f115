/* awsxml: the text of one element of an XML document, found by its path of
 * element names: all the XML the webhook reads (AWS STS answers). A small,
 * bounded scanner, not a general parser: it follows start and end tags
 * (attributes are skipped), comments, processing instructions and CDATA
 * sections, decodes the predefined and numeric character references, and
 * refuses a DOCTYPE, so no entity is ever defined or fetched. Pure. */
#ifndef WH_AWSXML_H
#define WH_AWSXML_H

#include <stdbool.h>
#include <stddef.h>

#define AWSXML_MAX_DEPTH 16 /* levels of nesting */
#define AWSXML_MAX_NAME  64 /* characters in an element name */

/* The text of the first element whose path from the root is
 * path[0..depth) (local names: a namespace prefix is ignored), into
 * out[0..outsz) NUL-terminated. False with a static reason in *why (which
 * may be NULL) when the document is malformed before that element ends,
 * has a DOCTYPE, nests deeper than AWSXML_MAX_DEPTH, the element is absent
 * or has child elements, or its text does not fit. Reads only xml[0..n). */
bool awsxml_text(const char *xml, size_t n, const char *const *path, size_t depth, char *out,
                 size_t outsz, const char **why);

#endif
