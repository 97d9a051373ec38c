/*
 * c_abi.c: the `c-abi` benchmark runner, over the library's C ABI.
 *
 * It follows benchmarks/RUNNERS.md: the command line, one JSON line per case on stdout,
 * and the cases and their units. Each case uses the fastest path the C ABI offers that
 * still does what the case asks; its JSON `mode` names that path.
 *
 *   cc -std=c11 -O2 -Wall -Wextra -Werror -pthread benchmarks/c_abi.c \
 *      $(PKG_CONFIG_PATH=build/c/lib/pkgconfig pkg-config --cflags --libs pravega_client) \
 *      -o build/c/bin/c_abi_bench
 *   build/c/bin/c_abi_bench tcp://127.0.0.1:9090 --client c-abi --scope bench \
 *      --cases write_100B_acked,read_100B --repeats 3 --read-100b prefilled100b
 *
 * Every wait has a deadline, every status is checked, and any failure ends the program
 * with a message on stderr and a non-zero exit status.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <pravega_client.h>

/* ---- the sizes and counts of RUNNERS.md ---- */

#define SMALL_EVENT_BYTES 100
#define LARGE_EVENT_BYTES 1048576
#define READ_100KB_EVENT_BYTES 102400

#define ACKED_EVENTS 1000
#define PIPELINED_EVENTS 200000
#define LARGE_EVENTS 64
#define READ_100B_EVENTS 1000000
#define READ_100KB_EVENTS 10000
#define TRANSACTIONS 10
#define EVENTS_PER_TRANSACTION 100
#define CREATED_STREAMS 20

// Written and flushed before the clock starts, so that the writer has connected.
#define WARMUP_EVENTS 10

// Events per pravega_writer_write_batch call in the pipelined case. The sweep in the
// comment on write_100b_pipelined shows why this size.
#define PIPELINED_BATCH_EVENTS 1000

// No wait in this program is unbounded: each gives up after this long.
#define WAIT_SECONDS 120
#define WAIT_MS (WAIT_SECONDS * 1000)

#define MIB 1048576.0

static const char *const PROGRAM = "c_abi_bench";

/* ---- failing loudly ---- */

static void fail(const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "%s: ", PROGRAM);
    vfprintf(stderr, format, arguments);
    fputc('\n', stderr);
    va_end(arguments);
    exit(EXIT_FAILURE);
}

/*
 * Stops the program when a call failed, saying which call and why.
 *
 * It takes `&error`, not `error`: callers pass the call that sets `error` in the same
 * argument list, and C leaves the order in which arguments are evaluated open.
 */
static void require_ok(PravegaStatus status, PravegaError **error, const char *what)
{
    if (status == PRAVEGA_STATUS_OK)
        return;
    fprintf(stderr, "%s: %s failed with status %d: %s\n", PROGRAM, what, (int)status,
            pravega_error_message(*error));
    pravega_error_free(*error);
    exit(EXIT_FAILURE);
}

static void *allocate(size_t bytes)
{
    void *memory = malloc(bytes);
    if (memory == NULL)
        fail("out of memory (%zu bytes)", bytes);
    return memory;
}

/* ---- clocks ---- */

static double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* User plus system CPU time of the whole process, library threads included. */
static double process_cpu_seconds(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        fail("getrusage failed: %s", strerror(errno));
    double user = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6;
    double system = (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
    return user + system;
}

/* Wall and CPU time of one timed part. */
struct stopwatch {
    double wall_started;
    double cpu_started;
    double wall_seconds;
    double cpu_seconds;
};

static void stopwatch_start(struct stopwatch *watch)
{
    watch->cpu_started = process_cpu_seconds();
    watch->wall_started = monotonic_seconds();
}

static void stopwatch_stop(struct stopwatch *watch)
{
    // Read in the reverse order of stopwatch_start, so each clock brackets the other.
    watch->wall_seconds = monotonic_seconds() - watch->wall_started;
    watch->cpu_seconds = process_cpu_seconds() - watch->cpu_started;
}

/* A condition variable whose timed waits use the monotonic clock. */
static void monotonic_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    // Wall-clock changes must not move a deadline.
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attributes);
    pthread_condattr_destroy(&attributes);
}

