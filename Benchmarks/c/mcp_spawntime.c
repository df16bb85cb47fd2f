/*
 * mcp_spawntime: an MCP stdio server's cold start, from just before posix_spawn until
 * the answer to `tools/list` has been read, as an agent starting the server sees it.
 *
 *   mcp_spawntime --count N [--warmup K] [--stderr PATH] [--timeout S] -- server [args...]
 *
 * Each run speaks the handshake the way a client does, one JSON message per line: it
 * writes `initialize` (revision 2025-11-25) straight after the spawn, waits for its
 * answer, then writes `notifications/initialized` and `tools/list`, and stops the clock
 * once the `tools/list` answer's line is complete. That answer must name the four tools.
 * The server is then sent EOF and reaped, untimed; a non-zero exit is counted.
 * Lines with another id, or none (notifications, logs a server should not print), are
 * skipped. K untimed runs come first, so every timed run finds its files in the page cache.
 *
 * Prints one JSON object: quantiles of the whole time and, separately, of the time until
 * the `initialize` answer, in microseconds.
 */
#include "lsp_io.h"

#include <poll.h>

static const char initialize_line[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
    "\"capabilities\":{},\"clientInfo\":{\"name\":\"hyperstack-bench\",\"version\":\"1\"}}}\n";
static const char list_lines[] =
    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n";
static const char *const tools[] = {"\"list_api_keys\"", "\"generate_api_key\"", "\"update_api_key\"",
                                    "\"delete_api_key\""};

typedef struct {
    char *buf;
    size_t cap, start, end;
} line_reader_t;

static int timeout_ms = 120000;
static const char *server_name = "server";

/* The id of a top-level JSON-RPC message when it is a small integer, else -1. Good enough
 * for answers to our own requests: `"id"` followed by optional spaces, `:`, digits. */
static long message_id(const char *line, size_t length) {
    const char *p = line, *stop = line + length;
    while ((p = memmem(p, (size_t)(stop - p), "\"id\"", 4)) != NULL) {
        const char *v = p + 4;
        while (v < stop && (*v == ' ' || *v == '\t')) v++;
        if (v < stop && *v == ':') {
            v++;
            while (v < stop && (*v == ' ' || *v == '\t')) v++;
            long id = 0;
            int digits = 0;
            while (v < stop && *v >= '0' && *v <= '9') { id = id * 10 + (*v++ - '0'); digits++; }
            if (digits) return id;
        }
        p += 4;
    }
    return -1;
}

/* Reads until a complete line answering `want` arrives; returns it (in the buffer) and its length. */
static const char *read_answer(line_reader_t *r, int fd, pid_t pid, long want, size_t *length) {
    for (;;) {
        char *newline;
        while ((newline = memchr(r->buf + r->start, '\n', r->end - r->start)) != NULL) {
            const char *line = r->buf + r->start;
            size_t n = (size_t)(newline - line);
            r->start += n + 1;
            if (message_id(line, n) == want) { *length = n; return line; }
        }
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->end == r->cap) {
            r->cap *= 2;
            r->buf = realloc(r->buf, r->cap);
            if (!r->buf) die("out of memory");
        }
        struct pollfd waiting = {.fd = fd, .events = POLLIN};
        int ready;
        do { ready = poll(&waiting, 1, timeout_ms); } while (ready < 0 && errno == EINTR);
        if (ready == 0) {
            kill(pid, SIGKILL);
            die("%s sent no answer to request %ld within %d s", server_name, want, timeout_ms / 1000);
        }
        ssize_t got;
        do { got = read(fd, r->buf + r->end, r->cap - r->end); } while (got < 0 && errno == EINTR);
        if (got < 0) die("read from %s: %s", server_name, strerror(errno));
        if (got == 0) die("%s closed its stdout before answering request %ld (no `mcp` subcommand, or it crashed?)",
                          server_name, want);
        r->end += (size_t)got;
    }
}

