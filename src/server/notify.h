/* The service manager's readiness protocol (sd_notify(3)), without
 * libsystemd: one datagram to the AF_UNIX socket named in $NOTIFY_SOCKET. */
#ifndef TC_SERVER_NOTIFY_H
#define TC_SERVER_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1", "STATUS=...", newline-separated)
 * when the process was started with NOTIFY_SOCKET (systemd Type=notify).
 * Returns 1 when sent, 0 when there is no socket to tell, -1 on error
 * (logged: the manager would otherwise wait for its start timeout). */
int tc_sd_notify(const char *state);

#endif
