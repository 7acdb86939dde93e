"""Runs a SeBS-format ``input.py`` for the TypeScript harness (engine/python-bridge.ts).

Usage: ``python3 python-bridge.py <path/to/input.py>``

Protocol: one JSON object per line. The harness writes to our stdin; we write
to our stdout. Before ``input.py`` is imported, both are moved to private file
descriptors: fd 1 then points at stderr (so ``print`` in input.py, and the
output of any program it starts, cannot corrupt the protocol) and fd 0 reads
/dev/null (so a program it starts, e.g. ffmpeg, cannot eat protocol lines).

    bridge -> harness  {"type": "ready", "functions": {...}, "pid": N, "python": "3.11.7"}
                       {"type": "fatal", "error": {...}}           input.py could not be imported
    harness -> bridge  {"type": "call", "id": N, "method": M, "params": {...}}
    bridge -> harness  {"type": "callback", "id": K, "call": N, "method": C, "params": {...}}
    harness -> bridge  {"type": "callback_result", "id": K, "value": V} | {..., "error": "message"}
    bridge -> harness  {"type": "result", "id": N, "value": V} | {"type": "error", "id": N, "error": {...}}
    harness -> bridge  {"type": "shutdown"}

Calls: describe, buckets_count, allocate_nosql, generate_input, validate_output.
Callbacks (only while a call runs): upload, nosql, download, download_stream.

Standard library only; Python >= 3.7.
"""
import atexit
import base64
import decimal
import importlib.util
import inspect
import json
import os
import pathlib
import sys
import tempfile
import traceback
import types

BRIDGE_FILE = os.path.abspath(__file__)


class BridgeCallbackError(RuntimeError):
    """A callback into the harness (upload, nosql, download) failed there."""


class _Channel:
    def __init__(self):
        # Private duplicates (non-inheritable, so child processes of input.py
        # do not get them), then repoint fds 0 and 1.
        self._in = os.fdopen(os.dup(0), 'rb')
        self._out = os.fdopen(os.dup(1), 'wb')
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(2, 1)
        try:
            sys.stdout.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass
        self._next_callback = 1

    def send(self, message):
        data = json.dumps(message, default=_json_default, allow_nan=False, separators=(',', ':'))
        self._out.write(data.encode('utf-8') + b'\n')
        self._out.flush()

    def receive(self):
        line = self._in.readline()
        if not line:
            # The harness is gone (closed our stdin or died): nothing left to do.
            raise SystemExit(0)
        return json.loads(line.decode('utf-8'))

    def callback(self, call_id, method, params):
        """Asks the harness to do something and blocks until it answers."""
        callback_id = self._next_callback
        self._next_callback += 1
        self.send({'type': 'callback', 'id': callback_id, 'call': call_id, 'method': method, 'params': params})
        while True:
            message = self.receive()
            kind = message.get('type')
            if kind == 'shutdown':
                raise SystemExit(0)
            if kind == 'callback_result' and message.get('id') == callback_id:
                if 'error' in message:
                    raise BridgeCallbackError('{} failed in the harness: {}'.format(method, message['error']))
                return message.get('value')
            # The harness sends nothing else while a call runs; a stray line is a bug there.
            sys.stderr.write('python-bridge: ignoring unexpected message during {}: {!r}\n'.format(method, message)[:2000])


def _json_default(value):
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, pathlib.PurePath):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, 'tolist'):  # numpy arrays and scalars
        return value.tolist()
    raise TypeError('Object of type {} is not JSON serializable'.format(type(value).__name__))


# --- sebs.utils.get_project_root() -------------------------------------------

_project_roots = {}
_data_root = {'path': None}


def _project_root_for(data_root):
    """A directory whose ``benchmarks-data`` is ``data_root`` (SeBS's layout)."""
    data_root = os.path.abspath(data_root)
    if os.path.basename(data_root) == 'benchmarks-data':
        return os.path.dirname(data_root)
    root = _project_roots.get(data_root)
    if root is None:
        root = tempfile.mkdtemp(prefix='sebs-project-root-')
        os.symlink(data_root, os.path.join(root, 'benchmarks-data'))
        _project_roots[data_root] = root
    return root


@atexit.register
def _remove_project_roots():
    for root in _project_roots.values():
        try:
            os.unlink(os.path.join(root, 'benchmarks-data'))
            os.rmdir(root)
        except OSError:
            pass


