/*
 * misuse.c: how the C library answers a caller that gets things wrong.
 *
 * Every case makes one wrong call (a NULL handle, string, callback or out-pointer, a
 * string that is not UTF-8, a length that does not fit, a blocking call from inside a
 * callback, a handle freed while work is in flight, ...) and checks that the library
 * answers with the status its header documents, together with an error whose message is
 * not empty, and does not crash or hang. One line is printed per case; the exit status
 * is 0 only when every case passed.
 *
 * Double frees and use after free are undefined behaviour by the header, so they are
 * not tried here.
 *
 *   misuse CONTROLLER_URI [SCOPE]
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

#define WAIT_SECONDS 60
// Not UTF-8: a lone continuation byte and a byte that never occurs in UTF-8.
#define NOT_UTF8 "bad\x80\xff"
#define MANY_EVENTS 200
// More than the byte reader fetches ahead of its position (512 KiB).
#define TRUNCATED_BYTES (2 * 1024 * 1024)

static int cases_run;
static int cases_failed;

/* ---- reporting ---- */

static const char *status_name(PravegaStatus status)
{
    static const char *const names[] = {
        "OK",        "INVALID_ARGUMENT", "CLOSED",         "CONTROLLER_ERROR", "IO_ERROR",
        "TIMEOUT",   "NOT_FOUND",        "ALREADY_EXISTS", "TXN_FAILED",       "WOULD_DEADLOCK",
        "CANCELLED", "INTERNAL",         "UNAVAILABLE",    "UNSUPPORTED",
    };
    if (status < 0 || (size_t)status >= sizeof names / sizeof names[0])
        return "UNKNOWN";
    return names[status];
}

/*
 * Checks one outcome and prints its line. A failure must carry an error of the same
 * status with a non-empty message; a success must carry no error. Frees `error`.
 */
static void check_status(const char *name, PravegaStatus want, PravegaStatus got,
                         PravegaError *error)
{
    const char *message = pravega_error_message(error);
    bool passed;
    if (want == PRAVEGA_STATUS_OK)
        passed = got == PRAVEGA_STATUS_OK && error == NULL;
    else
        passed = got == want && error != NULL && pravega_error_status(error) == got &&
                 message[0] != '\0';

    cases_run++;
    if (passed) {
        printf("ok   %s: %s%s%s\n", name, status_name(got), message[0] ? ": " : "", message);
    } else {
        cases_failed++;
        printf("FAIL %s: expected %s with a message, got %s (error %s, message \"%s\")\n", name,
               status_name(want), status_name(got), error ? "set" : "NULL", message);
    }
    pravega_error_free(error);
}

/* Checks a condition that has no status, such as the value a NULL handle gives. */
static void check_true(const char *name, bool condition, const char *detail)
{
    cases_run++;
    if (!condition)
        cases_failed++;
    printf("%s %s: %s\n", condition ? "ok  " : "FAIL", name, detail);
}

/*
 * Makes the call and checks its status. `call` passes `&error`, which this declares, so
 * each case stays one statement that shows the exact call made.
 */
#define EXPECT(want, name, call)                                                              \
    do {                                                                                      \
        PravegaError *error = NULL;                                                           \
        PravegaStatus got = (call);                                                           \
        check_status((name), (want), got, error);                                             \
    } while (0)

#define INVALID PRAVEGA_STATUS_INVALID_ARGUMENT

/*
 * Setup that must work for the cases to mean anything: stop at once if it does not.
 *
 * It takes `&error`, not `error`, because callers pass the call that sets `error` in the
 * same argument list, and C does not say which argument is evaluated first.
 */
static void require_ok(PravegaStatus status, PravegaError **error, const char *what)
{
    if (status == PRAVEGA_STATUS_OK)
        return;
    printf("FAIL setup: %s failed with %s: %s\n", what, status_name(status),
           pravega_error_message(*error));
    pravega_error_free(*error);
    exit(EXIT_FAILURE);
}

/* ---- waiting for callbacks ---- */

/* What the callbacks of one or more operations reported, counted under a lock. */
struct completions {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t fired;
    size_t succeeded;
    // Whether every failed completion carried an error of its own status.
    bool errors_match;
    PravegaStatus last_status;
    char last_message[256];
    void *last_result;
};

static void completions_init(struct completions *seen)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&seen->changed, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_mutex_init(&seen->lock, NULL);
    seen->fired = 0;
    seen->succeeded = 0;
    seen->errors_match = true;
    seen->last_status = PRAVEGA_STATUS_OK;
    seen->last_message[0] = '\0';
    seen->last_result = NULL;
}

static void completions_destroy(struct completions *seen)
{
    pthread_cond_destroy(&seen->changed);
    pthread_mutex_destroy(&seen->lock);
}

/* Must be called with the lock held. Takes ownership of the completion's error. */
static void completions_note(struct completions *seen, const PravegaCompletion *completion)
{
    seen->fired++;
    if (completion->status == PRAVEGA_STATUS_OK)
        seen->succeeded++;
    else if (pravega_error_status(completion->error) != completion->status)
        seen->errors_match = false;
    seen->last_status = completion->status;
    snprintf(seen->last_message, sizeof seen->last_message, "%s",
             pravega_error_message(completion->error));
    seen->last_result = completion->result;
    pravega_error_free(completion->error);
    pthread_cond_broadcast(&seen->changed);
}

/* A PravegaCallback that records into the `struct completions` given as user_data. */
static void record_completion(void *user_data, const PravegaCompletion *completion)
{
    struct completions *seen = user_data;
    pthread_mutex_lock(&seen->lock);
    completions_note(seen, completion);
    pthread_mutex_unlock(&seen->lock);
}

/*
 * Waits until `count` completions have fired in all. A callback that never fires is a
 * hang, and one that fires late would write into a record that is gone, so a missed
 * deadline ends the program.
 */
static void wait_for_completions(struct completions *seen, size_t count, const char *what)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += WAIT_SECONDS;
    pthread_mutex_lock(&seen->lock);
    while (seen->fired < count) {
        if (pthread_cond_timedwait(&seen->changed, &seen->lock, &deadline) == ETIMEDOUT) {
            printf("FAIL %s: %zu of %zu callbacks fired within %d s\n", what, seen->fired, count,
                   WAIT_SECONDS);
            exit(EXIT_FAILURE);
        }
    }
    pthread_mutex_unlock(&seen->lock);
}

/*
 * Waits for `count` callbacks to have fired through `seen`, then checks the last one:
 * its status must be `want`, with a message exactly when it is a failure.
 */
static void check_completion(const char *name, PravegaStatus want, struct completions *seen,
                             size_t count)
{
    wait_for_completions(seen, count, name);
    bool passed = seen->fired == count && seen->last_status == want && seen->errors_match &&
                  (want == PRAVEGA_STATUS_OK) == (seen->last_message[0] == '\0');
    cases_run++;
    if (!passed)
        cases_failed++;
    printf("%s %s: callback fired with %s%s%s\n", passed ? "ok  " : "FAIL", name,
           status_name(seen->last_status), seen->last_message[0] ? ": " : "",
           seen->last_message);
}

/* ---- the objects the cases use ---- */

struct fixture {
    const char *uri;
    const char *scope;
    PravegaManager *manager;
    PravegaWriter *writer;            // on "events"
    PravegaByteStream *bytes;         // on "bytes"
    PravegaTxnWriter *txn_writer;     // on "events"
    PravegaReaderGroup *group;        // over "events"
    PravegaReader *reader;            // "reader-1" of `group`
    PravegaReaderGroup *other_group;  // over "events" too
    PravegaReader *other_reader;      // "reader-1" of `other_group`
};

static void write_one(PravegaWriter *writer, const char *key, const char *payload)
{
    PravegaError *error = NULL;
    require_ok(pravega_writer_write(writer, key, payload, strlen(payload), NULL, NULL, 0,
                                    &error),
               &error, "pravega_writer_write");
    require_ok(pravega_writer_flush(writer, WAIT_SECONDS * 1000, &error), &error,
               "pravega_writer_flush");
}

static PravegaReaderGroup *new_group(struct fixture *f, const char *name)
{
    PravegaError *error = NULL;
    PravegaReaderGroupConfig *config = NULL;
    PravegaReaderGroup *group = NULL;
    require_ok(pravega_reader_group_config_new(&config, &error), &error,
               "pravega_reader_group_config_new");
    require_ok(pravega_reader_group_config_add_stream(config, f->scope, "events", false, &error),
               &error, "pravega_reader_group_config_add_stream");
    require_ok(pravega_reader_group_new(f->manager, f->scope, name, config, &group, &error),
               &error, "pravega_reader_group_new");
    pravega_reader_group_config_free(config);
    return group;
}

static PravegaReader *new_reader(PravegaReaderGroup *group, const char *name)
{
    PravegaError *error = NULL;
    PravegaReader *reader = NULL;
    require_ok(pravega_reader_group_create_reader(group, name, &reader, &error), &error,
               "pravega_reader_group_create_reader");
    return reader;
}

