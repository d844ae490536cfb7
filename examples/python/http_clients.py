"""Clients of delay_http_server.py: the same N requests made one after the other with blocking
sockets, or all at once on one selectors loop. Each prints what it got and how long it took, in
tenths of a second, so that the blocking one shows 3.0 s for three requests and the multiplexed
one 1.0 s (in virtual time under `muxlab exec`, exactly; on the real kernel, about).

    python3 http_clients.py blocking|selectors PORT [REQUESTS]
"""
import selectors
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"


def wait_for_server(port):
    """Connects (and hangs up) until someone listens: the server may start after us."""
    for _ in range(500):
        try:
            socket.create_connection(("localhost", port)).close()
            return
        except ConnectionRefusedError:
            time.sleep(0.01)
    raise SystemExit(f"nobody listens on port {port}")


def blocking(port, count):
    answers = []
    for _ in range(count):
        with socket.create_connection(("localhost", port)) as sock:
            sock.sendall(REQUEST)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
            answers.append(answer)
    return answers


def multiplexed(port, count):
    loop = selectors.DefaultSelector()
    answers = {}
    for i in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        answers[sock] = b""
        loop.register(sock, selectors.EVENT_WRITE, i)
    while loop.get_map():
        for key, events in loop.select():
            sock = key.fileobj
            if events & selectors.EVENT_WRITE:
                sock.send(REQUEST)  # a short request: one send takes it
                loop.modify(sock, selectors.EVENT_READ, key.data)
                continue
            chunk = sock.recv(4096)
            if chunk:
                answers[sock] += chunk
            else:
                loop.unregister(sock)
                sock.close()
    return list(answers.values())


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    wait_for_server(port)
    start = time.monotonic()
    answers = blocking(port, count) if mode == "blocking" else multiplexed(port, count)
    elapsed = time.monotonic() - start
    ok = sum(a.endswith(b"\r\n\r\nOK") for a in answers)
    print(f"{mode}: {ok} of {count} answers OK in {elapsed:.1f} s")
    sys.exit(0 if ok == count else 1)
