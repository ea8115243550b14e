// memcpy bandwidth on buffers of the given size (default 1 MiB, the echo's message size), best of 5
// runs of 2 GiB. gcc -O2 -o /tmp/memcpy benches/memcpy-bandwidth.c && taskset -c 0 /tmp/memcpy [SIZE]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
    size_t size = argc > 1 ? strtoul(argv[1], 0, 0) : 1 << 20;
    char *a = aligned_alloc(64, size), *b = aligned_alloc(64, size);
    memset(a, 1, size); memset(b, 2, size);
    size_t rounds = (2UL << 30) / size;
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        for (size_t i = 0; i < rounds; i++) { memcpy(i & 1 ? a : b, i & 1 ? b : a, size); __asm__ volatile("" ::: "memory"); }
        double gbs = rounds * (double)size / (now() - t0) / (1 << 30);
        if (gbs > best) best = gbs;
    }
    printf("memcpy %zu B: %.1f GiB/s (%.3f s per GiB)\n", size, best, 1 / best);
    return 0;
}