static struct timespec deadline_in_seconds(int seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += seconds;
    return deadline;
}

static bool past(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* ---- what a case works with, and what one repeat gives back ---- */

struct options {
    const char *controller_uri;
    const char *client;
    const char *scope;
    const char *cases;
    long repeats;
    const char *read_100b_stream;
    const char *read_100kb_stream;
};

struct bench {
    const struct options *options;
    PravegaManager *manager;
    // A filled buffer the write cases take their payloads from.
    char *payload;
    size_t payload_bytes;
};

/* One repeat: its sample in the case's unit, and the client's CPU per event. */
struct measurement {
    double sample;
    double cpu_us_per_event;
};

static struct measurement per_second(double amount, double events, const struct stopwatch *watch)
{
    struct measurement result = {
        .sample = amount / watch->wall_seconds,
        .cpu_us_per_event = watch->cpu_seconds * 1e6 / events,
    };
    return result;
}

static struct measurement mean_latency_ms(double operations, double events,
                                          const struct stopwatch *watch)
{
    struct measurement result = {
        .sample = watch->wall_seconds * 1e3 / operations,
        .cpu_us_per_event = watch->cpu_seconds * 1e6 / events,
    };
    return result;
}

/* ---- streams, named uniquely for this run ---- */

/* Writes "c-abi-KIND-PID-N" into `name`; N counts up within the process. */
static void unique_name(char *name, size_t size, const char *kind)
{
    static unsigned long counter = 0;
    counter++;
    int written = snprintf(name, size, "c-abi-%s-%ld-%lu", kind, (long)getpid(), counter);
    if (written < 0 || (size_t)written >= size)
        fail("a generated name does not fit its buffer");
}

static void create_stream(const struct bench *bench, const char *stream)
{
    PravegaError *error = NULL;
    bool created = false;
    require_ok(pravega_manager_create_stream(bench->manager, bench->options->scope, stream, 1,
                                             &created, &error),
               &error, "pravega_manager_create_stream");
    if (!created)
        fail("stream %s/%s existed already", bench->options->scope, stream);
}

/* The in-memory server keeps every byte on its heap, so write cases give it back. */
static void seal_and_delete_stream(const struct bench *bench, const char *stream)
{
    PravegaError *error = NULL;
    bool done = false;
    require_ok(pravega_manager_seal_stream(bench->manager, bench->options->scope, stream, &done,
                                           &error),
               &error, "pravega_manager_seal_stream");
    require_ok(pravega_manager_delete_stream(bench->manager, bench->options->scope, stream,
                                             &done, &error),
               &error, "pravega_manager_delete_stream");
    if (!done)
        fail("stream %s/%s was gone before it could be deleted", bench->options->scope, stream);
}

/* ---- writers ---- */

/* A fresh one-segment stream with a writer that has connected and written a little. */
struct write_target {
    char stream[96];
    PravegaWriter *writer;
};

static void open_write_target(const struct bench *bench, struct write_target *target)
{
    PravegaError *error = NULL;
    unique_name(target->stream, sizeof target->stream, "write");
    create_stream(bench, target->stream);
    require_ok(pravega_writer_new(bench->manager, bench->options->scope, target->stream,
                                  &target->writer, &error),
               &error, "pravega_writer_new");

    // The first write connects to the segment store; that belongs outside the clock.
    for (int i = 0; i < WARMUP_EVENTS; i++)
        require_ok(pravega_writer_write(target->writer, NULL, bench->payload, SMALL_EVENT_BYTES,
                                        NULL, NULL, 0, &error),
                   &error, "pravega_writer_write (warm-up)");
    require_ok(pravega_writer_flush(target->writer, WAIT_MS, &error), &error,
               "pravega_writer_flush (warm-up)");
}

static void close_write_target(const struct bench *bench, struct write_target *target)
{
    PravegaError *error = NULL;
    // Collects any failure not yet reported before the writer goes.
    require_ok(pravega_writer_flush(target->writer, WAIT_MS, &error), &error,
               "pravega_writer_flush");
    pravega_writer_free(target->writer);
    target->writer = NULL;
    seal_and_delete_stream(bench, target->stream);
}

/* Acknowledgements counted by write callbacks, for a thread that waits for them. */
struct ack_waiter {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint64_t answered;
    // The first failure; later ones are freed as they come.
    PravegaStatus failure_status;
    PravegaError *failure;
};

static void ack_waiter_init(struct ack_waiter *waiter)
{
    pthread_mutex_init(&waiter->lock, NULL);
    monotonic_cond_init(&waiter->changed);
    waiter->answered = 0;
    waiter->failure_status = PRAVEGA_STATUS_OK;
    waiter->failure = NULL;
}

static void ack_waiter_destroy(struct ack_waiter *waiter)
{
    pthread_cond_destroy(&waiter->changed);
    pthread_mutex_destroy(&waiter->lock);
}

/* Runs on a library thread: records the answer and wakes the waiting thread. */
static void on_write_answered(void *user_data, const PravegaCompletion *completion)
{
    struct ack_waiter *waiter = user_data;
    pthread_mutex_lock(&waiter->lock);
    if (completion->status != PRAVEGA_STATUS_OK && waiter->failure_status == PRAVEGA_STATUS_OK) {
        waiter->failure_status = completion->status;
        waiter->failure = completion->error;
    } else {
        pravega_error_free(completion->error);
    }
    waiter->answered++;
    pthread_cond_signal(&waiter->changed);
    pthread_mutex_unlock(&waiter->lock);
}

/* Waits until `count` writes have been answered, and stops on the first failure. */
static void wait_for_answers(struct ack_waiter *waiter, uint64_t count)
{
    struct timespec deadline = deadline_in_seconds(WAIT_SECONDS);
    pthread_mutex_lock(&waiter->lock);
    while (waiter->answered < count && waiter->failure_status == PRAVEGA_STATUS_OK) {
        if (pthread_cond_timedwait(&waiter->changed, &waiter->lock, &deadline) == ETIMEDOUT)
            fail("no acknowledgement within %d s", WAIT_SECONDS);
    }
    pthread_mutex_unlock(&waiter->lock);
    require_ok(waiter->failure_status, &waiter->failure, "writing an event");
}

/* ---- the write cases ---- */

/*
 * One write at a time, each with a callback that wakes this thread through a condition
 * variable. Waiting for the callback is what "acknowledged before the next" means. A
 * completion queue polled for each ack, and a flush after each write, were tried too;
 * over 4 repeats none of the three came out ahead of the others beyond the noise.
 */
static struct measurement write_100b_acked(const struct bench *bench)
{
    struct write_target target;
    struct ack_waiter waiter;
    struct stopwatch watch;
    PravegaError *error = NULL;
    open_write_target(bench, &target);
    ack_waiter_init(&waiter);

    stopwatch_start(&watch);
    for (uint64_t i = 0; i < ACKED_EVENTS; i++) {
        require_ok(pravega_writer_write(target.writer, NULL, bench->payload, SMALL_EVENT_BYTES,
                                        on_write_answered, &waiter, i, &error),
                   &error, "pravega_writer_write");
        wait_for_answers(&waiter, i + 1);
    }
    stopwatch_stop(&watch);

    close_write_target(bench, &target);
    ack_waiter_destroy(&waiter);
    return per_second(ACKED_EVENTS, ACKED_EVENTS, &watch);
}

/*
 * Batches of PIPELINED_BATCH_EVENTS events per pravega_writer_write_batch call, without
 * callbacks, then one flush. The flush is what stops the clock only once the server has
 * acknowledged every event, and it reports any failure the writer kept.
 *
 * Why this path: on the 2-core test machine, 16 or 17 repeats of each candidate, medians
 * of events/s and client CPU us/event were: one pravega_writer_write per event without a
 * callback 380k and 1.49; the same with a counting callback 410k and 1.50; write_batch of
 * 100 449k and 1.11; of 1,000 507k and 1.04; of 10,000 407k and 1.00; of 1,000 with a
 * callback 490k and 1.04. Batches save a third of the CPU per event. Among batch sizes the
 * wall-clock spread (the server shares the cores) is wider than the differences, so the
 * size is the one the Python runner's batches use.
 */
static struct measurement write_100b_pipelined(const struct bench *bench)
{
    struct write_target target;
    struct stopwatch watch;
    PravegaError *error = NULL;
    size_t *lengths = allocate(PIPELINED_BATCH_EVENTS * sizeof *lengths);
    for (size_t i = 0; i < PIPELINED_BATCH_EVENTS; i++)
        lengths[i] = SMALL_EVENT_BYTES;
    const size_t batch_bytes = PIPELINED_BATCH_EVENTS * SMALL_EVENT_BYTES;
    open_write_target(bench, &target);

    stopwatch_start(&watch);
    for (size_t written = 0; written < PIPELINED_EVENTS; written += PIPELINED_BATCH_EVENTS)
        require_ok(pravega_writer_write_batch(target.writer, NULL, bench->payload, batch_bytes,
                                              lengths, PIPELINED_BATCH_EVENTS, NULL, NULL, 0,
                                              &error),
                   &error, "pravega_writer_write_batch");
    require_ok(pravega_writer_flush(target.writer, WAIT_MS, &error), &error,
               "pravega_writer_flush");
    stopwatch_stop(&watch);

    close_write_target(bench, &target);
    free(lengths);
    return per_second(PIPELINED_EVENTS, PIPELINED_EVENTS, &watch);
}

/*
 * Each 1 MiB event by its own write, without callbacks, then one flush. Batches of 4 or 8
 * events per write_batch call were tried too and showed no difference beyond the noise:
 * at this size the copies and the network dominate, not the calls.
 */
static struct measurement write_1mib(const struct bench *bench)
{
    struct write_target target;
    struct stopwatch watch;
    PravegaError *error = NULL;
    open_write_target(bench, &target);

    stopwatch_start(&watch);
    for (int i = 0; i < LARGE_EVENTS; i++)
        require_ok(pravega_writer_write(target.writer, NULL, bench->payload, LARGE_EVENT_BYTES,
                                        NULL, NULL, 0, &error),
                   &error, "pravega_writer_write");
    require_ok(pravega_writer_flush(target.writer, WAIT_MS, &error), &error,
               "pravega_writer_flush");
    stopwatch_stop(&watch);

    close_write_target(bench, &target);
    return per_second(LARGE_EVENTS * (double)LARGE_EVENT_BYTES / MIB, LARGE_EVENTS, &watch);
}

/* ---- the read cases ---- */

/* One acquire's outcome, handed from the library's thread to the reading thread. */
struct slice_mailbox {
    pthread_mutex_t lock;
    pthread_cond_t arrived;
    bool full;
    PravegaStatus status;
    PravegaError *error;
    PravegaSlice *slice;
};

static void slice_mailbox_init(struct slice_mailbox *box)
{
    pthread_mutex_init(&box->lock, NULL);
    monotonic_cond_init(&box->arrived);
    box->full = false;
}

static void slice_mailbox_destroy(struct slice_mailbox *box)
{
    pthread_cond_destroy(&box->arrived);
    pthread_mutex_destroy(&box->lock);
}

/* Runs on a library thread: only stores the outcome, whose error and slice move along. */
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

/* Acquires the reader's next slice; NULL when no data came within about a second. */
static PravegaSlice *acquire_slice(PravegaReader *reader, struct slice_mailbox *box,
                                   const struct timespec *deadline)
{
    PravegaError *error = NULL;
    box->full = false;
    require_ok(pravega_reader_acquire_segment(reader, on_slice, box, 0, &error), &error,
               "pravega_reader_acquire_segment");

    pthread_mutex_lock(&box->lock);
    while (!box->full) {
        if (pthread_cond_timedwait(&box->arrived, &box->lock, deadline) == ETIMEDOUT)
            fail("the reader had not read everything within %d s", WAIT_SECONDS);
    }
    pthread_mutex_unlock(&box->lock);

    require_ok(box->status, &box->error, "acquiring a slice");
    return box->slice;
}

/* What one read repeat counted. */
struct read_tally {
    uint64_t events;
    // The sum of the events' lengths.
    uint64_t checksum;
};

/*
 * Reads `expected_events` events from the head of `stream` through a new reader group
 * with one reader. The clock runs from the first acquire to the last event counted;
 * making and removing the group and reader is set-up.
 */
static struct read_tally read_stream(const struct bench *bench, const char *stream,
                                     uint64_t expected_events, struct stopwatch *watch)
{
    const char *scope = bench->options->scope;
    PravegaError *error = NULL;
    PravegaReaderGroupConfig *config = NULL;
    PravegaReaderGroup *group = NULL;
    PravegaReader *reader = NULL;
    char group_name[96];
    unique_name(group_name, sizeof group_name, "readers");
    require_ok(pravega_reader_group_config_new(&config, &error), &error,
               "pravega_reader_group_config_new");
    require_ok(pravega_reader_group_config_add_stream(config, scope, stream, false, &error),
               &error, "pravega_reader_group_config_add_stream");
    require_ok(pravega_reader_group_new(bench->manager, scope, group_name, config, &group,
                                        &error),
               &error, "pravega_reader_group_new");
    pravega_reader_group_config_free(config);
    require_ok(pravega_reader_group_create_reader(group, "reader-1", &reader, &error), &error,
               "pravega_reader_group_create_reader");

    struct slice_mailbox box;
    struct read_tally tally = {0, 0};
    slice_mailbox_init(&box);
    struct timespec deadline = deadline_in_seconds(WAIT_SECONDS);

    stopwatch_start(watch);
    while (tally.events < expected_events) {
        // Checked here too: acquires that complete at once never reach a timed wait.
        if (past(&deadline))
            fail("the reader had not read everything within %d s", WAIT_SECONDS);
        PravegaSlice *slice = acquire_slice(reader, &box, &deadline);
        if (slice == NULL)
            continue;

        // Stop at the expected count even mid-slice; the rest goes back to the reader.
        bool found = true;
        while (found && tally.events < expected_events) {
            const uint8_t *data = NULL;
            size_t len = 0;
            int64_t offset = 0;
            require_ok(pravega_slice_next(slice, &data, &len, &offset, &found, &error), &error,
                       "pravega_slice_next");
            if (found) {
                tally.events++;
                tally.checksum += len;
            }
        }
        require_ok(pravega_reader_release_segment(reader, slice, &error), &error,
                   "pravega_reader_release_segment");
    }
    stopwatch_stop(watch);

    // Offline first, so that the group has forgotten the reader when it is deleted.
    require_ok(pravega_reader_offline(reader, &error), &error, "pravega_reader_offline");
    pravega_reader_free(reader);
    pravega_reader_group_free(group);
    require_ok(pravega_manager_delete_reader_group(bench->manager, scope, group_name, &error),
               &error, "pravega_manager_delete_reader_group");
    slice_mailbox_destroy(&box);
    return tally;
}

/* Reads a pre-filled stream and checks that its events have the size RUNNERS.md gives. */
static struct read_tally read_prefilled(const struct bench *bench, const char *stream,
                                        uint64_t events, uint64_t event_bytes,
                                        struct stopwatch *watch)
{
    struct read_tally tally = read_stream(bench, stream, events, watch);
    if (tally.checksum != events * event_bytes)
        fail("read %" PRIu64 " bytes in %" PRIu64 " events of %s; expected %" PRIu64
             " bytes each",
             tally.checksum, tally.events, stream, event_bytes);
    return tally;
}

static struct measurement read_100b(const struct bench *bench)
{
    struct stopwatch watch;
    struct read_tally tally = read_prefilled(bench, bench->options->read_100b_stream,
                                             READ_100B_EVENTS, SMALL_EVENT_BYTES, &watch);
    return per_second((double)tally.events, (double)tally.events, &watch);
}

static struct measurement read_100kb(const struct bench *bench)
{
    struct stopwatch watch;
    struct read_tally tally = read_prefilled(bench, bench->options->read_100kb_stream,
                                             READ_100KB_EVENTS, READ_100KB_EVENT_BYTES, &watch);
    return per_second((double)tally.checksum / MIB, (double)tally.events, &watch);
}

/* ---- transactions and stream creation ---- */

/* Each transaction: begin, 100 queued writes, then a blocking commit. */
static struct measurement txn_100x100b(const struct bench *bench)
{
    const char *scope = bench->options->scope;
    char stream[96];
    PravegaError *error = NULL;
    PravegaTxnWriter *txn_writer = NULL;
    PravegaTransaction *txn = NULL;
    struct stopwatch watch;
    unique_name(stream, sizeof stream, "txn");
    create_stream(bench, stream);
    require_ok(pravega_txn_writer_new(bench->manager, scope, stream, 1, &txn_writer, &error),
               &error, "pravega_txn_writer_new");

    // A committed warm-up transaction connects the writer outside the clock.
    require_ok(pravega_txn_writer_begin(txn_writer, &txn, &error), &error,
               "pravega_txn_writer_begin (warm-up)");
    for (int i = 0; i < WARMUP_EVENTS; i++)
        require_ok(pravega_txn_write(txn, NULL, bench->payload, SMALL_EVENT_BYTES, &error),
                   &error, "pravega_txn_write (warm-up)");
    require_ok(pravega_txn_commit(txn, PRAVEGA_NO_TIMESTAMP, &error), &error,
               "pravega_txn_commit (warm-up)");
    pravega_txn_free(txn);

    stopwatch_start(&watch);
    for (int t = 0; t < TRANSACTIONS; t++) {
        require_ok(pravega_txn_writer_begin(txn_writer, &txn, &error), &error,
                   "pravega_txn_writer_begin");
        for (int i = 0; i < EVENTS_PER_TRANSACTION; i++)
            require_ok(pravega_txn_write(txn, NULL, bench->payload, SMALL_EVENT_BYTES, &error),
                       &error, "pravega_txn_write");
        require_ok(pravega_txn_commit(txn, PRAVEGA_NO_TIMESTAMP, &error), &error,
                   "pravega_txn_commit");
        pravega_txn_free(txn);
    }
    stopwatch_stop(&watch);

    pravega_txn_writer_free(txn_writer);
    seal_and_delete_stream(bench, stream);
    return mean_latency_ms(TRANSACTIONS, TRANSACTIONS * EVENTS_PER_TRANSACTION, &watch);
}

/* Creates streams one after another; they are removed again outside the clock. */
static struct measurement create_streams(const struct bench *bench)
{
    char names[CREATED_STREAMS][96];
    struct stopwatch watch;
    for (int i = 0; i < CREATED_STREAMS; i++)
        unique_name(names[i], sizeof names[i], "created");

    stopwatch_start(&watch);
    for (int i = 0; i < CREATED_STREAMS; i++)
        create_stream(bench, names[i]);
    stopwatch_stop(&watch);

    for (int i = 0; i < CREATED_STREAMS; i++)
        seal_and_delete_stream(bench, names[i]);
    return mean_latency_ms(CREATED_STREAMS, CREATED_STREAMS, &watch);
}

/* ---- the case table ---- */

struct bench_case {
    const char *name;
    const char *unit;
    const char *mode;
    struct measurement (*run)(const struct bench *bench);
};

static const struct bench_case CASES[] = {
    {"write_100B_acked", "events_per_s", "write with callback, condvar wait per ack",
     write_100b_acked},
    {"write_100B_pipelined", "events_per_s", "write_batch of 1000, no callback, flush",
     write_100b_pipelined},
    {"write_1MiB", "mb_per_s", "write per event, no callback, flush", write_1mib},
    {"read_100B", "events_per_s", "acquire callback + condvar, slice_next, release",
     read_100b},
    {"read_100KB", "mb_per_s", "acquire callback + condvar, slice_next, release", read_100kb},
    {"txn_100x100B", "latency_ms", "txn_write x100, blocking commit", txn_100x100b},
    {"create_stream", "latency_ms", "blocking create_stream", create_streams},
};

#define CASE_COUNT (sizeof CASES / sizeof CASES[0])

static const struct bench_case *find_case(const char *name, size_t name_len)
{
    for (size_t i = 0; i < CASE_COUNT; i++) {
        if (strlen(CASES[i].name) == name_len && strncmp(CASES[i].name, name, name_len) == 0)
            return &CASES[i];
    }
    return NULL;
}

/* ---- output: JSON written by hand ---- */

static void print_json_string(const char *text)
{
    putchar('"');
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if (*c < 0x20)
            printf("\\u%04x", *c);
        else
            putchar(*c);
    }
    putchar('"');
}

