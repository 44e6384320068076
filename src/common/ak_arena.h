/*
 * ak_arena: a bump allocator freed as a whole.
 *
 * One arena per decoded message or record: everything a decoder builds
 * (field and op tables, value trees) lives in it, and ak_arena_reset or
 * ak_arena_destroy releases all of it at once. Allocations are 8-byte
 * aligned. Not thread-safe: an arena belongs to one thread at a time.
 */
#ifndef AK_ARENA_H
#define AK_ARENA_H

#include <stddef.h>

typedef struct ak_arena_chunk ak_arena_chunk_t;

typedef struct ak_arena {
    ak_arena_chunk_t *head;    /* chunk being filled; older chunks follow */
    size_t chunk_size;         /* size of ordinary chunks */
    size_t total_allocated;    /* bytes handed out since the last reset */
} ak_arena_t;

void ak_arena_init(ak_arena_t *arena, size_t chunk_size);
/* Returns NULL when memory is exhausted or size overflows. */
void *ak_arena_alloc(ak_arena_t *arena, size_t size);
/* Allocates count * size bytes, checking the multiplication. */
void *ak_arena_alloc_array(ak_arena_t *arena, size_t count, size_t size);
/* Copies len bytes (plus a terminating NUL, not counted) into the arena. */
char *ak_arena_strndup(ak_arena_t *arena, const char *src, size_t len);
void *ak_arena_memdup(ak_arena_t *arena, const void *src, size_t len);
/* Frees all but the first chunk, which is kept for reuse. */
void ak_arena_reset(ak_arena_t *arena);
void ak_arena_destroy(ak_arena_t *arena);

#endif
