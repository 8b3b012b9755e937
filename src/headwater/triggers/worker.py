"""The handler bootstrap, run as `python .../headwater/triggers/worker.py` in a subprocess per warm worker.

Standard library only (fast start). Line protocol over pipes, one invocation at a time:
  parent -> worker (stdin):  {"id", "deadline_ms", "arn", "tail", "len"}\n  then `len` bytes of event JSON
  worker -> parent (private dup of the original stdout):
                              {"id", "error": bool, "len", "log"?}\n  then `len` bytes of result JSON
Everything the handler prints (stdout, stderr, logging) goes to the function's log file, which the parent
passes as stderr; fds 1 and 2 point at that file, so even C-level writes cannot corrupt the protocol.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import site
import sys
import time
import traceback
from typing import IO, Any

TAIL_BYTES = 4096


class LambdaContext:
    """What Lambda's Python runtime passes as `context`."""

    def __init__(self, request_id: str, arn: str, deadline_ms: int) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = arn
        # a string, as in the real runtime
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


class Tee(io.TextIOBase):
    """Writes to the log file and, during an invocation, to a capture buffer for LogResult."""

    def __init__(self, log: IO[str]) -> None:
        self.log = log
        self.capture: list[str] | None = None

    def write(self, text: str) -> int:
        self.log.write(text)
        self.log.flush()
        if self.capture is not None:
            self.capture.append(text)
        return len(text)

    def flush(self) -> None:
        self.log.flush()

    def writable(self) -> bool:
        return True


class RequestIdFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _error(kind: str, message: str, request_id: str, stack: list[str] | None = None) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": kind, "requestId": request_id, "stackTrace": stack or []}


def _load(handler_spec: str) -> tuple[Any, dict[str, Any] | None]:
    module_name, _, func_name = handler_spec.rpartition(".")
    if not module_name or not func_name:
        return None, _error(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{handler_spec}': not enough values to unpack (expected 2, got 1)",
            "",
        )
    module_path = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        return None, _error(
            "Runtime.ImportModuleError", f"Unable to import module '{module_path}': {exc}", ""
        )
    except Exception as exc:
        stack = traceback.format_list(traceback.extract_tb(exc.__traceback__))
        return None, _error(
            "Runtime.UserCodeSyntaxError" if isinstance(exc, SyntaxError) else type(exc).__name__,
            str(exc),
            "",
            stack,
        )
    func = getattr(module, func_name, None)
    if func is None:
        return None, _error(
            "Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_path}'", ""
        )
    return func, None


def main() -> None:
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    log_fd = os.dup(2)  # the parent opened the function's log (append) and handed it over as stderr
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    log_file = os.fdopen(log_fd, "w", buffering=1, encoding="utf-8", errors="replace")
    tee = Tee(log_file)
    sys.stdout = tee
    sys.stderr = tee
    request_filter = RequestIdFilter()
    handler = logging.StreamHandler(tee)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    logging.Formatter.converter = time.gmtime
    handler.addFilter(request_filter)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)

    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    here = os.path.dirname(os.path.abspath(__file__))
    # run as a script, sys.path[0] is this directory: handler imports must not see headwater's modules
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    # the function's own code first, then its layers (Lambda's /opt/python/lib/python3.x/site-packages
    # and /opt/python), then the interpreter's own paths
    layers = [p for p in os.environ.get("HEADWATER_LAYER_PATHS", "").split(os.pathsep) if p]
    sys.path[:0] = [task_root, *layers]
    for path in layers:
        if os.path.basename(path) == "site-packages":
            site.addsitedir(path)  # its .pth files, as for any site directory
    init_start = time.monotonic()
    func, init_error = _load(os.environ.get("_HANDLER", ""))
    init_ms = (time.monotonic() - init_start) * 1000
    if init_error is not None:
        tee.write(f"[ERROR] {init_error['errorType']}: {init_error['errorMessage']}\n")
    # init is over: the invocation timeout starts counting once the parent reads this (as in Lambda)
    proto_out.write(json.dumps({"ready": True, "init_ms": round(init_ms, 2)}).encode() + b"\n")
    first = True

    while True:
        header = proto_in.readline()
        if not header:
            return
        request = json.loads(header)
        payload = _read_exact(proto_in, request["len"])
        request_id = request["id"]
        request_filter.request_id = request_id
        tee.capture = [] if request.get("tail") else None
        tee.write(f"START RequestId: {request_id} Version: $LATEST\n")
        started = time.monotonic()
        failed = True
        if init_error is not None:
            result: Any = dict(init_error, requestId=request_id)
        else:
            try:
                event = json.loads(payload) if payload else None
                context = LambdaContext(request_id, request["arn"], request["deadline_ms"])
                result = func(event, context)
                failed = False
            except Exception as exc:
                stack = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
                result = _error(type(exc).__name__, str(exc), request_id, stack)
                trace = "".join(stack)
                tee.write(f"[ERROR] {type(exc).__name__}: {exc}\nTraceback (most recent call last):\n{trace}")
        try:
            body = json.dumps(result, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            failed = True
            body = json.dumps(
                _error("Runtime.MarshalError", f"Unable to marshal response: {exc}", request_id)
            ).encode()
        duration = (time.monotonic() - started) * 1000
        tee.write(f"END RequestId: {request_id}\n")
        memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: "
            f"{max(1, int(duration + 0.999))} ms\tMemory Size: {memory} MB\t"
            f"Max Memory Used: {_max_rss_mb()} MB"
        )
        if first:
            report += f"\tInit Duration: {init_ms:.2f} ms"
            first = False
        tee.write(report + "\n")
        response: dict[str, Any] = {"id": request_id, "error": failed, "len": len(body)}
        if tee.capture is not None:
            response["log"] = "".join(tee.capture)[-TAIL_BYTES:]
            tee.capture = None
        proto_out.write(json.dumps(response).encode() + b"\n" + body)


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _max_rss_mb() -> int:
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    except Exception:  # not on every platform
        return 0


if __name__ == "__main__":
    main()
