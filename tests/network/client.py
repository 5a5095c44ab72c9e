"""A raw proxy client for the network tests, run inside the sandbox.

  client.py http 'RAW REQUEST with \\r\\n escapes'        -> prints the response head
  client.py socks5 ATYP HOST PORT [CMD] [VERSION]        -> prints "reply 0xNN"
  client.py tls CONNECT_AUTHORITY SNI                    -> CONNECT, then a TLS ClientHello with SNI
                                                            ('-' for none); prints what happened
  client.py direct HOST PORT                             -> a direct connection, no proxy
  client.py flood N                                      -> N idle CONNECTs held open; prints status counts
  client.py slow                                         -> sends a head one byte a second; prints outcome
  client.py burst N ROUNDS                               -> ROUNDS bursts of N connections opened at once (allowed
                                                            GET, CONNECT, denied GET, SOCKS5); prints one
                                                            "conn PORT KIND ANSWER" line for each, then the counts

HTTP goes to 127.0.0.1:3128 and SOCKS to 127.0.0.1:1080: the proxy's doors.
"""

import codecs
import resource
import selectors
import socket
import ssl
import sys
import time

HTTP = ("127.0.0.1", 3128)
SOCKS = ("127.0.0.1", 1080)


def recv_all(s, limit=65536, timeout=5):
    s.settimeout(timeout)
    out = b""
    try:
        while len(out) < limit:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    return out


def http(raw):
    data = codecs.decode(raw, "unicode_escape").encode("latin-1")
    s = socket.create_connection(HTTP, timeout=5)
    s.sendall(data)
    out = recv_all(s)
    print(out.decode("latin-1"))


def socks5(atyp, host, port, cmd="1", version="5"):
    s = socket.create_connection(SOCKS, timeout=5)
    s.sendall(bytes([int(version), 1, 0]))
    greeting = recv_all(s, 2, 5)
    if len(greeting) < 2:
        print("closed after greeting", greeting.hex())
        return
    if atyp == "1":
        addr = socket.inet_pton(socket.AF_INET, host)
    elif atyp == "4":
        addr = socket.inet_pton(socket.AF_INET6, host)
    else:
        name = codecs.decode(host, "unicode_escape").encode("latin-1")
        addr = bytes([len(name)]) + name
    s.sendall(bytes([5, int(cmd), 0, int(atyp)]) + addr + int(port).to_bytes(2, "big"))
    reply = recv_all(s, 10, 5)
    if len(reply) < 2:
        print("closed", reply.hex())
        return
    print("reply 0x%02x" % reply[1])
    if reply[1] == 0:
        s.sendall(b"GET / HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n")
        print(recv_all(s, 4096, 3).decode("latin-1"))