static void fixture_setup(struct fixture *f)
{
    PravegaError *error = NULL;
    bool created = false;
    require_ok(pravega_manager_new(f->uri, NULL, &f->manager, &error), &error,
               "pravega_manager_new");
    require_ok(pravega_manager_create_scope(f->manager, f->scope, &created, &error), &error,
               "pravega_manager_create_scope");
    require_ok(pravega_manager_create_stream(f->manager, f->scope, "events", 1, &created, &error),
               &error, "pravega_manager_create_stream events");
    require_ok(pravega_manager_create_stream(f->manager, f->scope, "bytes", 1, &created, &error),
               &error, "pravega_manager_create_stream bytes");
    require_ok(pravega_manager_create_stream(f->manager, f->scope, "multi", 2, &created, &error),
               &error, "pravega_manager_create_stream multi");

    require_ok(pravega_writer_new(f->manager, f->scope, "events", &f->writer, &error), &error,
               "pravega_writer_new");
    require_ok(pravega_byte_stream_new(f->manager, f->scope, "bytes", &f->bytes, &error), &error,
               "pravega_byte_stream_new");
    require_ok(pravega_txn_writer_new(f->manager, f->scope, "events", 7, &f->txn_writer, &error),
               &error, "pravega_txn_writer_new");
    // Readers need something to read before they can hand out a slice, and the reader
    // cases need events left over after reading the first.
    write_one(f->writer, "key", "first");
    write_one(f->writer, "key", "second");
    write_one(f->writer, "key", "third");
    f->group = new_group(f, "group");
    f->reader = new_reader(f->group, "reader-1");
    f->other_group = new_group(f, "other-group");
    f->other_reader = new_reader(f->other_group, "reader-1");
}

static void fixture_teardown(struct fixture *f)
{
    pravega_reader_free(f->other_reader);
    pravega_reader_group_free(f->other_group);
    pravega_reader_free(f->reader);
    pravega_reader_group_free(f->group);
    pravega_txn_writer_free(f->txn_writer);
    pravega_byte_stream_free(f->bytes);
    pravega_writer_free(f->writer);
    pravega_manager_free(f->manager);
}

/* ---- cases without a server ---- */

static void null_values_and_frees(void)
{
    check_true("pravega_error_status: NULL error",
               pravega_error_status(NULL) == PRAVEGA_STATUS_INVALID_ARGUMENT,
               "INVALID_ARGUMENT");
    check_true("pravega_error_message: NULL error", strcmp(pravega_error_message(NULL), "") == 0,
               "\"\"");
    check_true("pravega_string_list_len: NULL list", pravega_string_list_len(NULL) == 0, "0");
    check_true("pravega_string_list_get: NULL list", pravega_string_list_get(NULL, 0) == NULL,
               "NULL");
    check_true("pravega_stream_cut_stream: NULL cut",
               strcmp(pravega_stream_cut_stream(NULL), "") == 0, "\"\"");
    check_true("pravega_stream_cut_len: NULL cut", pravega_stream_cut_len(NULL) == 0, "0");
    int64_t segment = 0;
    int64_t offset = 0;
    check_true("pravega_stream_cut_get: NULL cut",
               !pravega_stream_cut_get(NULL, 0, &segment, &offset), "false");
    check_true("pravega_slice_segment: NULL slice", strcmp(pravega_slice_segment(NULL), "") == 0,
               "\"\"");
    PravegaTxnId id = pravega_txn_id(NULL);
    check_true("pravega_txn_id: NULL transaction", id.high == 0 && id.low == 0, "all zero");
    check_true("pravega_writer_outstanding: NULL writer", pravega_writer_outstanding(NULL) == 0,
               "0");
    check_true("pravega_byte_stream_tell: NULL stream", pravega_byte_stream_tell(NULL) == 0,
               "0");
    check_true("pravega_completion_queue_fd: NULL queue",
               pravega_completion_queue_fd(NULL) == -1, "-1");

    // Each _free ignores NULL; reaching the next line is the check.
    pravega_error_free(NULL);
    pravega_config_free(NULL);
    pravega_manager_free(NULL);
    pravega_writer_free(NULL);
    pravega_txn_writer_free(NULL);
    pravega_txn_free(NULL);
    pravega_byte_stream_free(NULL);
    pravega_reader_group_config_free(NULL);
    pravega_reader_group_free(NULL);
    pravega_reader_free(NULL);
    pravega_slice_free(NULL);
    pravega_stream_cut_free(NULL);
    pravega_string_list_free(NULL);
    pravega_completion_queue_free(NULL);
    check_true("every _free function: NULL handle", true, "ignored");
}

static void config_cases(void)
{
    EXPECT(INVALID, "pravega_config_new: NULL out", pravega_config_new(NULL, &error));

    PravegaError *error = NULL;
    PravegaConfig *config = NULL;
    require_ok(pravega_config_new(&config, &error), &error, "pravega_config_new");
    EXPECT(INVALID, "pravega_config_set: NULL config",
           pravega_config_set(NULL, "controller.timeout_ms", "5000", &error));
    EXPECT(INVALID, "pravega_config_set: NULL key",
           pravega_config_set(config, NULL, "5000", &error));
    EXPECT(INVALID, "pravega_config_set: NULL value",
           pravega_config_set(config, "controller.timeout_ms", NULL, &error));
    EXPECT(INVALID, "pravega_config_set: key not UTF-8",
           pravega_config_set(config, NOT_UTF8, "5000", &error));
    EXPECT(INVALID, "pravega_config_set: value not UTF-8",
           pravega_config_set(config, "auth.username", NOT_UTF8, &error));
    EXPECT(INVALID, "pravega_config_set: unknown key",
           pravega_config_set(config, "controller.colour", "blue", &error));
    EXPECT(INVALID, "pravega_config_set: malformed number",
           pravega_config_set(config, "controller.timeout_ms", "soon", &error));
    EXPECT(INVALID, "pravega_config_set: malformed boolean",
           pravega_config_set(config, "tls.enabled", "maybe", &error));

    // TLS switched on contradicts a tcp:// URI.
    require_ok(pravega_config_set(config, "tls.enabled", "true", &error), &error,
               "pravega_config_set");
    PravegaManager *manager = NULL;
    EXPECT(INVALID, "pravega_manager_new: config contradicts the URI scheme",
           pravega_manager_new("tcp://127.0.0.1:9090", config, &manager, &error));
    pravega_config_free(config);
}

static void manager_new_cases(void)
{
    PravegaManager *manager = NULL;
    EXPECT(INVALID, "pravega_manager_new: NULL URI",
           pravega_manager_new(NULL, NULL, &manager, &error));
    EXPECT(INVALID, "pravega_manager_new: URI not UTF-8",
           pravega_manager_new("tcp://" NOT_UTF8 ":9090", NULL, &manager, &error));
    EXPECT(INVALID, "pravega_manager_new: empty URI",
           pravega_manager_new("", NULL, &manager, &error));
    EXPECT(INVALID, "pravega_manager_new: unknown scheme",
           pravega_manager_new("http://127.0.0.1:9090", NULL, &manager, &error));
    EXPECT(INVALID, "pravega_manager_new: no port",
           pravega_manager_new("tcp://127.0.0.1", NULL, &manager, &error));
    EXPECT(INVALID, "pravega_manager_new: NULL out",
           pravega_manager_new("tcp://127.0.0.1:9090", NULL, NULL, &error));

    // Found by tests/fuzz: the Rust client panicked on the first two (INTERNAL), read
    // the third as the host "host", and panicked on an IPv6 address in lower case.
    EXPECT(INVALID, "pravega_manager_new: host of one underscore",
           pravega_manager_new("tcp://_:9090", NULL, &manager, &error));
    EXPECT(INVALID, "pravega_manager_new: a port past 65535 inside an endpoint",
           pravega_manager_new("tcp://a:99999x:9090", NULL, &manager, &error));
    EXPECT(INVALID, "pravega_manager_new: host with an underscore",
           pravega_manager_new("tcp://bad_host:9090", NULL, &manager, &error));
    EXPECT(PRAVEGA_STATUS_OK, "pravega_manager_new: IPv6 address in lower case",
           pravega_manager_new("tcp://[fe80::1]:9090", NULL, &manager, &error));
    pravega_manager_free(manager);
    manager = NULL;

    // The status is returned even when the caller passes no error slot.
    bool created = false;
    PravegaStatus status = pravega_manager_create_scope(NULL, "scope", &created, NULL);
    check_true("pravega_manager_create_scope: NULL manager and NULL error slot",
               status == PRAVEGA_STATUS_INVALID_ARGUMENT, status_name(status));
}

static void unreachable_controller_case(void)
{
    // Port 1 refuses connections; one attempt is enough to see it.
    PravegaError *error = NULL;
    PravegaConfig *config = NULL;
    PravegaManager *manager = NULL;
    require_ok(pravega_config_new(&config, &error), &error, "pravega_config_new");
    require_ok(pravega_config_set(config, "retry.max_attempts", "1", &error), &error,
               "pravega_config_set");
    require_ok(pravega_manager_new("tcp://127.0.0.1:1", config, &manager, &error), &error,
               "pravega_manager_new");
    pravega_config_free(config);

    bool created = false;
    EXPECT(PRAVEGA_STATUS_UNAVAILABLE, "pravega_manager_create_scope: controller unreachable",
           pravega_manager_create_scope(manager, "scope", &created, &error));
    pravega_manager_free(manager);
}

