#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "xmalloc.h"

int ctl_connect(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int s;

	if (!path)
		path = getenv("MCPGUARD_CTL_SOCK") ? getenv("MCPGUARD_CTL_SOCK") : MG_CTL_SOCK;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(s);
		errno = e;
		return -1;
	}
	return s;
}

ssize_t ctl_send(int s, const char *buf, size_t len, int fd)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t r;

	if (len > MG_CTL_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		r = sendmsg(s, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

ssize_t ctl_recv(int s, char *buf, size_t cap, int *fd)
{
	struct iovec iov = {.iov_base = buf, .iov_len = cap ? cap - 1 : 0};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t r;

	if (fd)
		*fd = -1;
	if (cap < 2) {
		errno = EINVAL;
		return -1;
	}
	do
		r = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	/* Take the first fd passed; close any others so a peer cannot leak fds into us. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd && *fd < 0)
				*fd = got;
			else
				close(got);
		}
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (fd && *fd >= 0)
			close(*fd);
		if (fd)
			*fd = -1;
		errno = EMSGSIZE;
		return -1;
	}
	buf[r] = '\0';
	return r;
}

int ctl_call(int s, const cJSON *req, int fd, cJSON **reply, char *err, size_t errlen)
{
	char *text = cJSON_PrintUnformatted(req);
	char *buf;
	ssize_t n;
	cJSON *ok, *e;

	*reply = NULL;
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ctl_send(s, text, strlen(text), fd) < 0) {
		snprintf(err, errlen, "send to mcpguardd: %s", strerror(errno));
		free(text);
		return -1;
	}
	free(text);
	buf = xmalloc(MG_CTL_MAX + 1);
	n = ctl_recv(s, buf, MG_CTL_MAX + 1, NULL);
	if (n <= 0) {
		snprintf(err, errlen, "no reply from mcpguardd: %s",
			 n == 0 ? "connection closed" : strerror(errno));
		free(buf);
		return -1;
	}
	*reply = cJSON_ParseWithLength(buf, (size_t)n);
	free(buf);
	if (!*reply) {
		snprintf(err, errlen, "malformed reply from mcpguardd");
		return -1;
	}
	ok = cJSON_GetObjectItemCaseSensitive(*reply, "ok");
	if (!cJSON_IsTrue(ok)) {
		e = cJSON_GetObjectItemCaseSensitive(*reply, "error");
		snprintf(err, errlen, "mcpguardd: %s",
			 cJSON_IsString(e) ? e->valuestring : "request refused");
		cJSON_Delete(*reply);
		*reply = NULL;
		return -1;
	}
	return 0;
}

int ctl_place(int s, pid_t child, char *const argv[], char *session, size_t sesslen, uint64_t *cgid,
	      char *err, size_t errlen)
{
	cJSON *req = cJSON_CreateObject(), *arr, *reply = NULL, *v;
	int pidfd, rc = -1;

	pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0) {
		snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
		cJSON_Delete(req);
		return -1;
	}
	cJSON_AddStringToObject(req, "op", "place");
	arr = cJSON_AddArrayToObject(req, "argv");
	for (size_t i = 0; argv && argv[i] && i < 64; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(argv[i]));
	if (ctl_call(s, req, pidfd, &reply, err, errlen) == 0) {
		v = cJSON_GetObjectItemCaseSensitive(reply, "session");
		if (cJSON_IsString(v) && strlen(v->valuestring) < sesslen) {
			memcpy(session, v->valuestring, strlen(v->valuestring) + 1);
			v = cJSON_GetObjectItemCaseSensitive(reply, "cgid");
			*cgid = cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
			rc = 0;
		} else
			snprintf(err, errlen, "mcpguardd: reply without a session");
	}
	close(pidfd);
	cJSON_Delete(reply);
	cJSON_Delete(req);
	return rc;
}

int ctl_verdict(int s, const char *session, const char *action, const char *reason, char *err,
		size_t errlen)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL;
	int rc;

	cJSON_AddStringToObject(req, "op", "verdict");
	cJSON_AddStringToObject(req, "session", session);
	cJSON_AddStringToObject(req, "action", action);
	cJSON_AddStringToObject(req, "reason", reason ? reason : "");
	rc = ctl_call(s, req, -1, &reply, err, errlen);
	cJSON_Delete(reply);
	cJSON_Delete(req);
	return rc;
}

int ctl_metrics(int s, const char *session, const cJSON *deltas, char *err, size_t errlen)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL;
	int rc;

	cJSON_AddStringToObject(req, "op", "metrics");
	cJSON_AddStringToObject(req, "session", session);
	/* borrowed: deleting req leaves the caller's deltas alone */
	cJSON_AddItemReferenceToObject(req, "metrics", (cJSON *)deltas);
	rc = ctl_call(s, req, -1, &reply, err, errlen);
	cJSON_Delete(reply);
	cJSON_Delete(req);
	return rc;
}
