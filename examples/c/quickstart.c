/*
 * quickstart.c: the C library from end to end.
 *
 * Creates a scope and a stream, writes events with routing keys and collects their
 * acknowledgements through a PravegaCompletionQueue and poll(), reads every event back
 * through a reader group, then writes and commits a transaction and reads its events
 * too. It checks everything it reads, and exits 0 only when all of it checked out.
 *
 *   cc -std=c11 quickstart.c $(pkg-config --cflags --libs pravega_client) -pthread
 *   ./a.out tcp://127.0.0.1:9090 [scope]
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pravega_client.h>

#define STREAM "events"
#define GROUP "quickstart-readers"
#define SEGMENTS 3
#define KEYS 5
#define EVENTS 300
#define TXN_EVENTS 20
// No wait in this program is unbounded: each gives up after this long.
#define WAIT_SECONDS 60

/*
 * Stops the program when a call failed, after saying which call and why.
 *
 * It takes `&error`, not `error`, because callers pass the call that sets `error` in the
 * same argument list, and C does not say which argument is evaluated first.
 */
static void require_ok(PravegaStatus status, PravegaError **error, const char *what)
{
    if (status == PRAVEGA_STATUS_OK)
        return;
    fprintf(stderr, "quickstart: %s failed with status %d: %s\n", what, (int)status,
            pravega_error_message(*error));
    pravega_error_free(*error);
    exit(EXIT_FAILURE);
}

static void fail(const char *message)
{
    fprintf(stderr, "quickstart: %s\n", message);
    exit(EXIT_FAILURE);
}

static int64_t now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* ---- writing, with acknowledgements through a completion queue ---- */

/*
 * Drains `queue` whenever its descriptor turns readable, until `expected` writes have
 * been acknowledged. Each write's tag is its event index, so `acked` catches an
 * acknowledgement that is missing or comes twice.
 */
static void wait_for_acks(PravegaCompletionQueue *queue, size_t expected, bool *acked)
{
    struct pollfd wake = {.fd = pravega_completion_queue_fd(queue), .events = POLLIN};
    PravegaCompletion batch[64];
    size_t received = 0;
    int64_t deadline = now_ms() + WAIT_SECONDS * 1000;

    while (received < expected) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            fail("timed out waiting for write acknowledgements");
        int ready = poll(&wake, 1, (int)left);
        if (ready < 0 && errno != EINTR)
            fail("poll on the completion queue failed");
        if (ready <= 0)
            continue;

        size_t count = 0;
        PravegaError *error = NULL;
        PravegaStatus status = pravega_completion_queue_drain(queue, batch, 64, &count, &error);
        require_ok(status, &error, "pravega_completion_queue_drain");
        for (size_t i = 0; i < count; i++) {
            // Each completion owns its error; report it and free it.
            require_ok(batch[i].status, &batch[i].error, "writing an event");
            if (batch[i].tag >= expected || acked[batch[i].tag])
                fail("an acknowledgement came for an unknown event or came twice");
            acked[batch[i].tag] = true;
            received++;
        }
    }
}

static void write_events(PravegaManager *manager, const char *scope)
{
    PravegaError *error = NULL;
    PravegaWriter *writer = NULL;
    PravegaCompletionQueue *queue = NULL;
    require_ok(pravega_writer_new(manager, scope, STREAM, &writer, &error), &error,
               "pravega_writer_new");
    require_ok(pravega_completion_queue_new(&queue, &error), &error,
               "pravega_completion_queue_new");

    for (size_t i = 0; i < EVENTS; i++) {
        char key[16];
        char payload[64];
        snprintf(key, sizeof key, "key-%zu", i % KEYS);
        int len = snprintf(payload, sizeof payload, "plain %zu %s", i, key);
        PravegaStatus status = pravega_writer_write(writer, key, payload, (size_t)len,
                                                    pravega_completion_queue_push, queue,
                                                    (uint64_t)i, &error);
        require_ok(status, &error, "pravega_writer_write");
    }

    bool acked[EVENTS] = {false};
    wait_for_acks(queue, EVENTS, acked);
    // Every event is acknowledged already, so this returns at once; it is here to
    // collect any failure that was not reported through a callback.
    require_ok(pravega_writer_flush(writer, WAIT_SECONDS * 1000, &error), &error,
               "pravega_writer_flush");
    printf("wrote %d events with %d routing keys; the server acknowledged each once\n",
           EVENTS, KEYS);

    // The queue goes last: no operation that reports into it is running any more.
    pravega_writer_free(writer);
    pravega_completion_queue_free(queue);
}

/* ---- reading, with a callback that hands each slice to the main thread ---- */

/* One slice at a time, passed from the library's thread to ours. */
struct slice_mailbox {
    pthread_mutex_t lock;
    pthread_cond_t arrived;
    bool full;
    PravegaStatus status;
    PravegaError *error;
    PravegaSlice *slice;
};

