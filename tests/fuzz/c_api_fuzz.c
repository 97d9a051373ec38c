/*
 * c_api_fuzz.c: a libFuzzer target for the part of the C API that needs no server.
 *
 * Each input is a small program: every step takes one byte that chooses a call, then the
 * bytes that make its arguments (strings of arbitrary bytes, not UTF-8 or empty or NULL,
 * counts, indexes, levels, segment ids and offsets, policies). The calls are the config,
 * manager_new, the admin calls' argument checks, reader group configs, completion queues,
 * logging, errors, and every function that takes a handle, called with a NULL handle.
 *
 * The harness keeps a model of what each call must answer, from the header's contract,
 * and aborts when the library answers otherwise, so that libFuzzer reports it with the
 * input that did it: a status outside the enum, PRAVEGA_STATUS_INTERNAL (a caught panic),
 * an error slot that does not match the status, an error message that is empty or not
 * UTF-8, a refusal where the model expects success or the other way round, a completion
 * queue that loses, reorders or invents entries, or a callback of a refused call that
 * fires anyway. ASan, UBSan and LeakSanitizer check the memory of both sides.
 *
 * Nothing may reach the network. The admin calls (create_scope and so on) are made only
 * when the model knows an argument check refuses them first; otherwise the harness passes
 * a NULL out-pointer, which those calls check before they call the controller. Their
 * manager points at 127.0.0.1:1 with one retry attempt and a 2 s timeout, so that a model
 * error shows up as a wrong status within a bounded time rather than as a hang.
 *
 * Preconditions the header states are kept: handles are live and freed once, buffers are
 * as long as the lengths given, a pushed completion carries an error the harness owns and
 * a status from the enum.
 *
 *   tests/fuzz/run            builds this against build/c/lib/libpravega_client.a and runs it
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pravega_client.h>

#define SLOTS 4
#define MAX_ERRORS 8
#define MAX_GROUP_STREAMS 8
#define MAX_CUT_SEGMENTS 8
#define MAX_TAGS 5
#define MAX_DRAIN 16
#define MAX_PUSHES 4096
#define MAX_STEPS 256
// Each manager starts and stops a runtime of its own, which costs a few milliseconds.
#define MAX_MANAGERS_PER_INPUT 2
#define LAST_STATUS PRAVEGA_STATUS_AUTH_FAILED
// What an error slot holds before a call, which must set it to NULL or to a new error.
#define STALE_ERROR ((PravegaError *)(uintptr_t)0x5eed)

/* ---- reading the input ---- */

struct input {
    const uint8_t *data;
    size_t size;
};

static uint8_t take_u8(struct input *in)
{
    if (in->size == 0)
        return 0;
    uint8_t byte = in->data[0];
    in->data++;
    in->size--;
    return byte;
}

static uint64_t take_u64(struct input *in, size_t bytes)
{
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; i++)
        value |= (uint64_t)take_u8(in) << (8 * i);
    return value;
}

static int32_t take_i32(struct input *in)
{
    return (int32_t)(uint32_t)take_u64(in, 4);
}

static int64_t take_i64(struct input *in)
{
    return (int64_t)take_u64(in, 8);
}

static bool take_bool(struct input *in)
{
    return take_u8(in) & 1;
}

/* ---- an arena for what one input allocates, freed when it ends ---- */

struct arena {
    void **blocks;
    size_t count;
    size_t capacity;
};

static struct arena arena;

static void *arena_alloc(size_t size)
{
    if (arena.count == arena.capacity) {
        arena.capacity = arena.capacity ? 2 * arena.capacity : 64;
        arena.blocks = realloc(arena.blocks, arena.capacity * sizeof *arena.blocks);
        if (arena.blocks == NULL)
            abort();
    }
    // Exactly `size` bytes, so that ASan catches a read past the end of a string.
    void *block = malloc(size ? size : 1);
    if (block == NULL)
        abort();
    arena.blocks[arena.count++] = block;
    return block;
}

static void arena_reset(void)
{
    for (size_t i = 0; i < arena.count; i++)
        free(arena.blocks[i]);
    arena.count = 0;
}

/* ---- strings ---- */

// Words that open the library's branches: config keys and values, URIs, PEM markers.
static const char *const words[] = {
    "auth.enabled",
    "auth.username",
    "auth.password",
    "auth.token",
    "tls.enabled",
    "tls.disable_cert_verification",
    "tls.trust_cert",
    "controller.timeout_ms",
    "retry.initial_delay_ms",
    "retry.backoff_coefficient",
    "retry.max_delay_ms",
    "retry.max_attempts",
    "true",
    "false",
    "0",
    "1",
    "+7",
    "4294967296",
    "18446744073709551616",
    "tcp://127.0.0.1:9090",
    "tls://localhost:9090",
    "tcp://a:1,b:2",
    "ssl://[::1]:9090",
    "tcp://[FE80::1]:65535",
    "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    "\"authorization\": \"Basic c2VjcmV0\"",
    "scope",
    "stream",
    "bad\x80\xff",
};

#define WORD_COUNT (sizeof words / sizeof words[0])

// A NUL-terminated copy in the arena, or NULL.
static char *arena_string(const char *bytes, size_t len)
{
    char *copy = arena_alloc(len + 1);
    memcpy(copy, bytes, len);
    copy[len] = '\0';
    return copy;
}

/*
 * A string argument: NULL, empty, arbitrary bytes (interior NULs end it early, as they
 * would for any C caller), a known word, a word with arbitrary bytes after it, or bytes
 * made invalid UTF-8 on purpose.
 */
static char *take_text(struct input *in)
{
    uint8_t mode = take_u8(in) % 8;
    switch (mode) {
    case 0:
        return NULL;
    case 1:
        return arena_string("", 0);
    case 2:
    case 3: {
        size_t len = take_u8(in) % 64;
        if (len > in->size)
            len = in->size;
        char *text = arena_string((const char *)in->data, len);
        in->data += len;
        in->size -= len;
        return text;
    }
    case 4:
    case 5: {
        const char *word = words[take_u8(in) % WORD_COUNT];
        return arena_string(word, strlen(word));
    }
    case 6: {
        const char *word = words[take_u8(in) % WORD_COUNT];
        size_t extra = take_u8(in) % 16;
        if (extra > in->size)
            extra = in->size;
        size_t len = strlen(word);
        char *text = arena_alloc(len + extra + 1);
        memcpy(text, word, len);
        memcpy(text + len, in->data, extra);
        text[len + extra] = '\0';
        in->data += extra;
        in->size -= extra;
        return text;
    }
    default: {
        // A lone continuation byte, an overlong '/', a surrogate, or a code point past
        // U+10FFFF: each is refused by a strict decoder such as Rust's.
        static const char *const broken[] = {"\x80", "\xc0\xaf", "\xed\xa0\x80",
                                             "\xf4\x90\x80\x80", "\xff"};
        const char *bad = broken[take_u8(in) % 5];
        size_t prefix = take_u8(in) % 8;
        if (prefix > in->size)
            prefix = in->size;
        char *text = arena_alloc(prefix + strlen(bad) + 1);
        for (size_t i = 0; i < prefix; i++)
            text[i] = (char)((in->data[i] & 0x3f) | 0x40); // printable ASCII only
        strcpy(text + prefix, bad);
        in->data += prefix;
        in->size -= prefix;
        return text;
    }
    }
}