static void print_json_numbers(const double *values, long count)
{
    putchar('[');
    for (long i = 0; i < count; i++) {
        // JSON has no NaN or infinity; a clock that did not move would produce one.
        if (!isfinite(values[i]))
            fail("a figure came out as %f; it cannot be written as JSON", values[i]);
        printf("%s%.3f", i == 0 ? "" : ", ", values[i]);
    }
    putchar(']');
}

static void print_case_line(const struct options *options, const struct bench_case *bench_case,
                            const double *samples, const double *cpu_us_per_event)
{
    printf("{\"case\": ");
    print_json_string(bench_case->name);
    printf(", \"client\": ");
    print_json_string(options->client);
    printf(", \"mode\": ");
    print_json_string(bench_case->mode);
    printf(", \"unit\": ");
    print_json_string(bench_case->unit);
    printf(", \"samples\": ");
    print_json_numbers(samples, options->repeats);
    printf(", \"client_cpu_us_per_event\": ");
    print_json_numbers(cpu_us_per_event, options->repeats);
    printf("}\n");
    // The driver may read line by line while later cases run.
    fflush(stdout);
}

/* ---- the command line ---- */

static void usage_error(const char *problem)
{
    fprintf(stderr,
            "%s: %s\n"
            "usage: %s CONTROLLER_URI --client NAME --scope SCOPE --cases CASE[,CASE...]\n"
            "       --repeats N [--read-100b STREAM] [--read-100kb STREAM]\n",
            PROGRAM, problem, PROGRAM);
    exit(2);
}

