"""What the example clients share: waiting for a server that may start after them."""
import socket
import time


def wait_for_server(port):
    """Connects (and hangs up) until someone listens: the server may start after us."""
    give_up = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except ConnectionRefusedError:
            if time.monotonic() > give_up:
                raise SystemExit(f"nobody listens on port {port}")
            time.sleep(0.01)