static void completion_queue_cases(void)
{
    EXPECT(INVALID, "pravega_completion_queue_new: NULL out",
           pravega_completion_queue_new(NULL, &error));

    PravegaError *error = NULL;
    PravegaCompletionQueue *queue = NULL;
    require_ok(pravega_completion_queue_new(&queue, &error), &error,
               "pravega_completion_queue_new");
    PravegaCompletion slots[4];
    size_t count = 0;
    EXPECT(INVALID, "pravega_completion_queue_drain: NULL queue",
           pravega_completion_queue_drain(NULL, slots, 4, &count, &error));
    EXPECT(INVALID, "pravega_completion_queue_drain: NULL count",
           pravega_completion_queue_drain(queue, slots, 4, NULL, &error));
    EXPECT(INVALID, "pravega_completion_queue_drain: NULL out with capacity 4",
           pravega_completion_queue_drain(queue, NULL, 4, &count, &error));

    // A NULL completion is dropped; the queue stays empty.
    pravega_completion_queue_push(queue, NULL);
    EXPECT(PRAVEGA_STATUS_OK, "pravega_completion_queue_push: NULL completion is ignored",
           pravega_completion_queue_drain(queue, slots, 4, &count, &error));
    check_true("pravega_completion_queue_push: NULL completion queues nothing", count == 0,
               "0 drained");
    pravega_completion_queue_free(queue);
}

static void log_cases(void)
{
    EXPECT(INVALID, "pravega_log_set_level: level 6", pravega_log_set_level(6, &error));
    EXPECT(INVALID, "pravega_log_set_level: level -1", pravega_log_set_level(-1, &error));
    PravegaLogRecord records[4];
    check_true("pravega_log_drain: NULL out drains nothing", pravega_log_drain(NULL, 4) == 0,
               "0 drained");
    check_true("pravega_log_drain: capacity 0 drains nothing", pravega_log_drain(records, 0) == 0,
               "0 drained");
    // The rest of the run logs warnings (an unreachable controller, say) into the queue,
    // which nobody drains here: the queue's bound keeps that from growing without end.
    EXPECT(PRAVEGA_STATUS_OK, "pravega_log_set_level: warn",
           pravega_log_set_level(PRAVEGA_LOG_LEVEL_WARN, &error));
    check_true("pravega_log_level: what was set", pravega_log_level() == PRAVEGA_LOG_LEVEL_WARN,
               "PRAVEGA_LOG_LEVEL_WARN");
    check_true("pravega_log_fd: a descriptor once a level is set", pravega_log_fd() >= 0,
               "a descriptor");
}

static void reader_group_config_cases(void)
{
    PravegaError *error = NULL;
    PravegaReaderGroupConfig *config = NULL;
    EXPECT(INVALID, "pravega_reader_group_config_new: NULL out",
           pravega_reader_group_config_new(NULL, &error));
    require_ok(pravega_reader_group_config_new(&config, &error), &error,
               "pravega_reader_group_config_new");

    EXPECT(INVALID, "pravega_reader_group_config_add_stream: NULL config",
           pravega_reader_group_config_add_stream(NULL, "scope", "stream", false, &error));
    EXPECT(INVALID, "pravega_reader_group_config_add_stream: NULL scope",
           pravega_reader_group_config_add_stream(config, NULL, "stream", false, &error));
    EXPECT(INVALID, "pravega_reader_group_config_add_stream: stream not UTF-8",
           pravega_reader_group_config_add_stream(config, "scope", NOT_UTF8, false, &error));
    EXPECT(PRAVEGA_STATUS_OK, "pravega_reader_group_config_add_stream: a first stream",
           pravega_reader_group_config_add_stream(config, "scope", "stream", false, &error));
    EXPECT(INVALID, "pravega_reader_group_config_add_stream: the same stream twice",
           pravega_reader_group_config_add_stream(config, "scope", "stream", true, &error));

    int64_t segments[2] = {0, 1};
    int64_t offsets[2] = {0, -5};
    EXPECT(INVALID, "pravega_reader_group_config_add_stream_at: NULL segments, count 2",
           pravega_reader_group_config_add_stream_at(config, "scope", "other", NULL, offsets, 2,
                                                     &error));
    EXPECT(INVALID, "pravega_reader_group_config_add_stream_at: count 0",
           pravega_reader_group_config_add_stream_at(config, "scope", "other", segments,
                                                     offsets, 0, &error));
    EXPECT(INVALID, "pravega_reader_group_config_add_stream_at: negative offset",
           pravega_reader_group_config_add_stream_at(config, "scope", "other", segments,
                                                     offsets, 2, &error));
    pravega_reader_group_config_free(config);
}

/* ---- cases against the server ---- */

static void manager_cases(struct fixture *f)
{
    PravegaManager *m = f->manager;
    const char *scope = f->scope;
    bool done = false;
    PravegaStringList *list = NULL;
    PravegaStreamPolicy policy = {
        .scaling = PRAVEGA_SCALING_FIXED,
        .min_segments = 1,
        .retention = PRAVEGA_RETENTION_KEEP,
    };

    EXPECT(INVALID, "pravega_manager_create_scope: NULL manager",
           pravega_manager_create_scope(NULL, "scope", &done, &error));
    EXPECT(INVALID, "pravega_manager_create_scope: NULL scope",
           pravega_manager_create_scope(m, NULL, &done, &error));
    EXPECT(INVALID, "pravega_manager_create_scope: scope not UTF-8",
           pravega_manager_create_scope(m, NOT_UTF8, &done, &error));
    EXPECT(INVALID, "pravega_manager_create_scope: empty scope",
           pravega_manager_create_scope(m, "", &done, &error));
    EXPECT(INVALID, "pravega_manager_create_scope: NULL created",
           pravega_manager_create_scope(m, scope, NULL, &error));
    EXPECT(INVALID, "pravega_manager_delete_scope: NULL manager",
           pravega_manager_delete_scope(NULL, scope, &done, &error));
    EXPECT(INVALID, "pravega_manager_delete_scope: NULL deleted",
           pravega_manager_delete_scope(m, scope, NULL, &error));
    EXPECT(INVALID, "pravega_manager_list_scopes: NULL manager",
           pravega_manager_list_scopes(NULL, &list, &error));
    EXPECT(INVALID, "pravega_manager_list_scopes: NULL out",
           pravega_manager_list_scopes(m, NULL, &error));
    EXPECT(INVALID, "pravega_manager_list_streams: NULL manager",
           pravega_manager_list_streams(NULL, scope, &list, &error));
    EXPECT(INVALID, "pravega_manager_list_streams: NULL scope",
           pravega_manager_list_streams(m, NULL, &list, &error));
    EXPECT(INVALID, "pravega_manager_list_streams: NULL out",
           pravega_manager_list_streams(m, scope, NULL, &error));

    EXPECT(INVALID, "pravega_manager_create_stream: NULL manager",
           pravega_manager_create_stream(NULL, scope, "s", 1, &done, &error));
    EXPECT(INVALID, "pravega_manager_create_stream: NULL stream",
           pravega_manager_create_stream(m, scope, NULL, 1, &done, &error));
    EXPECT(INVALID, "pravega_manager_create_stream: stream not UTF-8",
           pravega_manager_create_stream(m, scope, NOT_UTF8, 1, &done, &error));
    EXPECT(INVALID, "pravega_manager_create_stream: 0 segments",
           pravega_manager_create_stream(m, scope, "s", 0, &done, &error));
    EXPECT(INVALID, "pravega_manager_create_stream: NULL created",
           pravega_manager_create_stream(m, scope, "s", 1, NULL, &error));
    EXPECT(PRAVEGA_STATUS_NOT_FOUND, "pravega_manager_create_stream: scope does not exist",
           pravega_manager_create_stream(m, "no-such-scope-for-misuse", "s", 1, &done, &error));

    PravegaStreamPolicy bad_scaling = policy;
    bad_scaling.scaling = 7;
    PravegaStreamPolicy bad_retention = policy;
    bad_retention.retention = PRAVEGA_RETENTION_BY_SIZE;
    bad_retention.retention_param = 0;
    const char *tags[2] = {"fine", NOT_UTF8};
    EXPECT(INVALID, "pravega_manager_create_stream_with_policy: NULL policy",
           pravega_manager_create_stream_with_policy(m, scope, "s", NULL, NULL, 0, &done,
                                                     &error));
    EXPECT(INVALID, "pravega_manager_create_stream_with_policy: unknown scaling 7",
           pravega_manager_create_stream_with_policy(m, scope, "s", &bad_scaling, NULL, 0, &done,
                                                     &error));
    EXPECT(INVALID, "pravega_manager_create_stream_with_policy: size retention of 0 bytes",
           pravega_manager_create_stream_with_policy(m, scope, "s", &bad_retention, NULL, 0,
                                                     &done, &error));
    EXPECT(INVALID, "pravega_manager_create_stream_with_policy: NULL tags, tag_count 2",
           pravega_manager_create_stream_with_policy(m, scope, "s", &policy, NULL, 2, &done,
                                                     &error));
    EXPECT(INVALID, "pravega_manager_create_stream_with_policy: tag not UTF-8",
           pravega_manager_create_stream_with_policy(m, scope, "s", &policy, tags, 2, &done,
                                                     &error));
    EXPECT(INVALID, "pravega_manager_update_stream_with_policy: NULL manager",
           pravega_manager_update_stream_with_policy(NULL, scope, "events", &policy, NULL, 0,
                                                     &done, &error));
    EXPECT(INVALID, "pravega_manager_update_stream_with_policy: NULL updated",
           pravega_manager_update_stream_with_policy(m, scope, "events", &policy, NULL, 0, NULL,
                                                     &error));

    EXPECT(INVALID, "pravega_manager_get_stream_policy: NULL manager",
           pravega_manager_get_stream_policy(NULL, scope, "events", &policy, &error));
    EXPECT(INVALID, "pravega_manager_get_stream_policy: NULL out",
           pravega_manager_get_stream_policy(m, scope, "events", NULL, &error));
    EXPECT(PRAVEGA_STATUS_NOT_FOUND, "pravega_manager_get_stream_policy: stream does not exist",
           pravega_manager_get_stream_policy(m, scope, "missing", &policy, &error));
    EXPECT(INVALID, "pravega_manager_get_stream_tags: NULL manager",
           pravega_manager_get_stream_tags(NULL, scope, "events", &list, &error));
    EXPECT(INVALID, "pravega_manager_get_stream_tags: NULL out",
           pravega_manager_get_stream_tags(m, scope, "events", NULL, &error));
    EXPECT(INVALID, "pravega_manager_seal_stream: NULL manager",
           pravega_manager_seal_stream(NULL, scope, "events", &done, &error));
    EXPECT(INVALID, "pravega_manager_seal_stream: NULL sealed",
           pravega_manager_seal_stream(m, scope, "events", NULL, &error));
    EXPECT(PRAVEGA_STATUS_NOT_FOUND, "pravega_manager_seal_stream: stream does not exist",
           pravega_manager_seal_stream(m, scope, "missing", &done, &error));
    EXPECT(INVALID, "pravega_manager_delete_stream: NULL manager",
           pravega_manager_delete_stream(NULL, scope, "events", &done, &error));
    EXPECT(INVALID, "pravega_manager_delete_stream: NULL scope",
           pravega_manager_delete_stream(m, NULL, "events", &done, &error));
    EXPECT(INVALID, "pravega_manager_delete_reader_group: NULL manager",
           pravega_manager_delete_reader_group(NULL, scope, "group", &error));
    EXPECT(INVALID, "pravega_manager_delete_reader_group: NULL name",
           pravega_manager_delete_reader_group(m, scope, NULL, &error));
}

