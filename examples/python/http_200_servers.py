"""Two servers that answer every request with "200 OK": one with blocking calls, one on select.

The blocking server does one thing at a time: accept, read the request, answer, hang up. A client
that connects and says nothing holds it in recv, so a second client's request waits unanswered.
The select server waits on every socket at once and answers whoever asks. silent_then_ask.py
shows the difference. Standard library only; runs on the real kernel and under `muxlab exec`.

    python3 http_200_servers.py blocking|select PORT
"""
import select
import socket
import sys

ANSWER = b"HTTP/1.0 200 OK\r\n\r\n200 OK"


def listen(port):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(10)
    return listener


def blocking(listener):
    while True:
        client, _ = listener.accept()
        if client.recv(4096):  # a client that sends nothing keeps us here
            client.send(ANSWER)
        client.close()


def multiplexed(listener):
    listener.setblocking(False)
    reading, writing = [listener], []
    while True:
        readable, writable, _ = select.select(reading, writing, [])
        for sock in readable:
            if sock is listener:
                client, _ = listener.accept()
                client.setblocking(False)
                reading.append(client)
                continue
            reading.remove(sock)
            if sock.recv(4096):
                writing.append(sock)  # answer once it can take the answer
            else:
                sock.close()
        for sock in writable:
            writing.remove(sock)
            sock.send(ANSWER)
            sock.close()


if __name__ == "__main__":
    serve = {"blocking": blocking, "select": multiplexed}[sys.argv[1]]
    serve(listen(int(sys.argv[2])))