/* Appends up to `limit` bytes of input to `text`, stopping at a NUL. */
static size_t append_raw(struct input *in, char *text, size_t used, size_t limit)
{
    size_t len = take_u8(in) % (limit + 1);
    for (size_t i = 0; i < len && in->size > 0 && in->data[0] != 0; i++)
        text[used++] = (char)take_u8(in);
    return used;
}

static size_t append_word(char *text, size_t used, const char *word)
{
    size_t len = strlen(word);
    memcpy(text + used, word, len);
    return used + len;
}

/*
 * A controller URI built from parts, since the checks it must pass are nested: a scheme,
 * then one to three endpoints, each a host (a known shape or arbitrary bytes) and a port
 * (in range, past it, or arbitrary bytes).
 */
static char *take_uri(struct input *in)
{
    static const char *const schemes[] = {"tcp://", "tls://", "ssl://", "http://", "", "TCP://"};
    static const char *const hosts[] = {
        "127.0.0.1", "localhost", "[::1]", "[FE80::1]", "[fe80::1]", "a b", "_",
        "-",         "[.]",       "a..b",  "xn--",      "\xc3\xa9", "",
    };
    char text[256];
    size_t used = append_word(text, 0, schemes[take_u8(in) % 6]);
    size_t endpoints = 1 + take_u8(in) % 3;
    for (size_t i = 0; i < endpoints; i++) {
        if (i > 0)
            text[used++] = ',';
        if (take_bool(in))
            used = append_word(text, used, hosts[take_u8(in) % (sizeof hosts / sizeof *hosts)]);
        else
            used = append_raw(in, text, used, 12);
        text[used++] = ':';
        char port[24];
        switch (take_u8(in) % 4) {
        case 0:
            snprintf(port, sizeof port, "%u", (unsigned)take_u64(in, 2));
            break;
        case 1:
            snprintf(port, sizeof port, "%lu", (unsigned long)take_u64(in, 4));
            break;
        case 2:
            port[0] = '\0';
            break;
        default:
            snprintf(port, sizeof port, "%u", (unsigned)take_u64(in, 2));
            used = append_word(text, used, port);
            used = append_raw(in, text, used, 6);
            continue;
        }
        used = append_word(text, used, port);
    }
    return arena_string(text, used);
}

/* Whether `text` is UTF-8 by Rust's rules: no overlongs, surrogates or values past U+10FFFF. */
static bool is_utf8(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        unsigned lead = *p;
        if (lead < 0x80) {
            p++;
            continue;
        }
        int more;
        unsigned low = 0x80, high = 0xbf;
        if (lead >= 0xc2 && lead <= 0xdf) {
            more = 1;
        } else if (lead >= 0xe0 && lead <= 0xef) {
            more = 2;
            if (lead == 0xe0)
                low = 0xa0;
            if (lead == 0xed)
                high = 0x9f;
        } else if (lead >= 0xf0 && lead <= 0xf4) {
            more = 3;
            if (lead == 0xf0)
                low = 0x90;
            if (lead == 0xf4)
                high = 0x8f;
        } else {
            return false;
        }
        if (p[1] < low || p[1] > high)
            return false;
        // Each byte is checked before the next is read, so a NUL stops the scan in time.
        for (int i = 2; i <= more; i++)
            if (p[i] < 0x80 || p[i] > 0xbf)
                return false;
        p += more + 1;
    }
    return true;
}

static bool valid_str(const char *text)
{
    return text != NULL && is_utf8(text);
}

static bool valid_name(const char *text)
{
    return valid_str(text) && text[0] != '\0';
}

/* ---- feedback ---- */

/*
 * The library is not instrumented, so libFuzzer cannot see which of its checks an input
 * reached. Each outcome is fed back instead: the call, its status and the shape of its
 * error message pick a counter in libFuzzer's extra-counters section, and a counter that
 * turns non-zero counts as new coverage, so an input that makes the library answer in a
 * way not seen before is kept. The shape leaves out what comes from the input, so that
 * each new name or number does not count as new: quoted text (messages quote strings
 * with Rust's {:?}), digits, and words with a '/', such as "scope/stream".
 */
#define OUTCOME_COUNTERS 4096
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t
    outcome_counters[OUTCOME_COUNTERS];

static uint32_t fnv1a(uint32_t hash, uint8_t byte)
{
    return (hash ^ byte) * 16777619u;
}

