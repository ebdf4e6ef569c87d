/*
 * ev.c - epoll loop with a binary min-heap of intrusive timers.
 */
#include "proxy/ev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"

/* Interest is dropped lazily (HAProxy's speculative polling): turning a
 * direction off only changes <mask>; epoll keeps the wider <kmask> until an
 * event arrives that nobody wants.  A keep-alive exchange turns the same
 * directions off and back on per request, so this saves those epoll_ctl()
 * calls; adding interest is always immediate. */
struct ev_slot {
    int mask;       /* interest the owner asked for */
    int kmask;      /* interest as registered with epoll, a superset of mask */
    int registered; /* known to epoll */
    ev_fd_cb *cb;
    void *arg;
};

struct ev_loop {
    int epfd;
    int wakefd;
    int stop;
    uint64_t now;
    struct ev_slot *slots;
    int nslots;
    struct ev_timer **heap;
    int nheap, capheap;
    ev_hook_cb *before;
    void *before_arg;
    struct epoll_event events[256];
};

uint64_t ev_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ev_fd_prepare(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return SL_EIO;
    fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        return SL_EIO;
    return SL_OK;
}

static void wake_cb(struct ev_loop *loop, int fd, void *arg, int mask)
{
    uint64_t v;

    while (read(fd, &v, sizeof(v)) > 0)
        ;
}

int ev_new(struct ev_loop **out)
{
    struct ev_loop *l = calloc(1, sizeof(*l));

    if (l == NULL)
        return SL_ENOMEM;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->epfd < 0 || l->wakefd < 0 || ev_fd_set(l, l->wakefd, EV_READ, wake_cb, NULL) != 0) {
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->wakefd >= 0)
            close(l->wakefd);
        free(l->slots);
        free(l);
        return SL_EIO;
    }
    l->now = ev_mono_ms();
    *out = l;
    return SL_OK;
}

void ev_free(struct ev_loop *l)
{
    if (l == NULL)
        return;
    close(l->epfd);
    close(l->wakefd);
    free(l->slots);
    free(l->heap);
    free(l);
}

static int grow_slots(struct ev_loop *l, int fd)
{
    int n = l->nslots ? l->nslots : 64;
    struct ev_slot *s;

    while (n <= fd)
        n *= 2;
    s = realloc(l->slots, sizeof(*s) * (size_t)n);
    if (s == NULL)
        return SL_ENOMEM;
    memset(s + l->nslots, 0, sizeof(*s) * (size_t)(n - l->nslots));
    l->slots = s;
    l->nslots = n;
    return SL_OK;
}

/* Register exactly <kmask> with epoll. */
static int apply_kernel(struct ev_loop *l, int fd, int kmask)
{
    struct ev_slot *s = &l->slots[fd];
    struct epoll_event ee = {0};

    ee.events = (kmask & EV_READ ? EPOLLIN : 0) | (kmask & EV_WRITE ? EPOLLOUT : 0);
    ee.data.fd = fd;
    if (epoll_ctl(l->epfd, s->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ee) < 0)
        return SL_EIO;
    s->registered = 1;
    s->kmask = kmask;
    return SL_OK;
}

static int apply(struct ev_loop *l, int fd, int mask)
{
    struct ev_slot *s = &l->slots[fd];

    s->mask = mask;
    if (s->registered && (s->kmask & mask) == mask)
        return SL_OK; /* a subset of what epoll watches: narrowed lazily */
    return apply_kernel(l, fd, s->kmask | mask);
}

int ev_fd_set(struct ev_loop *l, int fd, int mask, ev_fd_cb *cb, void *arg)
{
    if (fd < 0)
        return SL_EINVAL;
    if (fd >= l->nslots && grow_slots(l, fd) != SL_OK)
        return SL_ENOMEM;
    l->slots[fd].cb = cb;
    l->slots[fd].arg = arg;
    return apply(l, fd, mask);
}

int ev_fd_mask(struct ev_loop *l, int fd, int mask)
{
    if (fd < 0 || fd >= l->nslots || l->slots[fd].cb == NULL)
        return SL_EINVAL;
    return apply(l, fd, mask);
}

void ev_fd_del(struct ev_loop *l, int fd)
{
    if (fd < 0 || fd >= l->nslots)
        return;
    if (l->slots[fd].registered)
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    memset(&l->slots[fd], 0, sizeof(l->slots[fd]));
}

