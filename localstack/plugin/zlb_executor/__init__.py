"""A LocalStack Lambda runtime executor without Docker.

LocalStack picks how to run a function through plugins in the entry-point
namespace ``localstack.lambda.runtime_executor`` (selected with
``LAMBDA_RUNTIME_EXECUTOR``). Its own ``docker`` executor starts a container
whose init binary serves two sides: an ``/invoke`` endpoint on port 9563 that
LocalStack posts invocations to, and the Lambda Runtime API that the function's
runtime polls. This plugin does the same on the host: each execution
environment gets its own loopback address 127.0.0.N, serves ``/invoke`` on
N:9563 and the Runtime API on N:9001, and runs the function's ``bootstrap``
(a ``provided.al2023`` Go binary) as a local process.

Written against localstack-core 4.14.0:
``localstack.services.lambda_.invocation.runtime_executor.RuntimeExecutor`` and
the callback protocol of ``...invocation.executor_endpoint`` (``ExecutorRouter``:
``/_localstack_lambda/<id>/status/<id>/ready|error``,
``/_localstack_lambda/<id>/invocations/<req>/response|error|logs``).
"""

from plux import Plugin


class HostProcessExecutorPlugin(Plugin):
    namespace = "localstack.lambda.runtime_executor"
    name = "host-process"

    def load(self, *args, **kwargs):
        from zlb_executor.executor import HostProcessRuntimeExecutor

        return HostProcessRuntimeExecutor
