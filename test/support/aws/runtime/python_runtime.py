"""A Lambda execution environment for Python, for the tests' fake Lambda:
imports the handler module once (the init phase), then serves invocations one
at a time, like Lambda's runtime interface client.

argv: <code dir> <handler, e.g. handler.handler>
stdin: one JSON line per invocation {requestId, event, deadlineMs, functionName, functionArn, memory, logGroup}
fd 3: JSON lines {type: 'ready' | 'init-error' | 'result' | 'error', ...}
stdout/stderr: the function's log output.
"""
import importlib
import json
import os
import sys
import time
import traceback

code_dir, handler_spec = sys.argv[1], sys.argv[2]
channel = os.fdopen(3, "w", buffering=1)


def send(msg):
    channel.write(json.dumps(msg) + "\n")
    channel.flush()


os.chdir(code_dir)
sys.path.insert(0, code_dir)
module_name, _, export_name = handler_spec.rpartition(".")
try:
    module = importlib.import_module(module_name)
    handler = getattr(module, export_name, None)
    if not callable(handler):
        raise AttributeError("Handler '%s' missing on module '%s'" % (export_name, module_name))
except Exception as exc:  # noqa: BLE001
    kind = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.HandlerNotFound"
    send({"type": "init-error", "errorType": kind, "errorMessage": "%s: %s" % (type(exc).__name__, exc), "trace": []})
    sys.exit(1)
send({"type": "ready"})


class Context:
    def __init__(self, inv):
        self.aws_request_id = inv["requestId"]
        self.function_name = inv["functionName"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = inv["functionArn"]
        self.memory_limit_in_mb = str(inv["memory"])
        self.log_group_name = inv["logGroup"]
        self.log_stream_name = inv["logStream"]
        self._deadline_ms = inv["deadlineMs"]

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


for line in sys.stdin:
    inv = json.loads(line)
    try:
        result = handler(inv["event"], Context(inv))
        send({"type": "result", "requestId": inv["requestId"], "payload": json.dumps(result)})
    except Exception as exc:  # noqa: BLE001
        send(
            {
                "type": "error",
                "requestId": inv["requestId"],
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
        )
