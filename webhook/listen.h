/* listen: the server's listening sockets - parsing a listen address,
 * opening the socket, and each event loop's accepting copy of it.
 *
 * Addresses are "HOST:PORT", "[V6]:PORT", or ":PORT" (every address: the
 * IPv6 wildcard with IPv4 mapped when the host has IPv6, else 0.0.0.0).
 * Port 0 asks the kernel for a free port; the address actually bound is
 * reported back so that it can be logged.
 *
 * Accepting stops for LISTEN_RETRY_MS, or until a connection of the loop
 * closes, when the connection cap is reached (netguard_may_accept) or
 * accept() runs out of descriptors or memory: a pending connection would
 * otherwise wake the loop again at once, forever. */
#ifndef WH_LISTEN_H
#define WH_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "worker.h"

#define LISTEN_HOST_MAX 256
#define LISTEN_PORT_MAX 16
/* Room for "[v6 address]:port", or the address as given. */
#define LISTEN_BOUND_MAX 300
/* How long accepting pauses at the connection cap or the descriptor limit. */
#define LISTEN_RETRY_MS 250

/* Splits `addr` into host (brackets removed; "" for every address) and
 * port text, at the last ':'. False with a message naming `addr`. The port
 * is checked when the socket is opened. */
bool listen_parse(const char *addr, char host[LISTEN_HOST_MAX], char port[LISTEN_PORT_MAX],
                  char *err, size_t errsz);

/* Opens a non-blocking listening socket on `addr`. Returns the descriptor,
 * with the bound address ("127.0.0.1:8443", "[::]:8443") in `bound` and
 * its port in *port; -1 with a message in `err` on failure. */
int listen_open(const char *addr, char bound[LISTEN_BOUND_MAX], unsigned *port, char *err,
                size_t errsz);

/* Gives the worker's loop its own copy of the listening socket `fd`,
 * accepting TLS connections (or plain HTTP when `plain`) into *sock. */
bool listen_attach(worker_t *w, int fd, bool plain, h2o_socket_t **sock, char *err, size_t errsz);

/* Closes the loop's copy *sock (NULL: nothing to do). Connections the
 * kernel has completed but no loop has taken yet would be reset by the last
 * close: they are taken in first, to be answered while the loop drains. */
void listen_close(h2o_socket_t **sock);

/* A connection of the worker closed: accepting resumes if it paused. */
void listen_on_close(worker_t *w);

#endif
