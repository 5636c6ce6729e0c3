"""Tests of zlb_executor.esm against the installed localstack-core.

Run with LocalStack's venv, the repository's plugin first on the path
(`make test-plugin`):

    PYTHONPATH=localstack/plugin .local/localstack-venv/bin/python -m unittest discover -s localstack/plugin/tests -v
"""

import importlib.metadata
import os
import threading
import unittest
from unittest import mock

import botocore.session
from botocore.stub import ANY, Stubber
from localstack.services.lambda_.event_source_mapping.esm_worker import EsmWorker
from localstack.services.lambda_.event_source_mapping.pollers import sqs_poller
from localstack.services.lambda_.event_source_mapping.pollers.poller import EmptyPollResultsException
from localstack.services.lambda_.event_source_mapping.pollers.sqs_poller import SqsPoller

from zlb_executor import esm

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:jobs"
QUEUE_URL = "http://127.0.0.1:1/000000000000/jobs"


class Clock:
    """Returns the given readings in turn."""

    def __init__(self, *readings: float):
        self.readings = list(readings)

    def __call__(self) -> float:
        return self.readings.pop(0)


def new_poller(cls: type, window: int):
    """A cls poller of QUEUE_ARN with the batching window, its client stubbed."""
    client = botocore.session.get_session().create_client(
        "sqs", region_name="us-east-1", endpoint_url="http://127.0.0.1:1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    params = {"SqsQueueParameters": {"BatchSize": 10, "MaximumBatchingWindowInSeconds": window}}
    with mock.patch.object(sqs_poller, "get_queue_url", return_value=QUEUE_URL):
        # The processor is never reached: every receive here is empty.
        poller = cls(source_arn=QUEUE_ARN, source_parameters=params, source_client=client, processor=mock.Mock())
    return poller, Stubber(client)


def receive(stub: Stubber, wait: int, messages: list) -> None:
    """Expect one ReceiveMessage that waits wait seconds, answered with messages."""
    stub.add_response(
        "receive_message",
        {"Messages": messages},
        {"QueueUrl": QUEUE_URL, "MaxNumberOfMessages": 10, "WaitTimeSeconds": wait, "MessageAttributeNames": ANY, "MessageSystemAttributeNames": ANY},
    )


def patched(wait: int, clock) -> type:
    """A SqsPoller subclass with the deviation, so the tests leave LocalStack's class alone."""
    cls = type("PatchedSqsPoller", (SqsPoller,), {})
    esm.patch(cls, EmptyPollResultsException, wait, clock=clock)
    return cls


class ReceiveTest(unittest.TestCase):
    def test_receive(self):
        cases = [
            # name, wait, batching window, clock readings around the receive, WaitTimeSeconds sent, raises empty
            ("no window: long poll, empty after the wait, no back-off", 1, 0, (10.0, 11.0), 1, False),
            ("no window: longer wait", 5, 0, (10.0, 15.0), 5, False),
            ("no window: empty at once (queue shut down), back-off", 1, 0, (10.0, 10.1), 1, True),
            ("window: LocalStack's own wait and back-off", 1, 3, (), 3, True),
        ]
        for name, wait, window, readings, sent, raises in cases:
            with self.subTest(name):
                poller, stub = new_poller(patched(wait, Clock(*readings)), window)
                receive(stub, sent, [])
                with stub:
                    if raises:
                        with self.assertRaises(EmptyPollResultsException):
                            poller.poll_events()
                    else:
                        self.assertIsNone(poller.poll_events())
                    stub.assert_no_pending_responses()

    def test_messages_of_a_stopped_mapping_go_back_to_the_queue(self):
        # Disabled during its long poll: the message is made visible again,
        # not handed to the function.
        message = {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}", "Attributes": {}, "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b"}
        for name, stopped, processed in [("running", False, 1), ("stopped", True, 0)]:
            with self.subTest(name):
                poller, stub = new_poller(patched(1, Clock(10.0)), 0)
                shutdown = threading.Event()
                if stopped:
                    shutdown.set()
                poller._zlb_shutdown = shutdown
                receive(stub, 1, [message])
                stub.add_response("get_queue_attributes", {"Attributes": {"FifoQueue": "false"}})
                if stopped:
                    stub.add_response(
                        "change_message_visibility_batch",
                        {"Successful": [{"Id": "0"}], "Failed": []},
                        {"QueueUrl": QUEUE_URL, "Entries": [{"Id": "0", "ReceiptHandle": "r1", "VisibilityTimeout": 0}]},
                    )
                else:
                    stub.add_response("delete_message_batch", {"Successful": [{"Id": "0"}], "Failed": []})
                with stub:
                    self.assertIsNone(poller.poll_events())
                    stub.assert_no_pending_responses()
                self.assertEqual(processed, poller.processor.process_events_batch.call_count)

    def test_unpatched_class_short_polls(self):
        # What the deviation changes: LocalStack's own poller short-polls and
        # reports an empty queue, so its worker backs off.
        poller, stub = new_poller(SqsPoller, 0)
        receive(stub, 0, [])
        with stub:
            with self.assertRaises(EmptyPollResultsException):
                poller.poll_events()
            stub.assert_no_pending_responses()

    def test_patch_is_idempotent_for_one_wait(self):
        cls = patched(1, Clock())
        init = cls.__init__
        esm.patch(cls, EmptyPollResultsException, 1)
        self.assertIs(cls.__init__, init)
        with self.assertRaisesRegex(esm.PatchError, "already long-polls for 1 s, not 2 s"):
            esm.patch(cls, EmptyPollResultsException, 2)


def message(n: int) -> dict:
    return {"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": "{}", "Attributes": {}, "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b"}


class ScaleOutTest(unittest.TestCase):
    """A full batch starts one more receive loop, up to the mapping's limit."""

    def run_polls(self, limit: int, answers: list[int]) -> tuple[int, int]:
        """One poll_events of a poller with Scale(limit) whose receives return answers[i]
        messages in turn (then none); (batches handed to the function, most loops at once)."""
        poller, _ = new_poller(patched(1, lambda: 0.0), 0)
        poller.batch_size = 2
        scale = esm.Scale(limit)
        poller._zlb_scale, poller._zlb_shutdown = scale, threading.Event()
        lock, answers = threading.Lock(), list(answers)

        def receive_message(**kwargs):
            with lock:
                n = answers.pop(0) if answers else 0
            return {"Messages": [message(i) for i in range(n)]}

        poller.source_client.receive_message = receive_message
        poller.source_client.get_queue_attributes = lambda **kwargs: {"Attributes": {"FifoQueue": "false"}}
        poller.source_client.delete_message_batch = lambda **kwargs: {"Successful": [], "Failed": []}
        self.assertIsNone(poller.poll_events())
        self.assertTrue(scale.wait_idle(10), "the helper loops ended")
        self.assertEqual(0, scale.helpers)
        return poller.processor.process_events_batch.call_count, 1 + scale.peak

    def test_scale_out(self):
        cases = [
            # name, limit, receives (messages each; batch size 2), batches handed on, most loops at once
            ("a partial batch: no helper", 5, [1], 1, 1),
            ("full, then partial: one helper, which ends", 5, [2, 1], 2, 2),
            ("full batches: helpers up to the limit, each ends on an empty receive", 3, [2, 2, 2, 2, 2, 2], 6, 3),
            ("limit 1: LocalStack's one loop", 1, [2, 2, 2], 1, 1),
        ]
        for name, limit, answers, batches, most in cases:
            with self.subTest(name):
                self.assertEqual((batches, most), self.run_polls(limit, answers))

    def test_limit_of(self):
        cases = [
            ({}, 5, 5),
            ({"ScalingConfig": {}}, 5, 5),
            ({"ScalingConfig": {"MaximumConcurrency": 2}}, 5, 2),
            ({"ScalingConfig": {"MaximumConcurrency": 100}}, 5, 5),
        ]
        for config, pollers, want in cases:
            with self.subTest(str(config)):
                self.assertEqual(want, esm.limit_of(config, pollers))


class InstalledLocalStackTest(unittest.TestCase):
    def test_internals_are_where_the_patch_expects_them(self):
        # Fails when a LocalStack upgrade moves what the deviation relies on.
        poller_cls, empty_exc, worker_cls = esm._internals()
        self.assertIs(poller_cls, SqsPoller)
        self.assertIs(empty_exc, EmptyPollResultsException)
        self.assertIs(worker_cls, EsmWorker)

    def test_internals_check_names_what_moved(self):
        with mock.patch.object(esm, "_EXPECTED", (("SqsPoller.poll_events", "receive_message("), ("EsmWorker.poller_loop", "a line LocalStack never had"))):
            with self.assertRaisesRegex(
                esm.PatchError,
                r"^LocalStack's EsmWorker.poller_loop no longer contains 'a line LocalStack never had' \(written against localstack-core 4.14.0\)",
            ):
                esm._internals()

    def test_hook_logs_and_raises_when_it_cannot_apply(self):
        # LocalStack then does not start, and its log says why.
        with mock.patch.dict(os.environ, {"ZLB_ESM_SQS_WAIT_SEC": "fast"}):
            with self.assertLogs("zlb_executor.esm", "ERROR") as logs, self.assertRaises(ValueError):
                esm.zlb_esm_long_poll()
        self.assertEqual(["ERROR:zlb_executor.esm:zlb-esm-long-poll: FAILED: ZLB_ESM_SQS_WAIT_SEC='fast' is not a whole number of seconds"], logs.output)

    def test_apply(self):
        cases = [
            ("default", {}, "zlb-esm-long-poll: local deviation from AWS: SQS event source mappings without a batching window long-poll (WaitTimeSeconds=1), do not back off after an empty long poll, and scale out to 5 receive loops while their batches come full", 1),
            ("set", {"ZLB_ESM_SQS_WAIT_SEC": "3", "ZLB_ESM_SQS_POLLERS": "2"}, "zlb-esm-long-poll: local deviation from AWS: SQS event source mappings without a batching window long-poll (WaitTimeSeconds=3), do not back off after an empty long poll, and scale out to 2 receive loops while their batches come full", 3),
            ("off", {"ZLB_ESM_SQS_WAIT_SEC": "0"}, "zlb-esm-long-poll: off (ZLB_ESM_SQS_WAIT_SEC=0): LocalStack's own short polling and back-off", None),
        ]
        for name, env, line, wait in cases:
            with self.subTest(name):
                # LocalStack's class as it was, restored afterwards.
                with (
                    mock.patch.object(SqsPoller, "__init__", SqsPoller.__init__),
                    mock.patch.object(SqsPoller, "poll_events", SqsPoller.poll_events),
                    mock.patch.object(SqsPoller, "handle_messages", SqsPoller.handle_messages),
                    mock.patch.object(SqsPoller, "_zlb_long_poll_wait", None, create=True),
                    mock.patch.object(EsmWorker, "start", EsmWorker.start),
                    mock.patch.object(EsmWorker, "_zlb_long_poll_wait", None, create=True),
                ):
                    self.assertEqual(line, esm.apply(env))
                    self.assertEqual(wait, SqsPoller.__dict__["_zlb_long_poll_wait"])
                    self.assertEqual(wait is not None or None, EsmWorker.__dict__["_zlb_long_poll_wait"])

    def test_apply_refuses_bad_waits(self):
        cases = [
            ("not a number", "1.5", "ZLB_ESM_SQS_WAIT_SEC='1.5' is not a whole number of seconds"),
            ("negative", "-1", r"ZLB_ESM_SQS_WAIT_SEC=-1 is outside 0\.\.20"),
            ("above SQS's bound", "21", r"ZLB_ESM_SQS_WAIT_SEC=21 is outside 0\.\.20"),
        ]
        for name, raw, msg in cases:
            with self.subTest(name):
                with self.assertRaisesRegex(ValueError, msg):
                    esm.apply({"ZLB_ESM_SQS_WAIT_SEC": raw})

    def test_apply_refuses_bad_poller_counts(self):
        for raw, msg in [("many", "ZLB_ESM_SQS_POLLERS='many' is not a whole number"), ("0", r"ZLB_ESM_SQS_POLLERS=0 is outside 1\.\.50")]:
            with self.subTest(raw):
                with self.assertRaisesRegex(ValueError, msg):
                    esm.apply({"ZLB_ESM_SQS_POLLERS": raw})

    def test_hook_is_registered(self):
        # LocalStack runs the hook only if the installed plugin declares it.
        hooks = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="localstack.hooks.on_infra_start")}
        self.assertEqual("zlb_executor.esm:zlb_esm_long_poll", hooks.get("zlb_esm_long_poll"))


if __name__ == "__main__":
    unittest.main()
