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
import socket
import sys
import threading
import traceback
import uuid

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# The package root first, so that `function` is the benchmark package and not
# a same-named distribution among the installed dependencies.
sys.path.insert(0, os.path.join(PACKAGE_DIR, "python_packages"))
sys.path.insert(0, PACKAGE_DIR)

import handler  # noqa: E402

# The longest request head (request line and headers) accepted, bytes.
_MAX_HEAD_BYTES = 65536
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large", 431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented"}


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


def _message(text):
    return json.dumps({"message": text})


def _send(conn, status, body, close):
    """The whole answer in one write: a second segment for the body would
    wake the client twice per invocation (with Nagle's algorithm on, it
    would also wait for the client's delayed ACK, ~40 ms)."""
    data = body.encode("utf-8")
    head = "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n" % (
        status, _REASONS.get(status, ""), len(data), "Connection: close\r\n" if close else "")
    conn.sendall(head.encode("latin-1") + data)


def _answer(method, path, headers, body):
    """(status, JSON text) for one request."""
    if method != "POST" or path != "/":
        return 404, _message("only POST / is served, not %s %s" % (method, path))
    try:
        event = json.loads(body.decode("utf-8")) if body else {}
    except ValueError as exc:
        return 400, _message("request body is not JSON: %s" % exc)
    request_id = headers.get("x-sebs-request-id") or str(uuid.uuid4())
    envelope = handler.handle(event, request_id)
    return 200, _serialize(envelope)


def _serve_connection(conn):
    """HTTP/1.1 on one connection, one request at a time, kept alive until the
    client closes it or asks to. Requests carry a Content-Length (the
    provider's client always sends one); chunked bodies are refused."""
    buffer = b""
    while True:
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            if len(buffer) > _MAX_HEAD_BYTES:
                _send(conn, 431, _message("the request head exceeds %d bytes" % _MAX_HEAD_BYTES), True)
                return
            chunk = conn.recv(65536)
            if not chunk:
                return  # the client closed the connection between requests
            buffer += chunk
            end = buffer.find(b"\r\n\r\n")
        if end > _MAX_HEAD_BYTES:
            # A head that completed in the read that crossed the limit.
            _send(conn, 431, _message("the request head exceeds %d bytes" % _MAX_HEAD_BYTES), True)
            return
        lines = buffer[:end].decode("latin-1").split("\r\n")
        buffer = buffer[end + 4:]
        parts = lines[0].split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            _send(conn, 400, _message("malformed request line: %r" % lines[0][:200]), True)
            return
        method, path, version = parts
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                _send(conn, 400, _message("malformed header line: %r" % line[:200]), True)
                return
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            _send(conn, 501, _message("chunked request bodies are not supported; send a Content-Length"), True)
            return
        try:
            length = int(headers.get("content-length") or 0)
            if length < 0:
                raise ValueError(length)
        except ValueError:
            _send(conn, 400, _message("invalid Content-Length: %r" % headers.get("content-length")), True)
            return
        if len(buffer) < length:
            # Pieces joined once: `bytes +=` copies the whole body on every read (quadratic for MB events).
            pieces, received = [buffer], len(buffer)
            while received < length:
                chunk = conn.recv(max(65536, length - received))
                if not chunk:
                    return  # the client went away mid-request
                pieces.append(chunk)
                received += len(chunk)
            buffer = b"".join(pieces)
        body, buffer = buffer[:length], buffer[length:]
        connection = headers.get("connection", "").lower()
        close = connection == "close" if version == "HTTP/1.1" else connection != "keep-alive"
        status, text = _answer(method, path, headers, body)
        _send(conn, status, text, close)
        if close:
            return


def _serve(listener):
    """Serves one connection at a time on this (the main) thread: the function
    runs here, as in a platform's runtime, and an instance serves one request
    at a time; the provider starts more instances for concurrent invocations."""
    while True:
        conn, _ = listener.accept()
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _serve_connection(conn)
        except OSError:
            pass  # the client reset the connection: the next one is served
        except Exception:  # noqa: BLE001 - a wrapper failure answers 500 and the server goes on
            message = "wrapper failure: %s" % traceback.format_exc()
            sys.stderr.write(message)
            try:
                _send(conn, 500, _message(message), True)
            except OSError:
                pass
        finally:
            conn.close()


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
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    if os.environ.get("SEBS_EXIT_ON_STDIN_EOF") == "1":
        threading.Thread(target=_exit_on_stdin_eof, name="sebs-lifeline", daemon=True).start()
    print("SEBS_READY %d" % listener.getsockname()[1], flush=True)
    # A blocking accept/recv loop: nothing wakes the process between two
    # invocations (under an instruction-counting profiler such wake-ups would
    # count as work), and none of http.server's per-request work (header
    # parsing with email.parser, Date and Server headers, two writes).
    _serve(listener)


if __name__ == "__main__":
    main()
