/*
 * bytestream.c: a one-segment stream used as a sequence of bytes.
 *
 * Appends a known byte pattern, flushes it, reads it back from several positions found
 * by seeking from the start, the current position and the tail, checks the bounds,
 * truncates the front away and checks what is left. Exits 0 only when every value read
 * matched what was written.
 *
 *   cc -std=c11 bytestream.c $(pkg-config --cflags --libs pravega_client)
 *   ./a.out tcp://127.0.0.1:9090 [scope]
 */

#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pravega_client.h>

#define STREAM "bytes"
// Large enough that one write and one read do not cover it in a single call.
#define TOTAL_BYTES (256 * 1024)
#define CHUNK_BYTES (20 * 1000)
#define TRUNCATE_AT 100000

/*
 * It takes `&error`, not `error`, because callers pass the call that sets `error` in the
 * same argument list, and C does not say which argument is evaluated first.
 */
static void require_ok(PravegaStatus status, PravegaError **error, const char *what)
{
    if (status == PRAVEGA_STATUS_OK)
        return;
    fprintf(stderr, "bytestream: %s failed with status %d: %s\n", what, (int)status,
            pravega_error_message(*error));
    pravega_error_free(*error);
    exit(EXIT_FAILURE);
}

static void fail(const char *message)
{
    fprintf(stderr, "bytestream: %s\n", message);
    exit(EXIT_FAILURE);
}

/* The byte written at `offset`: a pattern that shows a read from the wrong place. */
static char pattern_at(uint64_t offset)
{
    return (char)((offset * 7 + offset / 251) & 0xff);
}

static void write_pattern(PravegaByteStream *bytes)
{
    char *chunk = malloc(CHUNK_BYTES);
    if (chunk == NULL)
        fail("out of memory");
    PravegaError *error = NULL;
    uint64_t offset = 0;

    while (offset < TOTAL_BYTES) {
        size_t len = TOTAL_BYTES - offset < CHUNK_BYTES ? TOTAL_BYTES - offset : CHUNK_BYTES;
        for (size_t i = 0; i < len; i++)
            chunk[i] = pattern_at(offset + i);
        // A write may take fewer bytes than offered; carry on from where it stopped.
        size_t done = 0;
        while (done < len) {
            size_t written = 0;
            require_ok(pravega_byte_stream_write(bytes, chunk + done, len - done, &written,
                                                 &error),
                       &error, "pravega_byte_stream_write");
            done += written;
        }
        offset += len;
    }
    require_ok(pravega_byte_stream_flush(bytes, &error), &error, "pravega_byte_stream_flush");
    free(chunk);
    printf("wrote and flushed %d bytes\n", TOTAL_BYTES);
}

/*
 * Reads `count` bytes at the read position and checks each against the pattern. A read
 * may return fewer bytes than asked for, so it loops; 0 means the tail was reached.
 */
static void read_and_check(PravegaByteStream *bytes, uint64_t start, size_t count)
{
    char *buffer = malloc(count);
    if (buffer == NULL)
        fail("out of memory");
    PravegaError *error = NULL;
    size_t done = 0;

    while (done < count) {
        size_t got = 0;
        require_ok(pravega_byte_stream_read(bytes, buffer + done, count - done, &got, &error),
                   &error, "pravega_byte_stream_read");
        if (got == 0)
            fail("the read reached the tail before the bytes that were written");
        done += got;
    }
    for (size_t i = 0; i < count; i++) {
        if (buffer[i] != pattern_at(start + i)) {
            fprintf(stderr, "bytestream: byte %" PRIu64 " differs from what was written\n",
                    start + i);
            exit(EXIT_FAILURE);
        }
    }
    free(buffer);
}

/* Seeks, checks where the read position ended up, and returns it. */
static uint64_t seek_to(PravegaByteStream *bytes, int64_t offset, int32_t whence,
                        uint64_t expected)
{
    PravegaError *error = NULL;
    uint64_t position = 0;
    require_ok(pravega_byte_stream_seek(bytes, offset, whence, &position, &error), &error,
               "pravega_byte_stream_seek");
    if (position != expected || pravega_byte_stream_tell(bytes) != expected)
        fail("seek or tell reported an unexpected position");
    return position;
}

static void check_bounds(PravegaByteStream *bytes, uint64_t head, uint64_t tail)
{
    PravegaError *error = NULL;
    uint64_t found_head = 0;
    uint64_t found_tail = 0;
    require_ok(pravega_byte_stream_bounds(bytes, &found_head, &found_tail, &error), &error,
               "pravega_byte_stream_bounds");
    if (found_head != head || found_tail != tail) {
        fprintf(stderr, "bytestream: bounds are %" PRIu64 "..%" PRIu64 ", expected %" PRIu64
                        "..%" PRIu64 "\n",
                found_head, found_tail, head, tail);
        exit(EXIT_FAILURE);
    }
    printf("bounds: head %" PRIu64 ", tail %" PRIu64 "\n", head, tail);
}

