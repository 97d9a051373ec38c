/*
 * multithreaded_writer.c: several threads writing through one manager.
 *
 * Each thread writes its own numbered events under its own routing key. Half of the
 * threads make a writer of their own; the other half share one writer, which is
 * thread-safe. Every write has a callback that counts its acknowledgement. Then one
 * reader reads the stream back, and the program checks that every thread's events all
 * arrived, once each, in the order that thread wrote them. Exits 0 only if so.
 *
 *   cc -std=c11 multithreaded_writer.c $(pkg-config --cflags --libs pravega_client) -pthread
 *   ./a.out tcp://127.0.0.1:9090 [scope]
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pravega_client.h>

#define STREAM "multi"
#define GROUP "multi-readers"
#define SEGMENTS 4
#define THREADS 4
#define EVENTS_PER_THREAD 250
#define WAIT_SECONDS 60

/*
 * It takes `&error`, not `error`, because callers pass the call that sets `error` in the
 * same argument list, and C does not say which argument is evaluated first.
 */
static void require_ok(PravegaStatus status, PravegaError **error, const char *what)
{
    if (status == PRAVEGA_STATUS_OK)
        return;
    fprintf(stderr, "multithreaded_writer: %s failed with status %d: %s\n", what, (int)status,
            pravega_error_message(*error));
    pravega_error_free(*error);
    exit(EXIT_FAILURE);
}

static void fail(const char *message)
{
    fprintf(stderr, "multithreaded_writer: %s\n", message);
    exit(EXIT_FAILURE);
}

/* A condition variable whose timed waits use the monotonic clock. */
static void monotonic_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attributes);
    pthread_condattr_destroy(&attributes);
}

static struct timespec deadline_in(int seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += seconds;
    return deadline;
}

/* ---- writing ---- */

/* The acknowledgements of one thread's events, counted by its write callbacks. */
struct ack_counter {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t acked;
    size_t failed;
};

/* Runs on a library thread for each event: counts it and wakes the writing thread. */
static void on_ack(void *user_data, const PravegaCompletion *completion)
{
    struct ack_counter *counter = user_data;
    if (completion->status != PRAVEGA_STATUS_OK) {
        fprintf(stderr, "multithreaded_writer: event %llu failed: %s\n",
                (unsigned long long)completion->tag, pravega_error_message(completion->error));
        // The callback owns the error.
        pravega_error_free(completion->error);
    }

    pthread_mutex_lock(&counter->lock);
    if (completion->status == PRAVEGA_STATUS_OK)
        counter->acked++;
    else
        counter->failed++;
    pthread_cond_signal(&counter->changed);
    pthread_mutex_unlock(&counter->lock);
}

struct writer_thread {
    int index;
    PravegaManager *manager;
    const char *scope;
    // NULL when the thread makes a writer of its own.
    PravegaWriter *shared_writer;
    struct ack_counter counter;
    pthread_t thread;
};

static void *write_events(void *argument)
{
    struct writer_thread *self = argument;
    PravegaError *error = NULL;
    PravegaWriter *writer = self->shared_writer;
    if (writer == NULL)
        require_ok(pravega_writer_new(self->manager, self->scope, STREAM, &writer, &error),
                   &error, "pravega_writer_new");

    // One routing key per thread: that is what keeps each thread's events in order.
    char key[32];
    snprintf(key, sizeof key, "thread-%d", self->index);
    for (size_t i = 0; i < EVENTS_PER_THREAD; i++) {
        char payload[64];
        int len = snprintf(payload, sizeof payload, "%s event %zu", key, i);
        PravegaStatus status = pravega_writer_write(writer, key, payload, (size_t)len, on_ack,
                                                    &self->counter, (uint64_t)i, &error);
        require_ok(status, &error, "pravega_writer_write");
    }

    struct timespec deadline = deadline_in(WAIT_SECONDS);
    pthread_mutex_lock(&self->counter.lock);
    while (self->counter.acked + self->counter.failed < EVENTS_PER_THREAD) {
        if (pthread_cond_timedwait(&self->counter.changed, &self->counter.lock, &deadline) ==
            ETIMEDOUT)
            fail("timed out waiting for acknowledgements");
    }
    pthread_mutex_unlock(&self->counter.lock);

    if (self->shared_writer == NULL) {
        require_ok(pravega_writer_flush(writer, WAIT_SECONDS * 1000, &error), &error,
                   "pravega_writer_flush");
        pravega_writer_free(writer);
    }
    return NULL;
}

static void write_from_threads(PravegaManager *manager, const char *scope)
{
    PravegaError *error = NULL;
    PravegaWriter *shared_writer = NULL;
    require_ok(pravega_writer_new(manager, scope, STREAM, &shared_writer, &error), &error,
               "pravega_writer_new");

    struct writer_thread threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        struct writer_thread *thread = &threads[t];
        thread->index = t;
        thread->manager = manager;
        thread->scope = scope;
        thread->shared_writer = t % 2 == 0 ? NULL : shared_writer;
        pthread_mutex_init(&thread->counter.lock, NULL);
        monotonic_cond_init(&thread->counter.changed);
        thread->counter.acked = 0;
        thread->counter.failed = 0;
        if (pthread_create(&thread->thread, NULL, write_events, thread) != 0)
            fail("cannot start a thread");
    }

    size_t failed = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t].thread, NULL);
        failed += threads[t].counter.failed;
        pthread_cond_destroy(&threads[t].counter.changed);
        pthread_mutex_destroy(&threads[t].counter.lock);
    }
    require_ok(pravega_writer_flush(shared_writer, WAIT_SECONDS * 1000, &error), &error,
               "pravega_writer_flush");
    pravega_writer_free(shared_writer);
    if (failed > 0)
        fail("some writes failed");
    printf("%d threads wrote %d events each (%d with own writers, %d sharing one); all "
           "acknowledged\n",
           THREADS, EVENTS_PER_THREAD, (THREADS + 1) / 2, THREADS / 2);
}

