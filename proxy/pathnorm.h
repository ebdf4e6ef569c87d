/*
 * pathnorm.h - the path that path-pattern rules match: the request's path
 * as a target would resolve it, so that no spelling of a path reaches a
 * target past a rule written for it.
 *
 * The normal form, in this order:
 *   1. every valid %XX escape decoded (once: "%2561" stays "%61");
 *   2. '\' taken as '/' (some targets resolve it so);
 *   3. runs of '/' merged into one;
 *   4. "." and ".." segments removed (RFC 3986 5.2.4; ".." above the root
 *      stays at the root);
 *   5. an empty path is "/".
 * So /%61dmin, //admin, /x/../admin, /x/%2e%2e/admin and /admin/. all match
 * a rule on /admin*.  Case is kept (ALB's path patterns are case
 * sensitive) and so is the query, which rules never see here.
 *
 * Caveats:
 *  - What goes to the target is the path as received: only matching sees
 *    the normal form.  A target decodes and resolves it to the same path,
 *    or to one that names more literally what was sent.
 *  - Pure functions; no allocation.
 */
#ifndef SL_PROXY_PATHNORM_H
#define SL_PROXY_PATHNORM_H

#include <stddef.h>

/* 1 when <p>[0..<n>) is its own normal form (the common case: no copy). */
int px_path_is_normal(const char *p, size_t n);

/* The normal form of <p>[0..<n>) into <out> (at least <n> + 1 bytes, as
 * the normal form is never longer, except "" -> "/").  Returns its length. */
size_t px_path_normalize(const char *p, size_t n, char *out);

#endif
