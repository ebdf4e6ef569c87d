/*
 * h1fields.c - questions about the fields of a parsed head: which must not
 * be forwarded (hop-by-hop), where a field is.
 */
#include "proxy/http1.h"

#include "proxy/h1_util.h"

static int is_hop_name(const char *name, size_t len)
{
    static const char *const hop[] = {"connection", "keep-alive",        "proxy-connection", "te",
                                      "trailer",    "transfer-encoding", "upgrade"};
    size_t i;

    for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
        if (ci_eq(name, len, hop[i]))
            return 1;
    return 0;
}

int h1_is_hop_by_hop(const struct h1_header *hdrs, size_t nhdrs, const char *name, size_t len)
{
    size_t i, pos, elen;
    const char *e;

    if (is_hop_name(name, len))
        return 1;
    for (i = 0; i < nhdrs; i++) {
        if (!ci_eq(hdrs[i].name, hdrs[i].name_len, "connection"))
            continue;
        pos = 0;
        while (list_next(hdrs[i].value, hdrs[i].value_len, &pos, &e, &elen))
            if (elen > 0 && ci_eq_n(e, elen, name, len))
                return 1;
    }
    return 0;
}

int h1_find_header(const struct h1_header *hdrs, size_t nhdrs, size_t from, const char *name)
{
    size_t i;

    for (i = from; i < nhdrs; i++)
        if (ci_eq(hdrs[i].name, hdrs[i].name_len, name))
            return (int)i;
    return SL_ENOTFOUND;
}
