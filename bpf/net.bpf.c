// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Network capture (kinds 64-69) from the per-syscall tracepoints: connect,
 * accept/accept4, bind, listen, the destinations of datagrams sent on
 * unconnected IPv4/IPv6 sockets (sendto, sendmsg, sendmmsg), and the
 * creation of the few sockets a forensic examiner asks about (socket:
 * packet capture, raw IP, the audit netlink socket). The address a
 * caller names (connect's peer, bind's address, a datagram's destination)
 * is read from its sockaddr at exit; the socket's own side comes from the
 * kernel's struct sock. Addresses are stored as docs/format.md says: 4 or
 * 16 bytes, or the unix path; ports in host order. A user message sent
 * on the audit netlink socket (libpam's result of every authentication,
 * account check and session) becomes an auth record (kind 11) with its
 * text.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "common.bpf.h"

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define AF_PACKET 17
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define SOCK_TYPE_MASK 0xf	/* the type argument's other bits are flags */
#define NETLINK_AUDIT 9
#define SA_MAX 112		/* sizeof(struct sockaddr_un), rounded up */

/* The struct sock behind fd, NULL when fd is not a socket. */
static __always_inline struct sock *fd_sock(long fd)
{
	struct file *f = custos_fd_file(fd);
	struct socket *so;

	if (!f)
		return NULL;
	/* A socket's file has socket_file_ops; its private_data is the
	 * struct socket whose ->file points back at it. */
	so = BPF_CORE_READ(f, private_data);
	if (!so || BPF_CORE_READ(so, file) != f)
		return NULL;
	return BPF_CORE_READ(so, sk);
}

/* A unix socket's bound name. OUT: addr, *len. */
static __always_inline void unix_name(struct sock *sk, __u8 *addr, __u16 *len)
{
	struct unix_sock *u = (struct unix_sock *)sk;
	struct unix_address *ua = BPF_CORE_READ(u, addr);
	__u32 n;

	*len = 0;
	if (!ua)
		return;
	n = BPF_CORE_READ(ua, len);
	if (n <= 2 || n > 2 + CUSTOS_EV_ADDR_MAX)
		return;
	n -= 2;		/* minus sun_family */
	n &= 127;	/* a no-op after the check: the verifier's bound */
	if (n == 0 || bpf_probe_read_kernel(addr, n, (const char *)ua->name + 2) < 0)
		return;
	if (addr[0] != 0 && addr[(n - 1) & 127] == 0)
		n--;	/* a pathname's NUL; abstract names keep every byte */
	*len = n;
}

/* The socket's own side (local) or its peer (remote). */
static __always_inline void sock_side(struct sock *sk, bool remote, __u8 *addr, __u16 *len,
				      __u16 *port)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);

	*len = 0;
	*port = 0;
	if (fam == AF_INET) {
		__u32 a = remote ? BPF_CORE_READ(sk, __sk_common.skc_daddr)
				 : BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);

		__builtin_memcpy(addr, &a, 4);
		*len = 4;
	} else if (fam == AF_INET6) {
		struct in6_addr a = remote ? BPF_CORE_READ(sk, __sk_common.skc_v6_daddr)
					   : BPF_CORE_READ(sk, __sk_common.skc_v6_rcv_saddr);

		__builtin_memcpy(addr, &a, 16);
		*len = 16;
	} else if (fam == AF_UNIX && !remote) {
		unix_name(sk, addr, len);
		return;
	} else {
		return;
	}
	*port = remote ? bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport))
		       : BPF_CORE_READ(sk, __sk_common.skc_num);
}

