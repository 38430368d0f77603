"""coldsec-lab's Python runtime: the contract of AWS Lambda's Python runtime.

The lab starts `python3 /var/runtime/bootstrap.py` in every Python execution
environment. Like AWS's runtime interface client (awslambdaric) this loads
the handler named by _HANDLER ("module.function", dotted packages allowed)
from LAMBDA_TASK_ROOT, then loops: GET /runtime/invocation/next, call
handler(event, context), POST .../response or .../error to the Runtime API
at AWS_LAMBDA_RUNTIME_API. Init failures go to /runtime/init/error and the
process exits 1. Error bodies, error types, log lines and the context object
follow awslambdaric (see ../../../../shared/reference/lambda-wire.md, s. 3-4).

The per-invocation path is kept lean (the lab aims at >= 2,000 warm
invokes/s): one keep-alive HTTP/1.1 connection spoken directly over a
socket (http.client's header parsing through the email package costs more
than the rest of an invocation), everything bound once at start-up except
the json functions, which awslambdaric looks up per call and handler code
may patch.

Deliberate differences from awslambdaric, each because it changes nothing a
handler can observe through the Lambda contract:
- the standard library json (no simplejson): decimal.Decimal is encoded as
  an int or float instead of its exact digits;
- no X-Ray error-cause header, no SnapStart hooks, no telemetry-fd framing:
  runtime log lines go to stdout, multi-line records keep their newlines
  (as CloudWatch shows them).

Coverage for `coldsec fuzz` (only when the lab sets COLDSEC_COVERAGE; see
Coverage below): line coverage of the code under the task root, added to the
function's shared counter file before each /response or /error is posted.

Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY > 1; see run_workers): N
forked worker processes, each its own init and one request at a time.
AWS_LAMBDA_LOG_FORMAT=JSON makes the logging module write JSON lines (any
concurrency); print() stays raw. Without either, nothing here changes.
"""

import json
import logging
import os
import socket
import sys
import time
import traceback

ERROR_LOG_IDENT = "\u00a0"  # awslambdaric indents traceback lines with NO-BREAK SPACE
LAMBDA_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the "
    "function code. However, in rare cases, a Lambda runtime update can cause "
    "unexpected function behavior. For functions using runtime management "
    "controls, this can also be triggered by a function version update."
)
MAX_HEADER_LINE = 65536
MAX_HEADERS = 100


class FaultException(Exception):
    """A runtime-detected fault, reported with a Runtime.* error type."""

    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


class RuntimeAPIError(Exception):
    """The Runtime API refused a request or went away: the runtime must exit."""


# --------------------------------------------------------------------------
# Runtime API client: one keep-alive HTTP/1.1 connection.