static void note_outcome(const char *call, PravegaStatus status, const char *message)
{
    uint32_t hash = 2166136261u;
    for (const char *p = call; *p; p++)
        hash = fnv1a(hash, (uint8_t)*p);
    hash = fnv1a(hash, (uint8_t)status);

    const char *p = message;
    while (*p) {
        if (*p == '"') {
            // {:?} escapes a quote inside the string, so the next bare one closes it.
            for (p++; *p && *p != '"'; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (*p)
                p++;
            continue;
        }
        const char *end = p;
        while (*end && *end != ' ' && *end != '"')
            end++;
        bool from_input = memchr(p, '/', (size_t)(end - p)) != NULL;
        for (; p < end; p++)
            if (!from_input && (*p < '0' || *p > '9'))
                hash = fnv1a(hash, (uint8_t)*p);
        if (*p == ' ')
            hash = fnv1a(hash, (uint8_t)*p++);
    }

    uint8_t *counter = &outcome_counters[hash % OUTCOME_COUNTERS];
    if (*counter < 255)
        (*counter)++;
}

/* ---- checking outcomes ---- */

static void fail(const char *call, const char *what)
{
    fprintf(stderr, "c_api_fuzz: %s: %s\n", call, what);
    abort();
}

enum expect { EXPECT_OK, EXPECT_INVALID, EXPECT_OK_OR_INVALID };

static PravegaError *errors[MAX_ERRORS];
static size_t error_count;

/* Keeps an error for later steps to read, push or free; frees it when the pool is full. */
static void keep_error(PravegaError *error)
{
    if (error == NULL)
        return;
    if (error_count < MAX_ERRORS)
        errors[error_count++] = error;
    else
        pravega_error_free(error);
}

static void check_error_object(const char *call, PravegaError *error)
{
    PravegaStatus status = pravega_error_status(error);
    if (status <= PRAVEGA_STATUS_OK || status > LAST_STATUS)
        fail(call, "an error with a status outside the failure codes");
    const char *message = pravega_error_message(error);
    if (message == NULL || message[0] == '\0')
        fail(call, "an error without a message");
    if (!is_utf8(message))
        fail(call, "an error message that is not UTF-8");
}

/*
 * Checks a call's status and its error slot against the header's contract and the
 * model's expectation, then keeps the error. `error_slot` is false when the call was
 * given no slot.
 */
static void check(const char *call, PravegaStatus status, PravegaError *error, bool error_slot,
                  enum expect want)
{
    if (error_slot && error == STALE_ERROR)
        fail(call, "the error slot was left as it was");
    note_outcome(call, status, pravega_error_message(error_slot ? error : NULL));
    if (status < PRAVEGA_STATUS_OK || status > LAST_STATUS)
        fail(call, "a status outside PravegaStatus");
    if (status == PRAVEGA_STATUS_INTERNAL) {
        fprintf(stderr, "c_api_fuzz: %s: %s\n", call, pravega_error_message(error));
        fail(call, "PRAVEGA_STATUS_INTERNAL: the library caught a panic");
    }
    if (error_slot) {
        if ((status == PRAVEGA_STATUS_OK) != (error == NULL))
            fail(call, "the error slot does not match the status");
        if (error != NULL) {
            check_error_object(call, error);
            if (pravega_error_status(error) != status)
                fail(call, "the error's status differs from the returned one");
        }
    }
    if (want == EXPECT_OK && status != PRAVEGA_STATUS_OK) {
        fprintf(stderr, "c_api_fuzz: %s: %s\n", call, pravega_error_message(error));
        fail(call, "refused a call the model expects to succeed");
    }
    if (want == EXPECT_INVALID && status != PRAVEGA_STATUS_INVALID_ARGUMENT) {
        fprintf(stderr, "c_api_fuzz: %s: status %d: %s\n", call, (int)status,
                pravega_error_message(error));
        fail(call, "expected PRAVEGA_STATUS_INVALID_ARGUMENT");
    }
    if (want == EXPECT_OK_OR_INVALID && status != PRAVEGA_STATUS_OK &&
        status != PRAVEGA_STATUS_INVALID_ARGUMENT) {
        fprintf(stderr, "c_api_fuzz: %s: status %d: %s\n", call, (int)status,
                pravega_error_message(error));
        fail(call, "expected OK or PRAVEGA_STATUS_INVALID_ARGUMENT");
    }
    keep_error(error);
}

/* An error slot, or none. The slot starts with STALE_ERROR, which every call overwrites. */
static PravegaError **take_error_slot(struct input *in, PravegaError **slot)
{
    *slot = STALE_ERROR;
    return take_u8(in) % 8 == 0 ? NULL : slot;
}

#define CALL(want, name, in, expr)                                                            \
    do {                                                                                      \
        PravegaError *error_value;                                                            \
        PravegaError **error = take_error_slot((in), &error_value);                           \
        PravegaStatus status = (expr);                                                        \
        check((name), status, error ? error_value : NULL, error != NULL, (want));             \
    } while (0)

/* ---- the objects one input works on ---- */

struct group_config {
    PravegaReaderGroupConfig *handle;
    size_t count;
    const char *scopes[MAX_GROUP_STREAMS];
    const char *streams[MAX_GROUP_STREAMS];
    // Streams added past MAX_GROUP_STREAMS are counted but not remembered.
    bool overflowed;
};

struct queue {
    PravegaCompletionQueue *handle;
    // What the queue must hold, oldest first.
    PravegaCompletion *shadow;
    size_t head;
    size_t tail;
    size_t capacity;
};

static PravegaConfig *configs[SLOTS];
static struct group_config groups[SLOTS];
static struct queue queues[SLOTS];
static PravegaManager *own_manager;
static int managers_made;
static size_t pushes;

// Made once: the manager for argument checks, and a directory of trust certificates.
static PravegaManager *unreachable_manager;
static char cert_dir[256];
static char cert_file[300];
static char missing_file[300];

static PravegaLogLevel level_set = PRAVEGA_LOG_LEVEL_OFF;
static bool log_enabled_once;

// Result pointers that pushed completions carry; the queue hands them back, never frees.
static char results[4];

/* ---- config ---- */

static bool parse_u64(const char *text, uint64_t *value)
{
    const char *p = text;
    if (*p == '+')
        p++;
    if (*p == '\0')
        return false;
    uint64_t number = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned digit = (unsigned)(*p - '0');
        if (number > (UINT64_MAX - digit) / 10)
            return false;
        number = number * 10 + digit;
    }
    *value = number;
    return true;
}

/* What pravega_config_set answers for a known or unknown key, both strings valid. */
static enum expect config_set_outcome(const char *key, const char *value)
{
    static const char *const free_text[] = {"auth.username", "auth.password", "auth.token"};
    static const char *const booleans[] = {"auth.enabled", "tls.enabled",
                                           "tls.disable_cert_verification"};
    static const char *const positive[] = {"controller.timeout_ms", "retry.initial_delay_ms",
                                           "retry.max_delay_ms"};
    uint64_t number = 0;
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(key, free_text[i]) == 0)
            return EXPECT_OK;
        if (strcmp(key, booleans[i]) == 0) {
            bool known = strcmp(value, "true") == 0 || strcmp(value, "false") == 0 ||
                         strcmp(value, "1") == 0 || strcmp(value, "0") == 0;
            return known ? EXPECT_OK : EXPECT_INVALID;
        }
        if (strcmp(key, positive[i]) == 0)
            return parse_u64(value, &number) && number > 0 ? EXPECT_OK : EXPECT_INVALID;
    }
    if (strcmp(key, "retry.backoff_coefficient") == 0)
        return parse_u64(value, &number) && number > 0 && number <= UINT32_MAX ? EXPECT_OK
                                                                                : EXPECT_INVALID;
    if (strcmp(key, "retry.max_attempts") == 0)
        return parse_u64(value, &number) ? EXPECT_OK : EXPECT_INVALID;
    if (strcmp(key, "tls.trust_cert") == 0) {
        if (strstr(value, "-----BEGIN") != NULL)
            return EXPECT_OK;
        return strcmp(value, cert_file) == 0 ? EXPECT_OK : EXPECT_INVALID;
    }
    return EXPECT_INVALID;
}

