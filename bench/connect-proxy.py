"""A plain CONNECT proxy, for comparison in npm-bench.sh: no policy, no
checks, a thread per direction. It shows what going through any proxy costs
a client (npm sends its requests through one tunnel at a time), apart from
what sbrun adds.
usage: connect-proxy.py PORT"""
import socket
import sys
import threading


def pipe(a, b):
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def handle(client):
    head = b""
    while b"\r\n\r\n" not in head:
        data = client.recv(4096)
        if not data:
            return
        head += data
    host, _, port = head.split(b"\r\n")[0].split()[1].decode().rpartition(":")
    upstream = socket.create_connection((host, int(port)))
    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
    pipe(client, upstream)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(64)
print("ready", flush=True)
while True:
    threading.Thread(target=handle, args=(listener.accept()[0],), daemon=True).start()
