/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records: one piece of evidence each (an exec, a file rename, a connect,
 * a heartbeat...). In a batch payload they are deterministic CBOR maps with
 * integer keys; docs/format.md section "Records" gives every key. This
 * header is the C view: one fixed-size struct that any record fits in, so
 * decoding untrusted bytes never allocates and every length has a bound.
 *
 * Keys 0-1 are the envelope of every record; 2-13 the subject (the task
 * that acted), present in every kind that comes from the kernel; 16 and up
 * are the kind's own body.
 */
#ifndef CUSTOS_RECORD_H
#define CUSTOS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cbor_io.h"
#include "schema.h"

/* Named bounds (also the capacities the decoder enforces). */
#define CUSTOS_PATH_MAX 4096	/* a resolved or user-supplied path */
#define CUSTOS_ARGS_MAX 4096	/* argv, NUL-separated */
#define CUSTOS_COMM_MAX 16	/* TASK_COMM_LEN */
#define CUSTOS_NAME_MAX 256	/* xattr names, fs types, memfd names, reasons */
#define CUSTOS_ADDR_MAX 108	/* sockaddr_un path; also holds IPv4/IPv6 */
#define CUSTOS_CONFIG_MAX 16384	/* a configuration file's text */
#define CUSTOS_HASH_LEN 32	/* SHA-256 and BLAKE2b-256 */
#define CUSTOS_BUILD_ID_MAX 64	/* ELF NT_GNU_BUILD_ID descriptor */
#define CUSTOS_VERSION_MAX 64
#define CUSTOS_AUDIT_TEXT_MAX 1024	/* an audit message's text (auth) */

/* Record kinds: process 1-31, file 32-63, network 64-95, agent 96-127. */
enum custos_kind {
	CUSTOS_REC_EXEC = 1,
	CUSTOS_REC_FORK = 2,
	CUSTOS_REC_EXIT = 3,
	CUSTOS_REC_CRED = 4,
	CUSTOS_REC_PTRACE = 5,
	CUSTOS_REC_MODULE = 6,
	CUSTOS_REC_MEMFD = 7,
	CUSTOS_REC_BPF = 8,
	CUSTOS_REC_CLOCK_SET = 9,
	CUSTOS_REC_SNAPSHOT = 10,	/* a process found running at agent start */
	CUSTOS_REC_AUTH = 11,		/* a user audit message: PAM's login results */

	CUSTOS_REC_OPEN = 32,
	CUSTOS_REC_UNLINK = 33,
	CUSTOS_REC_RENAME = 34,
	CUSTOS_REC_CHMOD = 35,
	CUSTOS_REC_CHOWN = 36,
	CUSTOS_REC_TRUNCATE = 37,
	CUSTOS_REC_LINK = 38,
	CUSTOS_REC_SYMLINK = 39,
	CUSTOS_REC_MKDIR = 40,
	CUSTOS_REC_RMDIR = 41,
	CUSTOS_REC_MOUNT = 42,
	CUSTOS_REC_UMOUNT = 43,
	CUSTOS_REC_SETXATTR = 44,
	CUSTOS_REC_REMOVEXATTR = 45,

	CUSTOS_REC_CONNECT = 64,
	CUSTOS_REC_ACCEPT = 65,
	CUSTOS_REC_BIND = 66,
	CUSTOS_REC_LISTEN = 67,
	CUSTOS_REC_SEND = 68,		/* outbound datagram destination */
	CUSTOS_REC_SOCKET = 69,		/* a raw, packet or audit socket created */

	CUSTOS_REC_AGENT_START = 96,
	CUSTOS_REC_AGENT_STOP = 97,
	CUSTOS_REC_HEARTBEAT = 98,
	CUSTOS_REC_LOSS = 99,
	CUSTOS_REC_CONFIG = 100,
	CUSTOS_REC_CLOCK_STEP = 101,	/* the agent saw the wall clock jump */
	CUSTOS_REC_GAP = 102,		/* evidence not written (spool full...) */
};

/* Why an executable's hash is missing (exec and snapshot records). */
enum custos_hash_status {
	CUSTOS_HASH_OK = 0,
	CUSTOS_HASH_PENDING = 1,	/* not yet taken when the record was sealed */
	CUSTOS_HASH_DELETED = 2,
	CUSTOS_HASH_MEMFD = 3,
	CUSTOS_HASH_TOO_LARGE = 4,
	CUSTOS_HASH_ERROR = 5,
	CUSTOS_HASH_TIMEOUT = 6,	/* not finished within the time bound */
	CUSTOS_HASH_QUEUE_FULL = 7,	/* the hashing queue was full: not tried */
	CUSTOS_HASH_EXEC_FAILED = 8,	/* the exec failed (result < 0): no executable */
};

