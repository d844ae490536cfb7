"""recv's flags on a connected pair: MSG_PEEK alone and with MSG_WAITALL, and MSG_WAITALL cut
short by SO_RCVTIMEO. One line per fact, compared between the real kernel and `muxlab exec`.

    python3 peek.py
"""
import socket
import struct

a, b = socket.socketpair()
a.send(b"hello")
print("peek 3:", b.recv(3, socket.MSG_PEEK))
print("peek 10:", b.recv(10, socket.MSG_PEEK))
print("recv 10:", b.recv(10))
b.setblocking(False)
try:
    b.recv(1, socket.MSG_PEEK)
except BlockingIOError:
    print("peek at nothing: EAGAIN")
b.setblocking(True)
a.send(b"ab")
a.shutdown(socket.SHUT_WR)
print("peek all after the peer's end:", b.recv(10, socket.MSG_PEEK | socket.MSG_WAITALL))
print("recv:", b.recv(10), b.recv(10))
a.close()
b.close()

c, d = socket.socketpair()
d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 200_000))
c.send(b"xy")
print("wait for 10, 2 came before the timeout:", d.recv(10, socket.MSG_WAITALL))
print("peek-wait for 10, 2 there:", d.recv(10, socket.MSG_PEEK | socket.MSG_WAITALL)
      if c.send(b"zw") else None)
c.close()
d.close()