static void step_config(struct input *in)
{
    size_t slot = take_u8(in) % SLOTS;
    switch (take_u8(in) % 4) {
    case 0:
        if (configs[slot] == NULL && take_u8(in) % 4 != 0) {
            CALL(EXPECT_OK, "pravega_config_new", in, pravega_config_new(&configs[slot], error));
        } else {
            CALL(EXPECT_INVALID, "pravega_config_new(NULL)", in, pravega_config_new(NULL, error));
        }
        break;
    case 1:
    case 2: {
        PravegaConfig *config = take_u8(in) % 8 == 0 ? NULL : configs[slot];
        const char *key = take_text(in);
        const char *value = take_text(in);
        // A path would be read now: keep it inside the harness's own directory, since a
        // path such as /dev/zero would never end.
        if (valid_str(key) && strcmp(key, "tls.trust_cert") == 0 && valid_str(value) &&
            strstr(value, "-----BEGIN") == NULL) {
            static const char *const paths[] = {cert_file, missing_file, cert_dir};
            value = paths[take_u8(in) % 3];
        }
        enum expect want = EXPECT_INVALID;
        if (config != NULL && valid_str(key) && valid_str(value))
            want = config_set_outcome(key, value);
        CALL(want, "pravega_config_set", in, pravega_config_set(config, key, value, error));
        break;
    }
    default:
        pravega_config_free(configs[slot]);
        configs[slot] = NULL;
        break;
    }
}

/* ---- managers ---- */

static void step_manager_new(struct input *in)
{
    const char *uri = take_bool(in) ? take_uri(in) : take_text(in);
    PravegaConfig *config = configs[take_u8(in) % SLOTS];
    bool with_out = take_u8(in) % 8 != 0;
    // Past the budget only refusals are tried: a NULL out is checked before the URI.
    if (managers_made >= MAX_MANAGERS_PER_INPUT)
        with_out = false;

    PravegaManager *manager = NULL;
    enum expect want = EXPECT_OK_OR_INVALID;
    if (!with_out || !valid_name(uri))
        want = EXPECT_INVALID;
    CALL(want, "pravega_manager_new", in,
         pravega_manager_new(uri, config, with_out ? &manager : NULL, error));
    if (manager == NULL)
        return;

    managers_made++;
    if (take_bool(in)) {
        pravega_manager_free(own_manager);
        own_manager = manager;
    } else {
        pravega_manager_free(manager);
    }
}

static bool valid_policy(const PravegaStreamPolicy *policy)
{
    if (policy->scaling < 0 || policy->scaling > 2 || policy->min_segments < 1)
        return false;
    if (policy->scaling != PRAVEGA_SCALING_FIXED &&
        (policy->target_rate < 1 || policy->scale_factor < 1))
        return false;
    if (policy->retention < 0 || policy->retention > 2)
        return false;
    return policy->retention == PRAVEGA_RETENTION_KEEP || policy->retention_param >= 1;
}

static void take_policy(struct input *in, PravegaStreamPolicy *policy)
{
    // Small values most of the time, so that valid policies are common.
    bool wide = take_u8(in) % 4 == 0;
    policy->scaling = wide ? take_i32(in) : take_u8(in) % 4;
    policy->target_rate = wide ? take_i32(in) : take_u8(in) % 4;
    policy->scale_factor = wide ? take_i32(in) : take_u8(in) % 4;
    policy->min_segments = wide ? take_i32(in) : take_u8(in) % 4;
    policy->retention = wide ? take_i32(in) : take_u8(in) % 4;
    policy->retention_param = wide ? take_i64(in) : take_u8(in) % 4;
}

/* Tags as `create_stream_with_policy` takes them; returns whether the model accepts them. */
static bool take_tags(struct input *in, const char ***tags, size_t *count)
{
    *count = take_u8(in) % (MAX_TAGS + 1);
    if (take_u8(in) % 4 == 0) {
        *tags = NULL;
        return *count == 0;
    }
    const char **list = arena_alloc((*count ? *count : 1) * sizeof *list);
    bool valid = true;
    for (size_t i = 0; i < *count; i++) {
        list[i] = take_text(in);
        valid = valid && valid_name(list[i]);
    }
    *tags = list;
    return valid;
}

/*
 * One admin call or object constructor of a manager. The call is made only when an
 * argument check refuses it before any network I/O: either the model sees a bad
 * argument, or the harness passes a NULL out-pointer, which those checks include.
 */
