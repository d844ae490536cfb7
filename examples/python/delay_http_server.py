"""An HTTP server that answers every GET with "OK", one second after the request came in.

It serves many clients at once (a selectors loop with a list of answers falling due), so the
second it waits is the same second for all of them: three clients asking together are answered
together. Standard library only; runs on the real kernel and under `muxlab exec` alike.

    python3 delay_http_server.py PORT [DELAY_SECONDS]
"""
import heapq
import selectors
import socket
import sys
import time

ANSWER = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK"


def serve(port, delay):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    listener.setblocking(False)
    loop = selectors.DefaultSelector()
    loop.register(listener, selectors.EVENT_READ)
    requests = {}  # socket -> the bytes of its request so far
    due = []  # (when, order, socket): answers waiting for their second
    order = 0
    while True:
        timeout = max(0.0, due[0][0] - time.monotonic()) if due else None
        for key, _ in loop.select(timeout):
            sock = key.fileobj
            if sock is listener:
                client, _ = listener.accept()
                client.setblocking(False)
                requests[client] = b""
                loop.register(client, selectors.EVENT_READ)
                continue
            data = sock.recv(4096)
            if not data:  # gone before asking: a probe, or a client that gave up
                loop.unregister(sock)
                del requests[sock]
                sock.close()
                continue
            requests[sock] += data
            if b"\r\n\r\n" in requests[sock]:
                loop.unregister(sock)
                heapq.heappush(due, (time.monotonic() + delay, order, sock))
                order += 1
        while due and due[0][0] <= time.monotonic():
            _, _, sock = heapq.heappop(due)
            sock.setblocking(True)
            sock.sendall(ANSWER)
            sock.close()
            del requests[sock]


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 1.0)