static int wait_exit(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) die("waitpid: %s", strerror(errno));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* One spawn; the nanoseconds until the `initialize` answer and until the `tools/list` answer. */
static void run_once(char *const argv[], const char *stderr_path, uint64_t *initialized, uint64_t *listed,
                     size_t *list_bytes, int *exit_code) {
    line_reader_t reader = {.buf = malloc(1u << 16), .cap = 1u << 16};
    if (!reader.buf) die("out of memory");
    size_t length;
    uint64_t t0 = now_ns();
    child_t child = spawn_piped(argv, stderr_path, 0);
    write_all(child.to_child, initialize_line, sizeof initialize_line - 1);
    const char *answer = read_answer(&reader, child.from_child, child.pid, 1, &length);
    *initialized = now_ns() - t0;
    if (!memmem(answer, length, "\"protocolVersion\"", 17))
        die("the initialize answer has no protocolVersion: %.*s", (int)(length > 300 ? 300 : length), answer);
    write_all(child.to_child, list_lines, sizeof list_lines - 1);
    answer = read_answer(&reader, child.from_child, child.pid, 2, &length);
    *listed = now_ns() - t0;
    for (size_t k = 0; k < sizeof tools / sizeof tools[0]; k++) {
        if (!memmem(answer, length, tools[k], strlen(tools[k])))
            die("the tools/list answer lacks %s: %.*s", tools[k], (int)(length > 300 ? 300 : length), answer);
    }
    *list_bytes = length + 1;
    close(child.to_child);
    char sink[4096];
    for (;;) { /* until EOF; a server that does not exit on EOF is killed (and counted, as a signal) */
        struct pollfd waiting = {.fd = child.from_child, .events = POLLIN};
        if (poll(&waiting, 1, timeout_ms) <= 0) { kill(child.pid, SIGKILL); break; }
        if (read(child.from_child, sink, sizeof sink) <= 0) break;
    }
    close(child.from_child);
    free(reader.buf);
    *exit_code = wait_exit(child.pid);
}

int main(int argc, char **argv) {
    size_t count = 30, warmup = 1;
    const char *stderr_path = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) { i++; break; }
        if (i + 1 >= argc) die("%s needs a value", argv[i]);
        if (strcmp(argv[i], "--count") == 0) count = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--warmup") == 0) warmup = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--stderr") == 0) stderr_path = argv[++i];
        else if (strcmp(argv[i], "--timeout") == 0) timeout_ms = atoi(argv[++i]) * 1000;
        else die("unknown option %s", argv[i]);
    }
    if (i >= argc || count == 0)
        die("usage: mcp_spawntime --count N [--warmup K] [--stderr PATH] [--timeout S] -- server [args...]");
    server_name = argv[i];
    signal(SIGPIPE, SIG_IGN);

    int exit_code = 0, failures = 0;
    size_t list_bytes = 0;
    uint64_t initialized, listed;
    for (size_t k = 0; k < warmup; k++) run_once(&argv[i], stderr_path, &initialized, &listed, &list_bytes, &exit_code);
    uint64_t *total = malloc(sizeof(uint64_t) * count), *first = malloc(sizeof(uint64_t) * count);
    for (size_t k = 0; k < count; k++) {
        run_once(&argv[i], stderr_path, &first[k], &total[k], &list_bytes, &exit_code);
        if (exit_code != 0) failures++;
    }
    qsort(total, count, sizeof(uint64_t), compare_u64);
    qsort(first, count, sizeof(uint64_t), compare_u64);
    double sum = 0;
    for (size_t k = 0; k < count; k++) sum += (double)total[k];
    printf("{\"count\":%zu,\"median_us\":%.1f,\"min_us\":%.1f,\"p90_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f,"
           "\"initialize_median_us\":%.1f,\"initialize_min_us\":%.1f,\"tools_list_bytes\":%zu,\"nonzero_exits\":%d,"
           "\"last_exit\":%d}\n",
           count, quantile(total, count, 0.5) / 1e3, total[0] / 1e3, quantile(total, count, 0.9) / 1e3,
           total[count - 1] / 1e3, sum / (double)count / 1e3, quantile(first, count, 0.5) / 1e3, first[0] / 1e3,
           list_bytes, failures, exit_code);
    return failures ? 1 : 0;
}