/* Who acted: the task, its credentials and its containers. */
struct custos_subject {
	uint64_t pid;		/* tgid */
	uint64_t tid;
	uint64_t ppid;
	uint64_t uid, gid, euid;
	uint64_t loginuid;	/* audit uid; 4294967295 when unset */
	uint64_t sessionid;
	uint8_t comm[CUSTOS_COMM_MAX];
	uint32_t comm_len;
	uint64_t cgroup_id;
	uint64_t pidns, mntns;
};

/* exec and snapshot */
struct custos_exec {
	int64_t result;
	uint8_t filename[CUSTOS_PATH_MAX];	/* as passed to execve */
	uint32_t filename_len;
	uint8_t exe[CUSTOS_PATH_MAX];		/* resolved from struct file */
	uint32_t exe_len;
	uint64_t exe_truncated;
	uint64_t argc;				/* the original argc */
	uint8_t argv[CUSTOS_ARGS_MAX];
	uint32_t argv_len;
	uint64_t argv_count;			/* elements kept */
	uint64_t argv_truncated;
	uint8_t cwd[CUSTOS_PATH_MAX];
	uint32_t cwd_len;
	uint64_t cwd_truncated;
	uint64_t exe_dev, exe_ino, exe_mode;	/* dev as stat(2) st_dev; mode shows setuid/setgid */
	uint64_t start_ns;			/* task start, boot-time ns */
	uint8_t sha256[CUSTOS_HASH_LEN];	/* zero unless hash_status OK */
	uint8_t build_id[CUSTOS_BUILD_ID_MAX];
	uint32_t build_id_len;
	uint64_t hash_status;			/* enum custos_hash_status */
	uint64_t parent_start_ns;		/* the parent's start_ns, 0 unknown */
};

struct custos_fork {
	uint64_t child_pid, child_tid;
	uint64_t clone_flags;
	uint64_t child_start_ns;
};

struct custos_exit {
	int64_t code;		/* exit status, or 0 when killed */
	uint64_t signal;	/* terminating signal, 0 when exited */
	uint64_t core_dumped;
	uint64_t start_ns;
};

/* Several syscalls share one body; op says which (docs/format.md). */
struct custos_syscall {
	int64_t result;		/* return value, or -errno */
	uint64_t op;
	uint64_t arg0, arg1, arg2;
	uint8_t name[CUSTOS_PATH_MAX];	/* module path, memfd or bpf prog name */
	uint32_t name_len;
	uint64_t name_truncated;
};

/* Every file operation: which fields a kind carries is in record.c. */
struct custos_file {
	int64_t result;
	uint8_t path[CUSTOS_PATH_MAX];		/* resolved, absolute */
	uint32_t path_len;
	uint64_t path_truncated;
	uint8_t path_raw[CUSTOS_PATH_MAX];	/* the user-space argument */
	uint32_t path_raw_len;
	uint8_t path2[CUSTOS_PATH_MAX];		/* rename/link target */
	uint32_t path2_len;
	uint64_t path2_truncated;
	uint8_t path2_raw[CUSTOS_PATH_MAX];
	uint32_t path2_raw_len;
	uint64_t flags;
	uint64_t mode;
	uint64_t owner_uid, owner_gid;		/* chown: -1 (4294967295) unchanged */
	uint64_t size;
	uint64_t attr_flags;			/* mount: fsmount's MOUNT_ATTR_*, mount_setattr's attr_set */
	uint64_t attr_clr, propagation, userns_fd;	/* mount: mount_setattr's */
	uint8_t name[CUSTOS_NAME_MAX];		/* xattr name, fs type */
	uint32_t name_len;
	uint64_t op;		/* the x86-64 syscall number: which of a kind's calls */
};

struct custos_net {
	int64_t result;
	uint64_t family;	/* AF_INET, AF_INET6, AF_UNIX */
	uint64_t sock_type;
	uint64_t protocol;
	uint8_t local_addr[CUSTOS_ADDR_MAX];	/* 4, 16 bytes or a unix path */
	uint32_t local_addr_len;
	uint64_t local_port;
	uint8_t remote_addr[CUSTOS_ADDR_MAX];
	uint32_t remote_addr_len;
	uint64_t remote_port;
	uint64_t backlog;
	uint64_t op;		/* send: sendto, sendmsg, sendmmsg */
	uint64_t sock_flags;	/* socket: SOCK_NONBLOCK | SOCK_CLOEXEC asked for */
};

/* A user audit message a process sent to the kernel (auth): libpam's
 * "op=PAM:authentication ... res=failed" and the like; common/audit_text.h
 * reads its fields. */
struct custos_auth {
	int64_t result;		/* the send's return value, or -errno */
	uint64_t op;		/* syscall: sendto or sendmsg */
	uint64_t audit_type;	/* nlmsg_type: 1100 USER_AUTH, 1101 USER_ACCT... */
	uint8_t text[CUSTOS_AUDIT_TEXT_MAX];	/* as sent, up to its first NUL */
	uint32_t text_len;
	uint64_t text_truncated;
};

