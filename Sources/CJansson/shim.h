#ifndef HYPERSTACK_CJANSSON_SHIM_H
#define HYPERSTACK_CJANSSON_SHIM_H

// Swift cannot import Jansson's function-like macros; these inline helpers
// expose exactly what the JanssonJSON module needs and nothing more.
#include <jansson.h>

static inline json_type cjansson_typeof(const json_t *json) { return json_typeof(json); }
static inline void cjansson_decref(json_t *json) { json_decref(json); }
static inline json_t *cjansson_incref(json_t *json) { return json_incref(json); }
static inline int cjansson_is_true(const json_t *json) { return json_is_true(json); }

/// The bits of a json_error_t that the Swift side reports, without exposing the struct's char arrays.
static inline int cjansson_error_line(const json_error_t *error) { return error->line; }
static inline int cjansson_error_column(const json_error_t *error) { return error->column; }
static inline int cjansson_error_position(const json_error_t *error) { return error->position; }
static inline enum json_error_code cjansson_error_code(const json_error_t *error) { return json_error_code(error); }
static inline const char *cjansson_error_text(const json_error_t *error) { return error->text; }

/// Object iteration in insertion order (Jansson keeps it since 2.8).
static inline void *cjansson_object_iter(json_t *object) { return json_object_iter(object); }
static inline void *cjansson_object_iter_next(json_t *object, void *iter) { return json_object_iter_next(object, iter); }
static inline const char *cjansson_object_iter_key(void *iter) { return json_object_iter_key(iter); }
static inline size_t cjansson_object_iter_key_len(void *iter) { return json_object_iter_key_len(iter); }
static inline json_t *cjansson_object_iter_value(void *iter) { return json_object_iter_value(iter); }

/// Parse and serialise flags, as plain constants Swift can see.
static const size_t CJANSSON_DECODE_FLAGS = JSON_DECODE_ANY | JSON_ALLOW_NUL;
static const size_t CJANSSON_DECODE_FLAGS_REJECT_DUPLICATES = JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES;
static const size_t CJANSSON_ENCODE_FLAGS = JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER;

#endif
