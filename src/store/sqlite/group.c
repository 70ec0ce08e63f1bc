/* Group commit: the write transactions of this process's threads, queued on one writer
 * connection, committed together.
 *
 * SQLite has one writer at a time. With a connection per thread, a writer that found the
 * lock taken slept in SQLite's busy handler (1, 2, 5 … 100 ms between tries), and each
 * transaction paid its own COMMIT (its WAL frames written, the shared pages — counts, the
 * events table — written again every time). Here every store transaction of the process
 * runs on one writer connection, taken in turn under write_mu, each inside a SAVEPOINT of
 * one open SQLite transaction. A member that finishes while other writers are queued
 * releases its savepoint and hands the writer over without committing; the member that
 * finds no one queued (or the group full) commits for all, and every member's tx_commit
 * returns only then, with the COMMIT's outcome: nothing is acknowledged before it is
 * durable, and a member that fails rolls back its own savepoint alone. Without concurrent
 * writers a transaction commits at once, as before. */
#include <sqlite3.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "store/sqlite/sqlite_int.h"

/* Members per COMMIT at most: bounds how long the first member of a group waits. */
#define GROUP_MAX 32
/* How often a member waiting for its group's COMMIT checks that the writer has not been
 * left free with the group open (a queued writer that gave up). */
#define RESCUE_NS (50 * 1000000L)

struct group_waiter {
    struct group_waiter *next;
    bool done;
    int rc;
    struct err err;
};

/* The store whose write_mu this thread holds (kept apart from any connection: a failed
 * statement may have a connection reopened before the rollback comes). */
static _Thread_local struct sqlite_store *writer_of;

void
sqlite_group_init(struct sqlite_store *s)
{
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_mutex_init(&s->group_mu, NULL);
    pthread_cond_init(&s->group_cv, NULL);
}

void
sqlite_group_destroy(struct sqlite_store *s)
{
    uint64_t commits = atomic_load(&s->group_commits), joined = atomic_load(&s->grouped_tx);
    if (joined > 0)
        log_info("sqlite: %llu write transactions in %llu commits",
                 (unsigned long long)(commits + joined), (unsigned long long)commits);
    if (s->wconn)
        sqlite_conn_close(s->wconn);
    s->wconn = NULL;
    pthread_cond_destroy(&s->group_cv);
    pthread_mutex_destroy(&s->group_mu);
    pthread_mutex_destroy(&s->write_mu);
}

struct conn *
sqlite_group_conn(struct sqlite_store *s)
{
    return writer_of == s ? s->wconn : NULL;
}

static void
deadline_in(struct timespec *t, long ns)
{
    clock_gettime(CLOCK_REALTIME, t);
    t->tv_nsec += ns % 1000000000L;
    t->tv_sec += ns / 1000000000L + t->tv_nsec / 1000000000L;
    t->tv_nsec %= 1000000000L;
}

static int
lock_writer(struct sqlite_store *s, struct err *err)
{
    /* Bounded like SQLite's own wait: a writer that never ends is a 503, not a hang. */
    struct timespec until;
    deadline_in(&until, SQLITE_BUSY_TIMEOUT_MS * 1000000L);
    atomic_fetch_add(&s->writers_queued, 1);
    int rc = pthread_mutex_timedlock(&s->write_mu, &until);
    atomic_fetch_sub(&s->writers_queued, 1);
    if (rc != 0)
        return err_set(err, ERR_UNAVAILABLE, "database is busy, retry later");
    writer_of = s;
    return 0;
}

static void
unlock_writer(struct sqlite_store *s)
{
    writer_of = NULL;
    pthread_mutex_unlock(&s->write_mu);
}

/* Gives every member waiting in the group its outcome (rc, and e when rc < 0) and empties
 * the group. */
static void
tell_members(struct sqlite_store *s, int rc, const struct err *e)
{
    pthread_mutex_lock(&s->group_mu);
    for (struct group_waiter *w = s->waiters; w; w = w->next) {
        w->rc = rc;
        w->err = *e;
        w->done = true;
    }
    s->waiters = NULL;
    s->members = 0;
    pthread_cond_broadcast(&s->group_cv);
    pthread_mutex_unlock(&s->group_mu);
}

/* Ends the open group (commit; rollback when the COMMIT fails) and tells every waiting
 * member its outcome. Under write_mu. */
static int
finish_group(struct sqlite_store *s, struct err *err)
{
    int rc = 0;
    struct err cerr = { 0 };
    if (s->group_open) {
        if (sqlite_conn_exec(s->wconn, "COMMIT", &cerr) < 0) {
            if (!sqlite3_get_autocommit(s->wconn->db))
                sqlite3_exec(s->wconn->db, "ROLLBACK", NULL, NULL, NULL);
            s->wconn_suspect = true;
            rc = -1;
        }
        s->group_open = false;
        atomic_fetch_add_explicit(&s->group_commits, 1, memory_order_relaxed);
    }
    tell_members(s, rc, &cerr);
    if (rc < 0 && err)
        *err = cerr;
    return rc;
}

/* SQLite ended the whole transaction by itself (an I/O error, a full disk): every member
 * waiting in it has lost its work. Under write_mu. */