static void mailbox_init(struct slice_mailbox *box)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    // Deadlines are measured on the monotonic clock, which wall-clock changes do not move.
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&box->arrived, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_mutex_init(&box->lock, NULL);
    box->full = false;
}

static void mailbox_destroy(struct slice_mailbox *box)
{
    pthread_cond_destroy(&box->arrived);
    pthread_mutex_destroy(&box->lock);
}

/* Runs on a library thread: it only stores the outcome and wakes the main thread. */
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

/* Asks the reader for its next slice and waits for it; NULL means none came in time. */
static PravegaSlice *next_slice(PravegaReader *reader, struct slice_mailbox *box)
{
    PravegaError *error = NULL;
    box->full = false;
    require_ok(pravega_reader_acquire_segment(reader, on_slice, box, 0, &error), &error,
               "pravega_reader_acquire_segment");

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += WAIT_SECONDS;
    pthread_mutex_lock(&box->lock);
    while (!box->full) {
        if (pthread_cond_timedwait(&box->arrived, &box->lock, &deadline) == ETIMEDOUT)
            fail("timed out waiting for a slice");
    }
    pthread_mutex_unlock(&box->lock);

    require_ok(box->status, &box->error, "acquiring a segment");
    return box->slice;
}

/* What the reader has seen so far, to check that nothing is lost, doubled or reordered. */
struct read_tally {
    bool plain_seen[EVENTS];
    long last_index_of_key[KEYS];
    size_t plain_count;
    bool txn_seen[TXN_EVENTS];
    size_t txn_count;
};

/* Checks one event's payload against what was written, and counts it. */
static void tally_event(struct read_tally *tally, const uint8_t *data, size_t len)
{
    char text[64];
    if (len >= sizeof text)
        fail("read an event longer than any that was written");
    memcpy(text, data, len);
    text[len] = '\0';

    size_t index = 0;
    unsigned key = 0;
    if (sscanf(text, "plain %zu key-%u", &index, &key) == 2) {
        if (index >= EVENTS || key != index % KEYS || tally->plain_seen[index])
            fail("read an event that was not written, or read it twice");
        // Events with one routing key live in one segment, so they come back in the
        // order they were written.
        if ((long)index <= tally->last_index_of_key[key])
            fail("events of one routing key came back out of order");
        tally->last_index_of_key[key] = (long)index;
        tally->plain_seen[index] = true;
        tally->plain_count++;
    } else if (sscanf(text, "txn %zu", &index) == 1) {
        if (index >= TXN_EVENTS || tally->txn_seen[index])
            fail("read a transaction event that was not written, or read it twice");
        tally->txn_seen[index] = true;
        tally->txn_count++;
    } else {
        fail("read an event with a payload that was never written");
    }
}

/* Reads slices until the tally holds `plain` plain and `txn` transaction events. */
static void read_until(PravegaReader *reader, struct slice_mailbox *box,
                       struct read_tally *tally, size_t plain, size_t txn)
{
    int64_t deadline = now_ms() + WAIT_SECONDS * 1000;
    while (tally->plain_count < plain || tally->txn_count < txn) {
        if (now_ms() > deadline)
            fail("timed out before every event was read back");
        PravegaSlice *slice = next_slice(reader, box);
        if (slice == NULL)
            continue;

        PravegaError *error = NULL;
        bool found = true;
        while (found) {
            const uint8_t *data = NULL;
            size_t len = 0;
            int64_t offset = 0;
            require_ok(pravega_slice_next(slice, &data, &len, &offset, &found, &error), &error,
                       "pravega_slice_next");
            if (found)
                tally_event(tally, data, len);
        }
        require_ok(pravega_reader_release_segment(reader, slice, &error), &error,
                   "pravega_reader_release_segment");
    }
}

/* ---- a transaction ---- */