static void parse_options(int argc, char **argv, struct options *options)
{
    memset(options, 0, sizeof *options);
    for (int i = 1; i < argc; i++) {
        const char *argument = argv[i];
        if (strncmp(argument, "--", 2) != 0) {
            if (options->controller_uri != NULL)
                usage_error("more than one controller URI");
            options->controller_uri = argument;
            continue;
        }

        if (i + 1 >= argc)
            usage_error("an option lacks its value");
        const char *value = argv[++i];
        if (strcmp(argument, "--client") == 0) {
            options->client = value;
        } else if (strcmp(argument, "--scope") == 0) {
            options->scope = value;
        } else if (strcmp(argument, "--cases") == 0) {
            options->cases = value;
        } else if (strcmp(argument, "--read-100b") == 0) {
            options->read_100b_stream = value;
        } else if (strcmp(argument, "--read-100kb") == 0) {
            options->read_100kb_stream = value;
        } else if (strcmp(argument, "--repeats") == 0) {
            char *end = NULL;
            errno = 0;
            options->repeats = strtol(value, &end, 10);
            if (errno != 0 || end == value || *end != '\0' || options->repeats < 1 ||
                options->repeats > 1000)
                usage_error("--repeats takes a whole number from 1 to 1000");
        } else {
            fprintf(stderr, "%s: unknown option %s\n", PROGRAM, argument);
            usage_error("see the options below");
        }
    }

    if (options->controller_uri == NULL || options->client == NULL || options->scope == NULL ||
        options->cases == NULL || options->repeats == 0)
        usage_error("CONTROLLER_URI, --client, --scope, --cases and --repeats are required");
}

