/*
 * spawntime: how long a program takes to become useful, measured from just
 * before posix_spawn.
 *
 *   spawntime exit       --count N [--warmup K] -- program [args...]
 *       until the program has exited (the fixed floor: /bin/true; `python -c "import X"`).
 *   spawntime initialize --count N [--warmup K] -- server [args...]
 *       until the response to an LSP-framed `initialize` (written straight after the
 *       spawn) has been read completely; the server is then sent EOF and reaped, untimed.
 *
 * K untimed runs come first, so every timed run finds the files in the page cache.
 * Prints one JSON object with the median and other quantiles in microseconds.
 */
#include "lsp_io.h"

static const char initialize_body[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"processId\":null,"
    "\"clientInfo\":{\"name\":\"hyperstack-bench\"}}}";

static int saw_server_info;
static void check_body(const char *body, size_t length, void *context) {
    (void)context;
    if (memmem(body, length, "\"serverInfo\"", 12) != NULL) saw_server_info = 1;
    else fprintf(stderr, "spawntime: unexpected initialize response: %.*s\n", (int)(length > 300 ? 300 : length), body);
}

static int wait_exit(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) die("waitpid: %s", strerror(errno));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* One spawn; returns nanoseconds until the program was useful. */
static uint64_t run_once(int until_initialized, char *const argv[], int *exit_code) {
    if (!until_initialized) {
        uint64_t t0 = now_ns();
        pid_t pid = spawn_quiet(argv);
        *exit_code = wait_exit(pid);
        return now_ns() - t0;
    }
    char frame[512];
    size_t frame_length = frame_into(frame, initialize_body, sizeof initialize_body - 1);
    uint64_t t0 = now_ns();
    child_t child = spawn_piped(argv, NULL, 0);
    write_all(child.to_child, frame, frame_length);
    frame_reader_t reader;
    reader_init(&reader, child.from_child, 1u << 16);
    saw_server_info = 0;
    long frames = 0;
    while (frames == 0) {
        frames = reader_pump(&reader, check_body, NULL);
        if (frames < 0) die("%s exited before answering initialize", argv[0]);
    }
    uint64_t elapsed = now_ns() - t0;
    if (!saw_server_info) die("the initialize response has no serverInfo");
    close(child.to_child);
    while (reader_pump(&reader, NULL, NULL) >= 0) {
    }
    close(child.from_child);
    free(reader.buf);
    *exit_code = wait_exit(child.pid);
    return elapsed;
}

int main(int argc, char **argv) {
    if (argc < 2) die("usage: spawntime exit|initialize --count N [--warmup K] -- program [args...]");
    int until_initialized;
    if (strcmp(argv[1], "exit") == 0) until_initialized = 0;
    else if (strcmp(argv[1], "initialize") == 0) until_initialized = 1;
    else die("the mode must be exit or initialize, not %s", argv[1]);
    size_t count = 30, warmup = 1;
    int i = 2;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) { i++; break; }
        if (i + 1 >= argc) die("%s needs a value", argv[i]);
        if (strcmp(argv[i], "--count") == 0) count = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--warmup") == 0) warmup = strtoul(argv[++i], NULL, 10);
        else die("unknown option %s", argv[i]);
    }
    if (i >= argc || count == 0) die("no program given, or --count 0");
    signal(SIGPIPE, SIG_IGN);

    int exit_code = 0, failures = 0;
    for (size_t k = 0; k < warmup; k++) run_once(until_initialized, &argv[i], &exit_code);
    uint64_t *samples = malloc(sizeof(uint64_t) * count);
    for (size_t k = 0; k < count; k++) {
        samples[k] = run_once(until_initialized, &argv[i], &exit_code);
        if (exit_code != 0) failures++;
    }
    qsort(samples, count, sizeof(uint64_t), compare_u64);
    double sum = 0;
    for (size_t k = 0; k < count; k++) sum += (double)samples[k];
    printf("{\"mode\":\"%s\",\"count\":%zu,\"median_us\":%.1f,\"min_us\":%.1f,\"p90_us\":%.1f,\"max_us\":%.1f,"
           "\"mean_us\":%.1f,\"nonzero_exits\":%d}\n",
           argv[1], count, quantile(samples, count, 0.5) / 1e3, samples[0] / 1e3, quantile(samples, count, 0.9) / 1e3,
           samples[count - 1] / 1e3, sum / (double)count / 1e3, failures);
    return failures ? 1 : 0;
}
