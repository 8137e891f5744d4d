#!/usr/bin/env python3
"""T10's slowloris: many connections trickle a request head at 1 byte/s against the real server.

Usage: scripts/slowloris.py [path/to/auditlog] [connections]   (defaults: target/debug/auditlog, 500)

Starts the server on a fresh SQLite file and a free port, opens the connections, sends one byte
per second on each, and reports how long the server let each one live, whether a normal request
was served meanwhile, and the server's resident memory (VmRSS) before, at its highest and after.
"""
import os, socket, subprocess, sys, tempfile, time, urllib.request

binary = sys.argv[1] if len(sys.argv) > 1 else "target/debug/auditlog"
count = int(sys.argv[2]) if len(sys.argv) > 2 else 500

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

work = tempfile.mkdtemp(prefix="auditlog-slowloris-")
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
env = dict(os.environ, AUDITLOG_DATABASE_URL=f"sqlite://{work}/auditlog.db",
           AUDITLOG_SIGNING_KEY=f"{work}/signing.key")
server = subprocess.Popen([binary, "serve", "--addr", f"127.0.0.1:{port}", "--exports-dir", f"{work}/exports"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=1); break
        except Exception:
            time.sleep(0.1)
    time.sleep(1)
    before = rss_kib(server.pid)
    conns, opened = [], time.time()
    for i in range(count):
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        c.setblocking(False)
        conns.append(c)
    lived = {}
    peak = before
    served = None
    start = time.time()
    while len(lived) < count and time.time() - start < 60:
        for i, c in enumerate(conns):
            if i in lived:
                continue
            try:
                data = c.recv(1024)
                if data == b"":
                    lived[i] = time.time() - opened
                    continue
            except BlockingIOError:
                pass
            except OSError:
                lived[i] = time.time() - opened
                continue
            try:
                c.send(b"a")
            except OSError:
                lived[i] = time.time() - opened
        peak = max(peak, rss_kib(server.pid))
        if served is None and time.time() - start > 2:
            t = time.time()
            code = urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=5).status
            served = (code, time.time() - t)
        time.sleep(1)
    time.sleep(1)
    after = rss_kib(server.pid)
    times = sorted(lived.values())
    print(f"connections: {count}; closed by the server: {len(times)} within 60 s")
    if times:
        print(f"time each lived: min {times[0]:.1f} s, median {times[len(times)//2]:.1f} s, max {times[-1]:.1f} s")
    if served:
        print(f"a normal request meanwhile: {served[0]} in {served[1]*1000:.0f} ms")
    print(f"server RSS: before {before/1024:.1f} MiB, highest {peak/1024:.1f} MiB (+{(peak-before)/1024:.1f}), after {after/1024:.1f} MiB")
    ok = len(times) == count and (peak - before) < 20 * 1024
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)
finally:
    server.kill(); server.wait()
    subprocess.run(["rm", "-rf", work])
