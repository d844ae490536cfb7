/* An upper-casing echo server and its client on libevent (libevent_core: evconnlistener and
 * bufferevents), knowing nothing of muxlab. The backend is libevent's choice: epoll, or poll
 * with EVENT_NOEPOLL=1, or select with EVENT_NOEPOLL=1 EVENT_NOPOLL=1 as well.
 *
 *   libevent_echo server PORT CLIENTS   serves CLIENTS connections, then ends
 *   libevent_echo client PORT MESSAGE   sends MESSAGE, prints the answer
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct event_base* base;
static int clients_left;
static int served;
static size_t expected;

static void server_read(struct bufferevent* bev, void* arg) {
  (void)arg;
  struct evbuffer* in = bufferevent_get_input(bev);
  char chunk[4096];
  int n;
  while ((n = evbuffer_remove(in, chunk, sizeof chunk)) > 0) {
    for (int i = 0; i < n; ++i)
      chunk[i] = (char)toupper((unsigned char)chunk[i]);
    bufferevent_write(bev, chunk, (size_t)n);
  }
}

static void server_event(struct bufferevent* bev, short what, void* arg) {
  (void)arg;
  if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return;
  bufferevent_free(bev);
  ++served;
  if (--clients_left == 0) event_base_loopexit(base, NULL);
}

static void accepted(struct evconnlistener* l, evutil_socket_t fd, struct sockaddr* a, int len,
                     void* arg) {
  (void)l, (void)a, (void)len, (void)arg;
  struct bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(bev, server_read, NULL, server_event, NULL);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void client_read(struct bufferevent* bev, void* arg) {
  (void)arg;
  struct evbuffer* in = bufferevent_get_input(bev);
  if (evbuffer_get_length(in) < expected) return;
  char answer[4096];
  const int n = evbuffer_remove(in, answer, sizeof answer - 1);
  answer[n < 0 ? 0 : n] = '\0';
  printf("libevent_echo client (%s): %s\n", event_base_get_method(base), answer);
  bufferevent_free(bev); /* the server sees the end, and counts this client served */
  event_base_loopexit(base, NULL);
}

static struct sockaddr_in server_at;
static const char* message;
static int tries_left = 500;
static void connect_to_server(evutil_socket_t fd, short what, void* arg);

static void client_event(struct bufferevent* bev, short what, void* arg) {
  (void)arg;
  if (what & BEV_EVENT_CONNECTED) {
    bufferevent_write(bev, message, strlen(message));
    return;
  }
  if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return;
  bufferevent_free(bev);
  /* Refused: the server may not listen yet, as when the client starts first. */
  if (--tries_left == 0) {
    fprintf(stderr, "libevent_echo client: nobody listens\n");
    event_base_loopexit(base, NULL);
    return;
  }
  const struct timeval pause = {0, 10000};
  event_base_once(base, -1, EV_TIMEOUT, connect_to_server, NULL, &pause);
}

static void connect_to_server(evutil_socket_t fd, short what, void* arg) {
  (void)fd, (void)what, (void)arg;
  struct bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(bev, client_read, NULL, client_event, NULL);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  if (bufferevent_socket_connect(bev, (struct sockaddr*)&server_at, sizeof server_at) != 0)
    client_event(bev, BEV_EVENT_ERROR, NULL);
}

int main(int argc, char** argv) {
  if (argc != 4 || (strcmp(argv[1], "server") != 0 && strcmp(argv[1], "client") != 0)) {
    fprintf(stderr, "usage: libevent_echo server PORT CLIENTS | client PORT MESSAGE\n");
    return 2;
  }
  base = event_base_new();
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (strcmp(argv[1], "server") == 0) {
    clients_left = atoi(argv[3]);
    struct evconnlistener* l =
        evconnlistener_new_bind(base, accepted, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                (struct sockaddr*)&at, sizeof at);
    if (l == NULL) {
      perror("libevent_echo server: listen");
      return 1;
    }
    event_base_dispatch(base);
    printf("libevent_echo server (%s): served %d clients\n", event_base_get_method(base), served);
    evconnlistener_free(l);
  } else {
    message = argv[3];
    expected = strlen(message);
    server_at = at;
    connect_to_server(-1, 0, NULL);
    event_base_dispatch(base);
  }
  event_base_free(base);
  return 0;
}
