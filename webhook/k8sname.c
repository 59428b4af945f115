/* k8sname: names and quantities as Kubernetes validates them (see k8sname.h). */
#include "k8sname.h"

#include <ctype.h>
#include <string.h>

bool k8s_dns_label(const char *s, size_t n)
{
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && !(c == '-' && i > 0 && i + 1 < n))
            return false;
    }
    return true;
}

bool k8s_dns_subdomain(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!k8s_dns_label(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

bool k8s_quantity(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && s[i] == '+')
        i++;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return false;
    const char *suf = s + i;
    size_t sn = n - i;
    if (sn == 0)
        return true;
    static const char *const suffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u",
                                           "m",  "k",  "M",  "G",  "T",  "P",  "E"};
    for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++)
        if (strlen(suffixes[k]) == sn && memcmp(suf, suffixes[k], sn) == 0)
            return true;
    if (suf[0] == 'e' || suf[0] == 'E') {
        size_t j = 1;
        if (j < sn && (suf[j] == '+' || suf[j] == '-'))
            j++;
        size_t ed = 0;
        while (j < sn && isdigit((unsigned char)suf[j]))
            j++, ed++;
        return ed > 0 && j == sn;
    }
    return false;
}

bool k8s_resource_name(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._/-", s[i]))
            return false;
    return true;
}