static void step_manager_call(struct input *in)
{
    uint8_t which = take_u8(in) % 3;
    const PravegaManager *manager = which == 0 ? NULL
                                    : which == 1 || own_manager == NULL ? unreachable_manager
                                                                        : own_manager;
    const char *scope = take_text(in);
    const char *stream = take_text(in);
    bool refused = manager == NULL || !valid_name(scope);
    bool give_out = take_u8(in) % 4 != 0;

    bool flag = false;
    PravegaStringList *list = NULL;
    PravegaStreamPolicy policy;
    PravegaWriter *writer = NULL;
    PravegaTxnWriter *txn_writer = NULL;
    PravegaByteStream *bytes = NULL;
    PravegaReaderGroup *group = NULL;

    switch (take_u8(in) % 14) {
    case 0:
        if (!refused)
            give_out = false;
        CALL(EXPECT_INVALID, "pravega_manager_create_scope", in,
             pravega_manager_create_scope(manager, scope, give_out ? &flag : NULL, error));
        break;
    case 1:
        if (!refused)
            give_out = false;
        CALL(EXPECT_INVALID, "pravega_manager_delete_scope", in,
             pravega_manager_delete_scope(manager, scope, give_out ? &flag : NULL, error));
        break;
    case 2:
        if (manager != NULL)
            give_out = false;
        CALL(EXPECT_INVALID, "pravega_manager_list_scopes", in,
             pravega_manager_list_scopes(manager, give_out ? &list : NULL, error));
        break;
    case 3:
        if (!refused)
            give_out = false;
        CALL(EXPECT_INVALID, "pravega_manager_list_streams", in,
             pravega_manager_list_streams(manager, scope, give_out ? &list : NULL, error));
        break;
    case 4: {
        int32_t segments = take_i32(in);
        if (!refused && valid_name(stream) && segments >= 1)
            give_out = false;
        CALL(EXPECT_INVALID, "pravega_manager_create_stream", in,
             pravega_manager_create_stream(manager, scope, stream, segments,
                                           give_out ? &flag : NULL, error));
        break;
    }
    case 5:
    case 6: {
        bool update = take_bool(in);
        bool with_policy = take_u8(in) % 8 != 0;
        take_policy(in, &policy);
        const char **tags = NULL;
        size_t tag_count = 0;
        bool tags_valid = take_tags(in, &tags, &tag_count);
        if (!refused && valid_name(stream) && with_policy && valid_policy(&policy) && tags_valid)
            give_out = false;
        const PravegaStreamPolicy *given = with_policy ? &policy : NULL;
        if (!update) {
            CALL(EXPECT_INVALID, "pravega_manager_create_stream_with_policy", in,
                 pravega_manager_create_stream_with_policy(manager, scope, stream, given, tags,
                                                           tag_count, give_out ? &flag : NULL,
                                                           error));
        } else {
            CALL(EXPECT_INVALID, "pravega_manager_update_stream_with_policy", in,
                 pravega_manager_update_stream_with_policy(manager, scope, stream, given, tags,
                                                           tag_count, give_out ? &flag : NULL,
                                                           error));
        }
        break;
    }
    case 7:
        if (!refused && valid_name(stream))
            give_out = false;
        CALL(EXPECT_INVALID, "pravega_manager_get_stream_policy", in,
             pravega_manager_get_stream_policy(manager, scope, stream, give_out ? &policy : NULL,
                                               error));
        break;
    case 8:
        if (!refused && valid_name(stream))
            give_out = false;
        CALL(EXPECT_INVALID, "pravega_manager_get_stream_tags", in,
             pravega_manager_get_stream_tags(manager, scope, stream, give_out ? &list : NULL,
                                             error));
        break;
    case 9:
        if (!refused && valid_name(stream))
            give_out = false;
        if (take_bool(in)) {
            CALL(EXPECT_INVALID, "pravega_manager_seal_stream", in,
                 pravega_manager_seal_stream(manager, scope, stream, give_out ? &flag : NULL,
                                             error));
        } else {
            CALL(EXPECT_INVALID, "pravega_manager_delete_stream", in,
                 pravega_manager_delete_stream(manager, scope, stream, give_out ? &flag : NULL,
                                               error));
        }
        break;
    case 10:
        // No out-pointer: only a bad argument keeps this one off the network.
        if (!refused && valid_name(stream))
            break;
        CALL(EXPECT_INVALID, "pravega_manager_delete_reader_group", in,
             pravega_manager_delete_reader_group(manager, scope, stream, error));
        break;
    case 11:
        // A writer starts looking up its segments in the background as soon as it is
        // made, so a valid one is never made here.
        if (!refused && valid_name(stream))
            give_out = false;
        if (take_bool(in)) {
            CALL(EXPECT_INVALID, "pravega_writer_new", in,
                 pravega_writer_new(manager, scope, stream, give_out ? &writer : NULL, error));
        } else {
            CALL(EXPECT_INVALID, "pravega_byte_stream_new", in,
                 pravega_byte_stream_new(manager, scope, stream, give_out ? &bytes : NULL,
                                         error));
        }
        break;
    case 12: {
        uint64_t writer_id = take_u64(in, 8);
        if (!refused && valid_name(stream))
            give_out = false;
        CALL(EXPECT_INVALID, "pravega_txn_writer_new", in,
             pravega_txn_writer_new(manager, scope, stream, writer_id,
                                    give_out ? &txn_writer : NULL, error));
        break;
    }
    default: {
        struct group_config *config = &groups[take_u8(in) % SLOTS];
        bool with_config = take_u8(in) % 8 != 0;
        const PravegaReaderGroupConfig *given = with_config ? config->handle : NULL;
        // An empty config is refused before the streams are looked up.
        if (!refused && valid_name(stream) && given != NULL && config->count > 0)
            give_out = false;
        CALL(EXPECT_INVALID, "pravega_reader_group_new", in,
             pravega_reader_group_new(manager, scope, stream, given, give_out ? &group : NULL,
                                      error));
        break;
    }
    }
    if (list != NULL || writer != NULL || txn_writer != NULL || bytes != NULL || group != NULL)
        fail("manager call", "a refused call stored through its out-pointer");
}

/* ---- reader group configs ---- */

static bool group_has(const struct group_config *config, const char *scope, const char *stream)
{
    for (size_t i = 0; i < config->count && i < MAX_GROUP_STREAMS; i++)
        if (strcmp(config->scopes[i], scope) == 0 && strcmp(config->streams[i], stream) == 0)
            return true;
    return false;
}

static void group_note(struct group_config *config, const char *scope, const char *stream)
{
    if (config->count < MAX_GROUP_STREAMS) {
        config->scopes[config->count] = scope;
        config->streams[config->count] = stream;
    } else {
        config->overflowed = true;
    }
    config->count++;
}

static void step_group_config(struct input *in)
{
    struct group_config *config = &groups[take_u8(in) % SLOTS];
    switch (take_u8(in) % 5) {
    case 0:
        if (config->handle == NULL && take_u8(in) % 4 != 0) {
            CALL(EXPECT_OK, "pravega_reader_group_config_new", in,
                 pravega_reader_group_config_new(&config->handle, error));
        } else {
            CALL(EXPECT_INVALID, "pravega_reader_group_config_new(NULL)", in,
                 pravega_reader_group_config_new(NULL, error));
        }
        break;
    case 1: {
        PravegaReaderGroupConfig *handle = take_u8(in) % 8 == 0 ? NULL : config->handle;
        const char *scope = take_text(in);
        const char *stream = take_text(in);
        bool from_tail = take_bool(in);
        bool accepted = handle != NULL && valid_name(scope) && valid_name(stream) &&
                        !group_has(config, scope, stream);
        // Past the remembered streams a duplicate cannot be predicted.
        enum expect want = !accepted           ? EXPECT_INVALID
                           : config->overflowed ? EXPECT_OK_OR_INVALID
                                                : EXPECT_OK;
        PravegaError *error_value = STALE_ERROR;
        PravegaStatus status = pravega_reader_group_config_add_stream(handle, scope, stream,
                                                                      from_tail, &error_value);
        check("pravega_reader_group_config_add_stream", status, error_value, true, want);
        if (status == PRAVEGA_STATUS_OK)
            group_note(config, scope, stream);
        break;
    }
    case 2:
    case 3: {
        PravegaReaderGroupConfig *handle = take_u8(in) % 8 == 0 ? NULL : config->handle;
        const char *scope = take_text(in);
        const char *stream = take_text(in);
        size_t count = take_u8(in) % (MAX_CUT_SEGMENTS + 1);
        uint8_t arrays = take_u8(in);
        int64_t *segments = arena_alloc(MAX_CUT_SEGMENTS * sizeof *segments);
        int64_t *offsets = arena_alloc(MAX_CUT_SEGMENTS * sizeof *offsets);
        bool cut_valid = count > 0;
        for (size_t i = 0; i < count; i++) {
            // Epoch in the high half, number in the low half; sometimes any bits at all.
            if (take_u8(in) % 4 == 0)
                segments[i] = take_i64(in);
            else
                segments[i] = (int64_t)(take_u64(in, 1) << 32 | take_u64(in, 4));
            offsets[i] = take_u8(in) % 4 == 0 ? take_i64(in) : (int64_t)take_u64(in, 2);
            uint64_t number = (uint64_t)segments[i] & 0xffffffffu;
            if (segments[i] < 0 || number > INT32_MAX || offsets[i] < 0)
                cut_valid = false;
        }
        // A NULL array is only allowed with a count of 0, which is refused anyway.
        const int64_t *given_segments = arrays & 1 ? NULL : segments;
        const int64_t *given_offsets = arrays & 2 ? NULL : offsets;
        size_t given_count = count;
        if ((arrays & 3) != 0 && arrays & 4)
            given_count = SIZE_MAX / 4; // only with a NULL array: nothing is read
        if (given_segments == NULL || given_offsets == NULL)
            cut_valid = false;
        bool accepted = handle != NULL && valid_name(scope) && valid_name(stream) && cut_valid &&
                        !group_has(config, scope, stream);
        enum expect want = !accepted           ? EXPECT_INVALID
                           : config->overflowed ? EXPECT_OK_OR_INVALID
                                                : EXPECT_OK;
        PravegaError *error_value = STALE_ERROR;
        PravegaStatus status = pravega_reader_group_config_add_stream_at(
            handle, scope, stream, given_segments, given_offsets, given_count, &error_value);
        check("pravega_reader_group_config_add_stream_at", status, error_value, true, want);
        if (status == PRAVEGA_STATUS_OK)
            group_note(config, scope, stream);
        break;
    }
    default:
        pravega_reader_group_config_free(config->handle);
        memset(config, 0, sizeof *config);
        break;
    }
}

