"""The far side of the test network: what sbrun's proxy reaches, and what
watches it.

Runs inside the "upstream" network namespace of the test world (world.py),
on 198.51.100.2, and records everything it sees as JSON lines in LOG_DIR:

  dns.jsonl    every DNS query (name, type), answered from ZONE below;
               nothing else answers, so a query that is not logged was
               never made
  http.jsonl   every HTTP request on ports 80 and 8080 (method, path, Host,
               body length); `/git/...` is served by `git http-backend`,
               and a Host with a directory in SITE_ROOT is a static site:
               a file is served as it is, a directory as its index.json
               or index.html (a package registry, a package index)
  tcp.jsonl    every connection to the raw ports (443, 22, 9443): the first
               bytes received (hex) and their count; 9444 streams without end

usage: servers.py LOG_DIR GIT_ROOT SITE_ROOT
"""

import json
import mimetypes
import os
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = "198.51.100.2"
LOG_DIR, GIT_ROOT, SITE_ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
_lock = threading.Lock()


def log(name, record):
    with _lock, open(os.path.join(LOG_DIR, name), "a") as f:
        f.write(json.dumps(record) + "\n")


# name -> list of answers; a list of lists alternates between answers on
# successive queries (DNS rebinding with TTL 0).
ZONE = {
    "registry.pkgs.test": [["A", UPSTREAM]],
    "api.pkgs.test": [["A", UPSTREAM]],
    "git.pkgs.test": [["A", UPSTREAM]],
    "npm.pkgs.test": [["A", UPSTREAM]],
    "pypi.pkgs.test": [["A", UPSTREAM]],
    "upstream.test": [["A", UPSTREAM]],
    "evil.test": [["A", UPSTREAM]],
    "allowed.test": [["A", UPSTREAM]],
    "loop.test": [["A", "127.0.0.1"]],
    "meta.test": [["A", "169.254.169.254"]],
    "private.test": [["A", "10.1.2.3"]],
    "v6loop.test": [["AAAA", "::1"]],
    "mapped.test": [["AAAA", "::ffff:127.0.0.1"]],
    "mixed.test": [["A", UPSTREAM], ["A", "127.0.0.1"]],
    "rebind.test": "rebind",
    "blackhole.test": [["A", "198.51.100.99"]],  # on the link, but nobody answers ARP
}
_rebind_count = 0


def answers(name, qtype):
    global _rebind_count
    entry = ZONE.get(name)
    if entry is None and name.endswith(".wild.test"):
        entry = [["A", UPSTREAM]]
    if entry == "rebind":
        _rebind_count += 1
        entry = [["A", UPSTREAM if _rebind_count % 2 else "127.0.0.1"]]
    if entry is None:
        return None
    return [a for a in entry if a[0] == qtype]


def dns_server():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((UPSTREAM, 53))
    while True:
        data, peer = s.recvfrom(2048)
        try:
            (qid, _flags, qd, _an, _ns, _ar) = struct.unpack(">HHHHHH", data[:12])
            labels, i = [], 12
            while data[i] != 0:
                n = data[i]
                labels.append(data[i + 1 : i + 1 + n].decode("latin-1"))
                i += 1 + n
            qtype, _qclass = struct.unpack(">HH", data[i + 1 : i + 5])
            question = data[12 : i + 5]
        except Exception:
            continue
        name = ".".join(labels).lower()
        tname = {1: "A", 28: "AAAA"}.get(qtype, str(qtype))
        log("dns.jsonl", {"name": name, "type": tname})
        found = answers(name, tname)
        rcode = 3 if found is None else 0
        body = b""
        for kind, value in found or []:
            rdata = socket.inet_pton(socket.AF_INET if kind == "A" else socket.AF_INET6, value)
            body += struct.pack(">HHHIH", 0xC00C, 1 if kind == "A" else 28, 1, 0, len(rdata)) + rdata
        header = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, len(found or []), 0, 0)
        s.sendto(header + question + body, peer)


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        cut = len(body) < length
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                try:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                except ValueError:  # the connection ended mid-body
                    cut = True
                    break
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        if cut:  # a request that never ended: recorded as such, not answered
            log("http.jsonl", {"port": self.server.server_address[1], "path": self.path, "cut": len(body)})
            self.close_connection = True
            return
        log("http.jsonl", {"port": self.server.server_address[1], "method": self.command, "path": self.path,
                           "host": self.headers.get("Host"), "hosts": self.headers.get_all("Host") or [],
                           "headers": [k.lower() for k in self.headers.keys()], "body": len(body),
                           "body_text": body[:200].decode("latin-1")})
        if self.path.startswith("/git/"):
            return self.git(body)
        site = os.path.join(SITE_ROOT, (self.headers.get("Host") or "").split(":")[0].lower())
        if os.path.isdir(site):
            return self.static(site)
        out = f"upstream {self.headers.get('Host')} {self.command} {self.path} body={len(body)}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def static(self, site):
        # npm asks for `/@scope%2fname`: the path is decoded, then kept
        # inside the site.
        path = os.path.normpath(urllib.parse.unquote(self.path.partition("?")[0])).lstrip("/")
        where = os.path.join(site, path)
        if os.path.isdir(where):
            where = next((os.path.join(where, i) for i in ("index.json", "index.html")
                          if os.path.exists(os.path.join(where, i))), where)
        if path.startswith("..") or not os.path.isfile(where):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(where, "rb") as f:
            payload = f.read()
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(where)[0] or "application/octet-stream")
        if where.endswith((".tgz", ".whl")):  # as registries serve releases: they never change
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def git(self, body):
        path, _, query = self.path[len("/git"):].partition("?")
        env = dict(os.environ, GIT_PROJECT_ROOT=GIT_ROOT, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path,
                   REQUEST_METHOD=self.command, QUERY_STRING=query, REMOTE_USER="test", REMOTE_ADDR="127.0.0.1",
                   CONTENT_TYPE=self.headers.get("Content-Type", ""), CONTENT_LENGTH=str(len(body)))
        r = subprocess.run(["git", "http-backend"], input=body, capture_output=True, env=env)
        head, _, payload = r.stdout.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.split(b"\r\n"):
            k, _, v = line.decode().partition(":")
            if k.lower() == "status":
                status = int(v.strip().split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_HEAD = handle_one


class Raw(socketserver.BaseRequestHandler):
    def handle(self):
        port = self.server.server_address[1]
        if port == 9444:  # an endless download: clients hang up in the middle
            try:
                while True:
                    self.request.sendall(b"z" * 65536)
            except OSError:
                return
        if port == 22:
            self.request.sendall(b"SSH-2.0-sbrun-test\r\n")
        # 443 and 22 log what a client sent first; 9443 echoes for as long as
        # a test holds the tunnel (flood and idle-timeout cases).
        self.request.settimeout(60 if port == 9443 else 2)
        got = b""
        try:
            while len(got) < 4096:
                chunk = self.request.recv(4096)
                if not chunk:
                    break
                got += chunk
                if port == 9443:  # echo: the tunnel-throughput and latency checks
                    self.request.sendall(chunk)
        except OSError:
            pass
        log("tcp.jsonl", {"port": port, "bytes": len(got), "first": got[:64].hex()})


class RawServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 4096  # bursts of connections through the proxy


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 4096


def main():
    threading.Thread(target=dns_server, daemon=True).start()
    for port in (80, 8080):
        server = HttpServer((UPSTREAM, port), Upstream)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    for port in (443, 22, 9443, 9444):
        threading.Thread(target=RawServer((UPSTREAM, port), Raw).serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


main()
