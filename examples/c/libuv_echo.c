/* An upper-casing echo server and its client on libuv, knowing nothing of muxlab. libuv waits
 * with epoll on Linux and wakes its loop through an eventfd (uv_async).
 *
 *   libuv_echo server PORT CLIENTS   serves CLIENTS connections, then ends
 *   libuv_echo client PORT MESSAGE   sends MESSAGE, prints the answer
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t* loop;
static uv_tcp_t listener;
static struct sockaddr_in at;
static int clients_left, served;
static const char* message;
static size_t expected;
static char answer[4096];
static size_t answered;
static int tries_left = 500;
static uv_timer_t retry;

static void allocate(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  (void)h;
  buf->base = malloc(suggested);
  buf->len = suggested;
}

static void free_handle(uv_handle_t* h) {
  free(h);
}

static void written(uv_write_t* w, int status) {
  (void)status;
  free(w->data);
  free(w);
}

static void connection_closed(uv_handle_t* h) {
  free(h);
  ++served;
  if (--clients_left == 0) uv_close((uv_handle_t*)&listener, NULL);
}

static void server_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  if (n > 0) {
    for (ssize_t i = 0; i < n; ++i)
      buf->base[i] = (char)toupper((unsigned char)buf->base[i]);
    uv_write_t* w = malloc(sizeof *w);
    w->data = buf->base;
    const uv_buf_t out = uv_buf_init(buf->base, (unsigned)n);
    uv_write(w, s, &out, 1, written);
    return;
  }
  free(buf->base);
  if (n < 0) uv_close((uv_handle_t*)s, connection_closed);
}

static void accepted(uv_stream_t* server, int status) {
  if (status < 0) return;
  uv_tcp_t* c = malloc(sizeof *c);
  uv_tcp_init(loop, c);
  if (uv_accept(server, (uv_stream_t*)c) == 0)
    uv_read_start((uv_stream_t*)c, allocate, server_read);
  else
    uv_close((uv_handle_t*)c, free_handle);
}

static void client_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  if (n > 0 && answered + (size_t)n < sizeof answer) {
    memcpy(answer + answered, buf->base, (size_t)n);
    answered += (size_t)n;
  }
  free(buf->base);
  if (answered >= expected || n < 0) {
    answer[answered] = '\0';
    printf("libuv_echo client: %s\n", answer);
    uv_close((uv_handle_t*)s, free_handle);
  }
}

static void start_connect(uv_timer_t* t);

static void connected(uv_connect_t* c, int status) {
  uv_stream_t* s = c->handle;
  free(c);
  if (status < 0) { /* refused: the server may not listen yet */
    uv_close((uv_handle_t*)s, free_handle);
    if (--tries_left > 0)
      uv_timer_start(&retry, start_connect, 10, 0);
    else
      fprintf(stderr, "libuv_echo client: nobody listens\n");
    return;
  }
  uv_close((uv_handle_t*)&retry, NULL);
  uv_write_t* w = malloc(sizeof *w);
  w->data = NULL;
  const uv_buf_t out = uv_buf_init((char*)message, (unsigned)expected);
  uv_write(w, s, &out, 1, written);
  uv_read_start(s, allocate, client_read);
}

static void start_connect(uv_timer_t* t) {
  (void)t;
  uv_tcp_t* c = malloc(sizeof *c);
  uv_tcp_init(loop, c);
  uv_connect_t* request = malloc(sizeof *request);
  uv_tcp_connect(request, c, (const struct sockaddr*)&at, connected);
}

int main(int argc, char** argv) {
  if (argc != 4 || (strcmp(argv[1], "server") != 0 && strcmp(argv[1], "client") != 0)) {
    fprintf(stderr, "usage: libuv_echo server PORT CLIENTS | client PORT MESSAGE\n");
    return 2;
  }
  loop = uv_default_loop();
  uv_ip4_addr("127.0.0.1", atoi(argv[2]), &at);
  if (strcmp(argv[1], "server") == 0) {
    clients_left = atoi(argv[3]);
    uv_tcp_init(loop, &listener);
    if (uv_tcp_bind(&listener, (const struct sockaddr*)&at, 0) != 0 ||
        uv_listen((uv_stream_t*)&listener, 16, accepted) != 0) {
      fprintf(stderr, "libuv_echo server: cannot listen\n");
      return 1;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    printf("libuv_echo server: served %d clients\n", served);
  } else {
    message = argv[3];
    expected = strlen(message);
    uv_timer_init(loop, &retry);
    start_connect(NULL);
    uv_run(loop, UV_RUN_DEFAULT);
  }
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
