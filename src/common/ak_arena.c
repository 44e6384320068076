#include "common/ak_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ak_arena_chunk {
    ak_arena_chunk_t *next;
    size_t capacity;
    size_t used;
    _Alignas(16) unsigned char data[];
};

#define AK_ARENA_ALIGN 8

void ak_arena_init(ak_arena_t *arena, size_t chunk_size)
{
    arena->head = NULL;
    arena->chunk_size = chunk_size ? chunk_size : 4096;
    arena->total_allocated = 0;
}

static ak_arena_chunk_t *ak_arena_chunk_new(size_t capacity)
{
    if (capacity > SIZE_MAX - sizeof(ak_arena_chunk_t))
        return NULL;
    ak_arena_chunk_t *chunk = malloc(sizeof(ak_arena_chunk_t) + capacity);
    if (!chunk)
        return NULL;
    chunk->next = NULL;
    chunk->capacity = capacity;
    chunk->used = 0;
    return chunk;
}

void *ak_arena_alloc(ak_arena_t *arena, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - AK_ARENA_ALIGN)
        return NULL;
    size_t rounded = (size + AK_ARENA_ALIGN - 1) & ~(size_t)(AK_ARENA_ALIGN - 1);
    ak_arena_chunk_t *chunk = arena->head;
    if (!chunk || chunk->capacity - chunk->used < rounded) {
        /* Large requests get a chunk of their own, placed behind the current
         * one so the current chunk's free space is not wasted. */
        if (rounded > arena->chunk_size / 4 && chunk) {
            ak_arena_chunk_t *big = ak_arena_chunk_new(rounded);
            if (!big)
                return NULL;
            big->used = rounded;
            big->next = chunk->next;
            chunk->next = big;
            arena->total_allocated += rounded;
            return big->data;
        }
        size_t capacity = rounded > arena->chunk_size ? rounded : arena->chunk_size;
        ak_arena_chunk_t *fresh = ak_arena_chunk_new(capacity);
        if (!fresh)
            return NULL;
        fresh->next = chunk;
        arena->head = fresh;
        chunk = fresh;
    }
    void *p = chunk->data + chunk->used;
    chunk->used += rounded;
    arena->total_allocated += rounded;
    return p;
}

void *ak_arena_alloc_array(ak_arena_t *arena, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return ak_arena_alloc(arena, count * size);
}

void *ak_arena_memdup(ak_arena_t *arena, const void *src, size_t len)
{
    void *p = ak_arena_alloc(arena, len);
    if (p && len)
        memcpy(p, src, len);
    return p;
}

char *ak_arena_strndup(ak_arena_t *arena, const char *src, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = ak_arena_alloc(arena, len + 1);
    if (p) {
        if (len)
            memcpy(p, src, len);
        p[len] = '\0';
    }
    return p;
}

void ak_arena_reset(ak_arena_t *arena)
{
    ak_arena_chunk_t *chunk = arena->head;
    if (!chunk)
        return;
    /* Keep the oldest ordinary-size chunk: it is at the tail. */
    ak_arena_chunk_t *keep = NULL;
    while (chunk) {
        ak_arena_chunk_t *next = chunk->next;
        if (!next && chunk->capacity == arena->chunk_size) {
            keep = chunk;
        } else {
            free(chunk);
        }
        chunk = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    arena->head = keep;
    arena->total_allocated = 0;
}

void ak_arena_destroy(ak_arena_t *arena)
{
    ak_arena_chunk_t *chunk = arena->head;
    while (chunk) {
        ak_arena_chunk_t *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    arena->head = NULL;
    arena->total_allocated = 0;
}