static void
group_lost(struct sqlite_store *s)
{
    struct err lost;
    tell_members(s, err_set(&lost, ERR_UNAVAILABLE, "the write was lost to a storage error"),
                 &lost);
    if (!sqlite3_get_autocommit(s->wconn->db))
        sqlite3_exec(s->wconn->db, "ROLLBACK", NULL, NULL, NULL);
    s->group_open = false;
    s->wconn_suspect = true;
}

/* Waits, without the writer, until the group me joined is committed. */
static int
wait_for_commit(struct sqlite_store *s, struct group_waiter *me, struct err *err)
{
    int64_t give_up = clock_mono_ns() + 2LL * SQLITE_BUSY_TIMEOUT_MS * 1000000LL;
    pthread_mutex_lock(&s->group_mu);
    while (!me->done) {
        struct timespec t;
        deadline_in(&t, RESCUE_NS);
        pthread_cond_timedwait(&s->group_cv, &s->group_mu, &t);
        if (me->done)
            break;
        /* The writer free and no one coming: commit the group ourselves. */
        pthread_mutex_unlock(&s->group_mu);
        if (pthread_mutex_trylock(&s->write_mu) == 0) {
            writer_of = s;
            pthread_mutex_lock(&s->group_mu);
            bool pending = !me->done;
            pthread_mutex_unlock(&s->group_mu);
            struct err ignored;
            if (pending)
                finish_group(s, &ignored);
            unlock_writer(s);
        }
        pthread_mutex_lock(&s->group_mu);
        if (!me->done && clock_mono_ns() > give_up) {
            /* Only a writer stuck for seconds gets here; the write may still be committed
             * with its group later, as after any timeout. */
            for (struct group_waiter **p = &s->waiters; *p; p = &(*p)->next)
                if (*p == me) {
                    *p = me->next;
                    s->members--;
                    break;
                }
            pthread_mutex_unlock(&s->group_mu);
            return err_set(err, ERR_UNAVAILABLE, "the database did not confirm the write in time");
        }
    }
    int rc = me->rc;
    if (rc < 0)
        *err = me->err;
    pthread_mutex_unlock(&s->group_mu);
    return rc;
}

/* A member is done with the writer: me (its work released into the group) waits for the
 * group's COMMIT, NULL (rolled back) does not. Hands the writer on uncommitted while
 * others are queued and the group has room; otherwise commits. Under write_mu. */
static int
member_end(struct sqlite_store *s, struct group_waiter *me, struct err *err)
{
    bool pending = me != NULL || s->members > 0;
    bool queued = atomic_load(&s->writers_queued) > 0;
    if (s->group_open && pending && queued && s->members + 1 < GROUP_MAX) {
        if (me == NULL) {
            unlock_writer(s);
            return 0;
        }
        pthread_mutex_lock(&s->group_mu);
        me->next = s->waiters;
        s->waiters = me;
        s->members++;
        pthread_mutex_unlock(&s->group_mu);
        atomic_fetch_add_explicit(&s->grouped_tx, 1, memory_order_relaxed);
        unlock_writer(s);
        return wait_for_commit(s, me, err);
    }
    int rc = finish_group(s, err);
    unlock_writer(s);
    return rc;
}

int
sqlite_group_begin(struct sqlite_store *s, struct err *err)
{
    if (writer_of == s)
        return err_set(err, ERR_INTERNAL, "a transaction is already open on this thread");
    if (lock_writer(s, err) < 0)
        return -1;
    if (!s->group_open) {
        if (sqlite_file_check(s, err) < 0)
            goto fail;
        /* After a storage error the connection is opened afresh (as sqlite_conn does for
         * a thread's), so the daemon recovers by itself once the fault is gone. */
        if (s->wconn && s->wconn_suspect) {
            sqlite_conn_close(s->wconn);
            s->wconn = NULL;
        }
        if (s->wconn == NULL && (s->wconn = sqlite_conn_open(s->path, err)) == NULL)
            goto fail;
        s->wconn_suspect = false;
        if (sqlite_conn_exec(s->wconn, "BEGIN IMMEDIATE", err) < 0) {
            s->wconn_suspect = true;
            goto fail;
        }
        s->group_open = true;
    }
    if (sqlite_conn_exec(s->wconn, "SAVEPOINT member", err) < 0) {
        struct err ignored;
        member_end(s, NULL, &ignored);
        return -1;
    }
    return 0;
fail:
    unlock_writer(s);
    return -1;
}

int
sqlite_group_commit(struct sqlite_store *s, struct err *err)
{
    if (writer_of != s)
        return err_set(err, ERR_INTERNAL, "no transaction is open on this thread");
    /* On failure the member is still open: the caller's rollback ends it. */
    if (sqlite_conn_exec(s->wconn, "RELEASE member", err) < 0)
        return -1;
    struct group_waiter me = { 0 };
    return member_end(s, &me, err);
}

void
sqlite_group_rollback(struct sqlite_store *s)
{
    if (writer_of != s)
        return;
    struct err ignored;
    if (sqlite_storage_failed())
        s->wconn_suspect = true;
    if (sqlite3_get_autocommit(s->wconn->db) ||
        sqlite_conn_exec(s->wconn, "ROLLBACK TO member", &ignored) < 0 ||
        sqlite_conn_exec(s->wconn, "RELEASE member", &ignored) < 0)
        group_lost(s);
    member_end(s, NULL, &ignored);
}
