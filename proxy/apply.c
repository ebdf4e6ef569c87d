/*
 * apply.c - revisions in order, whole or not at all.
 */
#include "proxy/apply.h"

#include <stdlib.h>
#include <string.h>

#include "proxy/decode.h"

struct px_apply {
    struct px_model *model;
    uint64_t done;          /* complete and in the model */
    uint64_t pending_rev;   /* the revision whose records wait (0: none) */
    struct pxd_record *pending;
    size_t npending, cap;
};

int px_apply_new(struct px_apply **out)
{
    struct px_apply *a = calloc(1, sizeof(*a));

    if (a == NULL || px_model_new(&a->model) != SL_OK) {
        free(a);
        return SL_ENOMEM;
    }
    *out = a;
    return SL_OK;
}

static void drop_pending(struct px_apply *a)
{
    size_t i;

    for (i = 0; i < a->npending; i++)
        pxd_obj_clear(&a->pending[i].obj);
    a->npending = 0;
    a->pending_rev = 0;
}

void px_apply_free(struct px_apply *a)
{
    if (a == NULL)
        return;
    drop_pending(a);
    free(a->pending);
    px_model_free(a->model);
    free(a);
}

struct px_model *px_apply_model(struct px_apply *a)
{
    return a->model;
}

uint64_t px_apply_done(const struct px_apply *a)
{
    return a->done;
}

static int put_cb(struct pxd_obj *o, void *arg)
{
    return px_model_put(arg, o);
}

int px_apply_snapshot(struct px_apply *a, const char *body, size_t n, struct sl_err *err)
{
    uint64_t rev = 0;
    int rc;

    drop_pending(a);
    px_model_mark(a->model);
    rc = pxd_snapshot(body, n, &rev, put_cb, a->model, err);
    if (rc == SL_EINVAL)
        return rc; /* nothing was put: the marks are harmless */
    if (rc != SL_OK) {
        sl_err_set(err, 500, "InternalFailure", "out of memory applying the snapshot");
        return SL_ENOMEM;
    }
    px_model_sweep(a->model);
    a->done = rev;
    return SL_OK;
}

/* The waiting revision is complete: into the model. */
static int apply_pending(struct px_apply *a, struct sl_err *err)
{
    size_t i;
    int rc = SL_OK;

    for (i = 0; i < a->npending; i++) {
        struct pxd_record *r = &a->pending[i];
        if (r->type == PXD_DELETE)
            px_model_del(a->model, r->kind, r->id);
        else if (px_model_put(a->model, &r->obj) != SL_OK)
            rc = SL_ENOMEM;
    }
    if (rc != SL_OK)
        sl_err_set(err, 500, "InternalFailure", "out of memory applying revision %llu",
                   (unsigned long long)a->pending_rev);
    if (a->pending_rev > a->done)
        a->done = a->pending_rev;
    drop_pending(a);
    return rc;
}

static int wait_record(struct px_apply *a, struct pxd_record *r)
{
    if (a->npending == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        struct pxd_record *p = realloc(a->pending, sizeof(*p) * nc);
        if (p == NULL)
            return SL_ENOMEM;
        a->pending = p;
        a->cap = nc;
    }
    a->pending[a->npending++] = *r;
    a->pending_rev = r->rev;
    return SL_OK;
}

int px_apply_line(struct px_apply *a, const char *line, size_t n, struct sl_err *err)
{
    struct pxd_record r;
    int rc;

    if (pxd_record(line, n, &r, err) != SL_OK) {
        drop_pending(a);
        return SL_EINVAL;
    }
    switch (r.type) {
    case PXD_GONE:
        drop_pending(a);
        return PX_APPLY_GONE;
    case PXD_HEARTBEAT:
        /* every record up to r.rev has been sent */
        if (a->npending && a->pending_rev <= r.rev && (rc = apply_pending(a, err)) != SL_OK)
            return rc;
        if (r.rev > a->done)
            a->done = r.rev;
        return SL_OK;
    case PXD_SKIP:
    case PXD_PUT:
    case PXD_DELETE:
        break;
    }
    if (r.rev <= a->done) { /* sent again after a resume: already applied */
        pxd_obj_clear(&r.obj);
        return SL_OK;
    }
    if (a->npending && r.rev < a->pending_rev) {
        sl_err_set(err, 400, "InvalidFeed", "revision %llu after %llu: out of order",
                   (unsigned long long)r.rev, (unsigned long long)a->pending_rev);
        pxd_obj_clear(&r.obj);
        drop_pending(a);
        return SL_EINVAL;
    }
    if (a->npending && r.rev > a->pending_rev && (rc = apply_pending(a, err)) != SL_OK) {
        pxd_obj_clear(&r.obj);
        return rc;
    }
    if (r.type == PXD_SKIP) { /* a kind this version does not know: nothing to apply */
        a->pending_rev = r.rev;
        return SL_OK;
    }
    if ((rc = wait_record(a, &r)) != SL_OK) {
        pxd_obj_clear(&r.obj);
        sl_err_set(err, 500, "InternalFailure", "out of memory");
        return rc;
    }
    return SL_OK;
}

int px_apply_commit(struct px_apply *a, struct px_table **out)
{
    *out = NULL;
    if (!px_model_changed(a->model))
        return 0;
    if (px_model_commit(a->model, a->done, out) != SL_OK)
        return SL_ENOMEM;
    return 1;
}
