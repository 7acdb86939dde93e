"""A stand-in for the Azure Functions Python language worker (v1 programming
model), for the tests' fake function host.

It loads the function the way the real worker does: the app root becomes the
``__app__`` package, ``.python_packages/lib/site-packages`` goes on sys.path,
and ``<function>/<scriptFile>`` is imported as ``__app__.<function>.<module>``
(so relative imports inside the function folder work). ``azure.functions`` —
provided by the platform, never packaged — is replaced by a small module with
the parts of its API a function uses: HttpRequest, HttpResponse and Context.

argv: <app root> <function name> <scriptFile> [entryPoint]
stdin: one JSON line per invocation {id, invocationId, functionName, method, url, headers, body (base64)}
fd 3: JSON lines {type: 'ready' | 'init-error' | 'response' | 'error', ...}
stdout/stderr: the function's log output.
"""
import base64
import importlib
import inspect
import json
import os
import sys
import traceback
import types
import urllib.parse

app_root, function_name, script_file = sys.argv[1], sys.argv[2], sys.argv[3]
entry_point = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else "main"
channel = os.fdopen(3, "w", buffering=1)


def send(msg):
    channel.write(json.dumps(msg) + "\n")
    channel.flush()


class _Headers(dict):
    """Case-insensitive header mapping, like azure.functions.HttpRequestHeaders."""

    def __init__(self, items):
        super().__init__((k.lower(), v) for k, v in items.items())

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __contains__(self, key):
        return super().__contains__(key.lower())


class HttpRequest:
    def __init__(self, method, url, headers=None, params=None, route_params=None, body=b""):
        self.method = method
        self.url = url
        self.headers = _Headers(headers or {})
        self.params = dict(params or {})
        self.route_params = dict(route_params or {})
        self._body = body

    def get_body(self):
        return self._body

    def get_json(self):
        return json.loads(self._body.decode("utf-8"))


class HttpResponse:
    def __init__(self, body=None, *, status_code=None, headers=None, mimetype=None, charset=None):
        if isinstance(body, str):
            body = body.encode(charset or "utf-8")
        self._body = body or b""
        self.status_code = status_code or 200
        self.headers = dict(headers or {})
        self.mimetype = mimetype or "text/plain"
        self.charset = charset or "utf-8"

    def get_body(self):
        return self._body


class Context:
    def __init__(self, invocation_id, function_name, function_directory):
        self.invocation_id = invocation_id
        self.function_name = function_name
        self.function_directory = function_directory
        self.trace_context = None
        self.retry_context = None


def _install_azure_functions():
    site_packages = os.path.join(app_root, ".python_packages", "lib", "site-packages")
    if os.path.isdir(site_packages):
        sys.path.insert(0, site_packages)
    azure = types.ModuleType("azure")
    # Keep packaged azure.* distributions (azure-storage-blob, …) importable.
    azure.__path__ = [p for p in [os.path.join(site_packages, "azure")] if os.path.isdir(p)]
    functions = types.ModuleType("azure.functions")
    functions.HttpRequest = HttpRequest
    functions.HttpResponse = HttpResponse
    functions.Context = Context
    azure.functions = functions
    sys.modules["azure"] = azure
    sys.modules["azure.functions"] = functions


def _load():
    app = types.ModuleType("__app__")
    app.__path__ = [app_root]
    sys.modules["__app__"] = app
    module_name = os.path.splitext(script_file)[0].replace("/", ".")
    module = importlib.import_module("__app__.%s.%s" % (function_name, module_name))
    fn = getattr(module, entry_point, None)
    if not callable(fn):
        raise AttributeError("%s has no function '%s'" % (script_file, entry_point))
    return fn


try:
    os.chdir(app_root)
    _install_azure_functions()
    main = _load()
    wants_context = "context" in inspect.signature(main).parameters
except Exception as exc:  # noqa: BLE001
    send({"type": "init-error", "message": "%s: %s\n%s" % (type(exc).__name__, exc, traceback.format_exc())})
    sys.exit(1)
send({"type": "ready"})

for line in sys.stdin:
    inv = json.loads(line)
    try:
        url = inv["url"]
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        req = HttpRequest(inv["method"], url, inv.get("headers") or {}, query, {}, base64.b64decode(inv.get("body") or ""))
        kwargs = {"context": Context(inv["invocationId"], inv["functionName"], os.path.join(app_root, function_name))} if wants_context else {}
        res = main(req, **kwargs)
        if not isinstance(res, HttpResponse):
            raise TypeError("the function returned %r, not an HttpResponse" % (type(res).__name__,))
        headers = {k.lower(): str(v) for k, v in res.headers.items()}
        headers.setdefault("content-type", "%s; charset=%s" % (res.mimetype, res.charset))
        send(
            {
                "type": "response",
                "id": inv["id"],
                "status": res.status_code,
                "headers": headers,
                "body": base64.b64encode(res.get_body()).decode("ascii"),
            }
        )
    except Exception as exc:  # noqa: BLE001 - an unhandled exception is a 500 from the host
        send({"type": "error", "id": inv["id"], "message": "%s: %s\n%s" % (type(exc).__name__, exc, traceback.format_exc())})
