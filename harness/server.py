"""`harness serve`: moto's server and the ECS simulator over HTTP, for clients
in other processes (AWS CLI, Terraform, boto3, other deploy tools).

Virtual time runs at `speed` x wall time (a `ScaledClock`); a driver thread
keeps the simulator caught up. A JSON control endpoint under `/_harness/`
advances the clock, changes speed, declares image behaviour, drives desired
count or load, reads the timeline and resets everything (moto included).

    with HarnessServer(speed=60) as server:
        boto3.client("ecs", endpoint_url=server.url, ...)
"""
from __future__ import annotations

import contextlib
import email.utils
import hashlib
import io
import ipaddress
import json
import math
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from harness import moto_compat
from harness.clock import DEFAULT_START, ScaledClock
from harness.ecs import api
from harness.ecs.images import ImageBehaviour
from harness.ecs.params import Params
from harness.ecs.simulator import Simulator
from harness.metrics.iam_server import REPEATED, RecordingMiddleware

CONTROL_PREFIX = "/_harness/"
# Bounds on what a request may ask: beyond them the driver thread would spend
# hours catching up (every request waiting on its lock), or the body memory.
MAX_SPEED = 10_000.0  # virtual seconds per wall second
MAX_ADVANCE = 7 * 86400.0  # one control request moves virtual time by a week at most
MAX_DESIRED = 10_000
MAX_BODY = 16 * 1024 * 1024  # AWS API requests (RegisterTaskDefinition is 64 KiB at most; PutImage manifests)
MAX_CONTROL_BODY = 64 * 1024
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# What the AWS provider puts in every request's User-Agent (its SDK's own part follows it)
TERRAFORM_AGENT = "terraform-provider-aws/"


@dataclass
class TerraformTime:
    """Terraform's part of a CD step, on the virtual clock: each Terraform command
    costs ``startup`` seconds and each AWS call its provider makes ``per_call``
    (a sequential model: an upper bound for calls Terraform makes in parallel).
    How many calls an apply makes depends on the configuration and what changed,
    not on this machine's load, so neither does the time."""

    startup: float
    per_call: float
    commands: int = 0
    calls: int = 0
    repeats: int = 0  # requests the provider sent again word for word within one command: not counted
    _seen: set[str] = field(default_factory=set, repr=False)

    @property
    def seconds(self) -> float:
        return self.commands * self.startup + self.calls * self.per_call

    def started(self) -> None:
        """A new Terraform command: what it asks is new again."""
        self.commands += 1
        self._seen.clear()

    def counts(self, request: str) -> bool:
        """Does ``request`` (its action and parameters) cost a call? Not when this command already sent
        it word for word: how often the provider repeats a request (a retry after a slow answer, one
        more poll of a state it waits for) depends on this machine's timing, what it asks does not;
        counting each distinct request once keeps the clock, and the calls a cell reports, the same
        on any machine."""
        if request in self._seen:
            self.repeats += 1
            return False
        self._seen.add(request)
        self.calls += 1
        return True


def _request_key(environ: dict) -> str:
    """What a request asks (method, path, query, X-Amz-Target, body), without what differs per send
    (signature, date, SDK attempt): two sends of one request have the same key. Reads the body
    and puts it back for the app."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return "\n".join((environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
                      environ.get("HTTP_X_AMZ_TARGET", ""), hashlib.sha256(body).hexdigest()))


class ControlError(ValueError):
    """A bad control request; answered with HTTP 400 and this message."""


def _number(body: dict, key: str, low: float, high: float, default: Any = None) -> float:
    """`body[key]` as a finite number within [low, high]: JSON's NaN, Infinity and
    1e308 are numbers to Python's json, and would wedge the clock."""
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ControlError(f"{key} must be a finite number from {low:g} to {high:g}, got {json.dumps(value)}")
    return float(value)


