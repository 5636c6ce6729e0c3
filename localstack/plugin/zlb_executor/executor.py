"""HostProcessRuntimeExecutor: see the package docstring."""

import codecs
import collections
import hashlib
import json
import logging
import os
import queue
import select
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import (
    INVOCATION_PORT,
    ExecutorEndpoint,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger(__name__)

RUNTIME_API_PORT = 9001
ALL_LOGS_CHUNKS = 1000  # output chunks an environment keeps for get_logs
_PROXIES = {"http": "", "https": ""}


class _Pipe:
    """A runtime process's stdout, read without blocking."""

    def __init__(self, proc: subprocess.Popen):
        self.file = proc.stdout
        self.fd = proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.file.close()


class _AddressPool:
    """Hands out loopback addresses 127.0.0.2..127.0.0.254, one per environment,
    so the fixed invocation port never collides between environments."""

    def __init__(self):
        self._lock = threading.Lock()
        self._used = set()

    def take(self) -> str:
        with self._lock:
            for n in range(2, 255):
                ip = f"127.0.0.{n}"
                if ip not in self._used and _port_free(ip, INVOCATION_PORT) and _port_free(ip, RUNTIME_API_PORT):
                    self._used.add(ip)
                    return ip
        raise LambdaRuntimeException("no free loopback address for another Lambda execution environment")

    def give_back(self, ip: str) -> None:
        with self._lock:
            self._used.discard(ip)


def _port_free(ip: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
            return True
        except OSError:
            return False


ADDRESSES = _AddressPool()
_OPT_LOCK = threading.Lock()


def _make_executable(path: str) -> None:
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _on_opt(path: str, opt: str) -> str:
    """A path under /opt, where Lambda mounts layers, in the local stand-in."""
    if path == "/opt" or path.startswith("/opt/"):
        return opt + path[len("/opt") :]
    return path


class _Invocation:
    def __init__(self, payload: dict):
        self.request_id = payload["invoke-id"]
        self.arn = payload.get("invoked-function-arn", "")
        self.body = payload.get("payload", "")
        self.trace_id = payload.get("trace-id", "")
        self.deadline = 0.0
        self.generation = 0  # of the runtime process it was handed to
        self.done = threading.Event()


class HostProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.ip = None
        self.executor_endpoint = ExecutorEndpoint(self.id)
        self.env_vars: dict[str, str] = {}
        self.process: subprocess.Popen | None = None
        self.servers: list[ThreadingHTTPServer] = []
        self.pending: "queue.Queue[_Invocation]" = queue.Queue()
        self.current: _Invocation | None = None
        self.lock = threading.Lock()
        self.log_buffer: list[str] = []  # lines since the last invocation started
        # The environment's output for get_logs, bounded: an environment may
        # serve thousands of invocations (a soak), each already sent to
        # CloudWatch Logs with its invocation.
        self.all_logs: collections.deque[str] = collections.deque(maxlen=ALL_LOGS_CHUNKS)
        self.pipe: _Pipe | None = None  # the current runtime's output
        self.ready_sent = False
        self.stopping = False
        # Counts the runtime processes started: an invocation belongs to the
        # process that asked for it, never to its successor.
        self.generation = 0

    # ------------------------------------------------------------ lifecycle

    def start(self, env_vars: dict[str, str]) -> None:
        self.executor_endpoint.start()
        self.ip = ADDRESSES.take()
        self.executor_endpoint.container_address = self.ip
        self.env_vars = {k: str(v) for k, v in env_vars.items()}
        self.servers = [
            self._serve(INVOCATION_PORT, _InvokeHandler),
            self._serve(RUNTIME_API_PORT, _RuntimeAPIHandler),
        ]
        self._spawn()
        self.executor_endpoint.wait_for_startup()

    def stop(self) -> None:
        self.stopping = True
        self._kill()
        for s in self.servers:
            s.shutdown()
            s.server_close()
        if self.ip:
            ADDRESSES.give_back(self.ip)
        try:
            self.executor_endpoint.shutdown()
        except Exception as e:  # the endpoint may never have started
            LOG.debug("shutting down executor endpoint %s: %s", self.id, e)

    def _serve(self, port: int, handler_cls) -> ThreadingHTTPServer:
        executor = self

        class Handler(handler_cls):
            pass

        Handler.executor = executor
        server = ThreadingHTTPServer((self.ip, port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name=f"lambda-{self.id}-{port}", daemon=True).start()
        return server

    def _code_dir(self) -> str:
        return str(self.function_version.config.code.get_unzipped_code_location())

    def _spawn(self) -> None:
        code = self._code_dir()
        env = dict(self.env_vars)
        env["AWS_LAMBDA_RUNTIME_API"] = f"{self.ip}:{RUNTIME_API_PORT}"
        env["LAMBDA_TASK_ROOT"] = code
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        try:
            argv = self._command(code, env)
        except LambdaRuntimeException as e:
            LOG.warning("Lambda %s: %s", self.function_version.id.function_name, e)
            self._post(f"/status/{self.id}/error", json.dumps({"errorMessage": str(e), "errorType": "Runtime.InvalidEntrypoint"}))
            return
        proc = subprocess.Popen(
            argv, cwd=code, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        pipe = _Pipe(proc)
        with self.lock:
            self.generation += 1
            self.process = proc
            self.pipe = pipe
        threading.Thread(target=self._pump, args=(pipe,), daemon=True).start()
        threading.Thread(target=self._watch, args=(proc,), daemon=True).start()

    def _command(self, code: str, env: dict[str, str]) -> list[str]:
        """The runtime's command line, as the runtime's own bootstrap would
        start it: ``provided.*`` runs the function's ``bootstrap``; Python,
        Node.js and Java run the official runtime interface client
        (awslambdaric, aws-lambda-ric, aws-lambda-java-runtime-interface-client)
        that ``localstack/stack`` installs, with the
        function's layers merged into one folder that stands in for /opt.
        For a managed runtime AWS_LAMBDA_EXEC_WRAPPER is honoured, as Lambda
        does: the wrapper is started with the runtime's command line."""
        runtime = self.function_version.config.runtime or "provided"
        handler = self.function_version.config.handler or ""
        if runtime.startswith("provided"):
            bootstrap = os.path.join(code, "bootstrap")
            if not os.path.isfile(bootstrap):
                raise LambdaRuntimeException(f"no bootstrap in {code}")
            _make_executable(bootstrap)
            return [bootstrap]
        opt = self._opt_dir()
        if runtime.startswith("python"):
            python = os.environ.get("ZLB_PYTHON_RUNTIME", "")
            if not os.path.isfile(python):
                raise LambdaRuntimeException(
                    f"runtime {runtime} needs the local Python runtime (awslambdaric), which is not installed: run `make up` (localstack/stack installs it into .local/runtimes)"
                )
            paths = [code, os.path.join(opt, "python")]
            paths += [os.path.join(opt, "python", "lib", d, "site-packages") for d in _listdir(os.path.join(opt, "python", "lib"))]
            env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [env.get("PYTHONPATH")] if p])
            env.setdefault("PYTHONUNBUFFERED", "1")
            argv = [python, "-m", "awslambdaric", handler]
        elif runtime.startswith("nodejs"):
            ric = os.environ.get("ZLB_NODE_RIC", "")
            if not os.path.isfile(ric):
                raise LambdaRuntimeException(
                    f"runtime {runtime} needs the local Node.js runtime (aws-lambda-ric), which is not installed: run `make up` (localstack/stack installs it into .local/runtimes)"
                )
            paths = [os.path.join(opt, "nodejs", "node_modules")]
            paths += [os.path.join(opt, "nodejs", d, "node_modules") for d in _listdir(os.path.join(opt, "nodejs")) if d.startswith("node")]
            env["NODE_PATH"] = os.pathsep.join(paths + [p for p in [env.get("NODE_PATH")] if p])
            argv = [os.environ.get("ZLB_NODE", "node"), ric, handler]
        elif runtime.startswith("java"):
            lib = os.environ.get("ZLB_JAVA_RIC_LIB", "")
            if not os.path.isdir(lib):
                raise LambdaRuntimeException(
                    f"runtime {runtime} needs the local Java runtime (aws-lambda-java-runtime-interface-client), which is not installed: run `make up` (localstack/stack installs it into .local/runtimes)"
                )
            # As Lambda's Java runtime: the code's classes and lib/*.jar, the
            # layers' java/lib/*.jar, then the runtime interface client.
            classpath = os.pathsep.join([code, os.path.join(code, "lib", "*"), os.path.join(opt, "java", "lib", "*"), os.path.join(lib, "*")])
            argv = [
                os.environ.get("ZLB_JAVA", "java"), "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-cp", classpath,
                "com.amazonaws.services.lambda.runtime.api.client.AWSLambda", handler,
            ]
        else:
            raise LambdaRuntimeException(
                f"runtime {runtime} is not run locally: the host-process executor runs provided.*, python3.*, nodejs* and java* functions"
            )
        wrapper = env.get("AWS_LAMBDA_EXEC_WRAPPER", "")
        if wrapper:
            local = _on_opt(wrapper, opt)
            if not os.path.isfile(local):
                raise LambdaRuntimeException(
                    f"AWS_LAMBDA_EXEC_WRAPPER={wrapper}: no such file in the function's layers ({local}); attach the layer that brings it"
                )
            _make_executable(local)
            env["AWS_LAMBDA_EXEC_WRAPPER"] = local
            argv = [local] + argv
        return argv

    def _opt_dir(self) -> str:
        """The function's layers merged in order into one folder, the local
        stand-in for /opt, built once per list of layer versions. The key
        holds each layer's code hash as well as its ARN: a fresh LocalStack
        numbers versions from 1 again, so the same ARN in the shared temp
        folder may be an older build's layer."""
        layers = self.function_version.config.layers or []
        key = hashlib.sha256(
            "\n".join(f"{l.layer_version_arn} {getattr(l.code, 'code_sha256', '')}" for l in layers).encode()
        ).hexdigest()[:16]
        opt = os.path.join(tempfile.gettempdir(), "lambda", "zlb-opt", key)
        with _OPT_LOCK:
            if os.path.isdir(opt):
                return opt
            tmp = opt + ".partial"
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            for layer in layers:
                if layer.code is None:
                    continue
                layer.code.prepare_for_execution()
                shutil.copytree(str(layer.code.get_unzipped_code_location()), tmp, dirs_exist_ok=True, symlinks=True)
            os.rename(tmp, opt)
        return opt

    def _pump(self, pipe: "_Pipe") -> None:
        while not pipe.closed:
            try:
                select.select([pipe.fd], [], [], 1.0)
            except (OSError, ValueError):
                pass  # closed by _finish's drain since the check above
            with self.lock:
                if not self._drain(pipe):
                    return

    def _drain(self, pipe: "_Pipe") -> bool:
        """Moves what the runtime has written so far into the log buffers
        (the caller holds self.lock, so chunks keep their order); False at
        end of output."""
        while not pipe.closed:
            try:
                raw = os.read(pipe.fd, 65536)
            except BlockingIOError:
                return True
            text = pipe.decoder.decode(raw, final=not raw)
            if text:
                self.log_buffer.append(text)
                self.all_logs.append(text)
            if not raw:
                pipe.close()
        return False

    def _watch(self, proc: subprocess.Popen) -> None:
        code = proc.wait()
        if self.stopping or proc is not self.process:
            return
        msg = f"Runtime exited with error: exit status {code}"
        LOG.info("Lambda %s (%s): %s", self.function_version.id.function_name, self.id, msg)
        inv = self.current
        if inv is not None and not inv.done.is_set():
            self._finish(inv, "error", json.dumps({"errorMessage": msg, "errorType": "Runtime.ExitError"}))
        elif not self.ready_sent:
            self._post(f"/status/{self.id}/error", json.dumps({"errorMessage": msg, "errorType": "Runtime.ExitError"}))
            return
        self._spawn()  # like Lambda: a fresh runtime for the next invocation

    def _kill(self) -> None:
        proc = self.process
        if proc and proc.poll() is None:
            try:
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass

    # ------------------------------------------------------------ invocations

    def invoke(self, payload: dict[str, str]):
        return self.executor_endpoint.invoke(payload)

    def enqueue(self, payload: dict) -> None:
        self.pending.put(_Invocation(payload))

    def next_invocation(self, generation: int) -> _Invocation | None:
        """The next invocation for the runtime process of this generation, or
        None when that process has been replaced while it waited: a process
        killed in GET /next leaves its request behind, which must not take
        (and lose) an invocation meant for its successor."""
        if not self.ready_sent:
            self.ready_sent = True
            self._post(f"/status/{self.id}/ready", "")
        inv = self.pending.get()
        if generation != self.generation:
            self.pending.put(inv)
            return None
        timeout = float(self.env_vars.get("AWS_LAMBDA_FUNCTION_TIMEOUT") or 3)
        inv.deadline = time.time() + timeout
        inv.generation = generation
        with self.lock:
            self.log_buffer = []
        self.current = inv
        return inv

    def delivered(self, inv: _Invocation) -> None:
        """The runtime has the invocation: its timeout runs from now."""
        timeout = max(inv.deadline - time.time(), 0)
        threading.Thread(target=self._enforce_timeout, args=(inv, timeout), daemon=True).start()

    def undelivered(self, inv: _Invocation) -> None:
        """The runtime went away before it got the invocation: it waits for
        the next one."""
        if self.current is inv:
            self.current = None
        self.pending.put(inv)

    def _enforce_timeout(self, inv: _Invocation, timeout: float) -> None:
        if inv.done.wait(timeout):
            return
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        msg = f"{stamp} {inv.request_id} Task timed out after {timeout:.2f} seconds"
        with self.lock:
            self.log_buffer.append(msg + "\n")
        self._finish(inv, "error", json.dumps({"errorMessage": msg, "errorType": "Sandbox.Timedout"}))
        # The runtime is reset after a timeout, as on AWS; _watch starts a new
        # one. Only the process that had the invocation: a successor is innocent.
        if inv.generation == self.generation:
            self._kill()

    def complete(self, request_id: str, kind: str, body: bytes) -> bool:
        inv = self.current
        if inv is None or inv.request_id != request_id or inv.done.is_set():
            return False
        self._finish(inv, kind, body)
        return True

    def _finish(self, inv: _Invocation, kind: str, body) -> None:
        if inv.done.is_set():
            return
        inv.done.set()
        # The runtime wrote its last lines before it reported the result, so
        # they are in the pipe now: take them, rather than wait for the pump.
        with self.lock:
            if self.pipe is not None:
                self._drain(self.pipe)
            logs = "".join(self.log_buffer)
            self.log_buffer = []
        self._post(f"/invocations/{inv.request_id}/logs", json.dumps({"logs": logs}))
        self._post(f"/invocations/{inv.request_id}/{kind}", body)

    def init_error(self, body: bytes) -> None:
        self._post(f"/status/{self.id}/error", body)

    def _post(self, path: str, body) -> None:
        url = self.get_runtime_endpoint() + path
        try:
            requests.post(url, data=body, headers={"Content-Type": "application/json"}, proxies=_PROXIES, timeout=30)
        except requests.RequestException as e:
            LOG.warning("callback %s failed: %s", url, e)

    # ------------------------------------------------------------ addresses

    def get_address(self) -> str:
        if not self.ip:
            raise LambdaRuntimeException(f"address of executor '{self.id}' unknown")
        return self.ip

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        return f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}{self.executor_endpoint.get_endpoint_prefix()}"

    def get_logs(self) -> str:
        with self.lock:
            return "".join(self.all_logs)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        return True


class _Base(BaseHTTPRequestHandler):
    executor: HostProcessRuntimeExecutor
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        LOG.debug("%s %s", self.address_string(), fmt % args)

    def _body(self) -> bytes:
        # aws-lambda-go streams responses with chunked transfer encoding.
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()  # the CRLF after each chunk
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _InvokeHandler(_Base):
    """LocalStack's side: POST /invoke with the invocation."""

    def do_POST(self):
        if self.path != "/invoke":
            return self._reply(HTTPStatus.NOT_FOUND)
        self.executor.enqueue(json.loads(self._body()))
        self._reply(HTTPStatus.OK)


class _RuntimeAPIHandler(_Base):
    """The function's side: the Lambda Runtime API (2018-06-01)."""

    PREFIX = "/2018-06-01/runtime"

    def do_GET(self):
        if self.path != f"{self.PREFIX}/invocation/next":
            return self._reply(HTTPStatus.NOT_FOUND)
        inv = self.executor.next_invocation(self.executor.generation)
        if inv is None:
            self.close_connection = True  # its process is gone
            return
        body = inv.body.encode() if isinstance(inv.body, str) else inv.body
        try:
            self._reply(
                HTTPStatus.OK,
                body,
                {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(inv.deadline * 1000)),
                    "Lambda-Runtime-Invoked-Function-Arn": inv.arn,
                    "Lambda-Runtime-Trace-Id": inv.trace_id,
                },
            )
        except OSError:  # BrokenPipe, ConnectionReset: the runtime died meanwhile
            self.executor.undelivered(inv)
            self.close_connection = True
            return
        self.executor.delivered(inv)

    def do_POST(self):
        body = self._body()
        parts = self.path[len(self.PREFIX) :].strip("/").split("/")
        if parts == ["init", "error"]:
            self.executor.init_error(body)
            return self._reply(HTTPStatus.ACCEPTED)
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            if self.executor.complete(parts[1], parts[2], body):
                return self._reply(HTTPStatus.ACCEPTED)
            return self._reply(HTTPStatus.BAD_REQUEST, b'{"errorMessage":"invalid request id","errorType":"InvalidRequestID"}')
        self._reply(HTTPStatus.NOT_FOUND)
