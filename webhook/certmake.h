/* certmake: a new certificate authority and a serving certificate signed
 * by it, made with OpenSSL for `certgen`: EC P-256 keys, SHA-256
 * signatures, random 128-bit serials; the CA ("imagebuilder-webhook CA")
 * valid for about ten years,
 * the serving certificate for about one, both from an hour before `now`
 * (clock skew between nodes). The CA's key is not kept: a renewal makes a
 * new CA, whose certificate then goes into the webhook's caBundle. */
#ifndef WH_CERTMAKE_H
#define WH_CERTMAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "certplan.h"

#define CERTMAKE_CA_DAYS   3650
#define CERTMAKE_LEAF_DAYS 365

/* A CA and a certificate for names[0..n) (subject alternative names; the
 * first, a DNS label, also its common name) with its key, as PEM texts in
 * *out. False with a reason when OpenSSL fails. */
bool certmake_issue(const char *const *names, size_t n, int64_t now, certplan_pems_t *out,
                    char *err, size_t errsz);

#endif