class RuntimeAPI:
    """Minimal HTTP/1.1 client for the Runtime API (Content-Length, chunked
    and close-delimited bodies; reconnects once when a reused connection was
    closed by the server)."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        self._addr = (host or "127.0.0.1", int(port))
        self._host = address.encode("latin-1")
        self._sock = None
        self._rfile = None
        self._next_head = (
            b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n"
            b"User-Agent: coldsec-python/%d.%d\r\n\r\n"
            % (self._host, sys.version_info[0], sys.version_info[1])
        )

    def _connect(self):
        sock = socket.create_connection(self._addr)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._rfile = sock.makefile("rb")

    def close(self):
        if self._rfile is not None:
            try:
                self._rfile.close()
            except OSError:
                pass
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None
        self._rfile = None

    def _read_response(self):
        readline = self._rfile.readline
        line = readline(MAX_HEADER_LINE)
        if not line:
            raise ConnectionResetError("Runtime API closed the connection")
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise RuntimeAPIError("malformed status line %r" % line[:100])
        status = int(parts[1])
        headers = {}
        for _ in range(MAX_HEADERS + 1):
            line = readline(MAX_HEADER_LINE)
            if line == b"\r\n" or line == b"\n" or not line:
                break
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        else:
            raise RuntimeAPIError("too many response headers")
        close = headers.get(b"connection", b"").lower() == b"close" or parts[0] == b"HTTP/1.0"
        length = headers.get(b"content-length")
        if length is not None:
            body = self._rfile.read(int(length))
        elif b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            chunks = []
            while True:
                size = int(readline(MAX_HEADER_LINE).split(b";", 1)[0], 16)
                if size == 0:
                    while readline(MAX_HEADER_LINE) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self._rfile.read(size))
                readline(MAX_HEADER_LINE)
            body = b"".join(chunks)
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            body = self._rfile.read()
            close = True
        if close:
            self.close()
        return status, headers, body

    def _exchange(self, data):
        for attempt in (0, 1):
            fresh = self._sock is None
            if fresh:
                self._connect()
            try:
                self._sock.sendall(data)
                return self._read_response()
            except ConnectionError:
                self.close()
                if fresh or attempt:
                    raise
        raise AssertionError("unreachable")

    def next(self):
        return self._exchange(self._next_head)

    def post(self, path, body, content_type=b"application/json", error_type=None):
        extra = b""
        if error_type:
            extra = b"Lambda-Runtime-Function-Error-Type: %s\r\n" % error_type.encode("latin-1", "replace")
        head = (
            b"POST /2018-06-01/runtime/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
            b"%sContent-Length: %d\r\n\r\n" % (path, self._host, content_type, extra, len(body))
        )
        return self._exchange(head + body)


def _quote_id(request_id):
    """The request id as a path segment (AWS ids are UUIDs; anything else is escaped)."""
    if request_id.replace("-", "").isalnum() and request_id.isascii():
        return request_id.encode("ascii")
    from urllib.parse import quote

    return quote(request_id, safe="").encode("ascii")


# --------------------------------------------------------------------------
# Context object, as awslambdaric builds it.


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]

    def __repr__(self):
        return "Client([%s])" % ",".join("%s=%s" % (f, getattr(self, f)) for f in self.__slots__)


class ClientContext:
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "ClientContext([custom=%s,env=%s,client=%s])" % (self.custom, self.env, self.client)


def _obj_from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    get = values.get if isinstance(values, dict) else (lambda _k, _d=None: None)
    for field in cls.__slots__:
        setattr(obj, field, get(field, None))
    return obj


class LambdaContext:
    """The `context` argument. Attribute names and types follow awslambdaric:
    memory_limit_in_mb is the string of AWS_LAMBDA_FUNCTION_MEMORY_SIZE."""

    def __init__(self, invoke_id, client_context, cognito_identity, deadline_ms, invoked_function_arn):
        environ = os.environ
        self.aws_request_id = invoke_id
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = None
        self.client_context = _obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj_from_dict(Client, self.client_context.client)
        identity = CognitoIdentity()
        identity.cognito_identity_id = None
        identity.cognito_identity_pool_id = None
        if isinstance(cognito_identity, dict):
            identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self.identity = identity
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        delta = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
            "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
            "invoked_function_arn=%s,client_context=%s,identity=%s,tenant_id=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


def _parse_json_header(value, name):
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR,
            "Unable to parse {} JSON: {}".format(name, str(e)),
            None,
        )


# --------------------------------------------------------------------------
# Marshalling.


def _json_default(obj):
    import decimal  # only for values json cannot encode itself: keeps start-up lean

    if isinstance(obj, decimal.Decimal):
        if obj.is_nan():
            return float("nan")
        if obj == obj.to_integral_value():
            return int(obj)
        return float(obj)
    raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")


def _encode(obj):
    # A fresh encoder per call, as awslambdaric's to_json makes, so its
    # methods are looked up now: function code that patches
    # json.JSONEncoder.encode changes later responses exactly as on AWS, which
    # is what coldsec's injection-persistence scenarios detect.
    return json.JSONEncoder(default=_json_default).encode(obj)


def _decode(body):
    # Looked up per call for the same reason: a patched json.loads sees every
    # later event, as it would under awslambdaric.
    return json.loads(body)


def marshal_response(response):
    if isinstance(response, bytes):
        return response, b"application/unknown"
    try:
        return _encode(response).encode("utf-8"), b"application/json"
    except Exception as e:
        raise FaultException(
            FaultException.MARSHAL_ERROR,
            "Unable to marshal response: {}".format(str(e)),
            None,
        )


def unmarshal_request(body, content_type):
    if content_type is not None and content_type != b"application/json":
        return body
    try:
        return _decode(body)
    except Exception as e:
        raise FaultException(
            FaultException.UNMARSHAL_ERROR,
            "Unable to unmarshal input: {}".format(str(e)),
            None,
        )


# --------------------------------------------------------------------------
# Errors.


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    """Traceback tuples with the bootstrap's own leading frames stripped."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i, frame in enumerate(frames):
        if "/bootstrap.py" not in frame[0]:
            return frames[i:]
    return frames


