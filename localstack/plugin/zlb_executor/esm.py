"""A local deviation from AWS: SQS event source mappings long-poll.

LocalStack 4.14.0's SQS event source mapping is one loop per mapping
(``EsmWorker.poller_loop`` in ``event_source_mapping/esm_worker.py``) around
``SqsPoller.poll_events`` (``pollers/sqs_poller.py``). The receive waits
``WaitTimeSeconds = MaximumBatchingWindowInSeconds``, so a mapping without a
batching window short-polls, and after an empty receive the worker backs off
starting at a hard-coded 1 s ± 50 % (``ExponentialBackoff(initial_interval=1)``;
``LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC`` caps only the
later ones). A lone message then waits up to 1.5 s for its receive, at each of
the two mappings a job crosses. A batching window does not help: LocalStack
then waits until the batch is full or the window ends.

AWS's pollers long-poll: a message is received as soon as it is there. At
LocalStack's start (a ``localstack.hooks.on_infra_start`` hook) this module
makes the mappings without a batching window do the same: the receive
long-polls up to ``ZLB_ESM_SQS_WAIT_SEC`` seconds (default 1; SQS returns at
the first message), and an empty long poll raises no "empty poll", so the
worker does not back off after it: the long poll was the wait. A mapping
stopped (disabled, updated, deleted) while its long poll waits hands what it
then receives back to the queue. Mappings with a batching window keep
LocalStack's behaviour. ``ZLB_ESM_SQS_WAIT_SEC=0`` turns
the deviation off. Only the local stack runs this; nothing of it reaches the
Terraform modules.

AWS's pollers also scale out with the backlog, where LocalStack runs one loop
per mapping: a busy queue waits on one invocation at a time. So a long poll
that hands the function a full batch starts one more receive loop for the
mapping, up to ``ZLB_ESM_SQS_POLLERS`` (default 5, AWS's starting number of
pollers) and the mapping's ``ScalingConfig.MaximumConcurrency``; a loop
whose batch was not full ends. FIFO queues keep one loop (their order).

If LocalStack's internals are not what this was written against, the hook
raises ``PatchError`` and LocalStack does not start; ``localstack/stack up``
also checks for the log line the hook writes (``MARKER``).
"""

import functools
import inspect
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

# The prefix of the one line the hook logs; localstack/stack looks for it.
MARKER = "zlb-esm-long-poll:"
WAIT_ENV = "ZLB_ESM_SQS_WAIT_SEC"
DEFAULT_WAIT = 1
# SQS's own bounds of WaitTimeSeconds.
MAX_WAIT = 20
# Set on a patched poller class: its wait.
_ATTR = "_zlb_long_poll_wait"
# Set on each poller that long-polls (not on those with a batching window).
_POLLER_ATTR = "_zlb_long_polls"
# Set on each poller by its worker: the worker's shutdown event.
_SHUTDOWN_ATTR = "_zlb_shutdown"
# SQS's most entries per batch request.
_SQS_BATCH = 10
POLLERS_ENV = "ZLB_ESM_SQS_POLLERS"
DEFAULT_POLLERS = 5
MAX_POLLERS = 50
# Set on each long-polling poller of a started worker: its Scale.
_SCALE_ATTR = "_zlb_scale"
# Per thread: the messages the current poll_events handed to the function.
_handled = threading.local()
# What the patch relies on in localstack-core 4.14.0, as (what, source text).
_EXPECTED = (
    ("SqsPoller.poll_events", "receive_message("),
    ("SqsPoller.poll_events", "WaitTimeSeconds=min(self.maximum_batching_window"),
    ("SqsPoller.poll_events", "raise EmptyPollResultsException"),
    ("SqsPoller.poll_events", "self.handle_messages("),
    ("EsmWorker.start", "self._shutdown_event.clear()"),
    ("EsmWorker.stop", "self._shutdown_event.set()"),
    ("SqsPoller.__init__", "self.maximum_batching_window ="),
    ("EsmWorker.poller_loop", "except EmptyPollResultsException"),
    ("EsmWorker.poller_loop", "empty_boff.next_backoff()"),
)


class PatchError(RuntimeError):
    """LocalStack's event source mapping internals are not where this module expects them."""


