"""What event loops use to wake themselves: a pipe and an eventfd, seen through poll, epoll and
select. It prints one line per fact, so that its output on the real kernel and under
`muxlab exec` can be compared line by line (tests/exec/CMakeLists.txt does).

    python3 wakeups.py
"""
import errno
import os
import select


def poll_bits(fd, mask=select.POLLIN | select.POLLOUT):
    p = select.poll()
    p.register(fd, mask)
    return {f: e for f, e in p.poll(0)}.get(fd, 0)


def epoll_bits(fd, mask=select.EPOLLIN | select.EPOLLOUT):
    with select.epoll() as ep:
        ep.register(fd, mask)
        return {f: e for f, e in ep.poll(0)}.get(fd, 0)


def selected(fd):
    r, w, _ = select.select([fd], [fd], [], 0)
    return ("r" if r else "-") + ("w" if w else "-")


def show(what, fd):
    print(f"{what}: poll {poll_bits(fd):#x} epoll {epoll_bits(fd):#x} select {selected(fd)}")


def failure(call):
    try:
        call()
    except OSError as e:
        return errno.errorcode[e.errno]
    return "no error"


reader, writer = os.pipe()
show("empty pipe, read end", reader)
show("empty pipe, write end", writer)
os.write(writer, b"wake")
show("pipe with 4 bytes, read end", reader)
print("read:", os.read(reader, 100))
print("read from the write end:", failure(lambda: os.read(writer, 1)))
print("write to the read end:", failure(lambda: os.write(reader, b"x")))
os.write(writer, b"last")
os.close(writer)
show("writer closed, 4 bytes left", reader)
print("read:", os.read(reader, 100), os.read(reader, 100))
show("writer closed, drained", reader)
os.close(reader)

reader, writer = os.pipe()
os.close(reader)
show("reader closed, write end", writer)
print("write with no reader:", failure(lambda: os.write(writer, b"x")))
os.close(writer)

reader, writer = os.pipe2(os.O_NONBLOCK)
print("non-blocking empty read:", failure(lambda: os.read(reader, 1)))
held = 0
try:
    while True:
        held += os.write(writer, b"x" * 4096)
except BlockingIOError:
    pass
print("a pipe holds", held, "bytes")
show("full pipe, write end", writer)
os.close(reader)
os.close(writer)

counter = os.eventfd(0, os.EFD_NONBLOCK)
show("eventfd at 0", counter)
print("read at 0:", failure(lambda: os.eventfd_read(counter)))
os.eventfd_write(counter, 3)
os.eventfd_write(counter, 4)
show("eventfd at 7", counter)
print("read:", os.eventfd_read(counter))
show("eventfd read back to 0", counter)
print("short write:", failure(lambda: os.write(counter, b"1234")))
print("short read:", failure(lambda: os.read(counter, 4)))
os.close(counter)

counter = os.eventfd(2, os.EFD_NONBLOCK | os.EFD_SEMAPHORE)
print("semaphore reads:", os.eventfd_read(counter), os.eventfd_read(counter),
      failure(lambda: os.eventfd_read(counter)))
os.close(counter)

# Edge-triggered epoll hears of every write to an eventfd, not only the first.
counter = os.eventfd(0, os.EFD_NONBLOCK)
with select.epoll() as ep:
    ep.register(counter, select.EPOLLIN | select.EPOLLET)
    os.eventfd_write(counter, 1)
    first = ep.poll(0)
    again = ep.poll(0)
    os.eventfd_write(counter, 1)
    second = ep.poll(0)
    print("edge-triggered:", len(first), len(again), len(second))
os.close(counter)