/* ---- completion queues ---- */

static bool readable(int fd)
{
    struct pollfd poller = {.fd = fd, .events = POLLIN};
    int ready = poll(&poller, 1, 0);
    if (ready < 0)
        fail("poll", strerror(errno));
    return ready == 1 && (poller.revents & POLLIN);
}

static size_t shadow_len(const struct queue *queue)
{
    return queue->tail - queue->head;
}

static void shadow_push(struct queue *queue, PravegaCompletion completion)
{
    if (queue->tail == queue->capacity) {
        queue->capacity = queue->capacity ? 2 * queue->capacity : 16;
        queue->shadow = realloc(queue->shadow, queue->capacity * sizeof *queue->shadow);
        if (queue->shadow == NULL)
            abort();
    }
    queue->shadow[queue->tail++] = completion;
}

/* The wake-up descriptor is readable exactly while the queue holds completions. */
static void check_wake(const struct queue *queue, const char *after)
{
    int fd = pravega_completion_queue_fd(queue->handle);
    if (fd < 0 || fcntl(fd, F_GETFD) == -1)
        fail("pravega_completion_queue_fd", "not an open descriptor");
    if (readable(fd) != (shadow_len(queue) > 0))
        fail(after, "the wake-up descriptor disagrees with the queue's length");
}

static void free_queue(struct queue *queue)
{
    // Completions still queued are the queue's to free, errors included.
    pravega_completion_queue_free(queue->handle);
    free(queue->shadow);
    memset(queue, 0, sizeof *queue);
}

static void step_queue(struct input *in)
{
    struct queue *queue = &queues[take_u8(in) % SLOTS];
    switch (take_u8(in) % 6) {
    case 0:
        if (queue->handle == NULL && take_u8(in) % 4 != 0) {
            CALL(EXPECT_OK, "pravega_completion_queue_new", in,
                 pravega_completion_queue_new(&queue->handle, error));
            check_wake(queue, "pravega_completion_queue_new");
        } else {
            CALL(EXPECT_INVALID, "pravega_completion_queue_new(NULL)", in,
                 pravega_completion_queue_new(NULL, error));
        }
        break;
    case 1:
    case 2: {
        if (pushes >= MAX_PUSHES)
            break;
        pushes++;
        PravegaCompletion completion = {
            .tag = take_u64(in, 8),
            .status = (PravegaStatus)(take_u8(in) % (LAST_STATUS + 1)),
            .error = NULL,
            .result = NULL,
        };
        // The error moves into the queue: take it out of the pool.
        if (error_count > 0 && take_bool(in))
            completion.error = errors[--error_count];
        uint8_t result = take_u8(in) % 8;
        if (result < 4)
            completion.result = &results[result];
        uint8_t target = take_u8(in) % 8;
        if (target == 0) {
            // Dropped and logged; its error is freed. A result would leak, so none.
            completion.result = NULL;
            pravega_completion_queue_push(NULL, &completion);
        } else if (target == 1 || queue->handle == NULL) {
            pravega_completion_queue_push(queue->handle, NULL);
            keep_error(completion.error);
        } else {
            pravega_completion_queue_push(queue->handle, &completion);
            shadow_push(queue, completion);
        }
        if (queue->handle != NULL)
            check_wake(queue, "pravega_completion_queue_push");
        break;
    }
    case 3:
    case 4: {
        PravegaCompletion slots[MAX_DRAIN];
        // A NULL `out` may come with any capacity; a real one with at most its length.
        bool with_out = take_u8(in) % 8 != 0;
        size_t capacity = with_out ? take_u8(in) % (MAX_DRAIN + 1) : (size_t)take_u64(in, 8);
        bool with_count = take_u8(in) % 8 != 0;
        bool with_queue = take_u8(in) % 8 != 0;
        const PravegaCompletionQueue *handle = with_queue ? queue->handle : NULL;
        size_t count = SIZE_MAX;
        enum expect want = handle != NULL && with_count && (with_out || capacity == 0)
                               ? EXPECT_OK
                               : EXPECT_INVALID;
        PravegaError *error_value = STALE_ERROR;
        PravegaStatus status = pravega_completion_queue_drain(
            handle, with_out ? slots : NULL, capacity, with_count ? &count : NULL, &error_value);
        check("pravega_completion_queue_drain", status, error_value, true, want);
        if (status != PRAVEGA_STATUS_OK) {
            if (with_count && count != SIZE_MAX)
                fail("pravega_completion_queue_drain", "a refused drain stored a count");
            break;
        }
        size_t expected = shadow_len(queue) < capacity ? shadow_len(queue) : capacity;
        if (count != expected)
            fail("pravega_completion_queue_drain", "drained a different number of entries");
        for (size_t i = 0; i < count; i++) {
            const PravegaCompletion *want_entry = &queue->shadow[queue->head + i];
            if (slots[i].tag != want_entry->tag || slots[i].status != want_entry->status ||
                slots[i].error != want_entry->error || slots[i].result != want_entry->result)
                fail("pravega_completion_queue_drain", "an entry differs from the one pushed");
            keep_error(slots[i].error);
        }
        queue->head += count;
        check_wake(queue, "pravega_completion_queue_drain");
        break;
    }
    default:
        free_queue(queue);
        break;
    }
}

/* ---- logging ---- */

