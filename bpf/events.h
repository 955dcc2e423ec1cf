/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The ring-buffer records the kernel programs write and the agent reads:
 * the one header shared by bpf/ and agent/. Every record starts with a
 * fixed-size struct (no pointers, so both sides agree on every offset).
 * Exec and file records are variable-size: their strings (paths, the raw
 * user strings, argv) follow the struct packed, in a stated order, each
 * as many bytes as its length field says, with no padding and no NUL
 * after them, so a record costs the ring only the bytes it uses (an open
 * of /etc/hostname is about 180 bytes, not 8.6 KiB). The other kinds are
 * exactly their struct. The agent trusts none of it: agent/decode.c
 * checks each record's size against its struct plus the lengths it
 * claims, and every length against its bound.
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
#define CUSTOS_EV_PATH_DEPTH 40		/* dentries and mount crossings walked */
#define CUSTOS_EV_ARGS_MAX 4096		/* argv bytes kept, NULs included */
#define CUSTOS_EV_KIND_MAX 128		/* kinds 0..127: the loss counter array */

/* Record kinds, numbered as enum custos_kind. */
#define CUSTOS_EV_EXEC 1
#define CUSTOS_EV_FORK 2
#define CUSTOS_EV_EXIT 3
#define CUSTOS_EV_CRED 4
#define CUSTOS_EV_PTRACE 5
#define CUSTOS_EV_MODULE 6
#define CUSTOS_EV_MEMFD 7
#define CUSTOS_EV_BPF 8
#define CUSTOS_EV_CLOCK_SET 9
#define CUSTOS_EV_AUTH 11		/* a user audit message (PAM's login results) */
#define CUSTOS_EV_OPEN 32
#define CUSTOS_EV_UNLINK 33
#define CUSTOS_EV_RENAME 34
#define CUSTOS_EV_CHMOD 35
#define CUSTOS_EV_CHOWN 36
#define CUSTOS_EV_TRUNCATE 37
#define CUSTOS_EV_LINK 38
#define CUSTOS_EV_SYMLINK 39
#define CUSTOS_EV_MKDIR 40
#define CUSTOS_EV_RMDIR 41
#define CUSTOS_EV_MOUNT 42
#define CUSTOS_EV_UMOUNT 43
#define CUSTOS_EV_SETXATTR 44
#define CUSTOS_EV_REMOVEXATTR 45
#define CUSTOS_EV_CONNECT 64
#define CUSTOS_EV_ACCEPT 65
#define CUSTOS_EV_BIND 66
#define CUSTOS_EV_LISTEN 67
#define CUSTOS_EV_SEND 68
#define CUSTOS_EV_SOCKET 69

/* More named bounds. */
#define CUSTOS_EV_XNAME_MAX 256		/* xattr names, fs types, memfd and bpf names */
#define CUSTOS_EV_ADDR_MAX 108		/* sizeof(sun_path) */
#define CUSTOS_EV_SENS_NAME 32		/* bytes of a file name a sensitive key holds */

/* The largest record of any kind: an exec with every string at its bound
 * (the struct itself is well under 256 bytes). */
#define CUSTOS_EV_RECORD_MAX (256 + 3 * CUSTOS_EV_PATH_MAX + CUSTOS_EV_ARGS_MAX)

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

/* sched_process_exec: a successful execve/execveat; sys_exit_execve(at):
 * a failed one (result < 0: no executable, so exe is empty and exe_dev,
 * exe_ino, exe_mode are 0; filename and argv are read from the caller).
 * Variable-size: the struct is followed by filename (filename_len
 * bytes), exe (exe_len), cwd (cwd_len) and argv (argv_len), packed in that
 * order; the record is exactly sizeof(struct custos_ev_exec) plus the four
 * lengths. Paths are absolute, resolved in the kernel (bpf/path.bpf.h);
 * a path's truncated flag is set when the walk ran out of depth or room
 * before the root (the bytes kept are then the last components) or a name
 * could not be read; an empty path with the flag set could not be
 * resolved at all. */
