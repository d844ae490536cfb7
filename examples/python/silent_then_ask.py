"""Two clients of http_200_servers.py: one connects and stays silent, then another asks.

The second client sends a request and gives up after DEADLINE seconds without an answer. A blocking
server is still waiting for the silent client's request, so the second one gets nothing; a
select server answers at once. It prints which, and how long it waited (virtual seconds under
`muxlab exec`, exactly; on the real kernel, about).

    python3 silent_then_ask.py PORT [DEADLINE_SECONDS]
"""
import socket
import sys
import time

from waiting import wait_for_server

REQUEST = b"GET / HTTP/1.0\r\n\r\n"


def ask(port, deadline):
    """The answer, or None if none came within the deadline."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(REQUEST)
        sock.settimeout(deadline)
        answer = b""
        try:
            while chunk := sock.recv(4096):
                answer += chunk
        except TimeoutError:
            return None
        return answer


if __name__ == "__main__":
    port = int(sys.argv[1])
    deadline = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    wait_for_server(port)
    silent = socket.create_connection(("127.0.0.1", port))  # connects, sends nothing
    start = time.monotonic()
    answer = ask(port, deadline)
    waited = time.monotonic() - start
    if answer is None:
        print(f"with a silent client connected: no answer, gave up after {waited:.1f} s")
    else:
        body = answer.partition(b"\r\n\r\n")[2].decode()
        print(f"with a silent client connected: answer {body!r} in {waited:.1f} s")
    silent.close()
