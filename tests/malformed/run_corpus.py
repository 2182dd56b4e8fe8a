#!/usr/bin/python3
"""Runs the generated malformed-input corpus end to end through the `ocular` binary.

Usage: run_corpus.py --ocular BIN --golden DIR [--json FILE] [--keep DIR]

Surfaces: `ocular inspect` (model files), `ocular run` (hostile chat templates),
`ocular preprocess` (images, videos) and a live `ocular serve` on tiny-a (every media file as
a data URL, malformed API requests, URLs at a loopback canary that counts hits).
Pass criteria (RELIABILITY.md): no process dies from a signal or prints a sanitizer report;
each case gets its documented answer (CLI exit 0 / 2 with one error line; HTTP 200 / 400);
error text holds no addresses, local paths or library messages; the server survives, answers
a normal request after each group, the canary sees 0 hits, and SIGTERM exits 0.
Prints one summary line; --json writes the figures for scripts/reliability-report.
"""
import argparse
import base64
import concurrent.futures
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SANITIZER = re.compile(r"(AddressSanitizer|LeakSanitizer|ThreadSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error:|MemorySanitizer|==\d+==ERROR)")
# What must never appear in an error shown to a client or user.
LEAKS = [
    ("address", re.compile(r"0x[0-9a-fA-F]{6,}")),
    ("absolute path", re.compile(r"(?<![\w.:/])/(?:[\w.-]+/)+[\w.-]*")),
    ("library message", re.compile(
        r"(libpng|libjpeg|libwebp|turbojpeg|tjDecompress|Premature end|Not a JPEG|Huffman|"
        r"avformat|avcodec|libav|Invalid data found|moov atom|EBML|dav1d|nlohmann|json\.exception|"
        r"what\(\)|std::|basic_string|vector::|bad_alloc|"
        r"terminate called|Segmentation|Aborted|core dumped|errno|strerror|httplib)", re.I)),
]


def leaks(text):
    return [kind for kind, rx in LEAKS if rx.search(text)]


