/*
 * loadgen: drives a JSON-RPC server over its stdin/stdout with LSP framing.
 *
 *   loadgen --mode pipeline  --method M [--params JSON] --count N [--window W] -- server args...
 *   loadgen --mode roundtrip --method M [--params JSON] --count N -- server args...
 *
 * pipeline: every request is pre-serialised into one buffer; one thread writes it
 * as fast as the pipe takes it (at most W requests ahead of the responses when
 * --window is given) while the main thread reads and counts response frames by
 * their Content-Length alone. Time runs from the first byte written to the last
 * response read.
 * roundtrip: one request at a time; every latency is kept for percentiles.
 *
 * Before timing, --initialize sends `initialize` and waits for it, then --warmup
 * requests of the measured method are sent one at a time (the first fills the
 * server's cache). --checkpoints K samples the server's VmHWM/VmRSS K times
 * during the run. The result is one JSON object on stdout.
 */
#include "lsp_io.h"

#include <pthread.h>

typedef struct {
    long errors;
    long checked;
    char *sample;
    size_t sample_length;
    int keep_sample;
} body_stats_t;

static void inspect_body(const char *body, size_t length, void *context) {
    body_stats_t *stats = context;
    stats->checked++;
    /* Cheap path: a success response that leads with "result" (both servers measured do). */
    int leads_with_result = memmem(body, length < 64 ? length : 64, "\"result\":", 9) != NULL;
    if (!leads_with_result && memmem(body, length, "\"error\":", 8) != NULL &&
        memmem(body, length, "\"result\":", 9) == NULL) {
        if (stats->errors == 0) fprintf(stderr, "loadgen: error response: %.*s\n", (int)(length > 400 ? 400 : length), body);
        stats->errors++;
    }
    if (stats->keep_sample) {
        free(stats->sample);
        stats->sample = malloc(length);
        memcpy(stats->sample, body, length);
        stats->sample_length = length;
    }
}

/* Pre-serialised requests: one buffer, with the byte offset where each frame starts. */
typedef struct {
    char *bytes;
    size_t *offsets; /* count + 1 entries */
    size_t count;
} request_buffer_t;

static request_buffer_t build_requests(const char *method, const char *params, size_t count, long first_id) {
    request_buffer_t requests;
    size_t body_max = strlen(method) + strlen(params) + 96;
    requests.bytes = malloc((body_max + 40) * (count ? count : 1));
    requests.offsets = malloc(sizeof(size_t) * (count + 1));
    if (!requests.bytes || !requests.offsets) die("out of memory for %zu requests", count);
    requests.count = count;
    char *body = malloc(body_max);
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        int length = snprintf(body, body_max, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\",\"params\":%s}",
                              first_id + (long)i, method, params);
        requests.offsets[i] = at;
        at += frame_into(requests.bytes + at, body, (size_t)length);
    }
    requests.offsets[count] = at;
    free(body);
    return requests;
}

typedef struct {
    int fd;
    request_buffer_t *requests;
    size_t window; /* 0: no limit */
    pthread_mutex_t lock;
    pthread_cond_t progressed;
    size_t received; /* guarded by lock */
    uint64_t write_done_ns;
} writer_t;

static void *writer_main(void *argument) {
    writer_t *w = argument;
    size_t sent = 0, count = w->requests->count;
    while (sent < count) {
        size_t limit = count;
        if (w->window > 0) {
            pthread_mutex_lock(&w->lock);
            while (sent >= w->received + w->window) pthread_cond_wait(&w->progressed, &w->lock);
            limit = w->received + w->window;
            pthread_mutex_unlock(&w->lock);
            if (limit > count) limit = count;
        }
        size_t from = w->requests->offsets[sent], to = w->requests->offsets[limit];
        write_all(w->fd, w->requests->bytes + from, to - from);
        sent = limit;
    }
    w->write_done_ns = now_ns();
    return NULL;
}

static pid_t child_pid;
static void on_alarm(int signal_number) {
    (void)signal_number;
    static const char message[] = "loadgen: timed out; killing the server\n";
    (void)!write(2, message, sizeof message - 1);
    if (child_pid > 0) kill(child_pid, SIGKILL);
    _exit(3);
}