/* A sockaddr from user space, of family fam and addrlen bytes. */
static __always_inline void user_addr(__u64 uaddr, __u64 addrlen, __u16 fam, __u8 *addr,
				      __u16 *len, __u16 *port)
{
	__u8 sa[128];	/* SA_MAX read, indexed under a 127 mask */
	__u32 n = addrlen > SA_MAX ? SA_MAX : (__u32)addrlen;

	*len = 0;
	*port = 0;
	if (!uaddr || n < 2)
		return;
	__builtin_memset(sa, 0, sizeof(sa));
	n &= 127;	/* a no-op after the clamp: the verifier's bound */
	if (n > SA_MAX || bpf_probe_read_user(sa, n, (const void *)uaddr) < 0)
		return;
	if (fam == AF_INET && n >= 8) {
		__builtin_memcpy(addr, sa + 4, 4);
		*len = 4;
		*port = ((__u16)sa[2] << 8) | sa[3];
	} else if (fam == AF_INET6 && n >= 24) {
		__builtin_memcpy(addr, sa + 8, 16);
		*len = 16;
		*port = ((__u16)sa[2] << 8) | sa[3];
	} else if (fam == AF_UNIX) {
		__u32 i, m = n - 2;

		if (m > CUSTOS_EV_ADDR_MAX)
			m = CUSTOS_EV_ADDR_MAX;
		for (i = 0; i < CUSTOS_EV_ADDR_MAX; i++) {
			if (i >= m || (sa[2] != 0 && sa[(2 + i) & 127] == 0))
				break;
			addr[i] = sa[(2 + i) & 127];
		}
		*len = i;
	}
}

/* What the exit handler needs from the call's arguments. */
struct nspec {
	int fd;		/* the socket */
	int uaddr;	/* argument holding a user sockaddr, -1 none */
	int addrlen;
	int accept;	/* the result is a new socket */
	int backlog;
};

static __always_inline int net_exit(struct trace_event_raw_sys_exit *ctx, __u32 kind,
				    struct nspec s, __u64 uaddr, __u64 addrlen)
{
	struct custos_args p;
	struct custos_ev_net *e;
	struct sock *sk;
	long ret = ctx->ret;

	if (!custos_take(ctx, &p))
		return 0;
	sk = fd_sock(s.accept && ret >= 0 ? ret : (long)p.args[s.fd & 7]);
	if (!sk)
		return 0;	/* not a socket (EBADF, ENOTSOCK): not network evidence */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(kind);
		return 0;
	}
	fill_hdr(&e->hdr, kind);
	e->result = ret;
	e->nr = p.nr;
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->sock_type = BPF_CORE_READ(sk, sk_type);
	e->protocol = BPF_CORE_READ(sk, sk_protocol);
	e->pad = 0;
	e->backlog = s.backlog >= 0 ? (__u32)p.args[s.backlog & 7] : 0;
	if (s.uaddr >= 0) {
		uaddr = p.args[s.uaddr & 7];
		addrlen = p.args[s.addrlen & 7];
	}
	sock_side(sk, false, e->local, &e->local_len, &e->local_port);
	e->remote_len = 0;
	e->remote_port = 0;
	if (kind == CUSTOS_EV_BIND) {
		/* The address asked for (the socket's, if bound, says the same). */
		user_addr(uaddr, addrlen, e->family, e->local, &e->local_len, &e->local_port);
	} else if (kind == CUSTOS_EV_ACCEPT) {
		if (ret >= 0)
			sock_side(sk, true, e->remote, &e->remote_len, &e->remote_port);
	} else if (kind == CUSTOS_EV_CONNECT || kind == CUSTOS_EV_SEND) {
		user_addr(uaddr, addrlen, e->family, e->remote, &e->remote_len, &e->remote_port);
	}
	custos_submit(e, sizeof(*e));
	return 0;
}

#define NSPEC(...) ((struct nspec){ .fd = 0, .uaddr = -1, .addrlen = -1, .accept = 0, \
	.backlog = -1, __VA_ARGS__ })
#pragma clang diagnostic ignored "-Winitializer-overrides"

#define NET_EXIT(sc, kind, ...)                                                    \
	SEC("tracepoint/syscalls/sys_exit_" #sc)                                   \
	int exit_##sc(struct trace_event_raw_sys_exit *ctx)                        \
	{                                                                          \
		return net_exit(ctx, kind, NSPEC(__VA_ARGS__), 0, 0);              \
	}

NET_EXIT(connect, CUSTOS_EV_CONNECT, .uaddr = 1, .addrlen = 2)
NET_EXIT(accept, CUSTOS_EV_ACCEPT, .accept = 1)
NET_EXIT(accept4, CUSTOS_EV_ACCEPT, .accept = 1)
NET_EXIT(bind, CUSTOS_EV_BIND, .uaddr = 1, .addrlen = 2)
NET_EXIT(listen, CUSTOS_EV_LISTEN, .backlog = 1)

/* Datagram sends: kept only for an IPv4/IPv6 datagram socket and a named
 * destination; other sends cost one check at exit. */
static __always_inline bool udp_sk(struct sock *sk)
{
	__u16 fam;

	if (!sk || BPF_CORE_READ(sk, sk_type) != SOCK_DGRAM)
		return false;
	fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	return fam == AF_INET || fam == AF_INET6;
}

static __always_inline bool udp_sock(long fd)
{
	return udp_sk(fd_sock(fd));
}

/* The audit system's netlink socket (NETLINK_AUDIT). */
static __always_inline bool audit_sk(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_family) == AF_NETLINK &&
	       BPF_CORE_READ(sk, sk_protocol) == NETLINK_AUDIT;
}

