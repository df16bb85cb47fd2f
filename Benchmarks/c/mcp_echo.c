/*
 * mcp_echo: an MCP stdio "server" that does no work, for row 11's floor: what the SDK client
 * alone costs per call. It answers each request line with canned bytes captured from our
 * server in the same run: `initialize`, `tools/list` and `tools/call` with their files'
 * result objects, anything else with {}. Notifications (no id) get no answer. Exits on EOF.
 *
 *   mcp_echo INITIALIZE_RESULT.json TOOLS_LIST_RESULT.json TOOLS_CALL_RESULT.json
 */
#include "lsp_io.h"

static char *slurp(const char *path, size_t *length) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) die("cannot read %s", path);
    fclose(f);
    while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r')) size--;
    *length = (size_t)size;
    return data;
}

/* The raw id token of a message (a number or a string, as sent), or NULL for a notification. */
static const char *raw_id(const char *line, size_t length, size_t *id_length) {
    const char *p = memmem(line, length, "\"id\"", 4), *stop = line + length;
    if (!p) return NULL;
    p += 4;
    while (p < stop && (*p == ' ' || *p == ':')) p++;
    const char *start = p;
    if (p < stop && *p == '"') {
        p++;
        while (p < stop && *p != '"') p += (*p == '\\') ? 2 : 1;
        p++;
    } else {
        while (p < stop && *p != ',' && *p != '}' && *p != ' ') p++;
    }
    *id_length = (size_t)(p - start);
    return p <= stop && *id_length > 0 ? start : NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) die("usage: mcp_echo INITIALIZE_RESULT.json TOOLS_LIST_RESULT.json TOOLS_CALL_RESULT.json");
    size_t lengths[3];
    char *results[3];
    for (int k = 0; k < 3; k++) results[k] = slurp(argv[k + 1], &lengths[k]);
    static const char *const methods[3] = {"\"initialize\"", "\"tools/list\"", "\"tools/call\""};
    signal(SIGPIPE, SIG_IGN);

    size_t cap = 1u << 16, start = 0, end = 0;
    char *buf = malloc(cap), *out = malloc(1u << 20);
    if (!buf || !out) die("out of memory");
    for (;;) {
        char *newline;
        while ((newline = memchr(buf + start, '\n', end - start)) != NULL) {
            const char *line = buf + start;
            size_t n = (size_t)(newline - line), id_length;
            start += n + 1;
            const char *id = raw_id(line, n, &id_length);
            if (!id) continue;
            const char *result = "{}";
            size_t result_length = 2;
            for (int k = 0; k < 3; k++) {
                if (memmem(line, n, methods[k], strlen(methods[k]))) { result = results[k]; result_length = lengths[k]; break; }
            }
            size_t used = (size_t)sprintf(out, "{\"jsonrpc\":\"2.0\",\"id\":%.*s,\"result\":", (int)id_length, id);
            if (used + result_length + 3 > (1u << 20)) die("a canned result is too large");
            memcpy(out + used, result, result_length);
            used += result_length;
            out[used++] = '}';
            out[used++] = '\n';
            write_all(1, out, used);
        }
        if (start > 0) {
            memmove(buf, buf + start, end - start);
            end -= start;
            start = 0;
        }
        if (end == cap && !(buf = realloc(buf, cap *= 2))) die("out of memory");
        ssize_t got;
        do { got = read(0, buf + end, cap - end); } while (got < 0 && errno == EINTR);
        if (got <= 0) return 0;
        end += (size_t)got;
    }
}