def _install_fake_sebs():
    """SeBS's validators import sebs.utils.get_project_root() to find
    ``<root>/benchmarks-data/<group>/<name>``. This stand-in (shadowing a real
    SeBS installation on purpose) answers with the harness's data directory."""

    def get_project_root():
        if _data_root['path'] is None:
            raise RuntimeError('sebs.utils.get_project_root() (emulated by the SeBS bridge) is only available '
                               'inside generate_input and validate_output')
        return pathlib.Path(_project_root_for(_data_root['path']))

    def project_absolute_path(*paths):
        return os.path.join(str(get_project_root()), *paths)

    sebs = types.ModuleType('sebs')
    sebs.__path__ = []  # a package, so that `import sebs.utils` works
    utils = types.ModuleType('sebs.utils')
    utils.get_project_root = get_project_root
    utils.project_absolute_path = project_absolute_path
    sebs.utils = utils
    sys.modules['sebs'] = sebs
    sys.modules['sebs.utils'] = utils


# --- errors -------------------------------------------------------------------

def _describe_exception(exc, data_dir=None):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    # Frames of this bridge say nothing about the benchmark; leave them out.
    bridge_frame = '  File "{}"'.format(BRIDGE_FILE)
    text = ''.join(line for line in lines if not line.startswith(bridge_frame))
    error = {
        'type': type(exc).__name__,
        'message': str(exc),
        'traceback': text,
        'callbackFailed': isinstance(exc, BridgeCallbackError)
        or isinstance(exc.__context__, BridgeCallbackError)
        or isinstance(exc.__cause__, BridgeCallbackError),
    }
    if isinstance(exc, OSError) and exc.filename is not None:
        error['filename'] = os.path.abspath(str(exc.filename))
    if data_dir is not None:
        if not os.path.isdir(data_dir):
            error['dataDirState'] = 'missing'
        elif not os.listdir(data_dir):
            error['dataDirState'] = 'empty'
        else:
            error['dataDirState'] = 'present'
    return error


class CallError(Exception):
    def __init__(self, error):
        super().__init__(error.get('message'))
        self.error = error


# --- calls --------------------------------------------------------------------

