/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record schema: for each kind, the CBOR keys it carries and the C
 * field behind each key. docs/format.md, section "Records", is the same
 * table in prose; change both or neither. Also which union member a kind
 * decodes into and which of its arrays decoding does not clear
 * (record.h, record_decode).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "error.h"
#include "record.h"

typedef struct custos_record R;

#define U(k, f) SCHEMA_U64(k, R, f)
#define I(k, f) SCHEMA_I64(k, R, f)
#define B(k, f) SCHEMA_BYTES(k, R, f)
#define X(k, f) SCHEMA_FIXED(k, R, f)
#define V(k, f) SCHEMA_STRV(k, R, f)

/* format.md "Records": keys 0-1, every record. */
static const struct schema_field envelope_f[] = { U(0, kind), U(1, ts_ns) };

/* format.md "Subject": keys 2-13, every record that comes from the kernel. */
static const struct schema_field subject_f[] = {
	U(2, subj.pid), U(3, subj.tid), U(4, subj.ppid), U(5, subj.uid), U(6, subj.gid),
	U(7, subj.euid), U(8, subj.loginuid), U(9, subj.sessionid), B(10, subj.comm),
	U(11, subj.cgroup_id), U(12, subj.pidns), U(13, subj.mntns),
};

static const struct schema_field exec_f[] = {
	I(16, u.exec.result), B(17, u.exec.filename), B(18, u.exec.exe),
	U(19, u.exec.exe_truncated), U(20, u.exec.argc), V(21, u.exec.argv),
	U(22, u.exec.argv_truncated), B(23, u.exec.cwd), U(24, u.exec.cwd_truncated),
	U(25, u.exec.exe_dev), U(26, u.exec.exe_ino), U(27, u.exec.exe_mode),
	U(28, u.exec.start_ns), X(29, u.exec.sha256), B(30, u.exec.build_id),
	U(31, u.exec.hash_status), U(32, u.exec.parent_start_ns),
};

static const struct schema_field fork_f[] = {
	U(16, u.fork.child_pid), U(17, u.fork.child_tid), U(18, u.fork.clone_flags),
	U(19, u.fork.child_start_ns),
};

static const struct schema_field exit_f[] = {
	I(16, u.exit.code), U(17, u.exit.signal), U(18, u.exit.core_dumped),
	U(19, u.exit.start_ns),
};

static const struct schema_field syscall_f[] = {
	I(16, u.sys.result), U(17, u.sys.op), U(18, u.sys.arg0), U(19, u.sys.arg1),
	U(20, u.sys.arg2), B(21, u.sys.name), U(22, u.sys.name_truncated),
};

#define F_RESULT I(16, u.file.result)
#define F_PATH B(17, u.file.path), U(18, u.file.path_truncated), B(19, u.file.path_raw)
#define F_PATH2 B(20, u.file.path2), U(21, u.file.path2_truncated), B(22, u.file.path2_raw)
#define F_FLAGS U(23, u.file.flags)
#define F_MODE U(24, u.file.mode)
#define F_OWNER U(25, u.file.owner_uid), U(26, u.file.owner_gid)
#define F_SIZE U(27, u.file.size)
#define F_NAME B(28, u.file.name)
#define F_ATTR U(29, u.file.attr_flags), U(30, u.file.attr_clr), U(31, u.file.propagation), \
	U(32, u.file.userns_fd)
#define F_OP U(33, u.file.op)

static const struct schema_field open_f[] = { F_RESULT, F_PATH, F_FLAGS, F_MODE, F_OP };
static const struct schema_field unlink_f[] = { F_RESULT, F_PATH, F_FLAGS, F_OP };
static const struct schema_field twopath_f[] = { F_RESULT, F_PATH, F_PATH2, F_FLAGS, F_OP };
static const struct schema_field chmod_f[] = { F_RESULT, F_PATH, F_FLAGS, F_MODE, F_OP };
static const struct schema_field chown_f[] = { F_RESULT, F_PATH, F_FLAGS, F_OWNER, F_OP };
static const struct schema_field truncate_f[] = { F_RESULT, F_PATH, F_SIZE, F_OP };
/* symlink: path is the link created; path2_raw the target text, which the
 * kernel stores unresolved. */