static void commit_transaction(PravegaManager *manager, const char *scope)
{
    PravegaError *error = NULL;
    PravegaTxnWriter *txn_writer = NULL;
    PravegaTransaction *txn = NULL;
    require_ok(pravega_txn_writer_new(manager, scope, STREAM, 1, &txn_writer, &error), &error,
               "pravega_txn_writer_new");
    require_ok(pravega_txn_writer_begin(txn_writer, &txn, &error), &error,
               "pravega_txn_writer_begin");

    for (size_t i = 0; i < TXN_EVENTS; i++) {
        char payload[32];
        int len = snprintf(payload, sizeof payload, "txn %zu", i);
        require_ok(pravega_txn_write(txn, "txn-key", payload, (size_t)len, &error), &error,
                   "pravega_txn_write");
    }
    require_ok(pravega_txn_commit(txn, PRAVEGA_NO_TIMESTAMP, &error), &error,
               "pravega_txn_commit");

    // The controller finishes a commit in the background; wait until it says so.
    int32_t state = PRAVEGA_TXN_STATUS_OPEN;
    int64_t deadline = now_ms() + WAIT_SECONDS * 1000;
    for (;;) {
        require_ok(pravega_txn_status(txn, &state, &error), &error, "pravega_txn_status");
        if (state == PRAVEGA_TXN_STATUS_COMMITTED)
            break;
        if (state != PRAVEGA_TXN_STATUS_COMMITTING && state != PRAVEGA_TXN_STATUS_OPEN)
            fail("the transaction ended in a state other than committed");
        if (now_ms() > deadline)
            fail("timed out waiting for the transaction to be committed");
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000000}, NULL);
    }

    PravegaTxnId id = pravega_txn_id(txn);
    printf("committed transaction %016" PRIx64 "%016" PRIx64 " with %d events\n", id.high,
           id.low, TXN_EVENTS);
    pravega_txn_free(txn);
    pravega_txn_writer_free(txn_writer);
}

/* ---- the program ---- */

static void create_scope_and_stream(PravegaManager *manager, const char *scope)
{
    PravegaError *error = NULL;
    bool created = false;
    require_ok(pravega_manager_create_scope(manager, scope, &created, &error), &error,
               "pravega_manager_create_scope");
    require_ok(pravega_manager_create_stream(manager, scope, STREAM, SEGMENTS, &created, &error),
               &error, "pravega_manager_create_stream");
    if (!created)
        fail("the stream existed already; give a scope name that is not in use");
    printf("created stream %s/%s with %d segments\n", scope, STREAM, SEGMENTS);
}

static void read_everything_back(PravegaManager *manager, const char *scope)
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
    // The group copied the config; it is not needed any more.
    pravega_reader_group_config_free(config);
    require_ok(pravega_reader_group_create_reader(group, "reader-1", &reader, &error), &error,
               "pravega_reader_group_create_reader");

    struct slice_mailbox box;
    mailbox_init(&box);
    struct read_tally *tally = calloc(1, sizeof *tally);
    if (tally == NULL)
        fail("out of memory");
    for (size_t key = 0; key < KEYS; key++)
        tally->last_index_of_key[key] = -1;

    read_until(reader, &box, tally, EVENTS, 0);
    printf("read back all %d events; each routing key kept its order\n", EVENTS);

    // The transaction's events become visible only after its commit.
    commit_transaction(manager, scope);
    read_until(reader, &box, tally, EVENTS, TXN_EVENTS);
    printf("read back all %d events of the committed transaction\n", TXN_EVENTS);

    // Going offline first lets the group forget the reader before the handle goes.
    require_ok(pravega_reader_offline(reader, &error), &error, "pravega_reader_offline");
    pravega_reader_free(reader);
    pravega_reader_group_free(group);
    require_ok(pravega_manager_delete_reader_group(manager, scope, GROUP, &error), &error,
               "pravega_manager_delete_reader_group");
    free(tally);
    mailbox_destroy(&box);
}

static void delete_scope_and_stream(PravegaManager *manager, const char *scope)
{
    PravegaError *error = NULL;
    bool done = false;
    // A stream must be sealed before it can be deleted, and a scope must be empty.
    require_ok(pravega_manager_seal_stream(manager, scope, STREAM, &done, &error), &error,
               "pravega_manager_seal_stream");
    require_ok(pravega_manager_delete_stream(manager, scope, STREAM, &done, &error), &error,
               "pravega_manager_delete_stream");
    require_ok(pravega_manager_delete_scope(manager, scope, &done, &error), &error,
               "pravega_manager_delete_scope");
    printf("deleted stream %s/%s and its scope\n", scope, STREAM);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s CONTROLLER_URI [SCOPE]\n", argv[0]);
        return 2;
    }
    const char *uri = argv[1];
    char default_scope[64];
    snprintf(default_scope, sizeof default_scope, "quickstart-%ld-%ld", (long)getpid(),
             (long)time(NULL));
    const char *scope = argc == 3 ? argv[2] : default_scope;

    // A library other than the one this program was compiled against must not be used.
    if (pravega_abi_version() != PRAVEGA_ABI_VERSION)
        fail("the loaded libpravega_client has another ABI version than its header");
    printf("libpravega_client %s, ABI %u\n", pravega_version(), pravega_abi_version());

    PravegaError *error = NULL;
    PravegaManager *manager = NULL;
    require_ok(pravega_manager_new(uri, NULL, &manager, &error), &error, "pravega_manager_new");

    create_scope_and_stream(manager, scope);
    write_events(manager, scope);
    read_everything_back(manager, scope);
    delete_scope_and_stream(manager, scope);

    pravega_manager_free(manager);
    printf("quickstart: all checks passed\n");
    return EXIT_SUCCESS;
}