static void step_log(struct input *in)
{
    switch (take_u8(in) % 3) {
    case 0: {
        int32_t level = take_u8(in) % 4 == 0 ? take_i32(in) : (int32_t)(take_u8(in) % 8) - 1;
        bool valid = level >= PRAVEGA_LOG_LEVEL_OFF && level <= PRAVEGA_LOG_LEVEL_TRACE;
        CALL(valid ? EXPECT_OK : EXPECT_INVALID, "pravega_log_set_level", in,
             pravega_log_set_level(level, error));
        if (valid) {
            level_set = (PravegaLogLevel)level;
            if (level != PRAVEGA_LOG_LEVEL_OFF)
                log_enabled_once = true;
        }
        break;
    }
    case 1: {
        PravegaLogRecord records[MAX_DRAIN];
        bool with_out = take_u8(in) % 8 != 0;
        size_t capacity = with_out ? take_u8(in) % (MAX_DRAIN + 1) : (size_t)take_u64(in, 8);
        size_t count = pravega_log_drain(with_out ? records : NULL, capacity);
        if (count > (with_out ? capacity : 0))
            fail("pravega_log_drain", "returned more records than there was room for");
        for (size_t i = 0; i < count; i++) {
            if (records[i].level < PRAVEGA_LOG_LEVEL_ERROR ||
                records[i].level > PRAVEGA_LOG_LEVEL_TRACE)
                fail("pravega_log_drain", "a record with a level outside ERROR..TRACE");
            if (records[i].target == NULL || !is_utf8(records[i].target) ||
                records[i].message == NULL || !is_utf8(records[i].message))
                fail("pravega_log_drain", "a record whose strings are NULL or not UTF-8");
        }
        break;
    }
    default:
        if (pravega_log_level() != level_set)
            fail("pravega_log_level", "differs from the level set last");
        if ((pravega_log_fd() >= 0) != log_enabled_once)
            fail("pravega_log_fd", "a descriptor before logging was enabled, or none after");
        break;
    }
}

/* ---- errors, and plain values ---- */

static void step_error(struct input *in)
{
    switch (take_u8(in) % 3) {
    case 0:
        if (pravega_error_status(NULL) != PRAVEGA_STATUS_INVALID_ARGUMENT ||
            strcmp(pravega_error_message(NULL), "") != 0)
            fail("pravega_error_status/message", "a NULL error does not read as documented");
        pravega_error_free(NULL);
        break;
    case 1:
        if (error_count > 0)
            check_error_object("error pool", errors[take_u8(in) % error_count]);
        break;
    default:
        if (error_count > 0) {
            size_t index = take_u8(in) % error_count;
            pravega_error_free(errors[index]);
            errors[index] = errors[--error_count];
        }
        break;
    }
}

static void check_version(void)
{
    const char *version = pravega_version();
    if (version == NULL || version[0] < '0' || version[0] > '9' || !is_utf8(version))
        fail("pravega_version", "not a version string");
    if (pravega_abi_version() != PRAVEGA_ABI_VERSION)
        fail("pravega_abi_version", "differs from the header's PRAVEGA_ABI_VERSION");
}

/* ---- every call on a NULL handle ---- */

/*
 * A call that takes a callback is given the completion queue's push as its callback, so
 * that a callback fired by a refused call shows up as an entry the model did not expect.
 */
static void step_null_handle(struct input *in)
{
    struct queue *queue = &queues[take_u8(in) % SLOTS];
    PravegaCallback callback = take_u8(in) % 4 == 0 ? NULL : pravega_completion_queue_push;
    void *user_data = queue->handle;
    uint64_t tag = take_u64(in, 2);
    size_t len = take_u8(in) % 32;
    // Exactly `len` bytes and no NUL, so that reading past the length is caught.
    char *buffer = arena_alloc(len);
    memset(buffer, 'x', len);
    const char *data = take_bool(in) ? buffer : NULL;
    const char *text = take_text(in);
    int64_t number = take_i64(in);
    bool give_out = take_bool(in);

    bool flag = false;
    size_t size = 0;
    uint64_t position = 0, head = 0, tail = 0;
    int32_t txn_status = 0;
    PravegaTransaction *txn = NULL;
    PravegaStreamCut *cut = NULL;
    PravegaReader *reader = NULL;
    const uint8_t *payload = NULL;
    PravegaEventBatch batch;
    PravegaTxnId id = {.high = (uint64_t)number, .low = tag};

    switch (take_u8(in) % 32) {
    case 0:
        CALL(EXPECT_INVALID, "pravega_writer_write", in,
             pravega_writer_write(NULL, text, data, len, callback, user_data, tag, error));
        break;
    case 1: {
        size_t lengths[2] = {len / 2, len - len / 2};
        CALL(EXPECT_INVALID, "pravega_writer_write_batch", in,
             pravega_writer_write_batch(NULL, text, data, len, give_out ? lengths : NULL,
                                        give_out ? 2 : (size_t)number, callback, user_data,
                                        tag, error));
        break;
    }
    case 2:
        CALL(EXPECT_INVALID, "pravega_writer_flush_async", in,
             pravega_writer_flush_async(NULL, callback, user_data, tag, error));
        break;
    case 3:
        CALL(EXPECT_INVALID, "pravega_writer_flush", in, pravega_writer_flush(NULL, number, error));
        break;
    case 4:
        CALL(EXPECT_INVALID, "pravega_writer_wait_outstanding", in,
             pravega_writer_wait_outstanding(NULL, tag, number, error));
        break;
    case 5:
        CALL(EXPECT_INVALID, "pravega_txn_writer_begin", in,
             pravega_txn_writer_begin(NULL, give_out ? &txn : NULL, error));
        break;
    case 6:
        CALL(EXPECT_INVALID, "pravega_txn_writer_get_txn", in,
             pravega_txn_writer_get_txn(NULL, id, give_out ? &txn : NULL, error));
        break;
    case 7:
        CALL(EXPECT_INVALID, "pravega_txn_write", in,
             pravega_txn_write(NULL, text, data, len, error));
        break;
    case 8:
        CALL(EXPECT_INVALID, "pravega_txn_status", in,
             pravega_txn_status(NULL, give_out ? &txn_status : NULL, error));
        break;
    case 9:
        CALL(EXPECT_INVALID, "pravega_txn_commit", in,
             pravega_txn_commit(NULL, (uint64_t)number, error));
        break;
    case 10:
        CALL(EXPECT_INVALID, "pravega_txn_abort", in, pravega_txn_abort(NULL, error));
        break;
    case 11:
        CALL(EXPECT_INVALID, "pravega_txn_commit_async", in,
             pravega_txn_commit_async(NULL, (uint64_t)number, callback, user_data, tag, error));
        break;
    case 12:
        CALL(EXPECT_INVALID, "pravega_txn_abort_async", in,
             pravega_txn_abort_async(NULL, callback, user_data, tag, error));
        break;
    case 13:
        CALL(EXPECT_INVALID, "pravega_byte_stream_write", in,
             pravega_byte_stream_write(NULL, data, len, give_out ? &size : NULL, error));
        break;
    case 14:
        CALL(EXPECT_INVALID, "pravega_byte_stream_flush", in,
             pravega_byte_stream_flush(NULL, error));
        break;
    case 15:
        CALL(EXPECT_INVALID, "pravega_byte_stream_read", in,
             pravega_byte_stream_read(NULL, data ? buffer : NULL, len, give_out ? &size : NULL,
                                      error));
        break;
    case 16:
        CALL(EXPECT_INVALID, "pravega_byte_stream_seek", in,
             pravega_byte_stream_seek(NULL, number, (int32_t)tag, give_out ? &position : NULL,
                                      error));
        break;
    case 17:
        CALL(EXPECT_INVALID, "pravega_byte_stream_bounds", in,
             pravega_byte_stream_bounds(NULL, give_out ? &head : NULL, &tail, error));
        break;
    case 18:
        CALL(EXPECT_INVALID, "pravega_byte_stream_truncate", in,
             pravega_byte_stream_truncate(NULL, number, error));
        break;
    case 19:
        CALL(EXPECT_INVALID, "pravega_reader_group_get_stream_cut", in,
             pravega_reader_group_get_stream_cut(NULL, give_out ? &cut : NULL, error));
        break;
    case 20:
        CALL(EXPECT_INVALID, "pravega_reader_group_create_reader", in,
             pravega_reader_group_create_reader(NULL, text, give_out ? &reader : NULL, error));
        break;
    case 21:
        CALL(EXPECT_INVALID, "pravega_reader_group_reader_offline", in,
             pravega_reader_group_reader_offline(NULL, text, error));
        break;
    case 22:
        CALL(EXPECT_INVALID, "pravega_reader_acquire_segment", in,
             pravega_reader_acquire_segment(NULL, callback, user_data, tag, error));
        break;
    case 23:
        CALL(EXPECT_INVALID, "pravega_reader_release_segment", in,
             pravega_reader_release_segment(NULL, NULL, error));
        break;
    case 24:
        CALL(EXPECT_INVALID, "pravega_reader_offline", in, pravega_reader_offline(NULL, error));
        break;
    case 25:
        CALL(EXPECT_INVALID, "pravega_slice_next", in,
             pravega_slice_next(NULL, &payload, &size, &number, give_out ? &flag : NULL, error));
        break;
    case 26:
        CALL(EXPECT_INVALID, "pravega_slice_next_batch", in,
             pravega_slice_next_batch(NULL, len, (size_t)number, give_out ? &batch : NULL,
                                      error));
        break;
    case 27:
        CALL(EXPECT_INVALID, "pravega_slice_unread", in,
             pravega_slice_unread(NULL, (size_t)number, error));
        break;
    case 28: {
        int64_t segment = 0, offset = 0;
        if (pravega_string_list_len(NULL) != 0 ||
            pravega_string_list_get(NULL, (size_t)number) != NULL ||
            pravega_stream_cut_len(NULL) != 0 || strcmp(pravega_stream_cut_stream(NULL), "") ||
            pravega_stream_cut_get(NULL, (size_t)number, &segment, &offset) ||
            strcmp(pravega_slice_segment(NULL), ""))
            fail("NULL list, cut or slice", "an accessor did not give its documented empty value");
        break;
    }
    case 29: {
        PravegaTxnId none = pravega_txn_id(NULL);
        if (none.high != 0 || none.low != 0 || pravega_writer_outstanding(NULL) != 0 ||
            pravega_byte_stream_tell(NULL) != 0 || pravega_completion_queue_fd(NULL) != -1)
            fail("NULL handle accessors", "a value other than the documented one");
        break;
    }
    case 30:
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
        break;
    default:
        check_version();
        break;
    }
    if (txn != NULL || cut != NULL || reader != NULL)
        fail("NULL handle call", "a refused call stored through its out-pointer");
    // A refused call never fires its callback: the queue must hold what it held.
    if (queue->handle != NULL)
        check_wake(queue, "a refused asynchronous call");
}

