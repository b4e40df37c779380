/*
 * Helpers shared by the robustness tests (header-only, host code):
 *   - a seeded PRNG (splitmix64), so that every test is deterministic;
 *   - Multiboot a.out-kludge images (spec 0.6.96, 3.1.1-3.1.3): a header at file offset
 *     0 whose addresses tell the loader where the whole file goes, entry right after the
 *     header, so a kernel is just "header + machine code";
 *   - running `turtles run ...` as a child process with stdin = /dev/null, its output
 *     captured to files, a host-side kill timer, and a verdict on how it ended.
 */
#ifndef TURTLES_TESTS_ROBUST_H
#define TURTLES_TESTS_ROBUST_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- PRNG ---------------------------------------------------------------------- */

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the modulo bias is irrelevant here). */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

static inline struct rng rng_seeded(uint64_t seed, uint64_t stream)
{
	struct rng r = { seed * 0x100000001B3ULL ^ (stream + 1) * 0xD6E8FEB86659FD93ULL };
	rng_next(&r);
	return r;
}

/* ---- Multiboot a.out-kludge images --------------------------------------------- */

#define MB_MAGIC 0x1BADB002u
#define MB_AOUT_KLUDGE (1u << 16)
#define MB_HDR_SIZE 32u /* magic, flags, checksum, 5 addresses */

/* Write the 32-byte header for an image loaded (whole file) at load_addr, with the
 * entry point right after the header and bss_end = 0 (no bss). */
static inline void mb_aout_header(uint8_t *buf, uint32_t load_addr)
{
	uint32_t flags = MB_AOUT_KLUDGE;
	uint32_t h[8] = { MB_MAGIC, flags, (uint32_t)-(MB_MAGIC + flags),
			  load_addr /* header_addr */, load_addr /* load_addr */,
			  0 /* load_end_addr: whole file */, 0 /* bss_end_addr */,
			  load_addr + MB_HDR_SIZE /* entry_addr */ };
	memcpy(buf, h, sizeof(h));
}

static inline int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = fwrite(data, 1, len, f);
	if (fclose(f) || n != len)
		return -1;
	return 0;
}

/* ---- Running turtles ------------------------------------------------------------ */

struct run_result {
	bool exited;      /* normal exit: status is valid */
	int status;       /* exit status */
	int signal;       /* killed by this signal (0 if exited) */
	bool timed_out;   /* the host-side timer killed it */
	double seconds;   /* host wall time */
};

static inline double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Start argv (argv[0] a path) with stdin from /dev/null and stdout/stderr redirected to
 * out_path/err_path (NULL = /dev/null). Returns the pid or -1. */
static inline pid_t spawn_process(char *const argv[], const char *out_path,
				  const char *err_path)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int in = open("/dev/null", O_RDONLY);
	int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int err = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(err, 2) < 0)
		_exit(127);
	execv(argv[0], argv);
	_exit(127);
}

/* A running child. pid 0 = free slot. */
struct job {
	pid_t pid;
	double t0;
	bool timed_out;
};

/* Wait until one of jobs[0..n) ends, killing (SIGKILL) any that runs longer than kill_s.
 * Returns the index of the job that ended (its slot is freed, res filled), or -1 if none
 * is running. */
static inline int wait_job(struct job *jobs, int n, double kill_s, struct run_result *res)
{
	for (;;) {
		bool any = false;
		for (int i = 0; i < n; i++) {
			struct job *j = &jobs[i];
			if (!j->pid)
				continue;
			any = true;
			int ws;
			pid_t w = waitpid(j->pid, &ws, WNOHANG);
			if (w == j->pid) {
				memset(res, 0, sizeof(*res));
				res->seconds = mono_s() - j->t0;
				res->timed_out = j->timed_out;
				if (WIFEXITED(ws)) {
					res->exited = true;
					res->status = WEXITSTATUS(ws);
				} else if (WIFSIGNALED(ws)) {
					res->signal = WTERMSIG(ws);
				}
				j->pid = 0;
				return i;
			}
			if (!j->timed_out && mono_s() - j->t0 > kill_s) {
				kill(j->pid, SIGKILL);
				j->timed_out = true;
			}
		}
		if (!any)
			return -1;
		struct timespec ts = { 0, 1000000 }; /* 1 ms */
		nanosleep(&ts, NULL);
	}
}

static inline int start_job(struct job *j, char *const argv[], const char *out_path,
			    const char *err_path)
{
	j->t0 = mono_s();
	j->timed_out = false;
	j->pid = spawn_process(argv, out_path, err_path);
	if (j->pid < 0) {
		j->pid = 0;
		return -1;
	}
	return 0;
}

/* Run one process to its end (see spawn_process and wait_job). Returns 0 or -1. */
static inline int run_process(char *const argv[], const char *out_path, const char *err_path,
			      double kill_s, struct run_result *res)
{
	struct job j;
	if (start_job(&j, argv, out_path, err_path))
		return -1;
	return wait_job(&j, 1, kill_s, res) == 0 ? 0 : -1;
}

/* The exit statuses `turtles --help` documents: odd = isa-debug-exit, 0 poweroff,
 * 2 bad image, 4 triple fault, 6 hang, 8 limit, 10 host failure. */
static inline bool documented_status(int status)
{
	return (status & 1) || status == 0 || status == 2 || status == 4 || status == 6 ||
	       status == 8 || status == 10;
}

/* True if the file contains a sanitizer report (AddressSanitizer, UBSan, LeakSanitizer)
 * or a runtime error line. */
static inline bool file_has_sanitizer_report(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "ERROR: AddressSanitizer") ||
			strstr(line, "ERROR: LeakSanitizer") ||
			strstr(line, "runtime error:") || strstr(line, "SUMMARY: UndefinedBehavior");
	fclose(f);
	return found;
}

/* Print the first lines of a file to stdout (for a failing run's stderr). */
static inline void print_head(const char *path, int max_lines)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[1024];
	for (int i = 0; i < max_lines && fgets(line, sizeof(line), f); i++)
		printf("    | %s%s", line, strchr(line, '\n') ? "" : "\n");
	fclose(f);
}

/* Make a fresh private directory under $TMPDIR (or /tmp); returns a static path. */
static inline const char *make_work_dir(const char *tag)
{
	static char dir[512];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/turtles-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	return dir;
}

#endif
