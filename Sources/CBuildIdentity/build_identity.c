#define _GNU_SOURCE
#include "build_identity.h"

#include <elf.h>
#include <link.h>
#include <string.h>

struct found {
    unsigned char *out;
    size_t capacity;
    size_t length;
};

static size_t align4(size_t n) { return (n + 3) & ~(size_t)3; }

static int visit(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    struct found *found = context;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_NOTE) continue;
        const unsigned char *notes = (const unsigned char *)(info->dlpi_addr + header->p_vaddr);
        size_t offset = 0;
        while (offset + sizeof(ElfW(Nhdr)) <= header->p_memsz) {
            const ElfW(Nhdr) *note = (const ElfW(Nhdr) *)(notes + offset);
            size_t name = offset + sizeof(ElfW(Nhdr));
            size_t description = name + align4(note->n_namesz);
            size_t next = description + align4(note->n_descsz);
            if (next > header->p_memsz) break;
            if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && memcmp(notes + name, "GNU", 4) == 0) {
                if (note->n_descsz <= found->capacity) {
                    memcpy(found->out, notes + description, note->n_descsz);
                    found->length = note->n_descsz;
                }
                return 1;
            }
            offset = next;
        }
    }
    return 1; /* the first object is the main program: stop there */
}

size_t hs_build_id(unsigned char *out, size_t capacity) {
    struct found found = {out, capacity, 0};
    dl_iterate_phdr(visit, &found);
    return found.length;
}
