/*
 * Shared by the benchmark's C programs: spawning a server on pipes, a monotonic
 * clock, and an LSP (Content-Length) frame reader that only scans for frame
 * boundaries, so reading responses costs the client as little as possible.
 *
 * Header-only on purpose: each program is compiled by the bench run with one
 * `cc -O2 prog.c` line and no build system.
 */
#ifndef HYPERSTACK_BENCH_LSP_IO_H
#define HYPERSTACK_BENCH_LSP_IO_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static inline void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#include <stdarg.h>
static inline void die(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    exit(2);
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A child process with its stdin and stdout connected to us. */
typedef struct {
    pid_t pid;
    int to_child;   /* write end of the child's stdin */
    int from_child; /* read end of the child's stdout */
} child_t;

/*
 * Spawns argv with pipes on stdin/stdout; stderr goes to `stderr_path`
 * (appended) or /dev/null. `pipe_size` > 0 enlarges both pipes (F_SETPIPE_SZ).
 */
static inline child_t spawn_piped(char *const argv[], const char *stderr_path, int pipe_size) {
    int in_pipe[2], out_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) die("pipe: %s", strerror(errno));
    if (pipe_size > 0) {
        fcntl(in_pipe[1], F_SETPIPE_SZ, pipe_size);
        fcntl(out_pipe[0], F_SETPIPE_SZ, pipe_size);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path ? stderr_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    child_t child;
    int rc = posix_spawnp(&child.pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) die("cannot start %s: %s", argv[0], strerror(rc));
    close(in_pipe[0]);
    close(out_pipe[1]);
    child.to_child = in_pipe[1];
    child.from_child = out_pipe[0];
    return child;
}

/* Spawns argv with stdin, stdout and stderr on /dev/null. */
static inline pid_t spawn_quiet(char *const argv[]) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) die("cannot start %s: %s", argv[0], strerror(rc));
    return pid;
}

static inline void write_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, data, length);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("write to server: %s", strerror(errno));
        }
        data += n;
        length -= (size_t)n;
    }
}

/* Reads LSP frames, counting them; a complete body that sits in the buffer is
 * shown to `on_body` (most are), a body split across reads is only skipped. */
typedef struct {
    int fd;
    char *buf;
    size_t cap, start, end;
    size_t skip; /* bytes of the current body still to discard */
} frame_reader_t;

typedef void (*body_fn)(const char *body, size_t length, void *context);

static inline void reader_init(frame_reader_t *r, int fd, size_t capacity) {
    r->fd = fd;
    r->buf = malloc(capacity);
    if (!r->buf) die("out of memory");
    r->cap = capacity;
    r->start = r->end = r->skip = 0;
}

static inline size_t parse_content_length(const char *header, size_t length) {
    /* Header lines are "Name: value\r\n"; find Content-Length case-insensitively. */
    const char *p = header, *stop = header + length;
    while (p < stop) {
        const char *eol = memmem(p, (size_t)(stop - p), "\r\n", 2);
        if (!eol) eol = stop;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0) {
            const char *v = p + 15;
            while (v < eol && *v == ' ') v++;
            size_t value = 0;
            int digits = 0;
            while (v < eol && *v >= '0' && *v <= '9') {
                value = value * 10 + (size_t)(*v - '0');
                v++;
                digits++;
            }
            if (digits == 0) break;
            return value;
        }
        p = eol + 2;
    }
    die("response frame without a Content-Length header: %.*s", (int)(length > 200 ? 200 : length), header);
}

/*
 * One read(), then every frame it completed. Returns the number of frames
 * completed, or -1 at end of file.
 */
static inline long reader_pump(frame_reader_t *r, body_fn on_body, void *context) {
    if (r->start == r->end) r->start = r->end = 0;
    if (r->end == r->cap) {
        if (r->start == 0) die("a response header is larger than %zu bytes", r->cap);
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    ssize_t n;
    do {
        n = read(r->fd, r->buf + r->end, r->cap - r->end);
    } while (n < 0 && errno == EINTR);
    if (n < 0) die("read from server: %s", strerror(errno));
    if (n == 0) return -1;
    r->end += (size_t)n;
    long frames = 0;
    for (;;) {
        size_t available = r->end - r->start;
        if (r->skip > 0) {
            if (available >= r->skip) {
                r->start += r->skip;
                r->skip = 0;
                frames++;
                continue;
            }
            r->skip -= available;
            r->start = r->end;
            break;
        }
        if (available < 4) break;
        const char *head = r->buf + r->start;
        const char *separator = memmem(head, available, "\r\n\r\n", 4);
        if (!separator) break;
        size_t header_length = (size_t)(separator - head) + 4;
        size_t body_length = parse_content_length(head, header_length - 2);
        if (available - header_length >= body_length) {
            if (on_body) on_body(head + header_length, body_length, context);
            r->start += header_length + body_length;
            frames++;
        } else {
            r->skip = body_length - (available - header_length);
            r->start = r->end;
            break;
        }
    }
    if (r->start > r->cap / 2) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    return frames;
}

/* Appends "Content-Length: N\r\n\r\n" + body to out (which must have room). */
static inline size_t frame_into(char *out, const char *body, size_t length) {
    int header = sprintf(out, "Content-Length: %zu\r\n\r\n", length);
    memcpy(out + header, body, length);
    return (size_t)header + length;
}

static inline int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of sorted samples, nearest rank. */
static inline uint64_t quantile(const uint64_t *sorted, size_t count, double q) {
    if (count == 0) return 0;
    size_t rank = (size_t)(q * (double)count + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > count) rank = count;
    return sorted[rank - 1];
}

/* VmHWM and VmRSS of pid in KiB (0 when unreadable). */
static inline void read_memory(pid_t pid, long *hwm_kb, long *rss_kb) {
    char path[64], line[256];
    *hwm_kb = *rss_kb = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) *hwm_kb = strtol(line + 6, NULL, 10);
        if (strncmp(line, "VmRSS:", 6) == 0) *rss_kb = strtol(line + 6, NULL, 10);
    }
    fclose(f);
}

#endif
