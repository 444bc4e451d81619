#!/usr/bin/env python3
"""A TLS front for a plain-HTTP registry, for tests/e2e/pull_through.sh (stdlib only).

Forwards GET and HEAD to the upstream and copies status, the headers registries rely on and the
body; while the file MODE_FILE exists it answers every request 429 Too Many Requests instead (a
rate-limiting upstream). Each request is appended to LOG as "<status> <method> <path>".

Usage: pull_through_front.py PORT UPSTREAM_HOST:PORT CERT KEY MODE_FILE LOG
"""
import http.client
import os
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, upstream, cert, key, mode_file, log = sys.argv[1:7]
KEEP = ("content-type", "content-length", "docker-content-digest", "www-authenticate", "location",
        "docker-distribution-api-version")


class Front(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self, method):
        if os.path.exists(mode_file):
            status, headers, body = 429, [("Retry-After", "60"), ("Content-Length", "0")], b""
        else:
            conn = http.client.HTTPConnection(upstream, timeout=30)
            fwd = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization")}
            conn.request(method, self.path, headers=fwd)
            resp = conn.getresponse()
            body = resp.read()
            status = resp.status
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() in KEEP]
            conn.close()
        with open(log, "a") as f:
            f.write(f"{status} {method} {self.path}\n")
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        self.forward("GET")

    def do_HEAD(self):
        self.forward("HEAD")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", int(port)), Front)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