def _whole_from_env(env: Mapping[str, str], name: str, default: int, lo: int, hi: int, unit: str = "", bound: str = "") -> int:
    """env[name] as a whole number in lo..hi (default when unset), or a ValueError naming it."""
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise ValueError(f"{name}={raw!r} is not a whole number{unit}") from e
    if not lo <= value <= hi:
        raise ValueError(f"{name}={value} is outside {lo}..{hi}{bound}")
    return value


def wait_from_env(env: Mapping[str, str]) -> int:
    """The long poll's wait in whole seconds (SQS takes no fractions); 0 turns the deviation off."""
    return _whole_from_env(env, WAIT_ENV, DEFAULT_WAIT, 0, MAX_WAIT, " of seconds", " (SQS's WaitTimeSeconds)")


def pollers_from_env(env: Mapping[str, str]) -> int:
    """The most receive loops a mapping runs at once; 1 keeps LocalStack's one."""
    return _whole_from_env(env, POLLERS_ENV, DEFAULT_POLLERS, 1, MAX_POLLERS)


class Scale:
    """The receive loops of one mapping beyond its worker's own, at most limit - 1."""

    def __init__(self, limit: int):
        self.limit = limit
        self.helpers = 0
        self.peak = 0  # the most helpers at once (for tests)
        self._cond = threading.Condition()

    def acquire(self) -> bool:
        with self._cond:
            if 1 + self.helpers >= self.limit:
                return False
            self.helpers += 1
            self.peak = max(self.peak, self.helpers)
            return True

    def release(self) -> None:
        with self._cond:
            self.helpers -= 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once no helper loop runs (for tests)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.helpers == 0, timeout)


def limit_of(esm_config: Mapping, pollers: int) -> int:
    """pollers, capped by the mapping's ScalingConfig.MaximumConcurrency (its concurrent invocations on AWS)."""
    most = (esm_config.get("ScalingConfig") or {}).get("MaximumConcurrency")
    return min(pollers, most) if most else pollers


def _scale_out(poller) -> None:
    """After a full batch, one more receive loop for the mapping, if its Scale allows."""
    scale, stopped = getattr(poller, _SCALE_ATTR, None), getattr(poller, _SHUTDOWN_ATTR, None)
    if scale is None or stopped is None or stopped.is_set():
        return
    if getattr(_handled, "count", 0) < poller.batch_size or not scale.acquire():
        return
    threading.Thread(target=_helper, args=(poller, scale, stopped), name="zlb-esm-poller", daemon=True).start()


def _helper(poller, scale: Scale, stopped: threading.Event) -> None:
    # Receives while the batches come full; an empty, partial or failed
    # receive ends it, leaving the queue to the worker's own loop.
    try:
        while not stopped.is_set():
            try:
                poller.poll_events()
            except Exception:
                return
            if getattr(_handled, "count", 0) < poller.batch_size:
                return
    finally:
        scale.release()


def _internals():
    """LocalStack's SqsPoller, EsmWorker and EmptyPollResultsException, checked against _EXPECTED."""
    try:
        from localstack.services.lambda_.event_source_mapping.esm_worker import EsmWorker
        from localstack.services.lambda_.event_source_mapping.pollers.poller import (
            EmptyPollResultsException,
        )
        from localstack.services.lambda_.event_source_mapping.pollers.sqs_poller import SqsPoller
    except ImportError as e:
        raise PatchError(f"LocalStack's SQS event source mapping poller is not where localstack-core 4.14.0 has it: {e}") from e
    owners = {"SqsPoller": SqsPoller, "EsmWorker": EsmWorker}
    for what, text in _EXPECTED:
        owner, _, method = what.partition(".")
        fn = getattr(owners[owner], method, None)
        try:
            source = inspect.getsource(fn) if fn is not None else ""
        except (OSError, TypeError) as e:
            raise PatchError(f"cannot read LocalStack's {what}: {e}") from e
        if text not in source:
            raise PatchError(
                f"LocalStack's {what} no longer contains {text!r} (written against localstack-core 4.14.0): "
                "check localstack/plugin/zlb_executor/esm.py against the new poller"
            )
    return SqsPoller, EmptyPollResultsException, EsmWorker