static const struct schema_field symlink_f[] = { F_RESULT, F_PATH, B(22, u.file.path2_raw), F_OP };
static const struct schema_field mkdir_f[] = { F_RESULT, F_PATH, F_MODE, F_OP };
static const struct schema_field rmdir_f[] = { F_RESULT, F_PATH, F_OP };
static const struct schema_field mount_f[] = { F_RESULT, F_PATH, F_PATH2, F_FLAGS, F_NAME,
					       F_ATTR, F_OP };
static const struct schema_field setxattr_f[] = { F_RESULT, F_PATH, F_FLAGS, F_SIZE, F_NAME, F_OP };
static const struct schema_field removexattr_f[] = { F_RESULT, F_PATH, F_NAME, F_OP };

#define N_HEAD I(16, u.net.result), U(17, u.net.family), U(18, u.net.sock_type), \
	U(19, u.net.protocol), B(20, u.net.local_addr), U(21, u.net.local_port)
#define N_REMOTE B(22, u.net.remote_addr), U(23, u.net.remote_port)

static const struct schema_field connect_f[] = { N_HEAD, N_REMOTE };
static const struct schema_field bind_f[] = { N_HEAD };
static const struct schema_field listen_f[] = { N_HEAD, U(24, u.net.backlog) };
static const struct schema_field send_f[] = { N_HEAD, N_REMOTE, U(25, u.net.op) };
static const struct schema_field socket_f[] = {
	I(16, u.net.result), U(17, u.net.family), U(18, u.net.sock_type), U(19, u.net.protocol),
	U(26, u.net.sock_flags),
};

static const struct schema_field auth_f[] = {
	I(16, u.auth.result), U(17, u.auth.op), U(18, u.auth.audit_type), B(19, u.auth.text),
	U(20, u.auth.text_truncated),
};

#define A(k, f) U(k, u.agent.f)
#define A_TEXT B(18, u.agent.text), A(19, text_truncated)
#define A_RANGE A(30, from_ns), A(31, to_ns)

static const struct schema_field start_f[] = {
	B(16, u.agent.version), X(17, u.agent.config_hash), A_TEXT, A(20, agent_pid),
};
static const struct schema_field stop_f[] = { A_TEXT, A(21, signal) };
static const struct schema_field heartbeat_f[] = {
	A(24, events), A(25, losses), A(28, spool_batches), A(29, spool_bytes),
};
static const struct schema_field loss_f[] = {
	A(22, source), A(23, lost_kind), A(26, lost), A_RANGE,
};
static const struct schema_field config_f[] = { X(17, u.agent.config_hash), A_TEXT };
static const struct schema_field clock_step_f[] = {
	I(32, u.agent.offset_old_ns), I(33, u.agent.offset_new_ns), A(34, ntp_synced),
	A(35, ntp_maxerror_us), A(36, ntp_esterror_us),
};
static const struct schema_field gap_f[] = { A_TEXT, A(26, lost), A(27, batches_lost), A_RANGE };

static const struct schema envelope = SCHEMA_OF("envelope", envelope_f);
static const struct schema subject = SCHEMA_OF("subject", subject_f);

/* What record_decode clears (record.h): the union member a kind decodes
 * into, and its large arrays ("holes"), whose bytes past length + 1 it
 * leaves as they were. Holes are listed in struct order. */
struct hole {
	uint32_t off, cap, len_off;
};

struct member {
	uint32_t size;		/* sizeof the union member */
	uint32_t nholes;
	const struct hole *holes;
};

#define HOLE(f) { offsetof(R, f), sizeof(((R *)0)->f), offsetof(R, f##_len) }
#define MEMBER(m, h) { sizeof(((R *)0)->u.m), sizeof(h) / sizeof((h)[0]), (h) }
#define MEMBER0(m) { sizeof(((R *)0)->u.m), 0, NULL }
#define IN_ORDER(a, b) _Static_assert(offsetof(R, a) + sizeof(((R *)0)->a) <= offsetof(R, b), \
				      #a " before " #b)

