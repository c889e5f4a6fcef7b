#include "common/sup_channel.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tc_sup_send(int chan, uint32_t type, const char *name, int fd)
{
	struct tc_sup_msg msg;
	memset(&msg, 0, sizeof(msg));
	msg.type = type;
	if (name)
		strncpy(msg.name, name, sizeof(msg.name) - 1);
	struct iovec iov = {.iov_base = &msg, .iov_len = sizeof(msg)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(chan, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(msg) ? 0 : -1;
}

/* Closes every descriptor carried in mh's control data. */
static void close_passed_fds(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

int tc_sup_recv(int chan, struct tc_sup_msg *msg, int *fd)
{
	*fd = -1;
	struct iovec iov = {.iov_base = msg, .iov_len = sizeof(*msg)};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;
	do
		n = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n < 0)
		return -1;
	int nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			nfds += (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	int ok = n == (ssize_t)sizeof(*msg) && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
		 nfds <= 1 && memchr(msg->name, '\0', sizeof(msg->name)) != NULL &&
		 msg->type >= TC_SUP_PEER_FD && msg->type <= TC_SUP_RELINK;
	if (!ok) {
		close_passed_fds(&mh);
		errno = EPROTO;
		return -1;
	}
	if (nfds == 1) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	}
	return 1;
}