#define NLMSG_HDRLEN 16		/* struct nlmsghdr */
#define AUDIT_USER 1005		/* linux/audit.h */
#define AUDIT_FIRST_USER_MSG 1100
#define AUDIT_USER_TTY 1124
#define AUDIT_LAST_USER_MSG 1199
#define AUDIT_FIRST_USER_MSG2 2100
#define AUDIT_LAST_USER_MSG2 2999

/* The user message types kept (docs/capture.md): the ranges the kernel
 * itself treats as user messages (AUDIT_USER and both FIRST..LAST_USER
 * ranges: logins, authentications, account checks, sessions, credential
 * and password changes, account management), except AUDIT_USER_TTY,
 * which carries what was typed on a terminal (it may hold a password).
 * The control messages (auditctl's rule and status requests, 1000-1099)
 * are not kept: the socket record shows who opened the socket. */
static __always_inline bool audit_user_type(__u32 t)
{
	return t == AUDIT_USER ||
	       (t >= AUDIT_FIRST_USER_MSG && t <= AUDIT_LAST_USER_MSG && t != AUDIT_USER_TTY) ||
	       (t >= AUDIT_FIRST_USER_MSG2 && t <= AUDIT_LAST_USER_MSG2);
}

/* A send of len bytes at buf on the audit socket: an auth record when
 * they start with a netlink header of a user message type, whatever the
 * send's result (a refused report is evidence too). The header's length
 * and the send's bound the payload; its first AUDIT_TEXT_MAX bytes are
 * kept. */
static __always_inline int auth_exit(struct trace_event_raw_sys_exit *ctx, __u64 buf, __u64 len)
{
	struct custos_ev_auth *e;
	struct custos_args p;
	__u32 nlh[2] = {};	/* nlmsg_len; nlmsg_type | nlmsg_flags << 16 */
	__u64 n;

	if (len < NLMSG_HDRLEN || bpf_probe_read_user(nlh, sizeof(nlh), (const void *)buf) < 0 ||
	    !audit_user_type(nlh[1] & 0xffff) || !custos_take(ctx, &p))
		return 0;
	n = nlh[0] < len ? nlh[0] : len;
	n = n > NLMSG_HDRLEN ? n - NLMSG_HDRLEN : 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(CUSTOS_EV_AUTH);
		return 0;
	}
	fill_hdr(&e->hdr, CUSTOS_EV_AUTH);
	e->result = ctx->ret;
	e->nr = p.nr;
	e->msg_type = nlh[1] & 0xffff;
	e->text_truncated = n > CUSTOS_EV_AUDIT_TEXT_MAX;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	if (n > CUSTOS_EV_AUDIT_TEXT_MAX)
		n = CUSTOS_EV_AUDIT_TEXT_MAX;
	e->text_len = 0;
	if (n > 0 && bpf_probe_read_user(e->text, n, (const void *)(buf + NLMSG_HDRLEN)) == 0)
		e->text_len = n;
	else if (n > 0)
		e->text_truncated = 1;	/* unreadable at exit */
	custos_submit(e, sizeof(*e));
	return 0;
}

/* struct user_msghdr starts with msg_name and msg_namelen; a struct
 * mmsghdr starts with one. */
static __always_inline void msg_name(__u64 msg, __u64 *name, __u64 *len)
{
	__u32 n = 0;

	*name = 0;
	bpf_probe_read_user(name, sizeof(*name), (const void *)msg);
	bpf_probe_read_user(&n, sizeof(n), (const void *)(msg + 8));
	*len = n;
}

/* sendto and sendmsg are looked at only when they name a destination
 * (dest_addr, msg_name): sends on connected sockets, the common case,
 * cost a register read. libaudit names the kernel (nl_pid 0) in every
 * message it sends, so this sees PAM's reports; a send(2) or a sendmsg
 * with no name on the audit socket is not recorded (docs/capture.md). */