static void writer_cases(struct fixture *f)
{
    PravegaWriter *w = f->writer;
    PravegaWriter *writer = NULL;
    EXPECT(INVALID, "pravega_writer_new: NULL manager",
           pravega_writer_new(NULL, f->scope, "events", &writer, &error));
    EXPECT(INVALID, "pravega_writer_new: NULL scope",
           pravega_writer_new(f->manager, NULL, "events", &writer, &error));
    EXPECT(INVALID, "pravega_writer_new: stream not UTF-8",
           pravega_writer_new(f->manager, f->scope, NOT_UTF8, &writer, &error));
    EXPECT(INVALID, "pravega_writer_new: empty stream",
           pravega_writer_new(f->manager, f->scope, "", &writer, &error));
    EXPECT(INVALID, "pravega_writer_new: NULL out",
           pravega_writer_new(f->manager, f->scope, "events", NULL, &error));

    // One byte more than the limit, so that the size check alone refuses it.
    size_t too_big = (size_t)PRAVEGA_MAX_EVENT_SIZE + 1;
    char *big = calloc(1, too_big);
    if (big == NULL)
        exit(EXIT_FAILURE);
    EXPECT(INVALID, "pravega_writer_write: NULL writer",
           pravega_writer_write(NULL, "key", "data", 4, NULL, NULL, 0, &error));
    EXPECT(INVALID, "pravega_writer_write: routing key not UTF-8",
           pravega_writer_write(w, NOT_UTF8, "data", 4, NULL, NULL, 0, &error));
    EXPECT(INVALID, "pravega_writer_write: NULL data with len 5",
           pravega_writer_write(w, "key", NULL, 5, NULL, NULL, 0, &error));
    EXPECT(INVALID, "pravega_writer_write: empty event (len 0)",
           pravega_writer_write(w, "key", "data", 0, NULL, NULL, 0, &error));
    EXPECT(INVALID, "pravega_writer_write: len PRAVEGA_MAX_EVENT_SIZE + 1",
           pravega_writer_write(w, "key", big, too_big, NULL, NULL, 0, &error));

    size_t lengths[3] = {2, 2, 2};
    size_t with_empty[3] = {3, 0, 3};
    size_t one_too_big[1] = {too_big};
    EXPECT(INVALID, "pravega_writer_write_batch: NULL writer",
           pravega_writer_write_batch(NULL, "key", "aabbcc", 6, lengths, 3, NULL, NULL, 0,
                                      &error));
    EXPECT(INVALID, "pravega_writer_write_batch: lengths add up to 6, data_len 5",
           pravega_writer_write_batch(w, "key", "aabbcc", 5, lengths, 3, NULL, NULL, 0, &error));
    EXPECT(INVALID, "pravega_writer_write_batch: lengths add up to 6, data_len 7",
           pravega_writer_write_batch(w, "key", "aabbccd", 7, lengths, 3, NULL, NULL, 0,
                                      &error));
    EXPECT(INVALID, "pravega_writer_write_batch: NULL lengths with count 3",
           pravega_writer_write_batch(w, "key", "aabbcc", 6, NULL, 3, NULL, NULL, 0, &error));
    EXPECT(INVALID, "pravega_writer_write_batch: an empty event among others",
           pravega_writer_write_batch(w, "key", "aaabbb", 6, with_empty, 3, NULL, NULL, 0,
                                      &error));
    EXPECT(INVALID, "pravega_writer_write_batch: an event of PRAVEGA_MAX_EVENT_SIZE + 1",
           pravega_writer_write_batch(w, "key", big, too_big, one_too_big, 1, NULL, NULL, 0,
                                      &error));
    EXPECT(INVALID, "pravega_writer_write_batch: routing key not UTF-8",
           pravega_writer_write_batch(w, NOT_UTF8, "aabbcc", 6, lengths, 3, NULL, NULL, 0,
                                      &error));
    free(big);

    EXPECT(INVALID, "pravega_writer_flush_async: NULL writer",
           pravega_writer_flush_async(NULL, record_completion, NULL, 0, &error));
    EXPECT(INVALID, "pravega_writer_flush_async: NULL callback",
           pravega_writer_flush_async(w, NULL, NULL, 0, &error));
    EXPECT(INVALID, "pravega_writer_flush: NULL writer",
           pravega_writer_flush(NULL, 1000, &error));
    EXPECT(INVALID, "pravega_writer_wait_outstanding: NULL writer",
           pravega_writer_wait_outstanding(NULL, 0, 1000, &error));
    // None of the refused writes may have queued anything.
    EXPECT(PRAVEGA_STATUS_OK, "pravega_writer_flush: after refused writes",
           pravega_writer_flush(w, WAIT_SECONDS * 1000, &error));
}

/* Waits until the server has answered every event of `writer`, without taking a failure. */
static void wait_until_answered(PravegaWriter *writer, const char *what)
{
    const struct timespec pause = {0, 10 * 1000 * 1000};
    for (int tries = 0; pravega_writer_outstanding(writer) > 0; tries++) {
        if (tries == WAIT_SECONDS * 100) {
            printf("FAIL %s: events still unanswered after %d s\n", what, WAIT_SECONDS);
            exit(EXIT_FAILURE);
        }
        nanosleep(&pause, NULL);
    }
}

static void writer_to_missing_stream_case(struct fixture *f)
{
    // The writer is made without a network call, so the failure comes to the callback.
    PravegaError *error = NULL;
    PravegaWriter *writer = NULL;
    struct completions seen;
    completions_init(&seen);
    require_ok(pravega_writer_new(f->manager, f->scope, "missing", &writer, &error), &error,
               "pravega_writer_new");
    EXPECT(PRAVEGA_STATUS_OK, "pravega_writer_write: to a stream that does not exist, queued",
           pravega_writer_write(writer, "key", "data", 4, record_completion, &seen, 0, &error));
    check_completion("pravega_writer_write: to a stream that does not exist",
                     PRAVEGA_STATUS_IO_ERROR, &seen, 1);

    // Each failure is reported once: the callback had it, so a flush does not repeat it.
    EXPECT(PRAVEGA_STATUS_OK, "pravega_writer_flush: a failure its callback had is not repeated",
           pravega_writer_flush(writer, WAIT_SECONDS * 1000, &error));

    // The failure of an event written without a callback is kept until a call reports it:
    // the next write returns it, does not write its own event, and never fires its callback.
    EXPECT(PRAVEGA_STATUS_OK, "pravega_writer_write: without a callback, queued",
           pravega_writer_write(writer, "key", "data", 4, NULL, NULL, 0, &error));
    wait_until_answered(writer, "pravega_writer_write: without a callback");
    struct completions refused;
    completions_init(&refused);
    EXPECT(PRAVEGA_STATUS_IO_ERROR, "pravega_writer_write: after an unreported failure, returns it",
           pravega_writer_write(writer, "key", "data", 4, record_completion, &refused, 1,
                                &error));
    EXPECT(PRAVEGA_STATUS_OK, "pravega_writer_flush: after the failure was returned",
           pravega_writer_flush(writer, WAIT_SECONDS * 1000, &error));
    check_true("pravega_writer_write: a refused write never fires its callback",
               refused.fired == 0, refused.fired == 0 ? "it did not" : "it did");
    pravega_writer_free(writer);
    completions_destroy(&refused);
    completions_destroy(&seen);
}

/*
 * Reads on from a position whose data was truncated away after the read began. Bytes
 * the reader fetched ahead before the truncation may still come, but reading on must
 * fail with IO_ERROR before it reaches the tail.
 */