/* ---- one input ---- */

static void reset_state(void)
{
    for (size_t i = 0; i < SLOTS; i++) {
        pravega_config_free(configs[i]);
        configs[i] = NULL;
        pravega_reader_group_config_free(groups[i].handle);
        memset(&groups[i], 0, sizeof groups[i]);
        free_queue(&queues[i]);
    }
    while (error_count > 0)
        pravega_error_free(errors[--error_count]);
    pravega_manager_free(own_manager);
    own_manager = NULL;
    managers_made = 0;
    pushes = 0;

    // Logging is process-wide: switch it off and empty it, so that inputs stay apart.
    if (level_set != PRAVEGA_LOG_LEVEL_OFF) {
        if (pravega_log_set_level(PRAVEGA_LOG_LEVEL_OFF, NULL) != PRAVEGA_STATUS_OK)
            fail("pravega_log_set_level", "refused OFF");
        level_set = PRAVEGA_LOG_LEVEL_OFF;
    }
    PravegaLogRecord records[MAX_DRAIN];
    while (pravega_log_drain(records, MAX_DRAIN) == MAX_DRAIN)
        ;
    arena_reset();
}

static void remove_cert_dir(void)
{
    unlink(cert_file);
    rmdir(cert_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    check_version();

    const char *base = getenv("TMPDIR");
    snprintf(cert_dir, sizeof cert_dir, "%s/pravega-fuzz.XXXXXX", base ? base : "/tmp");
    if (mkdtemp(cert_dir) == NULL)
        fail("mkdtemp", strerror(errno));
    snprintf(cert_file, sizeof cert_file, "%s/ca.pem", cert_dir);
    snprintf(missing_file, sizeof missing_file, "%s/missing.pem", cert_dir);
    FILE *pem = fopen(cert_file, "w");
    if (pem == NULL)
        fail("fopen", strerror(errno));
    fputs("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
          pem);
    fclose(pem);
    atexit(remove_cert_dir);

    PravegaConfig *config = NULL;
    if (pravega_config_new(&config, NULL) != PRAVEGA_STATUS_OK ||
        pravega_config_set(config, "retry.max_attempts", "1", NULL) != PRAVEGA_STATUS_OK ||
        pravega_config_set(config, "controller.timeout_ms", "2000", NULL) != PRAVEGA_STATUS_OK ||
        pravega_manager_new("tcp://127.0.0.1:1", config, &unreachable_manager, NULL) !=
            PRAVEGA_STATUS_OK)
        fail("setup", "cannot make the manager for argument checks");
    pravega_config_free(config);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {.data = data, .size = size};
    for (int steps = 0; in.size > 0 && steps < MAX_STEPS; steps++) {
        switch (take_u8(&in) % 8) {
        case 0:
            step_config(&in);
            break;
        case 1:
            step_manager_new(&in);
            break;
        case 2:
            step_manager_call(&in);
            break;
        case 3:
            step_group_config(&in);
            break;
        case 4:
            step_queue(&in);
            break;
        case 5:
            step_log(&in);
            break;
        case 6:
            step_error(&in);
            break;
        default:
            step_null_handle(&in);
            break;
        }
    }
    reset_state();
    return 0;
}