class Canary(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802
        Canary.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    do_POST = do_HEAD = do_GET

    def log_message(self, *args):
        pass


class Runner:
    def __init__(self, args, workdir):
        self.ocular = os.path.abspath(args.ocular)
        self.golden = os.path.abspath(args.golden)
        self.work = workdir
        self.failures = []
        self.files = 0
        self.requests = 0
        self.crashes = 0
        self.sanitizer = 0
        self.leaks = 0

    def fail(self, name, why):
        self.failures.append("%s: %s" % (name, why))

    def cli(self, name, argv, expect, timeout=120):
        """One CLI case: exit code, one-line error, no crash, no sanitizer report, no leaks."""
        self.files += 1
        try:
            p = subprocess.run([self.ocular] + argv, cwd=self.work, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(name, "timed out after %d s" % timeout)
            self.crashes += 1
            return
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode < 0:
            self.crashes += 1
            self.fail(name, "killed by signal %d" % -p.returncode)
        if SANITIZER.search(err):
            self.sanitizer += 1
            self.fail(name, "sanitizer report: " + err[-2000:])
            return
        want = {"ok": [0], "error": [2], "any": [0, 2]}[expect]
        if p.returncode not in want:
            self.fail(name, "exit %d, expected %s: %s" % (p.returncode, want, err.strip()[:300]))
        if p.returncode == 2:
            lines = err.strip().split("\n")
            if len(lines) != 1 or ": error: " not in lines[0]:
                self.fail(name, "error is not one line: %r" % err[:300])
            found = leaks(err)
            if found:
                self.leaks += 1
                self.fail(name, "error text leaks %s: %s" % (found, err.strip()[:300]))

    # -- live server --------------------------------------------------------------------------
    def start_server(self):
        model = os.path.join(self.golden, "models", "tiny-a")
        self.server_err = open(os.path.join(self.work, "serve.stderr"), "w+")
        self.server = subprocess.Popen(
            [self.ocular, "serve", "--model", model, "--port", "0", "--threads", "2", "--kv-cache-bytes",
             "16777216", "--no-webui", "--shutdown-grace-seconds", "5"],
            stdout=subprocess.PIPE, stderr=self.server_err, cwd=self.work, text=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            line = self.server.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                threading.Thread(target=self.server.stdout.read, daemon=True).start()
                return True
        self.fail("serve", "server did not start")
        return False

    def post(self, body, headers=None, timeout=120):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        conn.request("POST", "/v1/chat/completions", body=body, headers=h)
        r = conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        conn.close()
        return r.status, data

    def http_case(self, name, body, status, headers=None, latin1=False):
        self.requests += 1
        body = body.encode("latin-1" if latin1 else "utf-8")
        try:
            got, text = self.post(body, headers)
        except (OSError, http.client.HTTPException) as e:
            self.crashes += 1
            self.fail(name, "no HTTP response (%s)" % type(e).__name__)
            return
        if got != status:
            self.fail(name, "HTTP %d, expected %d: %s" % (got, status, text[:300]))
        if got >= 500:
            self.fail(name, "5xx")
        if got != 200:
            try:
                message = json.loads(text)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                self.fail(name, "error body is not the documented JSON: %r" % text[:200])
                return
            found = leaks(message)
            if found:
                self.leaks += 1
                self.fail(name, "error leaks %s: %s" % (found, message[:300]))

    def health_check(self, group):
        """The next normal request succeeds and the process is alive."""
        if self.server.poll() is not None:
            self.crashes += 1
            self.fail(group, "server exited with %s" % self.server.returncode)
            return False
        body = json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1})
        try:
            status, _ = self.post(body)
        except (OSError, http.client.HTTPException):
            status = -1
        self.requests += 1
        if status != 200:
            self.fail(group, "normal request after the group got %d" % status)
            return False
        return True

    def stop_server(self):
        self.server.send_signal(signal.SIGTERM)
        try:
            rc = self.server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.server.kill()
            rc = -9
        if rc != 0:
            self.crashes += rc < 0
            self.fail("serve", "exit %d after SIGTERM" % rc)
        self.server_err.seek(0)
        err = self.server_err.read()
        if SANITIZER.search(err):
            self.sanitizer += 1
            self.fail("serve", "sanitizer report: " + err[-3000:])


def data_url(path, mime):
    with open(path, "rb") as f:
        return "data:%s;base64,%s" % (mime, base64.b64encode(f.read()).decode())


MIME = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif",
        ".bmp": "image/bmp", ".bin": "application/octet-stream", ".mp4": "video/mp4", ".mkv": "video/x-matroska"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ocular", required=True)
    ap.add_argument("--golden", required=True)
    ap.add_argument("--json")
    ap.add_argument("--keep")
    args = ap.parse_args()
    args.golden = os.environ.get("OCULAR_GOLDEN_DIR") or args.golden
    if not os.path.isdir(os.path.join(args.golden, "models", "tiny-a")):
        # Like tests/support/golden.h: a loud skip on a user's clone, a failure under CI.
        print("golden reference data not found" if os.environ.get("CI") else "SKIP: golden reference data not found")
        return 1 if os.environ.get("CI") else 0
    work = args.keep or tempfile.mkdtemp(prefix="ocular-malformed-")
    os.makedirs(work, exist_ok=True)
    started = time.time()
    try:
        subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), os.path.abspath(args.golden), "."],
                       cwd=work, check=True, capture_output=True)
        with open(os.path.join(work, "manifest.json")) as f:
            cases = json.load(f)
        r = Runner(args, work)
        jobs = []
        for i, c in enumerate(cases):
            if c["surface"] == "inspect":
                jobs.append((c["name"], ["inspect", "--json", c["path"]], c["expect"]))
            elif c["surface"] == "template":
                jobs.append((c["name"], ["run", "--model", c["path"], "--prompt", "hi", "--max-tokens", "1",
                                         "--threads", "1"], c["expect"]))
            elif c["surface"] in ("image", "video"):
                jobs.append((c["name"], ["preprocess", "--" + c["surface"], c["path"], "--out",
                                         "pixels_%d.bin" % i, "--threads", "1"], c["expect"]))
        # Process start-up dominates: run the CLI cases four at a time.
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda j: r.cli(*j), jobs))
        cli_seconds = time.time() - started
        canary = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Canary)
        threading.Thread(target=canary.serve_forever, daemon=True).start()
        cport = canary.server_address[1]
        if r.start_server():
            for c in cases:
                if c["surface"] in ("image", "video"):
                    ext = os.path.splitext(c["path"])[1]
                    mime = c.get("mime") or MIME[ext]
                    kind = "image_url" if c["surface"] == "image" else "video_url"
                    body = json.dumps({"messages": [{"role": "user", "content": [
                        {"type": kind, kind: {"url": data_url(os.path.join(work, c["path"]), mime)}},
                        {"type": "text", "text": "what is it?"}]}], "max_tokens": 1})
                    r.http_case(c["name"], body, 200 if c.get("http_expect", c["expect"]) == "ok" else 400)
            r.health_check("media")
            for c in cases:
                if c["surface"] == "request":
                    r.http_case(c["name"], c["body"], c["status"], c.get("headers"), c.get("latin1", False))
            r.health_check("api")
            # Internal destinations in several spellings, all pointing at the canary.
            for spelling in ["127.0.0.1", "localhost", "[::1]", "127.1", "2130706433", "0x7f000001",
                             "0177.0.0.1", "[::ffff:127.0.0.1]", "127.0.0.1.nip.io", "0.0.0.0"]:
                url = "http://%s:%d/x.png" % (spelling, cport)
                body = json.dumps({"messages": [{"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "hi"}]}],
                    "max_tokens": 1})
                r.http_case("canary_" + spelling, body, 400)
            r.health_check("urls")
            r.stop_server()
        canary.shutdown()
        summary = {"files": r.files, "requests": r.requests, "crashes": r.crashes, "sanitizer_reports": r.sanitizer,
                   "leaks": r.leaks, "canary_hits": Canary.hits, "failures": len(r.failures),
                   "seconds": round(time.time() - started, 1), "cli_seconds": round(cli_seconds, 1)}
        if Canary.hits:
            r.failures.append("canary: %d hits" % Canary.hits)
        for f in r.failures:
            print("FAIL " + f)
        print("malformed: %(files)d files, %(requests)d requests, crashes %(crashes)d, sanitizer reports "
              "%(sanitizer_reports)d, leaks %(leaks)d, canary hits %(canary_hits)d, failures %(failures)d "
              "(%(seconds)s s, CLI %(cli_seconds)s s)" % summary)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(summary, f)
        return 1 if r.failures else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
