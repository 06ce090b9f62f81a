/*
 * pmem_persist_bench: wall-clock cost of libpmem's pmem_memcpy_persist on this machine.
 *
 * The reference point of DESIGN.md section 7: the emulator's 64-byte persist (store, clwb,
 * sfence with crash tracking on) must be at least 4x faster than what libpmem really takes to
 * copy and persist 64 bytes with the host's own cache-line flush and fence instructions.
 *
 * The file lives in /dev/shm and is mapped with pmem_map_file; run with PMEM_IS_PMEM_FORCE=1 so
 * libpmem takes its pmem path (flush + fence in user space) instead of falling back to msync.
 * Destinations rotate over consecutive 64-byte lines of a window, like an append-only log, the
 * same pattern as the C# Persist64 suite.
 *
 * Usage: pmem_persist_bench [PATH] [SIZE] [ITERATIONS] [REPEATS] [WINDOW]
 * Prints one line:
 *   PMEM_BENCH op=pmem_memcpy_persist size=64 window=65536 iterations=N repeats=R is_pmem=1
 *              median_ns=X min_ns=Y max_ns=Z
 * where each repeat times ITERATIONS calls and the *_ns values are per call.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <libpmem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One timed pass: ITERATIONS persisted copies rotating through the window. */
static double run_pass(char *pmem, const char *src, size_t size, size_t window, long iterations)
{
	size_t slots = window / size;
	size_t slot = 0;
	double start = now_ns();

	for (long i = 0; i < iterations; i++) {
		pmem_memcpy_persist(pmem + slot * size, src, size);
		if (++slot == slots)
			slot = 0;
	}
	return (now_ns() - start) / (double)iterations;
}

static long parse_long(const char *text, const char *what)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v <= 0) {
		fprintf(stderr, "pmem_persist_bench: bad %s '%s'\n", what, text);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/shm/daxstack-pmem-bench";
	size_t size = argc > 2 ? (size_t)parse_long(argv[2], "size") : 64;
	long iterations = argc > 3 ? parse_long(argv[3], "iterations") : 2000000;
	int repeats = argc > 4 ? (int)parse_long(argv[4], "repeats") : 9;
	size_t window = argc > 5 ? (size_t)parse_long(argv[5], "window") : 64 * 1024;
	size_t mapped_len;
	int is_pmem;
	char *pmem;
	char *src;
	double *per_call;

	if (window < size || window % size != 0) {
		fprintf(stderr, "pmem_persist_bench: window %zu is not a multiple of size %zu\n", window, size);
		return 2;
	}

	pmem = pmem_map_file(path, window, PMEM_FILE_CREATE, 0600, &mapped_len, &is_pmem);
	if (pmem == NULL) {
		fprintf(stderr, "pmem_persist_bench: pmem_map_file %s: %s\n", path, pmem_errormsg());
		return 1;
	}
	if (!is_pmem)
		fprintf(stderr, "pmem_persist_bench: %s is not pmem to libpmem (set PMEM_IS_PMEM_FORCE=1); "
			"pmem_memcpy_persist will still flush with CPU instructions\n", path);

	src = aligned_alloc(64, size < 64 ? 64 : size);
	per_call = calloc((size_t)repeats, sizeof(double));
	if (src == NULL || per_call == NULL) {
		fprintf(stderr, "pmem_persist_bench: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < size; i++)
		src[i] = (char)(i * 31 + 7);

	/* Warm-up: fault the mapping in, train the branch predictors, settle the clock. */
	memset(pmem, 0, mapped_len);
	run_pass(pmem, src, size, window, iterations / 4 + 1);

	for (int r = 0; r < repeats; r++)
		per_call[r] = run_pass(pmem, src, size, window, iterations);

	qsort(per_call, (size_t)repeats, sizeof(double), compare_double);
	printf("PMEM_BENCH op=pmem_memcpy_persist size=%zu window=%zu iterations=%ld repeats=%d is_pmem=%d "
	       "median_ns=%.2f min_ns=%.2f max_ns=%.2f\n",
	       size, window, iterations, repeats, is_pmem,
	       per_call[repeats / 2], per_call[0], per_call[repeats - 1]);

	pmem_unmap(pmem, mapped_len);
	unlink(path);
	free(per_call);
	free(src);
	return 0;
}