static void expect_refused(PravegaStatus status, PravegaError *error, const char *what)
{
    if (status != PRAVEGA_STATUS_INVALID_ARGUMENT || pravega_error_message(error)[0] == '\0') {
        fprintf(stderr, "bytestream: %s was not refused as an invalid argument (status %d)\n",
                what, (int)status);
        exit(EXIT_FAILURE);
    }
    printf("refused %s: %s\n", what, pravega_error_message(error));
    pravega_error_free(error);
}

static void read_from_everywhere(PravegaByteStream *bytes)
{
    seek_to(bytes, 0, 0, 0);
    read_and_check(bytes, 0, TOTAL_BYTES);

    // At the tail a read returns 0 at once instead of waiting for more data.
    PravegaError *error = NULL;
    char spare[16];
    size_t got = 1;
    require_ok(pravega_byte_stream_read(bytes, spare, sizeof spare, &got, &error), &error,
               "pravega_byte_stream_read at the tail");
    if (got != 0)
        fail("a read at the tail returned data");
    printf("read all %d bytes back; a read at the tail returned 0\n", TOTAL_BYTES);

    uint64_t middle = seek_to(bytes, 12345, 0, 12345);
    read_and_check(bytes, middle, 1000);
    uint64_t ahead = seek_to(bytes, 500, 1, middle + 1000 + 500);
    read_and_check(bytes, ahead, 2000);
    uint64_t near_tail = seek_to(bytes, -100, 2, TOTAL_BYTES - 100);
    read_and_check(bytes, near_tail, 100);
    printf("seeks from the start, the current position and the tail read the right bytes\n");

    uint64_t position = 0;
    PravegaStatus status = pravega_byte_stream_seek(bytes, 1, 2, &position, &error);
    expect_refused(status, error, "a seek past the tail");
}

static void truncate_front(PravegaByteStream *bytes)
{
    PravegaError *error = NULL;
    require_ok(pravega_byte_stream_truncate(bytes, TRUNCATE_AT, &error), &error,
               "pravega_byte_stream_truncate");
    check_bounds(bytes, TRUNCATE_AT, TOTAL_BYTES);

    uint64_t position = 0;
    PravegaStatus status = pravega_byte_stream_seek(bytes, TRUNCATE_AT - 1, 0, &position, &error);
    expect_refused(status, error, "a seek before the head");
    status = pravega_byte_stream_truncate(bytes, TOTAL_BYTES + 1, &error);
    expect_refused(status, error, "a truncation past the tail");

    uint64_t head = seek_to(bytes, TRUNCATE_AT, 0, TRUNCATE_AT);
    read_and_check(bytes, head, TOTAL_BYTES - TRUNCATE_AT);
    printf("after truncating at %d the remaining %d bytes read back unchanged\n", TRUNCATE_AT,
           TOTAL_BYTES - TRUNCATE_AT);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s CONTROLLER_URI [SCOPE]\n", argv[0]);
        return 2;
    }
    char default_scope[64];
    snprintf(default_scope, sizeof default_scope, "bytestream-%ld-%ld", (long)getpid(),
             (long)time(NULL));
    const char *scope = argc == 3 ? argv[2] : default_scope;

    PravegaError *error = NULL;
    PravegaManager *manager = NULL;
    PravegaByteStream *bytes = NULL;
    bool created = false;
    require_ok(pravega_manager_new(argv[1], NULL, &manager, &error), &error,
               "pravega_manager_new");
    require_ok(pravega_manager_create_scope(manager, scope, &created, &error), &error,
               "pravega_manager_create_scope");
    // A byte stream needs a stream of exactly one segment.
    require_ok(pravega_manager_create_stream(manager, scope, STREAM, 1, &created, &error), &error,
               "pravega_manager_create_stream");
    require_ok(pravega_byte_stream_new(manager, scope, STREAM, &bytes, &error), &error,
               "pravega_byte_stream_new");
    printf("opened %s/%s as a byte stream\n", scope, STREAM);

    check_bounds(bytes, 0, 0);
    write_pattern(bytes);
    check_bounds(bytes, 0, TOTAL_BYTES);
    read_from_everywhere(bytes);
    truncate_front(bytes);

    pravega_byte_stream_free(bytes);
    pravega_manager_free(manager);
    printf("bytestream: all checks passed\n");
    return EXIT_SUCCESS;
}