def patch(poller_cls: type, empty_exc: type[Exception], wait: int, clock: Callable[[], float] = time.monotonic) -> None:
    """Make poller_cls's mappings without a batching window long-poll for wait seconds.

    Idempotent for the same wait; a second, different wait is refused, since
    pollers already made keep the first.
    """
    if wait < 1:
        raise ValueError(f"wait {wait} must be at least 1 s")
    applied = poller_cls.__dict__.get(_ATTR)
    if applied is not None:
        if applied != wait:
            raise PatchError(f"{poller_cls.__name__} already long-polls for {applied} s, not {wait} s")
        return
    init, poll, handle = poller_cls.__init__, poller_cls.poll_events, poller_cls.handle_messages

    def long_poll(params, **kwargs):
        # Only the receives that would short-poll: with a batching window
        # LocalStack already waits (until the batch is full).
        if not params.get("WaitTimeSeconds"):
            params["WaitTimeSeconds"] = wait

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if self.maximum_batching_window:
            return
        # The client may be shared by the mappings of one role; the unique
        # id keeps it to one handler.
        self.source_client.meta.events.register(
            "provide-client-params.sqs.ReceiveMessage", long_poll, unique_id="zlb-esm-long-poll"
        )
        setattr(self, _POLLER_ATTR, True)

    @functools.wraps(poll)
    def poll_events(self):
        if not getattr(self, _POLLER_ATTR, False):
            return poll(self)
        start = clock()
        _handled.count = 0
        try:
            poll(self)
        except empty_exc:
            # An empty receive that returned early did not wait (the queue
            # shut down with LocalStack): the worker's back-off applies, or
            # this loop would spin.
            if clock() - start < wait / 2:
                raise
            # The long poll was the wait; backing off after it would only
            # delay the next message.
            return None
        _scale_out(self)
        return None

    @functools.wraps(handle)
    def handle_messages(self, messages):
        stopped = getattr(self, _SHUTDOWN_ATTR, None)
        if not (getattr(self, _POLLER_ATTR, False) and stopped is not None and stopped.is_set()):
            _handled.count = getattr(_handled, "count", 0) + len(messages)
            return handle(self, messages)
        # The mapping was disabled, updated or deleted while the long poll
        # waited (LocalStack's short poll never outlived a stop, and its
        # update answers Disabled at once): hand the messages back at once,
        # to the mapping that replaces this one or whoever reads the queue,
        # rather than invoke a function that is no longer wanted.
        for i in range(0, len(messages), _SQS_BATCH):
            batch = messages[i : i + _SQS_BATCH]
            self.source_client.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for n, m in enumerate(batch)],
            )
        return None

    poller_cls.__init__ = __init__
    poller_cls.poll_events = poll_events
    poller_cls.handle_messages = handle_messages
    setattr(poller_cls, _ATTR, wait)


def patch_worker(worker_cls: type, pollers: int = 1) -> None:
    """Give each worker's poller the worker's shutdown event (see handle_messages
    above) and, for a long-polling one of a standard queue, its Scale."""
    if worker_cls.__dict__.get(_ATTR):
        return
    start = worker_cls.start

    @functools.wraps(start)
    def wrapped(self, *args, **kwargs):
        setattr(self.poller, _SHUTDOWN_ATTR, self._shutdown_event)
        limit = limit_of(self.esm_config, pollers)
        if limit > 1 and getattr(self.poller, _POLLER_ATTR, False) and not self.poller.source_arn.endswith(".fifo"):
            setattr(self.poller, _SCALE_ATTR, Scale(limit))
        return start(self, *args, **kwargs)

    worker_cls.start = wrapped
    setattr(worker_cls, _ATTR, True)


def apply(env: Mapping[str, str]) -> str:
    """Apply the deviation as env says and return the line that says so."""
    wait = wait_from_env(env)
    pollers = pollers_from_env(env)
    if wait == 0:
        return f"{MARKER} off ({WAIT_ENV}=0): LocalStack's own short polling and back-off"
    poller_cls, empty_exc, worker_cls = _internals()
    patch(poller_cls, empty_exc, wait)
    patch_worker(worker_cls, pollers)
    return (
        f"{MARKER} local deviation from AWS: SQS event source mappings without a batching window "
        f"long-poll (WaitTimeSeconds={wait}), do not back off after an empty long poll, "
        f"and scale out to {pollers} receive loops while their batches come full"
    )


@hooks.on_infra_start()
def zlb_esm_long_poll():
    try:
        line = apply(os.environ)
    except (PatchError, ValueError) as e:
        LOG.error("%s FAILED: %s", MARKER, e)
        raise
    LOG.info("%s", line)