/*
 * Turns the comma-separated --cases into `selected`, checking every name and the
 * streams the read cases need before any case runs. Returns how many were named.
 */
static size_t select_cases(const struct options *options, const struct bench_case **selected,
                           size_t capacity)
{
    size_t count = 0;
    const char *name = options->cases;
    for (;;) {
        size_t name_len = strcspn(name, ",");
        const struct bench_case *bench_case = find_case(name, name_len);
        if (bench_case == NULL)
            fail("unknown case \"%.*s\"", (int)name_len, name);
        if (bench_case->run == read_100b && options->read_100b_stream == NULL)
            fail("case read_100B needs --read-100b STREAM");
        if (bench_case->run == read_100kb && options->read_100kb_stream == NULL)
            fail("case read_100KB needs --read-100kb STREAM");
        if (count == capacity)
            fail("more than %zu cases given", capacity);
        selected[count++] = bench_case;

        if (name[name_len] == '\0')
            return count;
        name += name_len + 1;
    }
}

/* ---- the program ---- */

int main(int argc, char **argv)
{
    struct options options;
    const struct bench_case *selected[64];
    parse_options(argc, argv, &options);
    size_t selected_count = select_cases(&options, selected, sizeof selected / sizeof *selected);

    // A library other than the one this program was compiled against must not be used.
    if (pravega_abi_version() != PRAVEGA_ABI_VERSION)
        fail("the loaded libpravega_client has ABI %u, this program was built for %u",
             pravega_abi_version(), PRAVEGA_ABI_VERSION);

    struct bench bench = {.options = &options};
    PravegaError *error = NULL;
    require_ok(pravega_manager_new(options.controller_uri, NULL, &bench.manager, &error), &error,
               "pravega_manager_new");
    // The scope exists already; asking for it connects to the controller before any clock.
    bool scope_created = false;
    require_ok(pravega_manager_create_scope(bench.manager, options.scope, &scope_created,
                                            &error),
               &error, "pravega_manager_create_scope");

    // One payload buffer serves every write: the library copies what it is given.
    bench.payload_bytes = LARGE_EVENT_BYTES > PIPELINED_BATCH_EVENTS * SMALL_EVENT_BYTES
                              ? LARGE_EVENT_BYTES
                              : PIPELINED_BATCH_EVENTS * SMALL_EVENT_BYTES;
    bench.payload = allocate(bench.payload_bytes);
    memset(bench.payload, 'x', bench.payload_bytes);

    double *samples = allocate((size_t)options.repeats * sizeof *samples);
    double *cpu_us_per_event = allocate((size_t)options.repeats * sizeof *cpu_us_per_event);
    for (size_t c = 0; c < selected_count; c++) {
        const struct bench_case *bench_case = selected[c];
        for (long r = 0; r < options.repeats; r++) {
            struct measurement result = bench_case->run(&bench);
            samples[r] = result.sample;
            cpu_us_per_event[r] = result.cpu_us_per_event;
            fprintf(stderr, "%s: %s repeat %ld/%ld: %.3f %s, %.3f us CPU per event\n", PROGRAM,
                    bench_case->name, r + 1, options.repeats, result.sample, bench_case->unit,
                    result.cpu_us_per_event);
        }
        print_case_line(&options, bench_case, samples, cpu_us_per_event);
    }

    free(cpu_us_per_event);
    free(samples);
    free(bench.payload);
    pravega_manager_free(bench.manager);
    return EXIT_SUCCESS;
}