static void read_truncated_case(PravegaByteStream *b)
{
    PravegaError *error = NULL;
    size_t total = TRUNCATED_BYTES;
    char *data = calloc(1, total);
    if (data == NULL)
        exit(EXIT_FAILURE);
    for (size_t done = 0, written = 0; done < total; done += written)
        require_ok(pravega_byte_stream_write(b, data + done, total - done, &written, &error),
                   &error, "pravega_byte_stream_write");
    require_ok(pravega_byte_stream_flush(b, &error), &error, "pravega_byte_stream_flush");
    uint64_t position = 0;
    require_ok(pravega_byte_stream_seek(b, 0, 0, &position, &error), &error,
               "pravega_byte_stream_seek");
    require_ok(pravega_byte_stream_truncate(b, (int64_t)total, &error), &error,
               "pravega_byte_stream_truncate");

    PravegaStatus status = PRAVEGA_STATUS_OK;
    size_t got = 1;
    for (size_t read = 0; status == PRAVEGA_STATUS_OK && got > 0 && read < total; read += got) {
        pravega_error_free(error);
        status = pravega_byte_stream_read(b, data, 64 * 1024, &got, &error);
    }
    check_status("pravega_byte_stream_read: reading on into data truncated away",
                 PRAVEGA_STATUS_IO_ERROR, status, error);
    free(data);
}

static void byte_stream_cases(struct fixture *f)
{
    PravegaByteStream *b = f->bytes;
    PravegaByteStream *stream = NULL;
    char buffer[16];
    size_t count = 0;
    uint64_t position = 0;
    uint64_t head = 0;
    uint64_t tail = 0;

    EXPECT(INVALID, "pravega_byte_stream_new: NULL manager",
           pravega_byte_stream_new(NULL, f->scope, "bytes", &stream, &error));
    EXPECT(INVALID, "pravega_byte_stream_new: NULL stream name",
           pravega_byte_stream_new(f->manager, f->scope, NULL, &stream, &error));
    EXPECT(INVALID, "pravega_byte_stream_new: scope not UTF-8",
           pravega_byte_stream_new(f->manager, NOT_UTF8, "bytes", &stream, &error));
    EXPECT(INVALID, "pravega_byte_stream_new: NULL out",
           pravega_byte_stream_new(f->manager, f->scope, "bytes", NULL, &error));
    EXPECT(INVALID, "pravega_byte_stream_new: a stream of 2 segments",
           pravega_byte_stream_new(f->manager, f->scope, "multi", &stream, &error));
    EXPECT(PRAVEGA_STATUS_NOT_FOUND, "pravega_byte_stream_new: stream does not exist",
           pravega_byte_stream_new(f->manager, f->scope, "missing", &stream, &error));

    EXPECT(INVALID, "pravega_byte_stream_write: NULL stream",
           pravega_byte_stream_write(NULL, "data", 4, &count, &error));
    EXPECT(INVALID, "pravega_byte_stream_write: NULL data with len 4",
           pravega_byte_stream_write(b, NULL, 4, &count, &error));
    EXPECT(INVALID, "pravega_byte_stream_write: NULL written",
           pravega_byte_stream_write(b, "data", 4, NULL, &error));
    EXPECT(INVALID, "pravega_byte_stream_flush: NULL stream",
           pravega_byte_stream_flush(NULL, &error));
    EXPECT(INVALID, "pravega_byte_stream_read: NULL stream",
           pravega_byte_stream_read(NULL, buffer, sizeof buffer, &count, &error));
    EXPECT(INVALID, "pravega_byte_stream_read: NULL buf with len 16",
           pravega_byte_stream_read(b, NULL, sizeof buffer, &count, &error));
    EXPECT(INVALID, "pravega_byte_stream_read: NULL read",
           pravega_byte_stream_read(b, buffer, sizeof buffer, NULL, &error));
    EXPECT(INVALID, "pravega_byte_stream_seek: NULL stream",
           pravega_byte_stream_seek(NULL, 0, 0, &position, &error));
    EXPECT(INVALID, "pravega_byte_stream_seek: NULL position",
           pravega_byte_stream_seek(b, 0, 0, NULL, &error));
    EXPECT(INVALID, "pravega_byte_stream_seek: whence 3",
           pravega_byte_stream_seek(b, 0, 3, &position, &error));
    EXPECT(INVALID, "pravega_byte_stream_seek: before the head",
           pravega_byte_stream_seek(b, -1, 0, &position, &error));
    EXPECT(INVALID, "pravega_byte_stream_seek: past the tail",
           pravega_byte_stream_seek(b, 1, 2, &position, &error));
    EXPECT(INVALID, "pravega_byte_stream_bounds: NULL stream",
           pravega_byte_stream_bounds(NULL, &head, &tail, &error));
    EXPECT(INVALID, "pravega_byte_stream_bounds: NULL head",
           pravega_byte_stream_bounds(b, NULL, &tail, &error));
    EXPECT(INVALID, "pravega_byte_stream_bounds: NULL tail",
           pravega_byte_stream_bounds(b, &head, NULL, &error));
    EXPECT(INVALID, "pravega_byte_stream_truncate: NULL stream",
           pravega_byte_stream_truncate(NULL, 0, &error));
    EXPECT(INVALID, "pravega_byte_stream_truncate: negative offset",
           pravega_byte_stream_truncate(b, -1, &error));
    EXPECT(INVALID, "pravega_byte_stream_truncate: past the tail",
           pravega_byte_stream_truncate(b, 1 << 20, &error));

    read_truncated_case(b);
}

/* Asks `reader` for slices until one holds events; NULL when the deadline passed. */
static PravegaSlice *acquire_slice(PravegaReader *reader)
{
    time_t deadline = time(NULL) + WAIT_SECONDS;
    while (time(NULL) < deadline) {
        PravegaError *error = NULL;
        struct completions seen;
        completions_init(&seen);
        require_ok(pravega_reader_acquire_segment(reader, record_completion, &seen, 0, &error),
                   &error, "pravega_reader_acquire_segment");
        wait_for_completions(&seen, 1, "pravega_reader_acquire_segment");
        PravegaStatus status = seen.last_status;
        PravegaSlice *slice = seen.last_result;
        completions_destroy(&seen);
        if (status != PRAVEGA_STATUS_OK)
            return NULL;
        if (slice != NULL)
            return slice;
    }
    return NULL;
}

/* `slice` is positioned just before the event "second". */
static void batch_cases(PravegaSlice *slice)
{
    PravegaEventBatch batch;
    memset(&batch, 0, sizeof batch);
    EXPECT(INVALID, "pravega_slice_next_batch: NULL slice",
           pravega_slice_next_batch(NULL, 8, SIZE_MAX, &batch, &error));
    EXPECT(INVALID, "pravega_slice_next_batch: NULL out",
           pravega_slice_next_batch(slice, 8, SIZE_MAX, NULL, &error));
    EXPECT(INVALID, "pravega_slice_next_batch: max_events 0",
           pravega_slice_next_batch(slice, 0, SIZE_MAX, &batch, &error));
    EXPECT(INVALID, "pravega_slice_next_batch: max_bytes 0",
           pravega_slice_next_batch(slice, 8, 0, &batch, &error));

    // The refused calls must not have skipped an event, and one byte of budget still
    // yields the whole next event.
    EXPECT(PRAVEGA_STATUS_OK, "pravega_slice_next_batch: one byte of budget",
           pravega_slice_next_batch(slice, 8, 1, &batch, &error));
    check_true("pravega_slice_next_batch: returns the next event whole",
               batch.count == 1 && batch.data_len == 6 && batch.lengths[0] == 6 &&
                   memcmp(batch.data, "second", 6) == 0 && batch.offsets[0] > 0,
               batch.count == 1 ? "one event" : "another count");

    EXPECT(PRAVEGA_STATUS_OK, "pravega_slice_next_batch: the rest",
           pravega_slice_next_batch(slice, 1000, SIZE_MAX, &batch, &error));
    size_t total = 0;
    for (size_t i = 0; i < batch.count; i++)
        total += batch.lengths[i];
    check_true("pravega_slice_next_batch: lengths add up to data_len",
               total == batch.data_len && (batch.count > 0 || batch.data == NULL),
               "they do not");

    size_t held = batch.count;
    EXPECT(INVALID, "pravega_slice_unread: NULL slice", pravega_slice_unread(NULL, 1, &error));
    EXPECT(INVALID, "pravega_slice_unread: more than the last batch holds",
           pravega_slice_unread(slice, held + 1, &error));
    EXPECT(PRAVEGA_STATUS_OK, "pravega_slice_unread: zero events",
           pravega_slice_unread(slice, 0, &error));
    if (held > 0) {
        EXPECT(PRAVEGA_STATUS_OK, "pravega_slice_unread: the whole last batch",
               pravega_slice_unread(slice, held, &error));
        EXPECT(PRAVEGA_STATUS_OK, "pravega_slice_next_batch: after unread",
               pravega_slice_next_batch(slice, 8, SIZE_MAX, &batch, &error));
        check_true("pravega_slice_next_batch: a slice moved back yields nothing",
                   batch.count == 0 && batch.data == NULL, "it yielded events");
        EXPECT(INVALID, "pravega_slice_unread: twice",
               pravega_slice_unread(slice, 1, &error));
    }
}