def build_fault_result(exc_info, msg=None, invoke_id=None):
    etype, value, tb = exc_info
    return make_error(
        msg if msg else str(value),
        etype.__name__,
        traceback.format_list(_user_frames(tb)),
        invoke_id,
    )


def _replace_indentation(line):
    n = len(line) - len(line.lstrip(" "))
    return ERROR_LOG_IDENT * n + line[n:]


def log_error(error_result):
    """Writes `[ERROR] Type: message` and the traceback as awslambdaric does
    (with AWS_LAMBDA_LOG_FORMAT=JSON: one JSON line, timestamp, log_level and
    the error result's fields, as awslambdaric's JSON log_error)."""
    if _log_format_json():
        record = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "log_level": "ERROR",
        }
        record.update(error_result)
        sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        return
    description = "[ERROR]"
    etype = error_result.get("errorType")
    if etype:
        description += " " + etype
    emsg = error_result.get("errorMessage")
    if emsg:
        if etype:
            description += ":"
        description += " " + emsg
    lines = [description]
    stack = error_result.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
            else:
                lines.extend(_replace_indentation(x) for x in element.splitlines())
    sys.stdout.write("\n".join(lines) + "\n")


# --------------------------------------------------------------------------
# Handler loading.


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(
            FaultException.MALFORMED_HANDLER_NAME,
            "Bad handler '{}': {}".format(handler, str(e)),
        )
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        import importlib

        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR,
            "Unable to import module '{}': {}".format(modname, str(e)),
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(modname, str(e)),
            trace,
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND,
            "Handler '{}' missing on module '{}'".format(fname, modname),
        )


# --------------------------------------------------------------------------
# Logging and standard streams.

_current_request_id = ""


class Unbuffered:
    """sys.stdout/sys.stderr as on Lambda: every write is flushed at once."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        n = self.stream.write(msg)
        self.stream.flush()
        return n

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


class LambdaLoggerHandler(logging.Handler):
    def emit(self, record):
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _current_request_id
        return True


# Attributes every LogRecord has (and the two the filter adds): anything else
# on a record came from `extra=` and is written as a field of its own, as
# awslambdaric's JsonFormatter does.
_RESERVED_FIELDS = frozenset(
    (
        "name msg args levelname levelno pathname filename module exc_info exc_text stack_info "
        "lineno funcName created msecs relativeCreated thread threadName processName process "
        "taskName aws_request_id tenant_id"
    ).split()
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, the shape of awslambdaric's JsonFormatter
    (github.com/aws/aws-lambda-python-runtime-interface-client,
    awslambdaric/lambda_runtime_log_utils.py) for AWS_LAMBDA_LOG_FORMAT=JSON
    (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html):
    timestamp (UTC, whole seconds), level (the level rounded down to a
    standard one), message, logger, requestId ("" outside a request, as
    awslambdaric writes it), and for an exception stackTrace, errorType,
    errorMessage and location; fields that are None are left out."""

    def __init__(self):
        super().__init__(datefmt="%Y-%m-%dT%H:%M:%SZ")

    def format(self, record):
        levelno = min(50, max(0, record.levelno)) // 10 * 10
        exc = record.exc_info
        result = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": logging.getLevelName(levelno),
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno) if exc else None,
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED_FIELDS and key not in result:
                result[key] = value
        result = {k: v for k, v in result.items() if v is not None}
        return json.dumps(result, ensure_ascii=False, default=str) + "\n"


