"""Clients of echo_servers.py: one that resets its connection, then one that asks and checks.

The first sends REQUEST and resets the connection at once (SO_LINGER with a zero timeout, then
close): the server must drop it and carry on. The second sends REQUEST, shuts its side down and
reads the answer to the end. For "SIZE N" it checks the length and SHA-256 of the N bytes
echo_servers.py promises; otherwise it prints the answer.

    python3 reset_then_ask.py PORT REQUEST      e.g. REQUEST "hello" or "SIZE 1048576"
"""
import hashlib
import socket
import struct
import sys

from waiting import wait_for_server


def numbered(size):
    """What echo_servers.py answers to SIZE: 16-byte lines, each its own number, cut at size."""
    return b"".join(b"%015d\n" % i for i in range(size // 16 + 1))[:size]


def reset(port, request):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(request)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # with a zero linger: a reset, not a goodbye


def ask(port, request):
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = []
        while chunk := sock.recv(65536):
            answer.append(chunk)
        return b"".join(answer)


if __name__ == "__main__":
    port, request = int(sys.argv[1]), sys.argv[2]
    wait_for_server(port)
    reset(port, request.encode())
    answer = ask(port, request.encode())
    words = request.split()
    if len(words) == 2 and words[0] == "SIZE" and words[1].isdigit():
        expected = hashlib.sha256(numbered(int(words[1]))).digest()
        ok = hashlib.sha256(answer).digest() == expected
        print(f"after a reset, {request}: {len(answer)} bytes, "
              f"{'the expected' if ok else 'a wrong'} SHA-256")
        sys.exit(0 if ok else 1)
    print(f"after a reset, {request}: {answer.decode()}")