/* ---- reading back ---- */

struct slice_mailbox {
    pthread_mutex_t lock;
    pthread_cond_t arrived;
    bool full;
    PravegaStatus status;
    PravegaError *error;
    PravegaSlice *slice;
};

static void on_slice(void *user_data, const PravegaCompletion *completion)
{
    struct slice_mailbox *box = user_data;
    pthread_mutex_lock(&box->lock);
    box->status = completion->status;
    box->error = completion->error;
    box->slice = completion->result;
    box->full = true;
    pthread_cond_signal(&box->arrived);
    pthread_mutex_unlock(&box->lock);
}

static PravegaSlice *next_slice(PravegaReader *reader, struct slice_mailbox *box)
{
    PravegaError *error = NULL;
    box->full = false;
    require_ok(pravega_reader_acquire_segment(reader, on_slice, box, 0, &error), &error,
               "pravega_reader_acquire_segment");

    struct timespec deadline = deadline_in(WAIT_SECONDS);
    pthread_mutex_lock(&box->lock);
    while (!box->full) {
        if (pthread_cond_timedwait(&box->arrived, &box->lock, &deadline) == ETIMEDOUT)
            fail("timed out waiting for a slice");
    }
    pthread_mutex_unlock(&box->lock);

    require_ok(box->status, &box->error, "acquiring a segment");
    return box->slice;
}

/*
 * Checks one event: it must be the next one its thread wrote. Nothing may be missing
 * in between, doubled, or out of order.
 */
static void check_event(size_t *next_of_thread, const uint8_t *data, size_t len)
{
    char text[64];
    if (len >= sizeof text)
        fail("read an event longer than any that was written");
    memcpy(text, data, len);
    text[len] = '\0';

    int thread = -1;
    size_t index = 0;
    if (sscanf(text, "thread-%d event %zu", &thread, &index) != 2 || thread < 0 ||
        thread >= THREADS)
        fail("read an event that no thread wrote");
    if (index != next_of_thread[thread]) {
        fprintf(stderr, "multithreaded_writer: thread %d: expected event %zu, read %zu\n",
                thread, next_of_thread[thread], index);
        exit(EXIT_FAILURE);
    }
    next_of_thread[thread]++;
}

static void read_back(PravegaManager *manager, const char *scope)
{
    PravegaError *error = NULL;
    PravegaReaderGroupConfig *config = NULL;
    PravegaReaderGroup *group = NULL;
    PravegaReader *reader = NULL;
    require_ok(pravega_reader_group_config_new(&config, &error), &error,
               "pravega_reader_group_config_new");
    require_ok(pravega_reader_group_config_add_stream(config, scope, STREAM, false, &error),
               &error, "pravega_reader_group_config_add_stream");
    require_ok(pravega_reader_group_new(manager, scope, GROUP, config, &group, &error), &error,
               "pravega_reader_group_new");
    pravega_reader_group_config_free(config);
    require_ok(pravega_reader_group_create_reader(group, "reader-1", &reader, &error), &error,
               "pravega_reader_group_create_reader");

    struct slice_mailbox box = {.full = false};
    pthread_mutex_init(&box.lock, NULL);
    monotonic_cond_init(&box.arrived);
    size_t next_of_thread[THREADS] = {0};
    size_t total = 0;
    struct timespec deadline = deadline_in(WAIT_SECONDS);

    while (total < (size_t)THREADS * EVENTS_PER_THREAD) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > deadline.tv_sec)
            fail("timed out before every event was read back");
        PravegaSlice *slice = next_slice(reader, &box);
        if (slice == NULL)
            continue;

        bool found = true;
        while (found) {
            const uint8_t *data = NULL;
            size_t len = 0;
            int64_t offset = 0;
            require_ok(pravega_slice_next(slice, &data, &len, &offset, &found, &error), &error,
                       "pravega_slice_next");
            if (found) {
                check_event(next_of_thread, data, len);
                total++;
            }
        }
        require_ok(pravega_reader_release_segment(reader, slice, &error), &error,
                   "pravega_reader_release_segment");
    }
    printf("read back %zu events; every thread's events came in the order written\n", total);

    require_ok(pravega_reader_offline(reader, &error), &error, "pravega_reader_offline");
    pravega_reader_free(reader);
    pravega_reader_group_free(group);
    pthread_cond_destroy(&box.arrived);
    pthread_mutex_destroy(&box.lock);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s CONTROLLER_URI [SCOPE]\n", argv[0]);
        return 2;
    }
    char default_scope[64];
    snprintf(default_scope, sizeof default_scope, "multithreaded-%ld-%ld", (long)getpid(),
             (long)time(NULL));
    const char *scope = argc == 3 ? argv[2] : default_scope;

    PravegaError *error = NULL;
    PravegaManager *manager = NULL;
    bool created = false;
    require_ok(pravega_manager_new(argv[1], NULL, &manager, &error), &error,
               "pravega_manager_new");
    require_ok(pravega_manager_create_scope(manager, scope, &created, &error), &error,
               "pravega_manager_create_scope");
    require_ok(pravega_manager_create_stream(manager, scope, STREAM, SEGMENTS, &created, &error),
               &error, "pravega_manager_create_stream");
    printf("created stream %s/%s with %d segments\n", scope, STREAM, SEGMENTS);

    write_from_threads(manager, scope);
    read_back(manager, scope);

    pravega_manager_free(manager);
    printf("multithreaded_writer: all checks passed\n");
    return EXIT_SUCCESS;
}