SEC("tracepoint/syscalls/sys_exit_sendto")
int exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct sock *sk;

	if (!regs->r8)
		return 0;
	sk = fd_sock(regs->di);
	if (sk && audit_sk(sk))
		return auth_exit(ctx, regs->si, regs->dx);
	if (!udp_sk(sk))
		return 0;
	return net_exit(ctx, CUSTOS_EV_SEND, NSPEC(.uaddr = 4, .addrlen = 5), 0, 0);
}

/* sendmsg on the audit socket: the message is the first iovec's bytes
 * (libaudit sends with sendto; a header split over iovecs is not seen). */
SEC("tracepoint/syscalls/sys_exit_sendmsg")
int exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	__u64 name = 0, len = 0, iov[2] = {};
	struct sock *sk;

	msg_name(regs->si, &name, &len);
	if (!name)
		return 0;
	sk = fd_sock(regs->di);
	if (sk && audit_sk(sk)) {
		__u64 mi[2] = {};	/* msg_iov, msg_iovlen */

		if (bpf_probe_read_user(mi, sizeof(mi), (const void *)(regs->si + 16)) < 0 ||
		    !mi[0] || !mi[1] || bpf_probe_read_user(iov, sizeof(iov), (const void *)mi[0]) < 0)
			return 0;
		return auth_exit(ctx, iov[0], iov[1]);
	}
	if (!udp_sk(sk))
		return 0;
	return net_exit(ctx, CUSTOS_EV_SEND, NSPEC(), name, len);
}

#define MMSG_MAX 8		/* messages of one sendmmsg recorded */
#define MMSGHDR_SIZE 64		/* sizeof(struct mmsghdr) on x86-64 */

/* sendmmsg(fd, msgvec, vlen, flags): one send record per message sent
 * (the result is how many were) that names a destination, for the first
 * MMSG_MAX; when the call failed, the first message's. Each record's
 * result is the call's. */
SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int exit_sendmmsg(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long sent = ctx->ret > 0 ? ctx->ret : 1;
	__u64 vec = regs->si;
	int i;

	if (!udp_sock(regs->di))
		return 0;
	for (i = 0; i < MMSG_MAX && i < sent; i++) {
		__u64 name = 0, len = 0;

		msg_name(vec + (__u64)i * MMSGHDR_SIZE, &name, &len);
		if (name)
			net_exit(ctx, CUSTOS_EV_SEND, NSPEC(), name, len);
	}
	return 0;
}

/* socket(family, type, protocol): recorded, whatever its result, only for
 * the sockets of forensic interest, decided from the arguments before
 * anything else so that other sockets cost a few register reads:
 * AF_PACKET of any type (packet capture and injection), SOCK_RAW of
 * AF_INET/AF_INET6 (raw IP: crafted packets, SYN scans, ICMP tunnels),
 * and AF_NETLINK NETLINK_AUDIT (the audit system's control socket:
 * auditctl, auditd, and PAM-aware programs reporting logins). A refused
 * one (-EPERM without CAP_NET_RAW) is an attempt, and kept. */
SEC("tracepoint/syscalls/sys_exit_socket")
int exit_socket(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	int family = (int)regs->di, type = (int)regs->si, protocol = (int)regs->dx;
	struct custos_ev_net *e;
	struct custos_args p;

	if (!(family == AF_PACKET ||
	      ((family == AF_INET || family == AF_INET6) && (type & SOCK_TYPE_MASK) == SOCK_RAW) ||
	      (family == AF_NETLINK && protocol == NETLINK_AUDIT)))
		return 0;
	if (!custos_take(ctx, &p))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(CUSTOS_EV_SOCKET);
		return 0;
	}
	fill_hdr(&e->hdr, CUSTOS_EV_SOCKET);
	e->result = ctx->ret;
	e->nr = p.nr;
	e->family = (__u16)family;
	e->sock_type = (__u16)(type & SOCK_TYPE_MASK);
	e->protocol = (__u16)protocol;	/* AF_PACKET: an ethertype, network order */
	e->local_len = 0;
	e->remote_len = 0;
	e->local_port = 0;
	e->remote_port = 0;
	e->pad = 0;
	e->backlog = (__u32)type & ~(__u32)SOCK_TYPE_MASK;
	custos_submit(e, sizeof(*e));
	return 0;
}