def _log_format_json():
    return (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"


def setup_logging():
    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    if _log_format_json():
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    handler.addFilter(LambdaLoggerFilter())
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    level = {None: "", "TRACE": "DEBUG"}.get(level, level or "").upper()
    root = logging.getLogger()
    if level in logging._nameToLevel:  # as awslambdaric: unset leaves WARNING
        root.setLevel(level)
    root.addHandler(handler)


def _flush_std():
    """Everything the handler wrote must be in the pipe before the lab sees the
    result: the lab closes the invocation's log when the response arrives."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass


# --------------------------------------------------------------------------
# Coverage for `coldsec fuzz`.

COV_MAGIC = b"CSCOV001"
COV_HEADER = 16
COV_SIZE = COV_HEADER + 65536


class Coverage:
    """Line coverage of the function's own code, for one invocation at a time.

    The file at COLDSEC_COVERAGE (lab_pool.h): 8 bytes magic, a generation
    only the fuzzer writes, 65536 saturating counters. Python 3.11 has no
    sys.monitoring, so this is a sys.settrace line tracer, installed only
    around the handler call. The global trace function answers None for any
    code outside the task root (the bootstrap, the standard library, eval'd
    strings), so those frames cost one dict lookup per call and nothing per
    line. Counts go to a process-local dict (only the lines hit, so the
    merge touches only them) and into the file at flush(), unless the
    generation changed since begin(): a fuzzer that moved on must not get
    this invocation's counts in its next input.

    A line's counter is crc32(b"<path relative to the task root>:<line>") &
    0xFFFF: the same in every environment and interpreter, and the same with
    or without the sandbox. threading.settrace is set too: it costs nothing
    until the handler starts a thread, and a pool the handler reuses keeps
    its (per-thread) tracer; work such threads do after the response is
    posted counts towards the next invocation.
    """

    def __init__(self, path, task_root):
        import mmap
        import threading
        from zlib import crc32

        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            self.mm = mmap.mmap(fd, COV_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        if self.mm[:8] != COV_MAGIC:
            self.mm.close()
            raise ValueError("%s: no CSCOV001 header" % path)
        self.root = task_root.rstrip("/") + "/"
        self.hits = {}
        self.tracers = {}
        self.generation = b""
        self._crc32 = crc32
        tracers = self.tracers
        make = self._tracer_for

        # A plain closure, not a bound method: it runs on every call the
        # handler makes, the standard library's included.
        def trace(frame, event, arg):
            filename = frame.f_code.co_filename
            try:
                return tracers[filename]
            except KeyError:
                t = tracers[filename] = make(filename)
                return t

        self.trace = trace
        threading.settrace(trace)

    def _tracer_for(self, filename):
        if not filename.startswith(self.root):
            return None
        prefix = filename[len(self.root):].encode("utf-8", "surrogateescape") + b":"
        crc32 = self._crc32
        index = {}
        hits = self.hits

        def local(frame, event, arg, index=index, get=hits.get):
            if event == "line":
                line = frame.f_lineno
                i = index.get(line)
                if i is None:
                    i = index[line] = crc32(prefix + b"%d" % line) & 0xFFFF
                hits[i] = get(i, 0) + 1
            return local

        return local

    def begin(self):
        self.generation = self.mm[8:16]
        self.hits.clear()

    def flush(self):
        hits = self.hits
        mm = self.mm
        if hits and mm[8:16] == self.generation:
            for i, n in hits.items():
                i += COV_HEADER
                n += mm[i]
                mm[i] = n if n < 255 else 255
        hits.clear()


def _open_coverage(task_root):
    path = os.environ.get("COLDSEC_COVERAGE")
    if not path:
        return None
    try:
        return Coverage(path, task_root)
    except (OSError, ValueError) as e:
        # A fuzzer with no coverage still finds crashes: say so and go on.
        sys.stderr.write("coldsec-python-runtime: coverage off: %s\n" % e)
        return None


# --------------------------------------------------------------------------
# Main loop.


def _die(message):
    sys.stderr.write("coldsec-python-runtime: %s\n" % message)
    _flush_std()
    os._exit(1)


def _check_post(what, result):
    status, _, body = result
    if status == 202 or status == 200:
        return
    if status >= 500:
        _die("Runtime API %s answered %d: %r" % (what, status, body[:200]))
    sys.stderr.write("coldsec-python-runtime: Runtime API %s answered %d: %r\n" % (what, status, body[:200]))


def run(handler_name, api, coverage=None, init_gate=None):
    """The invoke loop. init_gate (Managed Instances workers, see
    run_workers): claim() says whether this process is the one to post an
    init error; it is claimed, whatever the answer, before the first /next."""
    global _current_request_id

    try:
        request_handler = get_handler(handler_name)
    except Exception as e:
        if isinstance(e, FaultException):
            error_result = make_error(e.msg, e.exception_type, e.trace)
        else:
            error_result = build_fault_result(sys.exc_info())
        logging.warning(LAMBDA_WARNING)
        log_error(error_result)
        _flush_std()
        if init_gate is not None and not init_gate.claim():
            os._exit(1)  # another worker posted it, or is serving: this one just ends
        try:
            api.post(b"init/error", _encode(error_result).encode("utf-8"), error_type=error_result["errorType"])
        except (OSError, RuntimeAPIError) as post_err:
            sys.stderr.write("coldsec-python-runtime: could not post init error: %s\n" % post_err)
        if init_gate is not None:
            _flush_std()
            os._exit(INIT_ERROR_POSTED)
        sys.exit(1)
    if init_gate is not None:
        init_gate.claim()

    environ = os.environ
    flush = _flush_std
    exc_info = sys.exc_info
    next_invocation = api.next
    post = api.post
    encode = _encode
    settrace = sys.settrace
    if coverage is not None:
        cov_begin, cov_flush, cov_trace = coverage.begin, coverage.flush, coverage.trace

    while True:
        try:
            status, headers, body = next_invocation()
        except (OSError, RuntimeAPIError) as e:
            _die("Runtime API GET /next failed: %s" % e)
        if status != 200:
            _die("Runtime API GET /next answered %d: %r" % (status, body[:200]))

        raw_id = headers.get(b"lambda-runtime-aws-request-id", b"")
        invoke_id = raw_id.decode("latin-1")
        _current_request_id = invoke_id
        trace_id = headers.get(b"lambda-runtime-trace-id")
        if trace_id:
            environ["_X_AMZN_TRACE_ID"] = trace_id.decode("latin-1")
        elif "_X_AMZN_TRACE_ID" in environ:
            del environ["_X_AMZN_TRACE_ID"]
        path_id = _quote_id(invoke_id)

        error_result = None
        try:
            cc = headers.get(b"lambda-runtime-client-context")
            ci = headers.get(b"lambda-runtime-cognito-identity")
            arn = headers.get(b"lambda-runtime-invoked-function-arn")
            context = LambdaContext(
                invoke_id,
                _parse_json_header(cc, "Client Context") if cc else None,
                _parse_json_header(ci, "Cognito Identity") if ci else None,
                int(headers.get(b"lambda-runtime-deadline-ms") or 0),
                arn.decode("latin-1") if arn is not None else None,
            )
            event = unmarshal_request(body, headers.get(b"content-type"))
            if coverage is None:
                response = request_handler(event, context)
            else:
                cov_begin()
                settrace(cov_trace)
                try:
                    response = request_handler(event, context)
                finally:
                    settrace(None)
            result, content_type = marshal_response(response)
        except FaultException as e:
            error_result = make_error(e.msg, e.exception_type, e.trace, invoke_id)
        except Exception:
            error_result = build_fault_result(exc_info(), None, invoke_id)

        if coverage is not None:
            cov_flush()
        try:
            if error_result is None:
                flush()
                _check_post("POST response", post(b"invocation/%s/response" % path_id, result, content_type))
            else:
                log_error(error_result)
                flush()
                _check_post(
                    "POST error",
                    post(b"invocation/%s/error" % path_id, encode(error_result).encode("utf-8"), error_type="Unhandled"),
                )
        except (OSError, RuntimeAPIError) as e:
            _die("Runtime API post failed: %s" % e)


# --------------------------------------------------------------------------
# Managed Instances: N worker processes (AWS_LAMBDA_MAX_CONCURRENCY = N > 1).
#
# As AWS documents it
# (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html):
# one process per concurrent request, as many as the max concurrency, each
# with its own init and memory and one request at a time; /tmp is shared
# (one sandbox); a crashed worker leaves the others serving. awslambdaric
# (github.com/aws/aws-lambda-python-runtime-interface-client,
# awslambdaric/lambda_multi_concurrent_utils.py MultiConcurrentRunner) starts
# them with multiprocessing.Process before the handler is imported and joins
# them. Here the parent forks N children itself: fork (as multiprocessing's
# default start method on Linux before 3.14) costs no fresh interpreter per
# worker, and the parent has imported no function code, started no thread
# and opened no Runtime API connection, so every child starts clean and does
# the whole init (the handler's import) itself. Each child has its own
# connection to the Runtime API and its own coverage tracer (counts go to
# the one shared counter file; a lost increment under a race changes a
# count, never whether a line was hit).

INIT_ERROR_POSTED = 86  # a worker's exit status: it posted /init/error for the environment


class InitGate:
    """Exactly one worker may post /init/error, and none once any worker has
    reached /next (then init is done, as AWS documents: a later init failure
    is one crashed worker). The right is one byte in a pipe made before the
    fork: whoever reads it holds it (a pipe read is atomic between processes)."""

    def __init__(self):
        self._r, w = os.pipe()
        os.write(w, b"T")
        os.close(w)
        os.set_blocking(self._r, False)
        self._claimed = None

    def claim(self):
        if self._claimed is None:
            try:
                self._claimed = os.read(self._r, 1) == b"T"
            except BlockingIOError:
                self._claimed = False
            os.close(self._r)
        return self._claimed


def _die_with_parent(parent):
    """A worker must not outlive the runtime's parent process (the lab kills
    the environment's process group, but a parent that crashed is not that)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before the prctl
        os._exit(1)


def run_workers(n, handler_name, address, task_root):
    gate = InitGate()
    parent = os.getpid()
    pids = set()
    for _ in range(n):
        _flush_std()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _die_with_parent(parent)
                run(handler_name, RuntimeAPI(address), _open_coverage(task_root), gate)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                _flush_std()
                os._exit(code)
        pids.add(pid)
    os.close(gate._r)
    status = 1
    while pids:
        try:
            pid, wstatus = os.wait()
        except ChildProcessError:
            break
        if pid not in pids:
            continue  # not ours (cannot be: the parent runs no function code)
        pids.discard(pid)
        status = os.waitstatus_to_exitcode(wstatus)
        if status == INIT_ERROR_POSTED:
            # Init failed for the environment: the rest go, the runtime exits
            # as the classic one does after /init/error.
            import signal

            for other in pids:
                try:
                    os.kill(other, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            status = 1
    _flush_std()
    os._exit(status if status > 0 else 1)


def _max_concurrency():
    value = (os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY") or "").strip()
    return int(value) if value.isdigit() else 0


def main():
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    # sys.path[0] is this script's folder (/var/runtime); user code comes first.
    if sys.path and os.path.realpath(sys.path[0] or ".") == os.path.dirname(os.path.realpath(__file__)):
        sys.path[0] = task_root
    else:
        sys.path.insert(0, task_root)
    setup_logging()
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API") or "127.0.0.1:9001"
    n = _max_concurrency()
    if n > 1:
        run_workers(n, os.environ.get("_HANDLER", ""), address, task_root)
        return
    api = RuntimeAPI(address)
    run(os.environ.get("_HANDLER", ""), api, _open_coverage(task_root))


if __name__ == "__main__":
    main()