def _positional_count(function):
    """How many positional arguments ``function`` takes (None: any number)."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return None
    return len([p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])


class _Storage:
    """The ``storage`` argument of validate_output: reads objects through the harness."""

    def __init__(self, channel, call_id):
        self._channel = channel
        self._call_id = call_id

    def download(self, bucket, key, filepath):
        self._channel.callback(self._call_id, 'download', {
            'bucket': str(bucket), 'key': str(key), 'filepath': os.path.abspath(str(filepath)),
        })

    def download_stream(self, bucket, key):
        data = self._channel.callback(self._call_id, 'download_stream', {'bucket': str(bucket), 'key': str(key)})
        return base64.b64decode(data)

    def __getattr__(self, name):
        raise AttributeError("the SeBS bridge's storage offers download(bucket, key, filepath) and "
                             "download_stream(bucket, key) only, not {}".format(name))


class Bridge:
    def __init__(self, channel, module, path):
        self.channel = channel
        self.module = module
        self.path = path

    def functions(self):
        names = ('buckets_count', 'allocate_nosql', 'generate_input', 'validate_output')
        return {name: callable(getattr(self.module, name, None)) for name in names}

    def buckets_count(self, call_id, params):
        function = getattr(self.module, 'buckets_count', None)
        if function is None:
            return [0, 0]
        counts = list(function())
        if len(counts) != 2 or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
            raise TypeError('buckets_count() must return (n_input, n_output), two non-negative integers; got {!r}'.format(counts))
        return counts

    def allocate_nosql(self, call_id, params):
        function = getattr(self.module, 'allocate_nosql', None)
        if function is None:
            return None
        tables = function()
        if not isinstance(tables, dict):
            raise TypeError('allocate_nosql() must return {table: {"primary_key": ..., "secondary_key": ...}}; got ' + repr(tables))
        return tables

    def describe(self, call_id, params):
        return {
            'bucketsCount': self.buckets_count(call_id, params) if callable(getattr(self.module, 'buckets_count', None)) else None,
            'nosql': self.allocate_nosql(call_id, params),
        }

    def generate_input(self, call_id, params):
        channel = self.channel
        data_dir = params['data_dir']
        _data_root['path'] = params['data_root']

        def upload_func(prefix_idx, key, filepath):
            return channel.callback(call_id, 'upload', {
                'prefix_idx': prefix_idx, 'key': str(key), 'filepath': os.path.abspath(str(filepath)),
            })

        def nosql_func(benchmark, table, data, primary_key, secondary_key=None):
            return channel.callback(call_id, 'nosql', {
                'benchmark': benchmark,
                'table': table,
                'data': data,
                'primary_key': list(primary_key),
                'secondary_key': list(secondary_key) if secondary_key is not None else None,
            })

        bucket, inputs, outputs = params['bucket'], params['input_paths'], params['output_paths']
        function = self.module.generate_input
        count = _positional_count(function)
        # SeBS's generate_input grew over time; older input.py files still run:
        #   7: (data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func)  v1.2
        #   6: (data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func)              v1.1
        #   5: (data_dir, size, input_buckets, output_buckets, upload_func)                             v1.0
        if count is None or count >= 7:
            args = (data_dir, params['size'], bucket, inputs, outputs, upload_func, nosql_func)
        elif count == 6:
            args = (data_dir, params['size'], bucket, inputs, outputs, upload_func)
        elif count == 5:
            args = (data_dir, params['size'], inputs, outputs, upload_func)
        else:
            raise TypeError('generate_input takes {} positional arguments; SeBS passes (data_dir, size, benchmarks_bucket, '
                            'input_paths, output_paths, upload_func, nosql_func)'.format(count))
        try:
            event = function(*args)
        except Exception as exc:  # noqa: BLE001 - reported to the harness with the data directory's state
            raise CallError(_describe_exception(exc, data_dir)) from exc
        if not isinstance(event, dict):
            raise TypeError('generate_input must return a dict (the event); got {}'.format(type(event).__name__))
        return event

    def validate_output(self, call_id, params):
        _data_root['path'] = params['data_root']
        storage = _Storage(self.channel, call_id) if params.get('has_storage') else None
        function = self.module.validate_output
        count = _positional_count(function)
        try:
            first = next(iter(inspect.signature(function).parameters))
        except (TypeError, ValueError, StopIteration):
            first = None
        # v1.2.1: (data_dir, input_config, output, language, storage=None); earlier drafts
        # had no data_dir, the first (input_config, output) only.
        if first == 'data_dir' or (count is not None and count >= 5) or count is None:
            args = (params['data_dir'], params['input_config'], params['output'], params['language'], storage)
        else:
            args = (params['input_config'], params['output'], params['language'], storage)
        if count is not None:
            args = args[:count]
        try:
            verdict = function(*args)
        except Exception as exc:  # noqa: BLE001 - the harness turns it into a validation message
            raise CallError(_describe_exception(exc)) from exc
        if verdict is None or verdict is True or verdict == '':
            return None
        if verdict is False:
            return 'validate_output returned False'
        return str(verdict)


def _load_module(path):
    directory = os.path.dirname(os.path.abspath(path))
    # Helpers next to input.py are importable, as when SeBS runs it; no
    # __pycache__ is written into the benchmark directory.
    sys.path.insert(0, directory)
    sys.dont_write_bytecode = True
    spec = importlib.util.spec_from_file_location('input', path)
    if spec is None or spec.loader is None:
        raise ImportError('cannot load {} as a Python module'.format(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules['input'] = module
    spec.loader.exec_module(module)
    return module


def main(argv):
    if len(argv) != 2:
        sys.stderr.write('usage: python-bridge.py <input.py>\n')
        return 2
    channel = _Channel()
    _install_fake_sebs()
    path = os.path.abspath(argv[1])
    try:
        module = _load_module(path)
    except BaseException as exc:  # noqa: BLE001 - SystemExit from a module body is a failure too
        channel.send({'type': 'fatal', 'error': _describe_exception(exc)})
        return 1
    bridge = Bridge(channel, module, path)
    channel.send({
        'type': 'ready',
        'pid': os.getpid(),
        'python': '.'.join(str(n) for n in sys.version_info[:3]),
        'functions': bridge.functions(),
    })
    methods = {
        'describe': bridge.describe,
        'buckets_count': bridge.buckets_count,
        'allocate_nosql': bridge.allocate_nosql,
        'generate_input': bridge.generate_input,
        'validate_output': bridge.validate_output,
    }
    while True:
        message = channel.receive()
        kind = message.get('type')
        if kind == 'shutdown':
            return 0
        if kind != 'call':
            sys.stderr.write('python-bridge: ignoring unexpected message {!r}\n'.format(message)[:2000])
            continue
        call_id = message.get('id')
        method = methods.get(message.get('method'))
        try:
            if method is None:
                raise ValueError('unknown method {!r}'.format(message.get('method')))
            value = method(call_id, message.get('params') or {})
            try:
                channel.send({'type': 'result', 'id': call_id, 'value': value})
            except (TypeError, ValueError) as exc:
                raise TypeError('{} returned a value JSON cannot carry: {}'.format(message.get('method'), exc)) from exc
        except CallError as exc:
            channel.send({'type': 'error', 'id': call_id, 'error': exc.error})
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the harness
            channel.send({'type': 'error', 'id': call_id, 'error': _describe_exception(exc)})
        finally:
            _data_root['path'] = None


if __name__ == '__main__':
    sys.exit(main(sys.argv))