def _json_body(request: Request) -> dict:
    raw = request.get_data() or b"{}"
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise ControlError(f"control requests take a JSON object body: {err}") from err
    if not isinstance(body, dict):
        raise ControlError("control requests take a JSON object body")
    return body


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:   # one line per API call drowns test output
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header of every answer: the simulator's clock, not the wall's."""
        clock = getattr(self.server, "virtual_now", None)
        return email.utils.formatdate(clock() if clock else timestamp, usegmt=True)


class _Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves a host. moto answers
    that by listing its package directory on disk, for every request (170
    ``isdir`` calls in ``list_of_moto_modules``); the answer cannot change while
    the process runs, and looking it up again was an eighth of a scenario's time."""

    def __init__(self, create_app: Callable[..., Any]) -> None:
        super().__init__(create_app)
        self._backend_by_host: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        # moto calls this under its own lock (get_application), so the dict needs none
        if host not in self._backend_by_host:
            self._backend_by_host[host] = super().get_backend_for_host(host)
        return self._backend_by_host[host]


class HarnessServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, speed: float = 60.0, seed: int = 0,
                 params: Params | None = None, tick_seconds: float = 0.05):
        self.host, self.port, self.speed, self.seed = host, port, speed, seed
        self.params = params or Params()
        self.tick_seconds = tick_seconds
        self.errors: list[BaseException] = []
        self.sim: Simulator | None = None
        self._server: BaseWSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._moto_app: _Dispatcher | None = None
        # Records the AWS API calls clients in other processes make (approach 4's
        # Terraform), only inside `with server.recording.recording() as calls:`;
        # otherwise one flag check per request. Control requests are not recorded.
        self.recording = RecordingMiddleware(self._serve_moto)
        self._terraform_time: TerraformTime | None = None

    # -- lifecycle ---------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "HarnessServer":
        moto_compat.install()
        self._new_simulator(self.seed, self.speed)
        self._moto_app = _Dispatcher(create_backend_app)
        self._server = server = make_server(self.host, self.port, self._app, threaded=True, request_handler=_QuietHandler)
        # read back by _QuietHandler to stamp its log lines; werkzeug's server declares no such attribute
        server.virtual_now = lambda: self.clock.now()  # type: ignore[attr-defined]
        self.port = server.server_address[1]
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=server.serve_forever, name="harness-serve", daemon=True),
            threading.Thread(target=self._drive, name="harness-clock", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.sim is not None:
            api.uninstall(self.sim)
            self.sim.close()

    def __enter__(self) -> "HarnessServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def check(self) -> None:
        """Re-raise the first error raised on a server thread (for tests)."""
        errors = self.errors + (self.sim.errors if self.sim is not None else [])
        if errors:
            raise errors[0]

    def _started(self) -> Simulator:
        """The simulator start() made (reset() makes a new one: look it up each time)."""
        if self.sim is None:
            raise RuntimeError("the harness server is not started: call start() or use it in a with block")
        return self.sim

    @property
    def clock(self) -> ScaledClock:
        clock = self._started().clock
        assert isinstance(clock, ScaledClock)  # _new_simulator gives every simulator a ScaledClock
        return clock

    def _new_simulator(self, seed: int, speed: float) -> None:
        if self.sim is not None:
            api.uninstall(self.sim)
            self.sim.close()
        self.sim = Simulator(ScaledClock(speed=speed, start=DEFAULT_START), seed, self.params)
        api.install(self.sim)

    def _drive(self) -> None:
        while not self._stopping.wait(self.tick_seconds):
            try:
                self._started().sync()
            except BaseException as err:   # keep serving; the test calls check()
                self.errors.append(err)

    def reset(self, seed: int | None = None) -> None:
        """Forget every resource (moto's and the simulator's); time starts again."""
        with self.clock.lock:
            moto_api_backend.reset()
            self._new_simulator(self.seed if seed is None else seed, self.clock.speed)

    # -- WSGI --------------------------------------------------------------------
    def outsider(self, environ: dict) -> str:
        """Why a request is refused as not its user's ("" if it is not).

        A web page open in a browser can send requests to 127.0.0.1, and a
        DNS-rebinding page can make them look same-origin under its own name: so
        the Host must be this server's own address (a loopback name, or an IP
        literal when it listens beyond loopback: never a domain an attacker
        controls), and a browser's cross-origin request (Origin of another host,
        Sec-Fetch-Site cross-site) is refused."""
        allowed = self._hosts()
        host = environ.get("HTTP_HOST", "")
        if not self._allowed_host(host, allowed):
            return f"Host {host!r} is not this server's own address ({', '.join(sorted(allowed))})"
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not self._allowed_host(urlsplit(origin).netloc, allowed):
            return f"cross-origin request from {origin!r}: this server answers its own user only"
        if environ.get("HTTP_SEC_FETCH_SITE") == "cross-site":
            return "cross-site browser request: this server answers its own user only"
        return ""

    def _hosts(self) -> set[str]:
        names = set(LOOPBACK_NAMES) | ({self.host} if self.host not in ("0.0.0.0", "::") else set())
        return {f"{name}:{self.port}" for name in names}

    def _allowed_host(self, host: str, allowed: set[str]) -> bool:
        if host in allowed:
            return True
        if self.host in ("127.0.0.1", "localhost", "::1"):
            return False
        name, _, port = host.rpartition(":")
        try:  # listening beyond loopback: any IP literal of this port, never a name
            ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            return False
        return port == str(self.port)

    def refusal(self, environ: dict) -> tuple[int, str] | None:
        """Why a request is refused, as (HTTP status, message); None if it is not.
        Every path, the AWS API included: moto's state holds the environment
        secrets of every task definition, and UpdateService or DeleteService
        would act on it."""
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or "/"
        if not target.startswith("/"):  # absolute-form: werkzeug would take the Host from it, not from the header
            return 400, "absolute-form request target: send the path only, with this server's address in Host"
        refusal = self.outsider(environ)
        if refusal:
            return 403, refusal
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 400, "Content-Length is not a number"
        if length < 0:
            return 400, f"Content-Length {length} is negative"
        limit = MAX_CONTROL_BODY if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX) else MAX_BODY
        if length > limit:
            return 413, f"request body of {length} bytes: the limit here is {limit}"
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            # no length said up front: read at most the limit (and one byte more, to know), and
            # hand the body on with its length, so no later reader takes more than the limit
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return 413, f"chunked request body of more than {limit} bytes: the limit here is {limit}"
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["wsgi.input_terminated"] = True
        return None

    def _without_date(self, start_response: Callable) -> Callable:
        """Answers carry the simulator's clock in their Date header (the request
        handler writes it): a client that reads server time then agrees with the
        service events it is shown. moto's own wall-clock Date goes, and so do its
        CORS headers, which would let any web page's script read the answers."""
        def start(status: str, headers: list, exc_info: Any = None) -> Any:
            headers = [(k, v) for k, v in headers
                       if k.lower() != "date" and not k.lower().startswith("access-control-")]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)
        return start

    def _app(self, environ: dict, start_response: Callable) -> Any:
        start_response = self._without_date(start_response)
        refused = self.refusal(environ)
        if refused:
            status, message = refused
            return Response(json.dumps({"error": message}), status, content_type="application/json")(environ, start_response)
        if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            request = Request(environ)
            try:
                body = self.control(request.method, request.path[len(CONTROL_PREFIX):].strip("/"),
                                    _json_body(request))
                response = Response(json.dumps(body, sort_keys=True), 200, content_type="application/json")
            except (ControlError, ValueError, KeyError) as err:
                said = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)  # str(KeyError) quotes
                response = Response(json.dumps({"error": said}), 400, content_type="application/json")
            return response(environ, start_response)
        model = self._terraform_time
        if model is not None and TERRAFORM_AGENT in environ.get("HTTP_USER_AGENT", ""):
            with self.clock.lock:  # one call at a time: the count, and so the clock, does not depend on threads
                if model.counts(_request_key(environ)):
                    self._advance(model.per_call)
                else:  # a repeat: neither charged nor recorded as one of CD's calls
                    environ[REPEATED] = True
        try:
            return self.recording(environ, start_response)
        except BaseException as err:
            self.errors.append(err)
            raise

    def in_process(self, session: Any) -> None:
        """Clients that ``session`` (a boto3 Session) makes from now on, pointed at this
        server's URL, are answered by its WSGI app in the calling thread, without a socket:
        the same app (recording, the simulator, moto), less the HTTP round trip, which
        was a quarter of a scenario's time. Terraform, the AWS CLI and subprocess CDs
        still come over HTTP."""
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        prefix = self.url

        def send(request: Any, **_: Any) -> Any:
            if not request.url.startswith(prefix):
                return None  # another endpoint: botocore sends it
            url = urlsplit(request.url)
            body = request.body if isinstance(request.body, (bytes, type(None))) else (
                request.body.encode() if isinstance(request.body, str) else request.body.read())
            environ = EnvironBuilder(path=url.path or "/", query_string=url.query, method=request.method,
                                     headers={key: value.decode("latin-1") if isinstance(value, bytes) else value
                                              for key, value in request.headers.items()},  # botocore's are bytes
                                     data=body or b"",
                                     base_url=f"{url.scheme}://{url.netloc}").get_environ()
            environ["REMOTE_ADDR"] = "127.0.0.1"
            iterable, status, headers = run_wsgi_app(self._app, environ)
            try:
                content = b"".join(iterable)
            finally:
                getattr(iterable, "close", lambda: None)()
            answer = {key: value for key, value in headers.items()}
            answer["Date"] = email.utils.formatdate(self.clock.now(), usegmt=True)  # as over HTTP: the virtual clock
            # botocore copies any mapping into its own HeadersDict; its stubs name only HTTPHeaders
            return AWSResponse(request.url, int(status.split(" ", 1)[0]), answer,  # type: ignore[arg-type]
                               MockRawResponse(content))

        session.events.register("before-send", send, unique_id=f"harness-in-process-{id(self)}")

    @contextlib.contextmanager
    def modelling_terraform(self) -> Iterator[TerraformTime]:
        """Inside the block, Terraform's time moves the virtual clock by the
        profile's model (``terraform_startup_seconds`` per command through
        ``terraform_started``, ``terraform_seconds_per_call`` per request whose
        User-Agent is the AWS provider's) instead of not at all: a CD step that
        runs Terraform costs the same virtual seconds on any machine, and the
        rollout it starts begins when the model says its UpdateService came."""
        model = TerraformTime(self.params.terraform_startup_seconds, self.params.terraform_seconds_per_call)
        self._terraform_time = model
        try:
            yield model
        finally:
            self._terraform_time = None

    @contextlib.contextmanager
    def using_params(self, params: Params) -> Iterator[None]:
        """Inside the block the simulator (and Terraform's model) is timed by ``params``; the
        server's own come back after. The sensitivity pass replays a rollback cell under
        another timing profile on the worker's one server, beside the worlds it keeps."""
        previous = self.params
        with self.clock.lock:
            self.params = params
            self._started().retime(params)
        try:
            yield
        finally:
            with self.clock.lock:
                self.params = previous
                self._started().retime(previous)

    def terraform_started(self, command: str) -> None:
        """A Terraform command that talks to AWS (apply, plan, destroy) is starting:
        inside ``modelling_terraform``, its start-up passes on the virtual clock."""
        model = self._terraform_time
        if model is not None:
            model.started()
            self._advance(model.startup)

    def align(self, period: float) -> None:
        """Move the clock to the next whole ``period`` since the simulator started. Every
        scheduler pass, health check and poll repeats within ``period``: whatever ran on this
        server before (another approach's Terraform, a longer scenario), what comes next starts
        at the same phase of them, and so measures the same seconds in every run."""
        since = self.clock.now() - DEFAULT_START
        ahead = math.ceil(round(since / period, 9)) * period - since
        if ahead > 0:
            self._advance(ahead)

    def _advance(self, seconds: float) -> None:
        clock = self.clock
        with clock.lock:
            self._started().sync()
            clock.sleep(seconds)

    def _serve_moto(self, environ: dict, start_response: Callable) -> Any:
        if self._moto_app is None:
            raise RuntimeError("the harness server is not started: call start() or use it in a with block")
        return self._moto_app(environ, start_response)

    def control(self, method: str, action: str, body: dict) -> dict:
        sim, clock = self._started(), self.clock
        with clock.lock:
            sim.sync()
            if method == "GET" and action in ("", "state"):
                return self._state()
            if method == "GET" and action == "timeline":
                return sim.timeline.as_dict()
            if method != "POST":
                raise ControlError(f"{method} /_harness/{action}: use GET state|timeline or POST advance|speed|images|hooks|desired|load|reset")
            if action == "advance":
                if not isinstance(body.get("seconds"), (int, float)) or isinstance(body.get("seconds"), bool) \
                        or body["seconds"] < 0:
                    raise ControlError("advance needs {\"seconds\": N} with N >= 0")
                clock.sleep(_number(body, "seconds", 0, MAX_ADVANCE))
            elif action == "speed":
                clock.set_speed(_number(body, "speed", 0, MAX_SPEED))
            elif action == "images":
                behaviour = ImageBehaviour.from_dict(body.get("behaviour") or {})
                if "image" in body and not isinstance(body["image"], str):
                    raise ControlError(f"image must be an image reference or digest (a string), got {body['image']!r}")
                if "command" in body and not (isinstance(body["command"], str) or (
                        isinstance(body["command"], list) and all(isinstance(c, str) for c in body["command"]))):
                    raise ControlError(f"command must be a list of strings, got {body['command']!r}")
                if "image" in body:
                    sim.images.declare(body["image"], behaviour)
                elif "command" in body:
                    sim.images.declare_command(body["command"], behaviour)
                else:
                    raise ControlError("images needs {\"image\": REF_OR_DIGEST} or {\"command\": [...]} "
                                       "and \"behaviour\": {...}")
            elif action == "hooks":
                if "hook" not in body or not isinstance(body.get("answers"), dict):
                    raise ControlError("hooks needs {\"hook\": LAMBDA_ARN, \"answers\": {STAGE: SUCCEEDED|FAILED|IN_PROGRESS or [...]}}")
                sim.declare_hook(body["hook"], body["answers"])
            elif action == "desired":
                count = _number(body, "count", 0, MAX_DESIRED)
                if count != int(count):
                    raise ControlError(f"count must be a whole number, got {json.dumps(body['count'])}")
                sim.scaling.set_desired(sim.service(body["service"]), int(count))
            elif action == "load":
                percent = _number(body, "percent", 0, 10_000)
                sim.scaling.set_load(sim.service(body["service"]), percent)
            elif action == "reset":
                seed = body.get("seed")
                if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                    raise ControlError(f"seed must be a whole number, got {json.dumps(seed)}")
                self.reset(seed)
            else:
                raise ControlError(f"unknown control action {action!r}; known: state, timeline, advance, speed, images, hooks, desired, load, reset")
            return self._state()

    def _state(self) -> dict:
        sim, clock = self._started(), self.clock
        return {"now": clock.now(), "speed": clock.speed, "seed": sim.seed,
                "params": sim.params.as_dict(), "images": sim.images.declared(), "hooks": sim.hooks,
                "services": sorted(s.name for s in sim.services.values())}
