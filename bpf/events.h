/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The ring-buffer records the kernel programs write and the agent reads:
 * the one header shared by bpf/ and agent/. It holds only fixed-size
 * structs and named length constants, no pointers, so both sides agree on
 * every offset. The agent trusts none of it: agent/decode.c checks each
 * record's size against these structs and every length and offset inside.
 *
 * Kinds carry the numbers of enum custos_kind (common/record.h); BPF code
 * does not include common/, so they are repeated here and decode.c checks
 * with static assertions that the two lists agree.
 */
#ifndef CUSTOS_BPF_EVENTS_H
#define CUSTOS_BPF_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Named bounds. PATH and ARGS equal CUSTOS_PATH_MAX and CUSTOS_ARGS_MAX. */
#define CUSTOS_EV_COMM_LEN 16		/* TASK_COMM_LEN */
#define CUSTOS_EV_PATH_MAX 4096		/* longest path kept, in bytes, no NUL */
#define CUSTOS_EV_NAME_MAX 255		/* NAME_MAX: longest path component */
#define CUSTOS_EV_NAME_SLACK 256	/* room after a path for a component read
					   at any offset (the verifier's bound) */
#define CUSTOS_EV_PATH_BUF (CUSTOS_EV_PATH_MAX + CUSTOS_EV_NAME_SLACK)
#define CUSTOS_EV_PATH_DEPTH 40		/* dentries and mount crossings walked */
#define CUSTOS_EV_ARGS_MAX 4096		/* argv bytes kept, NULs included */
#define CUSTOS_EV_KIND_MAX 128		/* kinds 0..127: the loss counter array */

/* Record kinds, numbered as enum custos_kind. */
#define CUSTOS_EV_EXEC 1
#define CUSTOS_EV_FORK 2
#define CUSTOS_EV_EXIT 3

/* Every record starts with the task that acted (docs/format.md 2.2). */
struct custos_ev_hdr {
	__u32 kind;		/* CUSTOS_EV_* */
	__u32 pid;		/* tgid, initial pid namespace */
	__u64 ts_ns;		/* bpf_ktime_get_boot_ns() */
	__u32 tid;
	__u32 ppid;		/* real parent's tgid */
	__u32 uid, gid, euid;	/* from the task's real_cred */
	__u32 loginuid;		/* audit; 4294967295 when unset or no audit */
	__u32 sessionid;	/* audit; 4294967295 when unset or no audit */
	__u32 pidns;		/* inode number of the task's pid namespace */
	__u32 mntns;		/* inode number of its mount namespace */
	__u32 pad0;
	__u64 cgroup_id;	/* cgroup v2 id */
	char comm[CUSTOS_EV_COMM_LEN];	/* NUL-padded */
};

/* A path resolved in the kernel, built right to left: its bytes are
 * buf[off .. off + len), with no NUL. truncated is 1 when the walk ran out
 * of depth or room before the root (the bytes kept are then the last
 * components) or a name could not be read. */
struct custos_ev_path {
	__u16 off;
	__u16 len;
	__u8 truncated;
	__u8 pad[3];
	char buf[CUSTOS_EV_PATH_BUF];
};

/* sched_process_exec: a successful execve/execveat. */
struct custos_ev_exec {
	struct custos_ev_hdr hdr;
	__u64 start_ns;		/* the process's start, boot-time ns */
	__u64 exe_dev;		/* kernel-internal dev_t: major << 20 | minor */
	__u64 exe_ino;
	__u32 exe_mode;
	__u32 argc;		/* the original argument count (bprm->argc) */
	__u32 argv_len;		/* bytes in argv, NULs included */
	__u32 filename_len;	/* bytes in filename, no NUL */
	__u8 argv_truncated;	/* argument area longer than ARGS_MAX, or unreadable */
	__u8 pad[7];
	struct custos_ev_path exe;	/* from bprm->file */
	struct custos_ev_path cwd;	/* from fs->pwd */
	char filename[CUSTOS_EV_PATH_MAX];	/* bprm->filename, as passed */
	char argv[CUSTOS_EV_ARGS_MAX];		/* mm->arg_start .. arg_end */
};

/* sched_process_fork: a new process or thread; the header is the parent. */
struct custos_ev_fork {
	struct custos_ev_hdr hdr;
	__u32 child_pid;	/* tgid */
	__u32 child_tid;
	__u64 clone_flags;	/* from the syscall's arguments; 0 when unknown */
	__u64 child_start_ns;
};

/* sched_process_exit: once per process, when it ends. */
struct custos_ev_exit {
	struct custos_ev_hdr hdr;
	__u32 status;		/* wait(2) status: code << 8, or signal | 0x80 core */
	__u32 pad;
	__u64 start_ns;		/* the process's start, boot-time ns */
};

#endif
