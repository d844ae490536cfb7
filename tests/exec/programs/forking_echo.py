"""A forking echo server and its client in one program: the parent listens, forks a child per
connection (the child answers and ends), and a client forked first talks to it. Under
`muxlab exec` every fork is followed: the children are processes of the fake kernel, sharing the
sockets open at the fork, and waitpid waits in virtual time.

    python3 forking_echo.py PORT CLIENTS
"""
import os
import socket
import sys

port, clients = int(sys.argv[1]), int(sys.argv[2])
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen()

client = os.fork()
if client == 0:  # the client: it inherited the listener and closes its copy
    listener.close()
    for i in range(clients):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(f"hello {i}".encode())
            s.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := s.recv(100):
                answer += chunk
            print("client got:", answer.decode(), flush=True)
    os._exit(0)

servers = []
for _ in range(clients):
    conn, _ = listener.accept()
    server = os.fork()
    if server == 0:  # one connection's server: the parent's copy is closed, this one answers
        listener.close()
        request = b""
        while chunk := conn.recv(100):
            request += chunk
        conn.sendall(request.upper())
        conn.close()
        os._exit(len(request))
    conn.close()  # the child holds it now: closing this copy must not end the connection
    servers.append(server)

for server in servers:
    _, status = os.waitpid(server, 0)
    print("server child ended with", os.waitstatus_to_exitcode(status))
_, status = os.waitpid(client, 0)
print("client ended with", os.waitstatus_to_exitcode(status))
