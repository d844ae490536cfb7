"""Fetching from delay_http_server.py without blocking: by busy polling, or by callbacks.

busy makes one non-blocking request and keeps trying: connect, then send until it goes through,
then recv until the end, catching BlockingIOError every time nothing is ready. callbacks makes
FETCHERS requests on one selectors loop, each a chain of callbacks (writable: send; readable:
recv until the end). Both take as long as the server's pause, whatever the count, but busy makes
far more calls: each prints how many times it called connect, send, recv or select (under
`muxlab exec` every call costs a virtual microsecond, so busy polling moves virtual time too).

    python3 fetch.py busy|callbacks PORT [FETCHERS]
"""
import selectors
import socket
import sys
import time

from waiting import wait_for_server

REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


def busy(port):
    sock = socket.socket()
    sock.setblocking(False)
    calls = 1
    try:
        sock.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    while True:  # until the connection is up and takes the request
        calls += 1
        try:
            sock.send(REQUEST)
            break
        except BlockingIOError:
            pass
    answer = b""
    while True:  # until the server hangs up
        calls += 1
        try:
            chunk = sock.recv(4096)
        except BlockingIOError:
            continue
        if not chunk:
            break
        answer += chunk
    sock.close()
    return [answer], calls


class Fetcher:
    loop = selectors.DefaultSelector()
    calls = 0
    answers = []

    def __init__(self, port):
        self.answer = b""
        self.sock = socket.socket()
        self.sock.setblocking(False)
        Fetcher.calls += 1
        try:
            self.sock.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        self.loop.register(self.sock, selectors.EVENT_WRITE, self.connected)

    def connected(self):
        Fetcher.calls += 1
        self.sock.send(REQUEST)  # a short request: one send takes it
        self.loop.modify(self.sock, selectors.EVENT_READ, self.readable)

    def readable(self):
        Fetcher.calls += 1
        chunk = self.sock.recv(4096)
        if chunk:
            self.answer += chunk
            return
        self.loop.unregister(self.sock)
        self.sock.close()
        Fetcher.answers.append(self.answer)


def callbacks(port, count):
    for _ in range(count):
        Fetcher(port)
    while Fetcher.loop.get_map():
        Fetcher.calls += 1
        for key, _ in Fetcher.loop.select():
            key.data()
    return Fetcher.answers, Fetcher.calls


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 and mode != "busy" else 1
    wait_for_server(port)
    start = time.monotonic()
    answers, calls = busy(port) if mode == "busy" else callbacks(port, count)
    elapsed = time.monotonic() - start
    ok = sum(a.startswith(b"HTTP/1.0 200 OK\r\n") and a.endswith(b"\r\n\r\nOK") for a in answers)
    print(f"{mode}: {ok} of {count} answers OK in {elapsed:.1f} s, {calls} calls")
    sys.exit(0 if ok == count else 1)
