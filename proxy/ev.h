/*
 * ev.h - a tiny epoll event loop (Redis ae style): fd events, an intrusive
 * timer heap, a before-sleep hook and a cross-thread wake-up.
 *
 * Caveats:
 *  - One loop per thread.  Only ev_wake() may be called from another thread.
 *  - Level-triggered.  A callback may change or delete any fd's interest,
 *    including its own, and may close the fd after ev_fd_del().
 *  - Timers are embedded in the caller's structs (no allocation); a timer
 *    must be deleted before the memory holding it is freed.
 *  - ev_now() is the monotonic time in ms sampled once per iteration.
 */
#ifndef SL_PROXY_EV_H
#define SL_PROXY_EV_H

#include <stdint.h>

#define EV_READ 1
#define EV_WRITE 2
#define EV_ERROR 4 /* to a callback only, beside EV_READ/EV_WRITE: epoll said
                    * EPOLLERR (a TCP socket's pending error: a reset) */

struct ev_loop;

typedef void ev_fd_cb(struct ev_loop *loop, int fd, void *arg, int mask);
typedef void ev_timer_cb(struct ev_loop *loop, void *arg);
typedef void ev_hook_cb(struct ev_loop *loop, void *arg);

struct ev_timer {
    uint64_t when; /* absolute, ms */
    int idx;       /* heap slot + 1; 0 when not armed */
    ev_timer_cb *cb;
    void *arg;
};

/* Create a loop.  Returns 0 or SL_ENOMEM/SL_EIO. */
int ev_new(struct ev_loop **out);
/* Free the loop (NULL is a no-op); registered fds are not closed. */
void ev_free(struct ev_loop *loop);

/* Set the interest of <fd> to <mask> (EV_READ|EV_WRITE; 0 keeps the fd
 * registered but silent).  <cb>/<arg> replace earlier ones.  0 or SL_EIO. */
int ev_fd_set(struct ev_loop *loop, int fd, int mask, ev_fd_cb *cb, void *arg);
/* Change only the mask of an fd already set. */
int ev_fd_mask(struct ev_loop *loop, int fd, int mask);
/* Forget <fd> (call before close()). */
void ev_fd_del(struct ev_loop *loop, int fd);

void ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg);
/* Arm (or re-arm) <t> to fire <ms> from now. */
void ev_timer_add(struct ev_loop *loop, struct ev_timer *t, uint64_t ms);
void ev_timer_del(struct ev_loop *loop, struct ev_timer *t);

/* Hook run before each wait (after a wake-up too). */
void ev_set_before(struct ev_loop *loop, ev_hook_cb *cb, void *arg);

/* Run until ev_stop().  Returns 0. */
int ev_run(struct ev_loop *loop);
void ev_stop(struct ev_loop *loop);
/* Thread-safe: interrupt the wait so the before-sleep hook runs soon. */
void ev_wake(struct ev_loop *loop);

uint64_t ev_now(struct ev_loop *loop);
/* Monotonic ms. */
uint64_t ev_mono_ms(void);

/* Make <fd> non-blocking and close-on-exec.  0 or SL_EIO. */
int ev_fd_prepare(int fd);

#endif
