/*
 * logdest.h - where a load balancer's logs go: the S3 bucket and prefix of
 * the access_logs.s3.* / connection_logs.s3.* attributes, which sluice maps
 * to directories (README "Access logs").  sluiced checks them when the
 * attributes are set; sluice-proxy checks them again before it makes a
 * directory of them, since the feed is input it does not trust.
 *
 * Caveats:
 *  - A name accepted here is safe as a path component under the log
 *    directory: no "/", "." or ".." segment can come from it.
 *  - Pure functions; thread-safe.
 */
#ifndef SL_COMMON_LOGDEST_H
#define SL_COMMON_LOGDEST_H

#define LOGDEST_BUCKET_MAX 63
#define LOGDEST_PREFIX_MAX 1024

/* 1 if <s> is an S3 bucket name as AWS defines one for general purpose
 * buckets: 3-63 lowercase letters, digits, '.' and '-', starting and ending
 * with a letter or digit, no "..", not shaped like an IPv4 address. */
int logdest_bucket_ok(const char *s);

/* 1 if <s> is a prefix ALB accepts and sluice can make directories of:
 * empty, or at most LOGDEST_PREFIX_MAX printable ASCII characters other
 * than space and '\', segments separated by single '/' none of which is "." or "..",
 * no leading or trailing '/', and not containing "AWSLogs" (ALB refuses it). */
int logdest_prefix_ok(const char *s);

#endif
