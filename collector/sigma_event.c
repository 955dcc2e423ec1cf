/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Sigma view of our records (sigma.h; the table is in
 * docs/triage.md): which record kinds are which Sigma category (and our
 * own custos_socket), and how
 * each Sigma field is computed from a record, the acting process's image
 * and its parent's image and command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sigma.h"

static const char *const field_names[SIGMA_F_COUNT] = {
	[SIGMA_F_IMAGE] = "Image", [SIGMA_F_COMMANDLINE] = "CommandLine",
	[SIGMA_F_PARENTIMAGE] = "ParentImage", [SIGMA_F_PARENTCOMMANDLINE] = "ParentCommandLine",
	[SIGMA_F_CURRENTDIRECTORY] = "CurrentDirectory", [SIGMA_F_USER] = "User",
	[SIGMA_F_LOGONID] = "LogonId", [SIGMA_F_PROCESSID] = "ProcessId",
	[SIGMA_F_PARENTPROCESSID] = "ParentProcessId", [SIGMA_F_TARGETFILENAME] = "TargetFilename",
	[SIGMA_F_DESTINATIONIP] = "DestinationIp", [SIGMA_F_DESTINATIONPORT] = "DestinationPort",
	[SIGMA_F_SOURCEIP] = "SourceIp", [SIGMA_F_SOURCEPORT] = "SourcePort",
	[SIGMA_F_INITIATED] = "Initiated", [SIGMA_F_SOCKETFAMILY] = "SocketFamily",
	[SIGMA_F_SOCKETTYPE] = "SocketType", [SIGMA_F_SOCKETPROTOCOL] = "SocketProtocol",
	[SIGMA_F_AUTH_TYPE] = "type", [SIGMA_F_AUTH_OP] = "op", [SIGMA_F_AUTH_ACCT] = "acct",
	[SIGMA_F_AUTH_EXE] = "exe", [SIGMA_F_AUTH_HOSTNAME] = "hostname",
	[SIGMA_F_AUTH_ADDR] = "addr", [SIGMA_F_AUTH_TERMINAL] = "terminal",
	[SIGMA_F_AUTH_RES] = "res", [SIGMA_F_AUTH_SOURCE] = "AuthSource",
	[SIGMA_F_AUTH_EUID] = "SenderEuid",
};

int sigma_field_by_name(const char *name)
{
	for (int i = 0; i < SIGMA_F_COUNT; i++)
		if (strcmp(name, field_names[i]) == 0)
			return i;
	return -1;
}