/* ---- timers: min-heap on <when>, idx is slot + 1 ---- */

static void heap_set(struct ev_loop *l, int i, struct ev_timer *t)
{
    l->heap[i] = t;
    t->idx = i + 1;
}

static void sift_up(struct ev_loop *l, int i)
{
    struct ev_timer *t = l->heap[i];

    while (i > 0) {
        int p = (i - 1) / 2;
        if (l->heap[p]->when <= t->when)
            break;
        heap_set(l, i, l->heap[p]);
        i = p;
    }
    heap_set(l, i, t);
}

static void sift_down(struct ev_loop *l, int i)
{
    struct ev_timer *t = l->heap[i];

    for (;;) {
        int c = 2 * i + 1;
        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
            c++;
        if (t->when <= l->heap[c]->when)
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

void ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg)
{
    t->when = 0;
    t->idx = 0;
    t->cb = cb;
    t->arg = arg;
}

void ev_timer_del(struct ev_loop *l, struct ev_timer *t)
{
    int i = t->idx - 1;
    struct ev_timer *last;

    if (t->idx == 0)
        return;
    t->idx = 0;
    last = l->heap[--l->nheap];
    if (i == l->nheap)
        return;
    heap_set(l, i, last);
    sift_up(l, i);
    sift_down(l, last->idx - 1);
}

void ev_timer_add(struct ev_loop *l, struct ev_timer *t, uint64_t ms)
{
    uint64_t when = l->now + ms;

    if (t->idx) {
        int i = t->idx - 1;
        if (t->when == when)
            return; /* re-armed within the same loop iteration: nothing moves */
        t->when = when;
        sift_up(l, i);
        sift_down(l, t->idx - 1);
        return;
    }
    if (l->nheap == l->capheap) {
        int n = l->capheap ? l->capheap * 2 : 64;
        struct ev_timer **h = realloc(l->heap, sizeof(*h) * (size_t)n);
        if (h == NULL)
            return; /* the timer stays unarmed; callers' idle checks are best effort */
        l->heap = h;
        l->capheap = n;
    }
    t->when = when;
    l->heap[l->nheap++] = t;
    sift_up(l, l->nheap - 1);
}

void ev_set_before(struct ev_loop *l, ev_hook_cb *cb, void *arg)
{
    l->before = cb;
    l->before_arg = arg;
}

void ev_stop(struct ev_loop *l)
{
    l->stop = 1;
}

void ev_wake(struct ev_loop *l)
{
    uint64_t one = 1;
    ssize_t r = write(l->wakefd, &one, sizeof(one));

    (void)r;
}

uint64_t ev_now(struct ev_loop *l)
{
    return l->now;
}

int ev_run(struct ev_loop *l)
{
    while (!l->stop) {
        int timeout = -1, n, i;

        if (l->before)
            l->before(l, l->before_arg);
        if (l->stop)
            break;
        if (l->nheap > 0) {
            uint64_t now = ev_mono_ms();
            timeout = l->heap[0]->when > now ? (int)(l->heap[0]->when - now) : 0;
        }
        n = epoll_wait(l->epfd, l->events, (int)(sizeof(l->events) / sizeof(l->events[0])),
                       timeout);
        l->now = ev_mono_ms();
        if (n < 0 && errno != EINTR)
            return SL_EIO;
        for (i = 0; i < n; i++) {
            int fd = l->events[i].data.fd, mask = 0;
            uint32_t e = l->events[i].events;
            struct ev_slot *s;

            if (fd >= l->nslots || (s = &l->slots[fd])->cb == NULL)
                continue;
            if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
                mask |= EV_READ;
            if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                mask |= EV_WRITE;
            mask &= s->mask ? s->mask : 0;
            if ((e & (EPOLLERR | EPOLLHUP)) && mask == 0 && s->mask)
                mask = s->mask;
            if (mask && (e & EPOLLERR))
                mask |= EV_ERROR;
            if (mask)
                s->cb(l, fd, s->arg, mask);
            else if (s->kmask != s->mask)
                apply_kernel(l, fd, s->mask); /* unwanted: narrow epoll's interest now */
        }
        while (l->nheap > 0 && l->heap[0]->when <= l->now) {
            struct ev_timer *t = l->heap[0];
            ev_timer_del(l, t);
            t->cb(l, t->arg);
        }
    }
    return SL_OK;
}
