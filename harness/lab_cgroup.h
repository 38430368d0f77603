/*
 * lab_cgroup — one memory cgroup per execution environment, so that an
 * environment's memory is the kernel's account of the whole sandbox (every
 * process in it, their page cache and kernel memory) and its peak the
 * kernel's high-water mark, as Lambda's `Max Memory Used` is the
 * environment's peak rather than one process's.
 *
 * Layout: the lab makes <its own cgroup>/coldsec-lab-<pid>/ and, in it, one
 * folder per environment. cgroup v2 (memory.current, memory.peak,
 * memory.max) is used where the memory controller is enabled for the lab's
 * cgroup; else cgroup v1's memory hierarchy (memory.usage_in_bytes,
 * memory.max_usage_in_bytes, memory.limit_in_bytes). Where neither can be
 * written (no root, a container, no controller) lab_cgroup_open() says why
 * and the caller falls back to sampling process memory. The environment
 * variable COLDSEC_LAB_MEMORY=rss forces that fallback (tests use it).
 *
 * On cgroup v2 a cgroup that holds processes cannot hand the memory
 * controller to children, so when the lab is not alone in its cgroup's
 * position to do so it moves itself into a leaf coldsec-lab-<pid>.self/ and
 * moves back at lab_cgroup_close().
 *
 * Thread safety: an environment's handle is used by one thread at a time
 * (the pool's lock); the lab-wide handle is safe to share, its list of
 * folders still to remove has its own lock.
 *
 * Ownership: lab_cgroup_open() returns an object freed by lab_cgroup_close();
 * lab_cgroup_env_new() one freed by lab_cgroup_env_free(). Both NULL the
 * caller's pointer.
 */
#ifndef COLDSEC_LAB_CGROUP_H
#define COLDSEC_LAB_CGROUP_H

#include <stddef.h>

/* Environment variable: "rss" forces the cgroup-less fallback. */
#define LAB_CGROUP_ENV "COLDSEC_LAB_MEMORY"

typedef struct lab_cgroup lab_cgroup;
typedef struct lab_cgroup_env lab_cgroup_env;

/* What the kernel charges an environment, in bytes. */
typedef struct lab_cgroup_stat {
    long long file;  /* page cache, /tmp's tmpfs pages included */
    long long shmem; /* tmpfs and shared memory (the lab's /tmp lives here) */
} lab_cgroup_stat;

/*
 * The lab's parent cgroup, or NULL with the reason in why (the fallback is
 * then the caller's). Also removes folders a killed lab left behind.
 */
lab_cgroup *lab_cgroup_open(char *why, size_t whylen);

/* "cgroup v2 at /sys/fs/cgroup/..." for the start-up line. */
const char *lab_cgroup_describe(const lab_cgroup *cg);

/* Removes every environment folder still there and the lab's own. */
void lab_cgroup_close(lab_cgroup **cg);

/*
 * A cgroup for one environment named name (unique per lab), with a hard
 * memory limit of limit_bytes (<= 0: none). NULL with a message in err.
 */
lab_cgroup_env *lab_cgroup_env_new(lab_cgroup *cg, const char *name, long long limit_bytes,
                                   char *err, size_t errlen);

/* The cgroup.procs file a process writes "0" to in order to join; owned by e. */
const char *lab_cgroup_env_procs(const lab_cgroup_env *e);

/* Current charge, and the peak since creation or the last reset; 0 or -1. */
int lab_cgroup_env_usage(lab_cgroup_env *e, long long *bytes);
int lab_cgroup_env_peak(lab_cgroup_env *e, long long *bytes);

/*
 * Restarts the peak from the current charge. -1 where the kernel cannot
 * (cgroup v2 before Linux 6.12): the peak then stays the lifetime's.
 */
int lab_cgroup_env_reset_peak(lab_cgroup_env *e);

int lab_cgroup_env_stat(lab_cgroup_env *e, lab_cgroup_stat *st);

/* How many times the kernel's OOM killer ran inside it; -1 unknown. */
long lab_cgroup_env_oom_kills(lab_cgroup_env *e);

/*
 * Kills whatever is still inside (a process that left the environment's
 * process group), removes the folder (later, from lab_cgroup_sweep(), while
 * the kernel still holds exiting processes) and frees e.
 */
void lab_cgroup_env_free(lab_cgroup_env **e);

/* Retries the removals lab_cgroup_env_free() had to postpone. */
void lab_cgroup_sweep(lab_cgroup *cg);

#endif
