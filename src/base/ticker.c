#include "base/ticker.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/xmalloc.h"

struct ticker {
    struct ticker_spec spec;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC: a clock change neither stalls nor hurries */
    bool stop;
};

bool
ticker_sleep(struct ticker *t, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    until.tv_sec += ms / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&t->mu);
    /* Bounded: a spurious wake-up only shortens the wait. */
    if (!t->stop && ms > 0)
        pthread_cond_timedwait(&t->cond, &t->mu, &until);
    bool stopped = t->stop;
    pthread_mutex_unlock(&t->mu);
    return stopped;
}

static void *
run(void *arg)
{
    struct ticker *t = arg;
    while (!ticker_sleep(t, 0)) {
        t->spec.tick(t->spec.arg, t);
        if (ticker_sleep(t, t->spec.interval_ms))
            break;
    }
    if (t->spec.done)
        t->spec.done(t->spec.arg);
    return NULL;
}

struct ticker *
ticker_start(const struct ticker_spec *spec, struct err *err)
{
    struct ticker *t = xcalloc(1, sizeof(*t));
    t->spec = *spec;
    if (t->spec.interval_ms < 1)
        t->spec.interval_ms = 1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&t->mu, NULL);
    if (pthread_create(&t->thread, NULL, run, t) != 0) {
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->mu);
        free(t);
        err_set(err, ERR_INTERNAL, "cannot start the %s", spec->name);
        return NULL;
    }
    return t;
}

void
ticker_stop(struct ticker *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->mu);
    free(t);
}
