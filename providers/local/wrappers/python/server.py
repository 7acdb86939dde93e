"""Local provider HTTP trigger (Python): one process = one function instance.

Listens on 127.0.0.1 with a random port, accepts ``POST /`` with a JSON event
and answers with the JSON envelope from handler.py. Prints exactly one line
``SEBS_READY <port>`` on stdout once it listens: the provider waits for it.

The server is single-threaded on purpose: the function runs on the main
thread (signals work, as in a real runtime) and an instance serves one request
at a time; the provider starts more instances for concurrent invocations.

With SEBS_EXIT_ON_STDIN_EOF=1 the provider's open stdin pipe is a lifeline:
when the harness process dies, stdin reaches EOF and the instance kills what
the function started (its process group, and every process carrying its
SEBS_INSTANCE_ID, daemons included) and exits.
"""
import gc
import json
import os
import signal
import sys
import threading
import uuid

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# The package root first, so that `function` is the benchmark package and not
# a same-named distribution among the installed dependencies.
sys.path.insert(0, os.path.join(PACKAGE_DIR, "python_packages"))
sys.path.insert(0, PACKAGE_DIR)

from http.server import BaseHTTPRequestHandler, HTTPServer  # noqa: E402

import handler  # noqa: E402


def _serialize(envelope):
    try:
        return json.dumps(envelope, allow_nan=False)
    except (TypeError, ValueError) as exc:
        # A result JSON cannot represent is the function's error, not the server's.
        failed = dict(envelope)
        failed["result"] = None
        failed.pop("measurement", None)
        failed["error"] = {
            "type": "SerializationError",
            "message": "the handler's return value is not JSON-serializable: %s" % exc,
        }
        return json.dumps(failed, default=str)


class InvocationHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps the provider's connection alive between invocations.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body
    # waits for the client's delayed ACK, adding ~40 ms to every invocation.
    disable_nagle_algorithm = True

    def _send(self, status, body):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if self.path != "/":
            self._send(404, json.dumps({"message": "only POST / is served, not POST %s" % self.path}))
            return
        try:
            event = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError as exc:
            self._send(400, json.dumps({"message": "request body is not JSON: %s" % exc}))
            return
        request_id = self.headers.get("X-Sebs-Request-Id") or str(uuid.uuid4())
        envelope = handler.handle(event, request_id)
        self._send(200, _serialize(envelope))

    def do_GET(self):
        self._send(404, json.dumps({"message": "only POST / is served, not GET %s" % self.path}))

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        # Request logs would bury the function's own stderr, which the provider
        # keeps (its tail) to explain crashes.
        pass


def _kill_what_this_instance_started():
    """SIGKILLs every process tagged with this instance's run and instance id, then the group (this one too)."""
    run_id = os.environ.get("SEBS_RUN_ID")
    instance_id = os.environ.get("SEBS_INSTANCE_ID")
    if run_id and instance_id and os.path.isdir("/proc"):
        tags = (("SEBS_RUN_ID=" + run_id).encode(), ("SEBS_INSTANCE_ID=" + instance_id).encode())
        me = os.getpid()
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == me:
                continue
            try:
                with open("/proc/%s/environ" % name, "rb") as f:
                    environ = f.read().split(b"\0")
            except OSError:
                continue
            if all(tag in environ for tag in tags):
                try:
                    os.kill(int(name), signal.SIGKILL)
                except OSError:
                    pass
    # Never as pid 1 (a container's init): killpg(1) would mean "every process".
    if os.getpid() > 1 and os.getpgrp() == os.getpid():
        try:
            os.killpg(os.getpid(), signal.SIGKILL)
        except OSError:
            pass


def _exit_on_stdin_eof():
    # os.read on the descriptor, not sys.stdin.buffer: a daemon thread blocked
    # inside the buffered reader holds its lock, and when the function ends the
    # interpreter with sys.exit(n) the shutdown aborts on that lock ("Fatal
    # Python error: _enter_buffered_busy"), so exit code n became SIGABRT.
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    _kill_what_this_instance_started()
    os._exit(0)


def main():
    if os.environ.get("SEBS_LOCAL_PROFILER"):
        # Under an instruction-counting profiler the counts are a regression
        # gate and must repeat from run to run. The cyclic GC runs whenever
        # allocations cross a threshold, so which invocation pays for a
        # collection shifts with anything that allocates (0.5 % steps on the
        # gate fixture, test/e2e/instruction-gate.e2e.test.ts); without it the
        # counts settle once CPython 3.11 has quickened the hot code (about 8
        # calls, which the papi experiment's warm-up covers). Reference
        # counting still frees acyclic garbage; cycles leak for the
        # instance's (short) profiled life.
        gc.disable()
    server = HTTPServer(("127.0.0.1", 0), InvocationHandler)
    if os.environ.get("SEBS_EXIT_ON_STDIN_EOF") == "1":
        threading.Thread(target=_exit_on_stdin_eof, name="sebs-lifeline", daemon=True).start()
    print("SEBS_READY %d" % server.server_address[1], flush=True)
    # No poll interval: the default (0.5 s) wakes the loop twice a second
    # for shutdown(), which nothing calls here, and under a profiler those
    # wake-ups would count as work done between two invocations.
    server.serve_forever(poll_interval=None)


if __name__ == "__main__":
    main()
