/*
 * echoserver: the cheapest possible "server", to show the load generator is not
 * the bottleneck. For every LSP frame read on stdin it writes one canned frame of
 * --reply-bytes bytes to stdout (the size of the real response being measured),
 * batching replies until its input runs dry. Exits at end of input.
 *
 *   echoserver --reply-bytes N
 */
#include "lsp_io.h"

typedef struct {
    char *out;
    size_t used, cap;
    const char *reply;
    size_t reply_length;
} replies_t;

static void flush_replies(replies_t *r) {
    write_all(1, r->out, r->used);
    r->used = 0;
}

static void add_reply(replies_t *r) {
    if (r->used + r->reply_length > r->cap) flush_replies(r);
    memcpy(r->out + r->used, r->reply, r->reply_length);
    r->used += r->reply_length;
}

int main(int argc, char **argv) {
    size_t reply_bytes = 64;
    if (argc == 3 && strcmp(argv[1], "--reply-bytes") == 0) reply_bytes = strtoul(argv[2], NULL, 10);
    else if (argc != 1) die("usage: echoserver [--reply-bytes N]");
    static const char prefix[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"pad\":\"";
    static const char suffix[] = "\"}}";
    size_t fixed = sizeof prefix - 1 + sizeof suffix - 1;
    if (reply_bytes < fixed) reply_bytes = fixed;
    char *body = malloc(reply_bytes);
    memcpy(body, prefix, sizeof prefix - 1);
    memset(body + sizeof prefix - 1, 'x', reply_bytes - fixed);
    memcpy(body + reply_bytes - (sizeof suffix - 1), suffix, sizeof suffix - 1);
    char *frame = malloc(reply_bytes + 64);
    replies_t replies = {.cap = 1u << 20, .reply = frame, .reply_length = frame_into(frame, body, reply_bytes)};
    replies.out = malloc(replies.cap);

    signal(SIGPIPE, SIG_IGN);
    frame_reader_t reader;
    reader_init(&reader, 0, 4u << 20);
    /* One reply per completed frame; replies go out once per read(), before
     * blocking for more input. */
    long frames;
    while ((frames = reader_pump(&reader, NULL, NULL)) >= 0) {
        while (frames-- > 0) add_reply(&replies);
        if (replies.used) flush_replies(&replies);
    }
    if (replies.used) flush_replies(&replies);
    return 0;
}
