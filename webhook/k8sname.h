/* k8sname: Kubernetes name grammars (RFC 1123 DNS labels and subdomains,
 * resource names) and resource quantities, shared by the configuration
 * checks, the namespace check and anything else that validates a value
 * the API server will judge. */
#ifndef WH_K8SNAME_H
#define WH_K8SNAME_H

#include <stdbool.h>
#include <stddef.h>

/* A DNS label (namespace names, Service names): 1-63 of [a-z0-9-],
 * starting and ending with [a-z0-9]. */
bool k8s_dns_label(const char *s, size_t n);

/* A DNS subdomain (ConfigMap and most object names): at most 253
 * characters, dot-separated DNS labels. */
bool k8s_dns_subdomain(const char *s, size_t n);

/* A resource name as a container's requests/limits key (cpu, memory,
 * example.com/gpu): 1-253 of letters, digits, '.', '_', '/' and '-'. */
bool k8s_resource_name(const char *s, size_t n);

/* A resource quantity (500m, 2, 1.5, 512Mi, 1e3): [+]digits[.digits]
 * followed by nothing, a binary (Ki..Ei) or decimal (n, u, m, k..E) suffix,
 * or an exponent. */
bool k8s_quantity(const char *s, size_t n);

#endif
