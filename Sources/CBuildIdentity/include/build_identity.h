#ifndef HS_BUILD_IDENTITY_H
#define HS_BUILD_IDENTITY_H

#include <stddef.h>

/// Copies the running program's GNU build-id (the linker's NT_GNU_BUILD_ID note) into
/// `out` and returns its length in bytes, or 0 when the program has none or `capacity`
/// is too small. Reads the loaded program headers only; no file is opened.
size_t hs_build_id(unsigned char *out, size_t capacity);

#endif