static void reader_cases(struct fixture *f)
{
    PravegaReader *r = f->reader;
    PravegaReader *reader = NULL;
    PravegaStreamCut *cut = NULL;

    PravegaReaderGroup *group = NULL;
    PravegaReaderGroupConfig *empty = NULL;
    PravegaReaderGroupConfig *missing = NULL;
    PravegaError *error = NULL;
    require_ok(pravega_reader_group_config_new(&empty, &error), &error,
               "pravega_reader_group_config_new");
    require_ok(pravega_reader_group_config_new(&missing, &error), &error,
               "pravega_reader_group_config_new");
    require_ok(pravega_reader_group_config_add_stream(missing, f->scope, "missing", false,
                                                      &error),
               &error, "pravega_reader_group_config_add_stream");
    EXPECT(INVALID, "pravega_reader_group_new: NULL manager",
           pravega_reader_group_new(NULL, f->scope, "g", missing, &group, &error));
    EXPECT(INVALID, "pravega_reader_group_new: NULL config",
           pravega_reader_group_new(f->manager, f->scope, "g", NULL, &group, &error));
    EXPECT(INVALID, "pravega_reader_group_new: NULL name",
           pravega_reader_group_new(f->manager, f->scope, NULL, empty, &group, &error));
    EXPECT(INVALID, "pravega_reader_group_new: NULL out",
           pravega_reader_group_new(f->manager, f->scope, "g", missing, NULL, &error));
    EXPECT(INVALID, "pravega_reader_group_new: config without streams",
           pravega_reader_group_new(f->manager, f->scope, "g", empty, &group, &error));
    EXPECT(PRAVEGA_STATUS_NOT_FOUND, "pravega_reader_group_new: stream does not exist",
           pravega_reader_group_new(f->manager, f->scope, "g", missing, &group, &error));
    pravega_reader_group_config_free(empty);
    pravega_reader_group_config_free(missing);

    EXPECT(INVALID, "pravega_reader_group_create_reader: NULL group",
           pravega_reader_group_create_reader(NULL, "reader-2", &reader, &error));
    EXPECT(INVALID, "pravega_reader_group_create_reader: NULL name",
           pravega_reader_group_create_reader(f->group, NULL, &reader, &error));
    EXPECT(INVALID, "pravega_reader_group_create_reader: name not UTF-8",
           pravega_reader_group_create_reader(f->group, NOT_UTF8, &reader, &error));
    EXPECT(INVALID, "pravega_reader_group_create_reader: NULL out",
           pravega_reader_group_create_reader(f->group, "reader-2", NULL, &error));
    EXPECT(PRAVEGA_STATUS_ALREADY_EXISTS,
           "pravega_reader_group_create_reader: a name already online",
           pravega_reader_group_create_reader(f->group, "reader-1", &reader, &error));
    EXPECT(INVALID, "pravega_reader_group_get_stream_cut: NULL group",
           pravega_reader_group_get_stream_cut(NULL, &cut, &error));
    EXPECT(INVALID, "pravega_reader_group_get_stream_cut: NULL out",
           pravega_reader_group_get_stream_cut(f->group, NULL, &error));
    EXPECT(INVALID, "pravega_reader_group_reader_offline: NULL group",
           pravega_reader_group_reader_offline(NULL, "reader-1", &error));
    EXPECT(INVALID, "pravega_reader_group_reader_offline: NULL name",
           pravega_reader_group_reader_offline(f->group, NULL, &error));

    EXPECT(INVALID, "pravega_reader_acquire_segment: NULL reader",
           pravega_reader_acquire_segment(NULL, record_completion, NULL, 0, &error));
    EXPECT(INVALID, "pravega_reader_acquire_segment: NULL callback",
           pravega_reader_acquire_segment(r, NULL, NULL, 0, &error));
    EXPECT(INVALID, "pravega_reader_offline: NULL reader", pravega_reader_offline(NULL, &error));
    EXPECT(INVALID, "pravega_reader_release_segment: NULL slice",
           pravega_reader_release_segment(r, NULL, &error));

    PravegaSlice *slice = acquire_slice(r);
    check_true("pravega_reader_acquire_segment: a slice with events", slice != NULL,
               slice ? pravega_slice_segment(slice) : "none arrived");
    if (slice == NULL)
        return;
    const uint8_t *data = NULL;
    size_t len = 0;
    int64_t offset = 0;
    bool found = false;
    EXPECT(INVALID, "pravega_slice_next: NULL slice",
           pravega_slice_next(NULL, &data, &len, &offset, &found, &error));
    EXPECT(INVALID, "pravega_slice_next: NULL data",
           pravega_slice_next(slice, NULL, &len, &offset, &found, &error));
    EXPECT(INVALID, "pravega_slice_next: NULL len",
           pravega_slice_next(slice, &data, NULL, &offset, &found, &error));
    EXPECT(INVALID, "pravega_slice_next: NULL offset",
           pravega_slice_next(slice, &data, &len, NULL, &found, &error));
    EXPECT(INVALID, "pravega_slice_next: NULL found",
           pravega_slice_next(slice, &data, &len, &offset, NULL, &error));
    // The refused calls must not have skipped the first event.
    EXPECT(PRAVEGA_STATUS_OK, "pravega_slice_next: after refused calls",
           pravega_slice_next(slice, &data, &len, &offset, &found, &error));
    check_true("pravega_slice_next: still returns the first event",
               found && len == 5 && memcmp(data, "first", 5) == 0, found ? "first" : "none");

    // The slice is taken in both cases and goes back to its own reader.
    EXPECT(INVALID, "pravega_reader_release_segment: to a reader of another group",
           pravega_reader_release_segment(f->other_reader, slice, &error));
    slice = acquire_slice(r);
    check_true("pravega_reader_release_segment: the refused slice came back to its reader",
               slice != NULL, slice ? "it did" : "it did not");
    if (slice == NULL)
        return;
    EXPECT(INVALID, "pravega_reader_release_segment: NULL reader",
           pravega_reader_release_segment(NULL, slice, &error));
    slice = acquire_slice(r);
    check_true("pravega_reader_release_segment: a slice given with a NULL reader came back",
               slice != NULL, slice ? "it did" : "it did not");
    if (slice != NULL)
        batch_cases(slice);
    pravega_slice_free(slice);
}

static void reader_offline_cases(struct fixture *f)
{
    PravegaReader *reader = new_reader(f->group, "reader-offline");
    EXPECT(PRAVEGA_STATUS_OK, "pravega_reader_offline: once",
           pravega_reader_offline(reader, &error));
    EXPECT(PRAVEGA_STATUS_OK, "pravega_reader_offline: again does nothing",
           pravega_reader_offline(reader, &error));

    struct completions seen;
    completions_init(&seen);
    EXPECT(PRAVEGA_STATUS_OK, "pravega_reader_acquire_segment: on an offline reader, started",
           pravega_reader_acquire_segment(reader, record_completion, &seen, 0, &error));
    check_completion("pravega_reader_acquire_segment: on an offline reader",
                     PRAVEGA_STATUS_CLOSED, &seen, 1);
    completions_destroy(&seen);
    pravega_reader_free(reader);
}

static void transaction_cases(struct fixture *f)
{
    PravegaTxnWriter *writer = NULL;
    PravegaTransaction *txn = NULL;
    EXPECT(INVALID, "pravega_txn_writer_new: NULL manager",
           pravega_txn_writer_new(NULL, f->scope, "events", 1, &writer, &error));
    EXPECT(INVALID, "pravega_txn_writer_new: NULL stream",
           pravega_txn_writer_new(f->manager, f->scope, NULL, 1, &writer, &error));
    EXPECT(INVALID, "pravega_txn_writer_new: NULL out",
           pravega_txn_writer_new(f->manager, f->scope, "events", 1, NULL, &error));
    EXPECT(INVALID, "pravega_txn_writer_begin: NULL writer",
           pravega_txn_writer_begin(NULL, &txn, &error));
    EXPECT(INVALID, "pravega_txn_writer_begin: NULL out",
           pravega_txn_writer_begin(f->txn_writer, NULL, &error));
    PravegaTxnId unknown = {.high = 0x1234, .low = 0x5678};
    EXPECT(INVALID, "pravega_txn_writer_get_txn: NULL writer",
           pravega_txn_writer_get_txn(NULL, unknown, &txn, &error));
    EXPECT(INVALID, "pravega_txn_writer_get_txn: NULL out",
           pravega_txn_writer_get_txn(f->txn_writer, unknown, NULL, &error));
    EXPECT(PRAVEGA_STATUS_NOT_FOUND, "pravega_txn_writer_get_txn: an id never begun",
           pravega_txn_writer_get_txn(f->txn_writer, unknown, &txn, &error));

    PravegaError *error = NULL;
    require_ok(pravega_txn_writer_begin(f->txn_writer, &txn, &error), &error,
               "pravega_txn_writer_begin");
    int32_t state = 0;
    EXPECT(INVALID, "pravega_txn_write: NULL transaction",
           pravega_txn_write(NULL, "key", "data", 4, &error));
    EXPECT(INVALID, "pravega_txn_write: routing key not UTF-8",
           pravega_txn_write(txn, NOT_UTF8, "data", 4, &error));
    EXPECT(INVALID, "pravega_txn_write: NULL data with len 4",
           pravega_txn_write(txn, "key", NULL, 4, &error));
    EXPECT(INVALID, "pravega_txn_write: empty event (len 0)",
           pravega_txn_write(txn, "key", "data", 0, &error));
    EXPECT(INVALID, "pravega_txn_status: NULL transaction",
           pravega_txn_status(NULL, &state, &error));
    EXPECT(INVALID, "pravega_txn_status: NULL status",
           pravega_txn_status(txn, NULL, &error));
    EXPECT(INVALID, "pravega_txn_commit: NULL transaction",
           pravega_txn_commit(NULL, PRAVEGA_NO_TIMESTAMP, &error));
    EXPECT(INVALID, "pravega_txn_abort: NULL transaction", pravega_txn_abort(NULL, &error));
    EXPECT(INVALID, "pravega_txn_commit_async: NULL callback",
           pravega_txn_commit_async(txn, PRAVEGA_NO_TIMESTAMP, NULL, NULL, 0, &error));
    EXPECT(INVALID, "pravega_txn_abort_async: NULL callback",
           pravega_txn_abort_async(txn, NULL, NULL, 0, &error));

    // Reopened by id, a transaction can be committed or aborted but not written to.
    PravegaTransaction *reopened = NULL;
    require_ok(pravega_txn_writer_get_txn(f->txn_writer, pravega_txn_id(txn), &reopened,
                                          &error),
               &error, "pravega_txn_writer_get_txn");
    EXPECT(PRAVEGA_STATUS_UNSUPPORTED, "pravega_txn_write: to a transaction reopened by id",
           pravega_txn_write(reopened, "key", "data", 4, &error));
    pravega_txn_free(reopened);

    require_ok(pravega_txn_write(txn, "key", "in-txn", 6, &error), &error, "pravega_txn_write");
    require_ok(pravega_txn_commit(txn, PRAVEGA_NO_TIMESTAMP, &error), &error,
               "pravega_txn_commit");
    EXPECT(PRAVEGA_STATUS_TXN_FAILED, "pravega_txn_write: after commit",
           pravega_txn_write(txn, "key", "data", 4, &error));
    EXPECT(PRAVEGA_STATUS_TXN_FAILED, "pravega_txn_commit: a second time",
           pravega_txn_commit(txn, PRAVEGA_NO_TIMESTAMP, &error));
    EXPECT(PRAVEGA_STATUS_TXN_FAILED, "pravega_txn_abort: after commit",
           pravega_txn_abort(txn, &error));

    struct completions seen;
    completions_init(&seen);
    EXPECT(PRAVEGA_STATUS_OK, "pravega_txn_commit_async: after commit, started",
           pravega_txn_commit_async(txn, PRAVEGA_NO_TIMESTAMP, record_completion, &seen, 0,
                                    &error));
    check_completion("pravega_txn_commit_async: after commit", PRAVEGA_STATUS_TXN_FAILED, &seen,
                     1);
    completions_destroy(&seen);
    pravega_txn_free(txn);
}