static const struct hole exec_h[] = {
	HOLE(u.exec.filename), HOLE(u.exec.exe), HOLE(u.exec.argv), HOLE(u.exec.cwd),
};
static const struct hole sys_h[] = { HOLE(u.sys.name) };
static const struct hole file_h[] = {
	HOLE(u.file.path), HOLE(u.file.path_raw), HOLE(u.file.path2), HOLE(u.file.path2_raw),
};
static const struct hole auth_h[] = { HOLE(u.auth.text) };
static const struct hole agent_h[] = { HOLE(u.agent.text) };
IN_ORDER(u.exec.filename, u.exec.exe);
IN_ORDER(u.exec.exe, u.exec.argv);
IN_ORDER(u.exec.argv, u.exec.cwd);
IN_ORDER(u.file.path, u.file.path_raw);
IN_ORDER(u.file.path_raw, u.file.path2);
IN_ORDER(u.file.path2, u.file.path2_raw);

static const struct member m_exec = MEMBER(exec, exec_h), m_fork = MEMBER0(fork),
			   m_exit = MEMBER0(exit), m_sys = MEMBER(sys, sys_h),
			   m_file = MEMBER(file, file_h), m_net = MEMBER0(net),
			   m_auth = MEMBER(auth, auth_h), m_agent = MEMBER(agent, agent_h);

struct kind_desc {
	uint64_t kind;
	const char *name;
	bool has_subject;
	struct schema body;
	const struct member *mem;
};

#define KIND(k, n, subj, table, m) { (k), (n), (subj), SCHEMA_OF((n), (table)), &(m) }

static const struct kind_desc kinds[] = {
	KIND(CUSTOS_REC_EXEC, "exec", true, exec_f, m_exec),
	KIND(CUSTOS_REC_FORK, "fork", true, fork_f, m_fork),
	KIND(CUSTOS_REC_EXIT, "exit", true, exit_f, m_exit),
	KIND(CUSTOS_REC_CRED, "cred", true, syscall_f, m_sys),
	KIND(CUSTOS_REC_PTRACE, "ptrace", true, syscall_f, m_sys),
	KIND(CUSTOS_REC_MODULE, "module", true, syscall_f, m_sys),
	KIND(CUSTOS_REC_MEMFD, "memfd", true, syscall_f, m_sys),
	KIND(CUSTOS_REC_BPF, "bpf", true, syscall_f, m_sys),
	KIND(CUSTOS_REC_CLOCK_SET, "clock_set", true, syscall_f, m_sys),
	KIND(CUSTOS_REC_SNAPSHOT, "snapshot", true, exec_f, m_exec),
	KIND(CUSTOS_REC_AUTH, "auth", true, auth_f, m_auth),
	KIND(CUSTOS_REC_OPEN, "open", true, open_f, m_file),
	KIND(CUSTOS_REC_UNLINK, "unlink", true, unlink_f, m_file),
	KIND(CUSTOS_REC_RENAME, "rename", true, twopath_f, m_file),
	KIND(CUSTOS_REC_CHMOD, "chmod", true, chmod_f, m_file),
	KIND(CUSTOS_REC_CHOWN, "chown", true, chown_f, m_file),
	KIND(CUSTOS_REC_TRUNCATE, "truncate", true, truncate_f, m_file),
	KIND(CUSTOS_REC_LINK, "link", true, twopath_f, m_file),
	KIND(CUSTOS_REC_SYMLINK, "symlink", true, symlink_f, m_file),
	KIND(CUSTOS_REC_MKDIR, "mkdir", true, mkdir_f, m_file),
	KIND(CUSTOS_REC_RMDIR, "rmdir", true, rmdir_f, m_file),
	KIND(CUSTOS_REC_MOUNT, "mount", true, mount_f, m_file),
	KIND(CUSTOS_REC_UMOUNT, "umount", true, unlink_f, m_file),
	KIND(CUSTOS_REC_SETXATTR, "setxattr", true, setxattr_f, m_file),
	KIND(CUSTOS_REC_REMOVEXATTR, "removexattr", true, removexattr_f, m_file),
	KIND(CUSTOS_REC_CONNECT, "connect", true, connect_f, m_net),
	KIND(CUSTOS_REC_ACCEPT, "accept", true, connect_f, m_net),
	KIND(CUSTOS_REC_BIND, "bind", true, bind_f, m_net),
	KIND(CUSTOS_REC_LISTEN, "listen", true, listen_f, m_net),
	KIND(CUSTOS_REC_SEND, "send", true, send_f, m_net),
	KIND(CUSTOS_REC_SOCKET, "socket", true, socket_f, m_net),
	KIND(CUSTOS_REC_AGENT_START, "agent_start", false, start_f, m_agent),
	KIND(CUSTOS_REC_AGENT_STOP, "agent_stop", false, stop_f, m_agent),
	KIND(CUSTOS_REC_HEARTBEAT, "heartbeat", false, heartbeat_f, m_agent),
	KIND(CUSTOS_REC_LOSS, "loss", false, loss_f, m_agent),
	KIND(CUSTOS_REC_CONFIG, "config", false, config_f, m_agent),
	KIND(CUSTOS_REC_CLOCK_STEP, "clock_step", false, clock_step_f, m_agent),
	KIND(CUSTOS_REC_GAP, "gap", false, gap_f, m_agent),
};

