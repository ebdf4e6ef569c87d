/*
 * query.h - the AWS Query protocol's form body, decoded into a tree.
 *
 * `Targets.member.1.Id=a&Targets.member.1.Port=80&Name=x` becomes
 * {"Targets":[{"Id":"a","Port":"80"}],"Name":"x"}: keys split on '.',
 * `member.N` lists become arrays ordered by N, `entry.N.key/.value` maps
 * become objects; every leaf stays a string (see params.h).
 */
#ifndef SL_ROUTES_QUERY_H
#define SL_ROUTES_QUERY_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/* Percent-decode <len> bytes of <in> ('+' is a space) into <out>, which must
 * hold len+1 bytes.  Returns the decoded length, or -1 on a malformed escape
 * or an embedded NUL. */
long query_unescape(const char *in, size_t len, char *out);

/* Decode an application/x-www-form-urlencoded body.  Returns a new object, or
 * NULL with <err> (400 MalformedQueryString / ValidationError) when the body
 * is malformed, a key is structurally inconsistent (`A=1&A.B=2`), a list
 * index is not a positive integer, or a key repeats. */
json_t *query_decode(const char *body, size_t len, struct sl_err *err);

#endif