/* ---- handles freed while work is in flight ---- */

static void manager_freed_under_writer_case(struct fixture *f)
{
    PravegaError *error = NULL;
    PravegaManager *manager = NULL;
    PravegaWriter *writer = NULL;
    require_ok(pravega_manager_new(f->uri, NULL, &manager, &error), &error,
               "pravega_manager_new");
    require_ok(pravega_writer_new(manager, f->scope, "events", &writer, &error), &error,
               "pravega_writer_new");

    struct completions seen;
    completions_init(&seen);
    for (int i = 0; i < MANY_EVENTS; i++)
        require_ok(pravega_writer_write(writer, "freed-manager", "event", 5, record_completion,
                                        &seen, (uint64_t)i, &error),
                   &error, "pravega_writer_write");
    uint64_t outstanding = pravega_writer_outstanding(writer);
    pravega_manager_free(manager);

    char detail[96];
    const char *name = "pravega_manager_free: with writes outstanding, every callback fires";
    wait_for_completions(&seen, MANY_EVENTS, name);
    snprintf(detail, sizeof detail, "%zu of %d callbacks succeeded (%llu outstanding at free)",
             seen.succeeded, MANY_EVENTS, (unsigned long long)outstanding);
    check_true(name, seen.succeeded == MANY_EVENTS, detail);
    EXPECT(PRAVEGA_STATUS_OK, "pravega_writer_write: after its manager was freed",
           pravega_writer_write(writer, "freed-manager", "later", 5, NULL, NULL, 0, &error));
    EXPECT(PRAVEGA_STATUS_OK, "pravega_writer_flush: after its manager was freed",
           pravega_writer_flush(writer, WAIT_SECONDS * 1000, &error));
    pravega_writer_free(writer);
    completions_destroy(&seen);
}

static void writer_freed_with_outstanding_case(struct fixture *f)
{
    PravegaError *error = NULL;
    PravegaWriter *writer = NULL;
    require_ok(pravega_writer_new(f->manager, f->scope, "events", &writer, &error), &error,
               "pravega_writer_new");

    struct completions seen;
    completions_init(&seen);
    for (int i = 0; i < MANY_EVENTS; i++)
        require_ok(pravega_writer_write(writer, "freed-writer", "event", 5, record_completion,
                                        &seen, (uint64_t)i, &error),
                   &error, "pravega_writer_write");
    pravega_writer_free(writer);

    char detail[64];
    const char *name = "pravega_writer_free: with writes outstanding, every callback fires";
    wait_for_completions(&seen, MANY_EVENTS, name);
    snprintf(detail, sizeof detail, "%zu of %d callbacks succeeded", seen.succeeded,
             MANY_EVENTS);
    check_true(name, seen.succeeded == MANY_EVENTS, detail);
    completions_destroy(&seen);
}

static void txn_handles_freed_with_commit_pending_case(struct fixture *f)
{
    // A commit started asynchronously goes on after the transaction and its writer are
    // freed, and succeeds: the manager still holds the runtime.
    PravegaError *error = NULL;
    PravegaTxnWriter *writer = NULL;
    PravegaTransaction *txn = NULL;
    require_ok(pravega_txn_writer_new(f->manager, f->scope, "events", 11, &writer, &error),
               &error, "pravega_txn_writer_new");
    require_ok(pravega_txn_writer_begin(writer, &txn, &error), &error, "pravega_txn_writer_begin");
    require_ok(pravega_txn_write(txn, "key", "committed-after-free", 20, &error), &error,
               "pravega_txn_write");

    struct completions seen;
    completions_init(&seen);
    require_ok(pravega_txn_commit_async(txn, PRAVEGA_NO_TIMESTAMP, record_completion, &seen, 0,
                                        &error),
               &error, "pravega_txn_commit_async");
    pravega_txn_free(txn);
    pravega_txn_writer_free(writer);
    check_completion("pravega_txn_commit_async: its transaction and writer freed meanwhile",
                     PRAVEGA_STATUS_OK, &seen, 1);
    completions_destroy(&seen);
}

/* What a callback that frees a manager needs. */
struct manager_to_free {
    struct completions seen;
    PravegaManager *manager;
};

static void free_manager_in_callback(void *user_data, const PravegaCompletion *completion)
{
    struct manager_to_free *target = user_data;
    pravega_manager_free(target->manager);
    record_completion(&target->seen, completion);
}

static void manager_freed_in_callback_case(struct fixture *f)
{
    PravegaError *error = NULL;
    PravegaWriter *writer = NULL;
    struct manager_to_free target;
    completions_init(&target.seen);
    require_ok(pravega_manager_new(f->uri, NULL, &target.manager, &error), &error,
               "pravega_manager_new");
    require_ok(pravega_writer_new(target.manager, f->scope, "events", &writer, &error), &error,
               "pravega_writer_new");

    EXPECT(PRAVEGA_STATUS_OK, "pravega_writer_write: whose callback frees the manager",
           pravega_writer_write(writer, "key", "event", 5, free_manager_in_callback, &target, 0,
                                &error));
    check_completion("pravega_manager_free: inside a callback", PRAVEGA_STATUS_OK, &target.seen,
                     1);
    EXPECT(PRAVEGA_STATUS_OK, "pravega_writer_flush: after a callback freed the manager",
           pravega_writer_flush(writer, WAIT_SECONDS * 1000, &error));
    pravega_writer_free(writer);
    completions_destroy(&target.seen);
}

static void last_handle_freed_with_pending_case(struct fixture *f)
{
    // The commit's task holds no handle, so freeing every handle stops the runtime under
    // it. Its callback must still fire, exactly once: done, or cancelled.
    PravegaError *error = NULL;
    PravegaManager *manager = NULL;
    PravegaTxnWriter *writer = NULL;
    PravegaTransaction *txn = NULL;
    require_ok(pravega_manager_new(f->uri, NULL, &manager, &error), &error,
               "pravega_manager_new");
    require_ok(pravega_txn_writer_new(manager, f->scope, "events", 99, &writer, &error), &error,
               "pravega_txn_writer_new");
    require_ok(pravega_txn_writer_begin(writer, &txn, &error), &error, "pravega_txn_writer_begin");

    struct completions seen;
    completions_init(&seen);
    require_ok(pravega_txn_commit_async(txn, PRAVEGA_NO_TIMESTAMP, record_completion, &seen, 0,
                                        &error),
               &error, "pravega_txn_commit_async");
    pravega_txn_free(txn);
    pravega_txn_writer_free(writer);
    pravega_manager_free(manager);

    const char *name = "pravega_manager_free: last handle freed with a commit pending, its "
                       "callback fires once";
    wait_for_completions(&seen, 1, name);
    bool known = seen.last_status == PRAVEGA_STATUS_OK ||
                 seen.last_status == PRAVEGA_STATUS_CANCELLED;
    char detail[sizeof seen.last_message + 32];
    snprintf(detail, sizeof detail, "%s%s%s", status_name(seen.last_status),
             seen.last_message[0] ? ": " : "", seen.last_message);
    check_true(name, seen.fired == 1 && seen.errors_match && known, detail);
    completions_destroy(&seen);
}