void sigma_cmdline(char *out, size_t cap, const uint8_t *argv, uint32_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	memcpy(out, argv, n);
	while (n > 0 && out[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
}

/* v in decimal into out (room for 21 bytes): no printf per field, two
 * digits per division. */
static void decimal(char *out, uint64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char tmp[20];
	size_t n = sizeof(tmp);

	while (v >= 100) {
		n -= 2;
		memcpy(tmp + n, pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		n -= 2;
		memcpy(tmp + n, pairs + 2 * v, 2);
	} else {
		tmp[--n] = (char)('0' + v);
	}
	memcpy(out, tmp + n, sizeof(tmp) - n);
	out[sizeof(tmp) - n] = '\0';
}

void sigma_event_subject(const struct custos_record *rec, struct sigma_event *ev,
			 struct sigma_event_buf *b)
{
	_Static_assert(sizeof(b->user) >= 21 && sizeof(b->pid) >= 21, "decimal needs 21 bytes");
	if (rec->subj.uid == 0)
		memcpy(b->user, "root", 5);
	else
		decimal(b->user, rec->subj.uid);
	decimal(b->logonid, rec->subj.loginuid);
	decimal(b->pid, rec->subj.pid);
	decimal(b->ppid, rec->subj.ppid);
	ev->f[SIGMA_F_USER] = b->user;
	ev->f[SIGMA_F_LOGONID] = b->logonid;
	ev->f[SIGMA_F_PROCESSID] = b->pid;
	ev->f[SIGMA_F_PARENTPROCESSID] = b->ppid;
}

static int exec_event(const struct custos_record *rec, const struct sigma_parent *parent,
		      struct sigma_event *ev, struct sigma_event_buf *b)
{
	const struct custos_exec *x = &rec->u.exec;

	if (x->result != 0)
		return 0;
	ev->cat = SIGMA_CAT_PROCESS_CREATION;
	ev->f[SIGMA_F_IMAGE] = x->exe_len ? record_cstr(b->image, sizeof(b->image), x->exe, x->exe_len)
					  : record_cstr(b->image, sizeof(b->image), x->filename,
						 x->filename_len);
	sigma_cmdline(b->cmdline, sizeof(b->cmdline), x->argv, x->argv_len);
	ev->f[SIGMA_F_COMMANDLINE] = b->cmdline;
	ev->f[SIGMA_F_CURRENTDIRECTORY] = record_cstr(b->cwd, sizeof(b->cwd), x->cwd, x->cwd_len);
	if (parent) {
		ev->f[SIGMA_F_PARENTIMAGE] = parent->image;
		ev->f[SIGMA_F_PARENTCOMMANDLINE] = parent->cmdline;
	}
	return 1;
}

static int file_event(const struct custos_record *rec, struct sigma_event *ev,
		      struct sigma_event_buf *b)
{
	const struct custos_file *f = &rec->u.file;
	int wr = (f->flags & O_ACCMODE) != O_RDONLY || (f->flags & (O_CREAT | O_TRUNC));

	if (f->result < 0)
		return 0;
	switch (rec->kind) {
	case CUSTOS_REC_OPEN:
		if (!wr)
			return 0;
		ev->f[SIGMA_F_TARGETFILENAME] =
			f->path_len ? record_cstr(b->target, sizeof(b->target), f->path, f->path_len)
				    : record_cstr(b->target, sizeof(b->target), f->path_raw, f->path_raw_len);
		break;
	case CUSTOS_REC_RENAME: case CUSTOS_REC_LINK: case CUSTOS_REC_SYMLINK:
		ev->f[SIGMA_F_TARGETFILENAME] =
			f->path2_len ? record_cstr(b->target, sizeof(b->target), f->path2, f->path2_len)
				     : record_cstr(b->target, sizeof(b->target), f->path2_raw,
					    f->path2_raw_len);
		break;
	default:
		return 0;
	}
	ev->cat = SIGMA_CAT_FILE_EVENT;
	return 1;
}

/* An address as inet_ntop writes it (IPv4 by hand: inet_ntop formats it
 * with sprintf, a tenth of an event's cost). NULL when n is not the
 * family's length. */
static const char *ip(char *out, size_t cap, uint64_t family, const uint8_t *a, uint32_t n)
{
	char *o = out;

	if (family == AF_INET && n == 4 && cap >= INET_ADDRSTRLEN) {
		for (int i = 0; i < 4; i++) {
			if (a[i] >= 100)
				*o++ = (char)('0' + a[i] / 100);
			if (a[i] >= 10)
				*o++ = (char)('0' + a[i] / 10 % 10);
			*o++ = (char)('0' + a[i] % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
		return out;
	}
	if (inet_ntop((int)family, a, out, (socklen_t)cap) == NULL ||
	    n != (family == AF_INET ? 4u : 16u))
		return NULL;
	return out;
}

void sigma_event_net_fields(const struct custos_record *rec, struct sigma_event *ev,
			    struct sigma_event_buf *b)
{
	const struct custos_net *n = &rec->u.net;
	int out = rec->kind == CUSTOS_REC_CONNECT;
	const char *local, *remote;

	local = ip(out ? b->sip : b->dip, sizeof(b->sip), n->family, n->local_addr,
		   n->local_addr_len);
	remote = ip(out ? b->dip : b->sip, sizeof(b->dip), n->family, n->remote_addr,
		    n->remote_addr_len);
	_Static_assert(sizeof(b->sport) >= 21 && sizeof(b->dport) >= 21, "decimal needs 21 bytes");
	decimal(out ? b->sport : b->dport, n->local_port);
	decimal(out ? b->dport : b->sport, n->remote_port);
	ev->cat = SIGMA_CAT_NETWORK_CONNECTION;
	ev->f[SIGMA_F_SOURCEIP] = out ? local : remote;
	ev->f[SIGMA_F_DESTINATIONIP] = out ? remote : local;
	ev->f[SIGMA_F_SOURCEPORT] = b->sport;
	ev->f[SIGMA_F_DESTINATIONPORT] = b->dport;
	ev->f[SIGMA_F_INITIATED] = out ? "true" : "false";
}

static int net_event(const struct custos_record *rec, struct sigma_event *ev,
		     struct sigma_event_buf *b)
{
	const struct custos_net *n = &rec->u.net;

	if ((n->family != AF_INET && n->family != AF_INET6) ||
	    (rec->kind != CUSTOS_REC_CONNECT && rec->kind != CUSTOS_REC_ACCEPT) ||
	    (n->result < 0 && n->result != -EINPROGRESS))
		return 0;
	sigma_event_net_fields(rec, ev, b);
	return 1;
}

/* custos_socket (ours): a socket the agent recorded (packet, raw IP,
 * audit netlink) that was created. Family and type by their C names
 * (a number when unnamed); protocol in decimal, an AF_PACKET ethertype in
 * host order (ETH_P_ALL is 3). */
static int socket_event(const struct custos_record *rec, struct sigma_event *ev,
			struct sigma_event_buf *b)
{
	static const char *const fams[] = { [AF_INET] = "AF_INET", [AF_INET6] = "AF_INET6",
		[AF_NETLINK] = "AF_NETLINK", [AF_PACKET] = "AF_PACKET" };
	static const char *const types[] = { [SOCK_STREAM] = "SOCK_STREAM",
		[SOCK_DGRAM] = "SOCK_DGRAM", [SOCK_RAW] = "SOCK_RAW", [SOCK_RDM] = "SOCK_RDM",
		[SOCK_SEQPACKET] = "SOCK_SEQPACKET", [SOCK_PACKET] = "SOCK_PACKET" };
	const struct custos_net *n = &rec->u.net;
	uint64_t proto = n->family == AF_PACKET ? ntohs((uint16_t)n->protocol) : n->protocol;

	if (n->result < 0)
		return 0;
	if (n->family < sizeof(fams) / sizeof(fams[0]) && fams[n->family])
		snprintf(b->sfamily, sizeof(b->sfamily), "%s", fams[n->family]);
	else
		snprintf(b->sfamily, sizeof(b->sfamily), "%llu", (unsigned long long)n->family);
	if (n->sock_type < sizeof(types) / sizeof(types[0]) && types[n->sock_type])
		snprintf(b->stype, sizeof(b->stype), "%s", types[n->sock_type]);
	else
		snprintf(b->stype, sizeof(b->stype), "%llu", (unsigned long long)n->sock_type);
	snprintf(b->sproto, sizeof(b->sproto), "%llu", (unsigned long long)proto);
	ev->cat = SIGMA_CAT_CUSTOS_SOCKET;
	ev->f[SIGMA_F_SOCKETFAMILY] = b->sfamily;
	ev->f[SIGMA_F_SOCKETTYPE] = b->stype;
	ev->f[SIGMA_F_SOCKETPROTOCOL] = b->sproto;
	return 1;
}

int sigma_event_from_record(const struct custos_record *rec, const struct sigma_parent *parent,
			    const char *image, struct sigma_event *ev, struct sigma_event_buf *b)
{
	int ok;

	memset(ev, 0, sizeof(*ev));
	ev->cat = SIGMA_CAT_OTHER;
	if (rec->kind == CUSTOS_REC_EXEC)
		ok = exec_event(rec, parent, ev, b);
	else if (rec->kind >= 32 && rec->kind <= 63)
		ok = file_event(rec, ev, b);
	else if (rec->kind == CUSTOS_REC_SOCKET)
		ok = socket_event(rec, ev, b);
	else if (rec->kind >= 64 && rec->kind <= 95)
		ok = net_event(rec, ev, b);
	else
		ok = 0;
	if (!ok) {
		ev->cat = SIGMA_CAT_OTHER;
		return 0;
	}
	sigma_event_subject(rec, ev, b);
	if (rec->kind != CUSTOS_REC_EXEC)
		ev->f[SIGMA_F_IMAGE] = image;
	return 1;
}
