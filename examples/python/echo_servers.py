"""Three echo servers that upper-case what they are sent: on select, on selectors, on epoll.

select keeps a list of sockets to read and one of sockets with an answer to write, waking at
least every 0.5 s. selectors calls back per event and appends "_SB" to each answer. epoll
collects a whole request (all the client sends before it shuts its side down), then writes the
answer when the socket is writable, as much as one send takes each time, through a 4 KiB send
buffer; a request "SIZE N" is answered with N bytes of numbered lines. Each drops a client that
resets its connection and carries on. reset_then_ask.py is their client.

    python3 echo_servers.py select|selectors|epoll PORT [CLIENTS]

With CLIENTS, the server ends once that many clients have gone, and prints how many reset and the
longest answer it wrote, in how many sends. Standard library only; runs on the real kernel and
under `muxlab exec`.
"""
import select
import selectors
import socket
import sys


def numbered(size):
    """The answer to SIZE: 16-byte lines, each its own number in 15 digits, cut at size bytes."""
    return b"".join(b"%015d\n" % i for i in range(size // 16 + 1))[:size]


class Tally:
    def __init__(self, name, clients):
        self.name, self.clients, self.gone, self.resets = name, clients, 0, 0
        self.longest = (0, 0)  # (bytes, sends) of the longest answer written in full

    def left(self, sock, reset=False):
        sock.close()
        self.gone += 1
        self.resets += reset

    def answered(self, size, sends):
        self.longest = max(self.longest, (size, sends))

    def done(self):
        return self.clients is not None and self.gone >= self.clients

    def __str__(self):
        size, sends = self.longest
        return (f"{self.name} server: {self.gone} clients, {self.resets} reset, "
                f"longest answer {size} bytes in {sends} send{'s' * (sends != 1)}")


def with_select(listener, tally):
    reading, writing = [listener], []
    answers = {}  # socket -> [what is left to write, its size, sends so far]

    def drop(sock, reset):
        for watched in (reading, writing):
            if sock in watched:
                watched.remove(sock)
        answers.pop(sock, None)
        tally.left(sock, reset)

    while not tally.done():
        readable, writable, _ = select.select(reading, writing, [], 0.5)
        for sock in readable:
            if sock is listener:
                client, _ = listener.accept()
                client.setblocking(False)
                reading.append(client)
                continue
            try:
                data = sock.recv(1024)
            except ConnectionResetError:
                drop(sock, reset=True)
                continue
            if not data:  # the client is done sending: close once it has its answer
                reading.remove(sock)
                if sock not in answers:
                    drop(sock, reset=False)
                continue
            left, size, sends = answers.get(sock, (b"", 0, 0))
            answers[sock] = [left + data.upper(), size + len(data), sends]
            if sock not in writing:
                writing.append(sock)
        for sock in writable:
            if sock not in answers:
                continue  # dropped above
            answer = answers[sock]
            try:
                written = sock.send(answer[0])
            except ConnectionError:
                drop(sock, reset=True)
                continue
            answer[0], answer[2] = answer[0][written:], answer[2] + 1
            if not answer[0]:
                writing.remove(sock)
                del answers[sock]
                tally.answered(answer[1], answer[2])
                if sock not in reading:
                    drop(sock, reset=False)


def with_selectors(listener, tally):
    loop = selectors.DefaultSelector()

    def accept(sock):
        client, _ = sock.accept()
        client.setblocking(False)
        loop.register(client, selectors.EVENT_READ, read)

    def read(sock):
        try:
            data = sock.recv(1024)
            if data:
                answer = data.upper() + b"_SB"
                sock.sendall(answer)  # short: the buffer takes it at once
                tally.answered(len(answer), 1)
                return
            reset = False
        except ConnectionError:
            reset = True
        loop.unregister(sock)
        tally.left(sock, reset)

    listener.setblocking(False)
    loop.register(listener, selectors.EVENT_READ, accept)
    while not tally.done():
        for key, _ in loop.select():
            key.data(key.fileobj)


def with_epoll(listener, tally):
    epoll = select.epoll()
    epoll.register(listener.fileno(), select.EPOLLIN)
    sockets, requests, answers = {}, {}, {}  # by descriptor; answers: [bytes, written, sends]

    def drop(fd, reset):
        epoll.unregister(fd)
        requests.pop(fd, None)
        answers.pop(fd, None)
        tally.left(sockets.pop(fd), reset)

    while not tally.done():
        for fd, event in epoll.poll(1):
            if fd == listener.fileno():
                client, _ = listener.accept()
                client.setblocking(False)
                client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
                epoll.register(client.fileno(), select.EPOLLIN)
                sockets[client.fileno()], requests[client.fileno()] = client, b""
                continue
            sock = sockets[fd]
            try:
                if event & (select.EPOLLHUP | select.EPOLLERR):
                    # A reset, or the end of our own shutdown below: epoll reports both unasked.
                    drop(fd, reset=sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0)
                elif event & select.EPOLLIN:
                    data = sock.recv(4096)
                    requests[fd] += data
                    if data:
                        continue
                    request = requests.pop(fd)  # the client has said all it will
                    if not request:  # gone without asking: a probe
                        drop(fd, reset=False)
                        continue
                    words = request.split()
                    if len(words) == 2 and words[0] == b"SIZE" and words[1].isdigit():
                        answers[fd] = [numbered(int(words[1])), 0, 0]
                    else:
                        answers[fd] = [request.upper(), 0, 0]
                    epoll.modify(fd, select.EPOLLOUT)
                elif event & select.EPOLLOUT:
                    answer = answers[fd]
                    answer[1] += sock.send(memoryview(answer[0])[answer[1]:])
                    answer[2] += 1
                    if answer[1] == len(answer[0]):
                        tally.answered(len(answer[0]), answer[2])
                        del answers[fd]
                        epoll.modify(fd, 0)
                        sock.shutdown(socket.SHUT_RDWR)  # EPOLLHUP follows, and we close
            except ConnectionError:  # reset between the wait and the call
                drop(fd, reset=True)


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    serve = {"select": with_select, "selectors": with_selectors, "epoll": with_epoll}[kind]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    tally = Tally(kind, int(sys.argv[3]) if len(sys.argv) > 3 else None)
    serve(listener, tally)
    print(tally)