/* ---- blocking calls from inside callbacks ---- */

enum blocking_call {
    CALL_WRITER_FLUSH,
    CALL_WRITER_WAIT_OUTSTANDING,
    CALL_MANAGER_CREATE_SCOPE,
    CALL_MANAGER_LIST_SCOPES,
    CALL_BYTE_STREAM_FLUSH,
    CALL_BYTE_STREAM_READ,
    CALL_TXN_WRITER_BEGIN,
    CALL_TXN_STATUS,
    CALL_READER_GROUP_CREATE_READER,
    CALL_READER_OFFLINE,
    CALL_READER_RELEASE_SEGMENT,
    BLOCKING_CALLS
};

static const char *const blocking_call_names[BLOCKING_CALLS] = {
    "pravega_writer_flush",
    "pravega_writer_wait_outstanding",
    "pravega_manager_create_scope",
    "pravega_manager_list_scopes",
    "pravega_byte_stream_flush",
    "pravega_byte_stream_read",
    "pravega_txn_writer_begin",
    "pravega_txn_status",
    "pravega_reader_group_create_reader",
    "pravega_reader_offline",
    "pravega_reader_release_segment",
};

/* The handles a callback calls into, and what each call answered there. */
struct blocking_probe {
    struct completions seen;
    struct fixture *fixture;
    PravegaTransaction *txn;
    bool made;
    PravegaStatus status[BLOCKING_CALLS];
    PravegaError *error[BLOCKING_CALLS];
};

/* A write callback: makes each blocking call from the library's thread. */
static void call_blocking_functions(void *user_data, const PravegaCompletion *completion)
{
    struct blocking_probe *probe = user_data;
    struct fixture *f = probe->fixture;
    PravegaStatus *status = probe->status;
    PravegaError **error = probe->error;
    bool created = false;
    PravegaStringList *list = NULL;
    char buffer[8];
    size_t count = 0;
    PravegaTransaction *txn = NULL;
    int32_t state = 0;
    PravegaReader *reader = NULL;

    status[CALL_WRITER_FLUSH] = pravega_writer_flush(f->writer, 1000, &error[CALL_WRITER_FLUSH]);
    status[CALL_WRITER_WAIT_OUTSTANDING] =
        pravega_writer_wait_outstanding(f->writer, 0, 1000, &error[CALL_WRITER_WAIT_OUTSTANDING]);
    status[CALL_MANAGER_CREATE_SCOPE] = pravega_manager_create_scope(
        f->manager, "from-a-callback", &created, &error[CALL_MANAGER_CREATE_SCOPE]);
    status[CALL_MANAGER_LIST_SCOPES] =
        pravega_manager_list_scopes(f->manager, &list, &error[CALL_MANAGER_LIST_SCOPES]);
    status[CALL_BYTE_STREAM_FLUSH] =
        pravega_byte_stream_flush(f->bytes, &error[CALL_BYTE_STREAM_FLUSH]);
    status[CALL_BYTE_STREAM_READ] = pravega_byte_stream_read(f->bytes, buffer, sizeof buffer,
                                                             &count, &error[CALL_BYTE_STREAM_READ]);
    status[CALL_TXN_WRITER_BEGIN] =
        pravega_txn_writer_begin(f->txn_writer, &txn, &error[CALL_TXN_WRITER_BEGIN]);
    status[CALL_TXN_STATUS] = pravega_txn_status(probe->txn, &state, &error[CALL_TXN_STATUS]);
    status[CALL_READER_GROUP_CREATE_READER] = pravega_reader_group_create_reader(
        f->group, "from-a-callback", &reader, &error[CALL_READER_GROUP_CREATE_READER]);
    status[CALL_READER_OFFLINE] = pravega_reader_offline(f->reader, &error[CALL_READER_OFFLINE]);

    // Anything a refused call made anyway would leak here; there should be nothing.
    probe->made = list != NULL || txn != NULL || reader != NULL;
    pravega_string_list_free(list);
    pravega_txn_free(txn);
    pravega_reader_free(reader);
    record_completion(&probe->seen, completion);
}

/* An acquire callback: gives the slice straight back, which blocks and is refused. */
static void release_inside_callback(void *user_data, const PravegaCompletion *completion)
{
    struct blocking_probe *probe = user_data;
    PravegaSlice *slice = completion->result;
    if (slice != NULL)
        probe->status[CALL_READER_RELEASE_SEGMENT] = pravega_reader_release_segment(
            probe->fixture->reader, slice, &probe->error[CALL_READER_RELEASE_SEGMENT]);
    record_completion(&probe->seen, completion);
}

static void blocking_in_callback_cases(struct fixture *f)
{
    PravegaError *error = NULL;
    struct blocking_probe probe = {.fixture = f};
    completions_init(&probe.seen);
    for (int call = 0; call < BLOCKING_CALLS; call++)
        probe.status[call] = PRAVEGA_STATUS_OK;
    require_ok(pravega_txn_writer_begin(f->txn_writer, &probe.txn, &error), &error,
               "pravega_txn_writer_begin");

    const char *what = "blocking calls from a callback";
    require_ok(pravega_writer_write(f->writer, "key", "event", 5, call_blocking_functions,
                                    &probe, 0, &error),
               &error, "pravega_writer_write");
    wait_for_completions(&probe.seen, 1, what);

    // A slice comes only with data; write one event for the acquire to find. The reader
    // may hand out empty slices first, so ask until the callback has had a real one.
    write_one(f->writer, "key", "for-the-callback");
    time_t deadline = time(NULL) + WAIT_SECONDS;
    size_t asked = 1;
    while (probe.error[CALL_READER_RELEASE_SEGMENT] == NULL && time(NULL) < deadline) {
        require_ok(pravega_reader_acquire_segment(f->reader, release_inside_callback, &probe, 0,
                                                  &error),
                   &error, "pravega_reader_acquire_segment");
        asked++;
        wait_for_completions(&probe.seen, asked, what);
    }

    for (int call = 0; call < BLOCKING_CALLS; call++) {
        char name[96];
        snprintf(name, sizeof name, "%s: from inside a callback", blocking_call_names[call]);
        check_status(name, PRAVEGA_STATUS_WOULD_DEADLOCK, probe.status[call], probe.error[call]);
    }
    check_true("blocking calls from a callback: refused calls made no objects", !probe.made,
               probe.made ? "something was made" : "nothing was made");

    // The slice refused inside the callback was taken; its events must come back.
    PravegaSlice *slice = acquire_slice(f->reader);
    check_true("pravega_reader_release_segment: a slice refused in a callback came back",
               slice != NULL, slice ? "it did" : "it did not");
    pravega_slice_free(slice);
    pravega_txn_free(probe.txn);
    completions_destroy(&probe.seen);
}

/* Writes from inside a write callback: allowed, and both callbacks fire. */
struct chained_write {
    struct completions seen;
    PravegaWriter *writer;
    PravegaStatus second_write;
};

static void write_again_in_callback(void *user_data, const PravegaCompletion *completion)
{
    struct chained_write *chain = user_data;
    if (completion->tag == 1) {
        PravegaError *error = NULL;
        chain->second_write = pravega_writer_write(chain->writer, "chain", "second", 6,
                                                   record_completion, &chain->seen, 2, &error);
        pravega_error_free(error);
    }
    record_completion(&chain->seen, completion);
}

static void async_call_in_callback_case(struct fixture *f)
{
    struct chained_write chain = {.writer = f->writer, .second_write = PRAVEGA_STATUS_INTERNAL};
    completions_init(&chain.seen);
    EXPECT(PRAVEGA_STATUS_OK, "pravega_writer_write: whose callback writes again",
           pravega_writer_write(f->writer, "chain", "first", 5, write_again_in_callback, &chain,
                                1, &error));
    check_completion("pravega_writer_write: from inside a callback", PRAVEGA_STATUS_OK,
                     &chain.seen, 2);
    check_true("pravega_writer_write: from inside a callback, accepted",
               chain.second_write == PRAVEGA_STATUS_OK, status_name(chain.second_write));
    completions_destroy(&chain.seen);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s CONTROLLER_URI [SCOPE]\n", argv[0]);
        return 2;
    }
    // Every run gets a scope of its own, so reruns against one server never collide.
    char default_scope[64];
    snprintf(default_scope, sizeof default_scope, "misuse-%ld-%ld", (long)getpid(),
             (long)time(NULL));
    struct fixture f = {.uri = argv[1], .scope = argc == 3 ? argv[2] : default_scope};

    null_values_and_frees();
    config_cases();
    manager_new_cases();
    completion_queue_cases();
    log_cases();
    reader_group_config_cases();
    unreachable_controller_case();

    fixture_setup(&f);
    manager_cases(&f);
    writer_cases(&f);
    writer_to_missing_stream_case(&f);
    byte_stream_cases(&f);
    reader_cases(&f);
    reader_offline_cases(&f);
    transaction_cases(&f);
    manager_freed_under_writer_case(&f);
    writer_freed_with_outstanding_case(&f);
    txn_handles_freed_with_commit_pending_case(&f);
    manager_freed_in_callback_case(&f);
    async_call_in_callback_case(&f);
    blocking_in_callback_cases(&f);
    last_handle_freed_with_pending_case(&f);
    fixture_teardown(&f);

    printf("misuse: %d cases, %d failed\n", cases_run, cases_failed);
    return cases_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