/* Reads until `frames` more complete frames have arrived. */
static void read_frames(frame_reader_t *reader, long frames, body_stats_t *stats) {
    while (frames > 0) {
        long got = reader_pump(reader, inspect_body, stats);
        if (got < 0) die("the server closed its stdout early");
        frames -= got;
    }
}

static void usage(void) {
    fputs("usage: loadgen --mode pipeline|roundtrip --method M [--params JSON] --count N [--warmup N] [--window W]\n"
          "               [--initialize] [--checkpoints K] [--pipe-size BYTES] [--stderr PATH] [--sample-body PATH]\n"
          "               [--timeout SECONDS] -- server [args...]\n", stderr);
    exit(2);
}

int main(int argc, char **argv) {
    const char *mode = "pipeline", *method = NULL, *params = "{}", *stderr_path = NULL, *sample_path = NULL;
    size_t count = 0, warmup = 1, window = 0, checkpoints = 0;
    int initialize = 0, pipe_size = 0, timeout = 300;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { i++; break; }
        if (i + 1 >= argc && strcmp(a, "--initialize") != 0) usage();
        if (strcmp(a, "--mode") == 0) mode = argv[++i];
        else if (strcmp(a, "--method") == 0) method = argv[++i];
        else if (strcmp(a, "--params") == 0) params = argv[++i];
        else if (strcmp(a, "--count") == 0) count = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--warmup") == 0) warmup = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--window") == 0) window = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--checkpoints") == 0) checkpoints = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--pipe-size") == 0) pipe_size = atoi(argv[++i]);
        else if (strcmp(a, "--stderr") == 0) stderr_path = argv[++i];
        else if (strcmp(a, "--sample-body") == 0) sample_path = argv[++i];
        else if (strcmp(a, "--timeout") == 0) timeout = atoi(argv[++i]);
        else if (strcmp(a, "--initialize") == 0) initialize = 1;
        else usage();
    }
    if (i >= argc || method == NULL || count == 0) usage();
    int pipelined = strcmp(mode, "pipeline") == 0;
    if (!pipelined && strcmp(mode, "roundtrip") != 0) usage();

    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)timeout);

    /* Build everything before the server exists, so it is not timed. */
    request_buffer_t warm = build_requests(method, params, warmup, 1);
    request_buffer_t bench = build_requests(method, params, count, 1 + (long)warmup);

    child_t child = spawn_piped(&argv[i], stderr_path, pipe_size);
    child_pid = child.pid;
    frame_reader_t reader;
    reader_init(&reader, child.from_child, 4u << 20);
    body_stats_t stats = {0};
    long hwm_start = 0, rss_start = 0, hwm_warm = 0, rss_warm = 0;

    if (initialize) {
        char body[256], frame[320];
        int length = snprintf(body, sizeof body,
                              "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"processId\":null,"
                              "\"clientInfo\":{\"name\":\"hyperstack-bench\"}}}");
        write_all(child.to_child, frame, frame_into(frame, body, (size_t)length));
        read_frames(&reader, 1, &stats);
        read_memory(child.pid, &hwm_start, &rss_start);
    }
    stats.keep_sample = 1;
    for (size_t k = 0; k < warmup; k++) {
        write_all(child.to_child, warm.bytes + warm.offsets[k], warm.offsets[k + 1] - warm.offsets[k]);
        read_frames(&reader, 1, &stats);
    }
    stats.keep_sample = 0;
    read_memory(child.pid, &hwm_warm, &rss_warm);
    if (!initialize) { hwm_start = hwm_warm; rss_start = rss_warm; }
    if (sample_path && stats.sample) {
        FILE *f = fopen(sample_path, "w");
        if (!f) die("cannot write %s: %s", sample_path, strerror(errno));
        fwrite(stats.sample, 1, stats.sample_length, f);
        fclose(f);
    }

    size_t sample_count = checkpoints ? checkpoints : 0;
    long *sample_hwm = calloc(sample_count + 1, sizeof(long)), *sample_rss = calloc(sample_count + 1, sizeof(long));
    size_t *sample_at = calloc(sample_count + 1, sizeof(size_t));
    size_t samples_taken = 0;
    uint64_t *latencies = pipelined ? NULL : malloc(sizeof(uint64_t) * count);

    uint64_t started = 0, finished = 0, write_done = 0;
    if (pipelined) {
        writer_t writer = {.fd = child.to_child, .requests = &bench, .window = window, .received = 0};
        pthread_mutex_init(&writer.lock, NULL);
        pthread_cond_init(&writer.progressed, NULL);
        pthread_t thread;
        started = now_ns();
        if (pthread_create(&thread, NULL, writer_main, &writer) != 0) die("cannot start the writer thread");
        size_t received = 0;
        size_t next_checkpoint = sample_count ? count / sample_count : (size_t)-1;
        while (received < count) {
            long got = reader_pump(&reader, inspect_body, &stats);
            if (got < 0) die("the server closed its stdout after %zu of %zu responses", received, count);
            if (got == 0) continue;
            received += (size_t)got;
            if (window > 0) {
                pthread_mutex_lock(&writer.lock);
                writer.received = received;
                pthread_cond_signal(&writer.progressed);
                pthread_mutex_unlock(&writer.lock);
            }
            while (received >= next_checkpoint && samples_taken < sample_count) {
                read_memory(child.pid, &sample_hwm[samples_taken], &sample_rss[samples_taken]);
                sample_at[samples_taken++] = received;
                next_checkpoint = count / sample_count * (samples_taken + 1);
            }
        }
        finished = now_ns();
        pthread_join(thread, NULL);
        write_done = writer.write_done_ns;
        if (received != count) die("got %zu responses for %zu requests", received, count);
    } else {
        started = now_ns();
        for (size_t k = 0; k < count; k++) {
            uint64_t t0 = now_ns();
            write_all(child.to_child, bench.bytes + bench.offsets[k], bench.offsets[k + 1] - bench.offsets[k]);
            read_frames(&reader, 1, &stats);
            latencies[k] = now_ns() - t0;
        }
        finished = now_ns();
        write_done = finished;
    }
    long hwm_end = 0, rss_end = 0;
    read_memory(child.pid, &hwm_end, &rss_end);

    /* EOF on stdin: the server finishes and exits on its own. */
    close(child.to_child);
    while (reader_pump(&reader, NULL, NULL) >= 0) {
    }
    int status = 0;
    while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

    double seconds = (double)(finished - started) / 1e9;
    printf("{\"mode\":\"%s\",\"method\":\"%s\",\"count\":%zu,\"window\":%zu,\"seconds\":%.6f,\"rps\":%.1f,"
           "\"write_seconds\":%.6f,\"errors\":%ld,\"checked\":%ld,\"exit_code\":%d,"
           "\"hwm_start_kb\":%ld,\"rss_start_kb\":%ld,\"hwm_warm_kb\":%ld,\"rss_warm_kb\":%ld,"
           "\"hwm_end_kb\":%ld,\"rss_end_kb\":%ld",
           mode, method, count, window, seconds, (double)count / seconds, (double)(write_done - started) / 1e9,
           stats.errors, stats.checked, exit_code, hwm_start, rss_start, hwm_warm, rss_warm, hwm_end, rss_end);
    if (!pipelined) {
        qsort(latencies, count, sizeof(uint64_t), compare_u64);
        double sum = 0;
        for (size_t k = 0; k < count; k++) sum += (double)latencies[k];
        printf(",\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"min_us\":%.2f,\"max_us\":%.2f,\"mean_us\":%.2f",
               quantile(latencies, count, 0.50) / 1e3, quantile(latencies, count, 0.90) / 1e3,
               quantile(latencies, count, 0.99) / 1e3, quantile(latencies, count, 0.999) / 1e3, latencies[0] / 1e3,
               latencies[count - 1] / 1e3, sum / (double)count / 1e3);
    }
    printf(",\"memory_samples\":[");
    for (size_t k = 0; k < samples_taken; k++)
        printf("%s{\"after\":%zu,\"hwm_kb\":%ld,\"rss_kb\":%ld}", k ? "," : "", sample_at[k], sample_hwm[k], sample_rss[k]);
    printf("]}\n");
    return stats.errors > 0 ? 1 : 0;
}