/* The agent's own records; which fields a kind carries is in record.c. */
struct custos_agent {
	uint8_t version[CUSTOS_VERSION_MAX];
	uint32_t version_len;
	uint8_t config_hash[CUSTOS_HASH_LEN];	/* BLAKE2b-256 of the config text */
	uint8_t text[CUSTOS_CONFIG_MAX];	/* programs loaded, stop or gap reason,
						   configuration text */
	uint32_t text_len;
	uint64_t text_truncated;
	uint64_t agent_pid;
	uint64_t signal;			/* stop: the signal that stopped it */
	uint64_t source;			/* loss: enum custos_loss_source */
	uint64_t lost_kind;			/* loss: record kind, 0 if unknown */
	uint64_t events, losses;		/* heartbeat: totals since start */
	uint64_t lost;				/* loss, gap: records lost */
	uint64_t batches_lost;			/* gap */
	uint64_t spool_batches, spool_bytes;	/* heartbeat */
	uint64_t from_ns, to_ns;		/* loss, gap: boot-time ns range */
	int64_t offset_old_ns, offset_new_ns;	/* clock step: realtime - boottime */
	uint64_t ntp_synced, ntp_maxerror_us, ntp_esterror_us;
};

enum custos_loss_source {
	CUSTOS_LOSS_RINGBUF = 0,	/* kernel: ring buffer reservation failed */
	CUSTOS_LOSS_QUEUE = 1,		/* agent: an internal queue was full */
	CUSTOS_LOSS_SPOOL = 2,		/* agent: the spool was full */
};

struct custos_record {
	uint64_t kind;		/* enum custos_kind */
	uint64_t ts_ns;		/* boot-time ns (bpf_ktime_get_boot_ns) */
	struct custos_subject subj;
	union {
		struct custos_exec exec;
		struct custos_fork fork;
		struct custos_exit exit;
		struct custos_syscall sys;
		struct custos_file file;
		struct custos_net net;
		struct custos_auth auth;
		struct custos_agent agent;
	} u;
};

/* Append rec to out as one canonical CBOR map. Returns 0,
 * -CUSTOS_ERR_INVAL (unknown kind, a length past its capacity), or the
 * errors of buf_reserve. */
int record_encode(struct buf *out, const struct custos_record *rec);

/* Decode the next record from r into *rec, which may hold an earlier
 * record: decoding does not clear the whole struct (16.9 KB), only what a
 * reader may read. Returns 0, -CUSTOS_ERR_MALFORMED (unknown kind, wrong
 * key or type), or the errors of schema_decode and cbr_next; after an
 * error *rec is unspecified.
 * OUT, after a 0: *rec, where, byte for byte as a decode into a zeroed
 * struct would leave them,
 *  - kind, ts_ns and every byte of subj (zero for the agent kinds, which
 *    carry no subject; comm zero past comm_len);
 *  - every byte of the union member of the kind (exec for exec and
 *    snapshot; fork; exit; sys for cred, ptrace, module, memfd, bpf and
 *    clock_set; auth; file for open to removexattr; net for connect to
 *    socket; agent for agent_start to gap), a field the kind does not
 *    carry being zero (an open's path2_len, a loss's batches_lost...),
 *    except in its large arrays: exec.filename, exe, argv and cwd,
 *    sys.name, file.path, path_raw, path2 and path2_raw, auth.text and
 *    agent.text. Each of those is valid only up to its length: bytes
 *    [0, len), then a NUL at [len] when len is below the capacity (also
 *    when the kind does not carry it: len 0, a NUL at [0]); the bytes past
 *    that are left from earlier records. Read them with their length
 *    (record_cstr), never as C strings to their capacity.
 * The other arrays (comm, build_id, file.name, the net addresses,
 * agent.version) are zero past their length, the fixed ones (sha256,
 * config_hash) zero when the kind does not carry them. Union bytes past
 * the end of the kind's member are unspecified: read only the member of
 * rec->kind. */
int record_decode(struct cbr *r, struct custos_record *rec);

/* Short lower-case name of a kind ("exec", "rename"...), NULL if unknown. */
const char *record_kind_name(uint64_t kind);

/* Look a kind up by name. Returns the kind, or 0 if no kind has that name. */
uint64_t record_kind_by_name(const char *name);

/* The schema parts of kind (envelope, subject when the kind has one, body).
 * OUT: parts[0..n-1]. Returns n (at most 3), or 0 for an unknown kind. */
size_t record_schema(uint64_t kind, const struct schema *parts[3]);

/* Set a BYTES field from a C string, truncating at the capacity.
 * Returns 1 if it was truncated, else 0. */
int record_set_bytes(uint8_t *dst, uint32_t *dst_len, size_t cap, const char *src);

/* A BYTES field p[0..n) as a C string: up to its first NUL, cut to cap - 1
 * bytes and NUL-terminated in dst[cap] (what "%.*s" prints, without printf
 * per record). cap must be at least 1. Returns dst. */
const char *record_cstr(char *dst, size_t cap, const uint8_t *p, uint32_t n);

#endif