struct custos_ev_exec {
	struct custos_ev_hdr hdr;
	__u64 start_ns;		/* the process's start, boot-time ns */
	__u64 exe_dev;		/* kernel-internal dev_t: major << 20 | minor */
	__u64 exe_ino;
	__u32 exe_mode;
	__u32 argc;		/* the original argument count (bprm->argc) */
	__u32 argv_len;		/* bytes of argv, NULs included; <= ARGS_MAX */
	__u32 filename_len;	/* bytes of filename, no NUL; <= PATH_MAX */
	__u16 exe_len;		/* from bprm->file; 0 for a failed exec; <= PATH_MAX */
	__u16 cwd_len;		/* from fs->pwd; <= PATH_MAX */
	__u8 exe_truncated, cwd_truncated;
	__u8 argv_truncated;	/* argument area longer than ARGS_MAX, or unreadable */
	__u8 pad;
	__s32 result;		/* 0, or -errno of a failed execve/execveat */
	__u32 pad2;
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

/* How a file record's path was obtained (custos_ev_file.path_how). */
#define CUSTOS_EV_PATH_OBJECT 0	/* path is the file itself (struct file) */
#define CUSTOS_EV_PATH_BASE 1	/* path is the directory raw is relative to:
				   the dirfd's, cwd or (raw absolute) the root */

/* File operations (kinds 32-45): the syscall's result, its arguments, and
 * the path, either resolved from the object itself (opens that succeeded,
 * fd calls) or as the kernel-resolved base directory that the user's raw
 * string is joined to (the object may no longer exist at exit).
 * Variable-size: the struct is followed by raw (raw_len bytes), path
 * (path_len), name (name_len), raw2 (raw2_len) and path2 (path2_len),
 * packed in that order; the record is exactly sizeof(struct
 * custos_ev_file) plus the five lengths. rename, link, symlink and mount
 * carry a second path (path2, raw2); the other kinds have path2_len and
 * raw2_len 0. */
struct custos_ev_file {
	struct custos_ev_hdr hdr;
	__s64 result;		/* return value or -errno */
	__u32 nr;		/* x86-64 syscall number */
	__u8 path_how;		/* CUSTOS_EV_PATH_* */
	__u8 path2_how;
	__u8 user_check;	/* open: a refused read whose path the agent
				   checks against the sensitive list */
	__u8 name_truncated;
	__u64 flags;
	__u64 mode;
	__u32 owner_uid, owner_gid;
	__u64 size;
	__u64 attr_flags;	/* fsmount: its attr_flags (MOUNT_ATTR_*);
				   mount_setattr: struct mount_attr's attr_set */
	__u64 attr_clr;		/* mount_setattr: struct mount_attr's attr_clr, */
	__u64 propagation;	/* propagation and userns_fd (the bytes of the */
	__u64 userns_fd;	/* struct its size argument covers; 0 beyond) */
	__u16 path_len;		/* resolved path or base, no NUL; <= PATH_MAX */
	__u16 path2_len;
	__u16 raw_len;		/* the user's path argument, no NUL; <= PATH_MAX */
	__u16 raw2_len;
	__u16 name_len;		/* xattr name, fs type; <= XNAME_MAX */
	__u8 path_truncated, path2_truncated;
	__u8 raw_truncated, raw2_truncated;
	__u8 pad[2];
};

/* Network operations (kinds 64-69). Addresses as docs/format.md stores
 * them: 4 or 16 bytes, or a unix path (abstract names start with a NUL);
 * ports in host order. A socket record (69) has no address (both lengths
 * 0); its backlog field holds the SOCK_NONBLOCK | SOCK_CLOEXEC bits of
 * the type argument, and sock_type the type without them. */
struct custos_ev_net {
	struct custos_ev_hdr hdr;
	__s64 result;
	__u32 nr;
	__u16 family;
	__u16 sock_type;
	__u16 protocol;
	__u16 local_len, remote_len;
	__u16 local_port, remote_port;
	__u16 pad;
	__u32 backlog;
	__u8 local[CUSTOS_EV_ADDR_MAX];
	__u8 remote[CUSTOS_EV_ADDR_MAX];
};

/* A user-space audit message (kind 11, auth): a sendto or sendmsg on an
 * AF_NETLINK/NETLINK_AUDIT socket whose netlink header carries one of
 * the user message types kept (net.bpf.c: 1005, 1100-1199 but 1124,
 * 2100-2999), such as the AUDIT_USER_AUTH (1100) that libpam sends for
 * every authentication. text is the message's payload as sent (its first
 * TEXT_MAX bytes; text_truncated when the payload was longer or could
 * not be read), text_len of them valid; the agent cuts it at its first
 * NUL, as the kernel's audit log does. */
#define CUSTOS_EV_AUDIT_TEXT_MAX 1024
struct custos_ev_auth {
	struct custos_ev_hdr hdr;
	__s64 result;		/* the send's return value or -errno */
	__u32 nr;		/* x86-64 syscall number: sendto or sendmsg */
	__u16 msg_type;		/* nlmsg_type: AUDIT_USER_AUTH... */
	__u16 text_len;		/* <= AUDIT_TEXT_MAX */
	__u8 text_truncated;
	__u8 pad[7];
	char text[CUSTOS_EV_AUDIT_TEXT_MAX];
};

/* cred, ptrace, module, memfd, bpf, clock_set: docs/format.md's shared
 * syscall body. */
struct custos_ev_sys {
	struct custos_ev_hdr hdr;
	__s64 result;
	__u32 nr;
	__u16 name_len;
	__u8 name_truncated;
	__u8 pad;
	__u64 op, arg0, arg1, arg2;
	char name[CUSTOS_EV_XNAME_MAX];
};

/* Key of the sensitive-read map: a directory (name all zero: everything
 * below it) or a file name in a directory (its first SENS_NAME bytes).
 * dev is the kernel's internal dev_t (major << 20 | minor). */
struct custos_ev_sens_key {
	__u64 dev;
	__u64 ino;
	char name[CUSTOS_EV_SENS_NAME];
};

/* A Bloom filter over the sensitive map's keys (two bits a key), the one
 * value of an array map: the kernel tests it with plain loads and looks
 * the exact map up only when both bits of a key are set, so a read-only
 * open of a file that is not sensitive costs no hash lookup. The agent
 * sets the bits of every key it puts in the map (custos_sens_hash). */
#define CUSTOS_EV_SENS_BITS 32768
struct custos_ev_sens_filter {
	__u64 w[CUSTOS_EV_SENS_BITS / 64];
};

static inline __attribute__((always_inline)) __u64 custos_sens_mix(__u64 h, __u64 v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/* The filter's hash of k: the same in the kernel and in the agent. */
static inline __attribute__((always_inline)) __u64
custos_sens_hash(const struct custos_ev_sens_key *k)
{
	__u64 w[CUSTOS_EV_SENS_NAME / 8];
	__u64 h = custos_sens_mix(custos_sens_mix(0x243f6a8885a308d3ull, k->dev), k->ino);

	__builtin_memcpy(w, k->name, sizeof(w));
	for (int i = 0; i < CUSTOS_EV_SENS_NAME / 8; i++)
		h = custos_sens_mix(h, w[i]);
	return h;
}

/* The two bits of hash h in the filter. */
#define CUSTOS_SENS_BIT1(h) ((__u32)(h) & (CUSTOS_EV_SENS_BITS - 1))
#define CUSTOS_SENS_BIT2(h) ((__u32)((h) >> 32) & (CUSTOS_EV_SENS_BITS - 1))

#endif