def tls(authority, sni):
    s = socket.create_connection(HTTP, timeout=5)
    s.sendall(b"CONNECT " + authority.encode() + b" HTTP/1.1\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    print(head.split(b"\r\n")[0].decode())
    if b" 200 " not in head:
        return
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        t = ctx.wrap_socket(s, server_hostname=None if sni == "-" else sni)
        print("handshake done", t.version())
    except (OSError, ssl.SSLError) as e:
        print("tls failed:", type(e).__name__)


def direct(host, port):
    try:
        socket.create_connection((host, int(port)), timeout=3)
        print("connected")
    except OSError as e:
        print("refused:", e.errno, e.strerror)


def flood(n):
    socks, codes = [], {}
    for _ in range(int(n)):
        try:
            s = socket.create_connection(HTTP, timeout=5)
            s.sendall(b"CONNECT upstream.test:9443 HTTP/1.1\r\n\r\n")
            socks.append(s)
        except OSError as e:
            codes["connect-error"] = codes.get("connect-error", 0) + 1
    for s in socks:
        s.settimeout(5)
        try:
            line = s.recv(64).split(b"\r\n")[0].decode()
        except OSError:
            line = "timeout"
        key = line.split(" ")[1] if line.startswith("HTTP/") else (line or "closed")
        codes[key] = codes.get(key, 0) + 1
    print(" ".join(f"{k}={v}" for k, v in sorted(codes.items())))


def slow():
    s = socket.create_connection(HTTP, timeout=10)
    start = time.time()
    try:
        for b in b"CONNECT upstream.test:9443 HTTP/1.1\r\nX: " + b"a" * 60:
            s.sendall(bytes([b]))
            time.sleep(0.1)
        print("not cut off")
    except OSError:
        print("cut off after %.1fs" % (time.time() - start))


BURST_KINDS = {
    "get": b"GET http://registry.pkgs.test/burst HTTP/1.1\r\nHost: registry.pkgs.test\r\n\r\n",
    "connect": b"CONNECT upstream.test:9443 HTTP/1.1\r\nHost: upstream.test:9443\r\n\r\n",
    "denied": b"GET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n",
    # greeting and request at once: what a pipelining SOCKS client sends
    "socks": bytes([5, 1, 0, 5, 1, 0, 3, 18]) + b"registry.pkgs.test" + (80).to_bytes(2, "big"),
}


def burst_answer(kind, data, eof):
    """The answer in `data` so far, or None while it is incomplete."""
    if kind == "socks":
        if len(data) >= 4:
            return "socks-0x%02x" % data[3] if data[2:3] == b"\x05" else "socks-bad"
        return "socks-closed" if eof else None
    if b"\r\n" in data:
        line = data.split(b"\r\n")[0].decode("latin-1")
        return line.split(" ")[1] if line.startswith("HTTP/") and " " in line else "garbage"
    return ("reset" if eof == "reset" else "closed") if eof else None


def burst_round(n):
    sel = selectors.DefaultSelector()
    conns = {}
    kinds = list(BURST_KINDS)
    for i in range(n):
        kind = kinds[i % len(kinds)]
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(SOCKS if kind == "socks" else HTTP)
        conns[s] = dict(kind=kind, data=b"", sent=False, answer=None, port=None)
        sel.register(s, selectors.EVENT_WRITE)
    deadline = time.time() + 90
    open_ = len(conns)
    while open_ and time.time() < deadline:
        for key, events in sel.select(timeout=1):
            s, c = key.fileobj, conns[key.fileobj]
            if not c["sent"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    c["answer"] = "connect-error-%d" % err
                else:
                    c["port"] = s.getsockname()[1]
                    s.sendall(BURST_KINDS[c["kind"]])
                    c["sent"] = True
                    sel.modify(s, selectors.EVENT_READ)
                    continue
            else:
                eof = False
                try:
                    chunk = s.recv(65536)
                    c["data"] += chunk
                    eof = not chunk
                except ConnectionResetError:
                    eof = "reset"
                except BlockingIOError:
                    continue
                c["answer"] = burst_answer(c["kind"], c["data"], eof)
                # A GET is read to its end: the proxy closes after the response.
                if c["answer"] is not None and c["kind"] == "get" and not eof:
                    continue
            if c["answer"] is not None:
                sel.unregister(s)
                s.close()
                open_ -= 1
    for s, c in conns.items():
        if c["answer"] is None:
            c["answer"] = "no-answer"
            s.close()
    return conns.values()


def burst(n, rounds):
    # Every connection of a burst is open at once.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    counts = {}
    for _ in range(int(rounds)):
        for c in burst_round(int(n)):
            print("conn", c["port"], c["kind"], c["answer"])
            key = c["kind"] + "=" + c["answer"]
            counts[key] = counts.get(key, 0) + 1
    print("counts", " ".join(f"{k}:{v}" for k, v in sorted(counts.items())), flush=True)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    {"http": http, "socks5": socks5, "tls": tls, "direct": direct, "flood": flood, "slow": slow,
     "burst": burst}[mode](*args)


main()