static const struct kind_desc *find_kind(uint64_t kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return &kinds[i];
	return NULL;
}

static size_t parts_of(const struct kind_desc *d, const struct schema *parts[3])
{
	size_t n = 0;

	parts[n++] = &envelope;
	if (d->has_subject)
		parts[n++] = &subject;
	parts[n++] = &d->body;
	return n;
}

size_t record_schema(uint64_t kind, const struct schema *parts[3])
{
	const struct kind_desc *d = find_kind(kind);

	return d ? parts_of(d, parts) : 0;
}

const char *record_kind_name(uint64_t kind)
{
	const struct kind_desc *d = find_kind(kind);

	return d ? d->name : NULL;
}

uint64_t record_kind_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return kinds[i].kind;
	return 0;
}

int record_encode(struct buf *out, const struct custos_record *rec)
{
	const struct schema *parts[3];
	size_t n = record_schema(rec->kind, parts);

	if (n == 0)
		return -CUSTOS_ERR_INVAL;
	return schema_encode(out, parts, n, rec);
}

/* The kind is the first entry of the map; peek at it on a copy of the
 * cursor to choose the schema, then decode the whole map strictly. */
static int peek_kind(const struct cbr *r, uint64_t *kind)
{
	struct cbr peek = *r;
	uint64_t n;
	int ret = cbr_map(&peek, &n);

	if (!ret)
		ret = cbr_key(&peek, 0);
	if (!ret)
		ret = cbr_uint(&peek, kind);
	return ret;
}

/* Zero the envelope, the subject and every byte of member m but its
 * holes' (record.h: the 16.9 KB the whole struct would cost is mostly
 * holes). */
static void clear_for(struct custos_record *rec, const struct member *m)
{
	uint8_t *p = (uint8_t *)rec;
	size_t at = 0, end = offsetof(R, u) + m->size;

	for (uint32_t i = 0; i < m->nholes; i++) {
		memset(p + at, 0, m->holes[i].off - at);
		at = m->holes[i].off + m->holes[i].cap;
	}
	memset(p + at, 0, end - at);
}

/* A NUL right after each hole's bytes, when it has room for one. */
static void terminate_holes(struct custos_record *rec, const struct member *m)
{
	uint8_t *p = (uint8_t *)rec;

	for (uint32_t i = 0; i < m->nholes; i++) {
		const struct hole *h = &m->holes[i];
		uint32_t len;

		memcpy(&len, p + h->len_off, sizeof(len));
		if (len < h->cap)
			p[h->off + len] = 0;
	}
}

int record_decode(struct cbr *r, struct custos_record *rec)
{
	const struct schema *parts[3];
	const struct kind_desc *d;
	uint64_t kind;
	size_t n;
	int ret;

	ret = peek_kind(r, &kind);
	if (ret)
		return ret;
	d = find_kind(kind);
	if (!d)
		return -CUSTOS_ERR_MALFORMED;
	n = parts_of(d, parts);
	clear_for(rec, d->mem);
	ret = schema_decode(r, parts, n, rec);
	if (!ret)
		terminate_holes(rec, d->mem);
	return ret;
}

const char *record_cstr(char *dst, size_t cap, const uint8_t *p, uint32_t n)
{
	size_t len = n < cap - 1 ? n : cap - 1;
	const uint8_t *nul = memchr(p, 0, len);

	if (nul)
		len = (size_t)(nul - p);
	memcpy(dst, p, len);
	dst[len] = '\0';
	return dst;
}

int record_set_bytes(uint8_t *dst, uint32_t *dst_len, size_t cap, const char *src)
{
	size_t n = strlen(src);
	int truncated = n > cap;

	if (truncated)
		n = cap;
	memcpy(dst, src, n);
	*dst_len = (uint32_t)n;
	return truncated;
}
