"""Waits over fake and real descriptors at once (docs/exec.md: the real ones are looked at once,
without waiting). Under `muxlab exec`, the TCP-like socketpair is fake and /dev/null and the
datagram socketpair stay real; the program prints the same lines on the real kernel.

    python3 mixed_waits.py
"""
import os
import select
import socket
import time

stream, peer = socket.socketpair()          # fake under exec
dgram, dgram_peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)  # real
null = os.open(os.devnull, os.O_RDONLY)     # real, always ready

p = select.poll()
p.register(stream, select.POLLIN)
p.register(null, select.POLLIN)
start = time.monotonic()
ready = dict(p.poll(5000))
print("poll, a real one ready:", sorted(
    ("null" if fd == null else "stream", bits) for fd, bits in ready.items()),
    "at once" if time.monotonic() - start < 1 else "late")

peer.send(b"x")
r, _, _ = select.select([stream, null, dgram], [], [], 5)
print("select, both kinds ready:", sorted("null" if f == null else "stream" if f is stream
                                          else "dgram" for f in r))
stream.recv(1)

p = select.poll()
p.register(stream, select.POLLIN)
p.register(dgram, select.POLLIN)
start = time.monotonic()
ready = p.poll(500)
elapsed = time.monotonic() - start
print("poll, nothing ready:", ready, "after the timeout" if 0.5 <= elapsed < 5 else elapsed)

dgram_peer.send(b"y")
p = select.poll()
p.register(stream, select.POLLIN)
p.register(dgram, select.POLLIN)
print("poll, the real one ready:", [("dgram" if fd == dgram.fileno() else fd, bits)
                                    for fd, bits in p.poll(5000)])

with select.epoll() as ep:
    try:
        ep.register(null, select.EPOLLIN)
        print("epoll of /dev/null: registered")
    except OSError as e:
        print("epoll of /dev/null:", os.strerror(e.errno))
