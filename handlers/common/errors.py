"""Expected failures of the handlers; each class name is the error name Step Functions sees."""

# The error of executions the stack's teardown stops (`cdk destroy`): Cleanup, called by the event rule
# for them, then knows that the stack, and unless the stage retains data its buckets, are going.
STACK_DELETED = "MlStack.StackDeleted"


class PipelineError(Exception):
    """Base of the failures a handler raises on purpose, with a message that says what to do."""


class InvalidInput(PipelineError):  # noqa: N818 - the class name is the Step Functions error name
    """The execution input cannot run: a field is missing, unknown, malformed or out of range."""


class QuotaExceeded(PipelineError):  # noqa: N818 - the class name is the Step Functions error name
    """A Service Quota is below what the run needs."""


class NoFinalist(PipelineError):  # noqa: N818 - the class name is the Step Functions error name
    """Neither the tuning job nor the Autopilot job produced a model to deploy."""


class EvaluationFailed(PipelineError):  # noqa: N818 - the class name is the Step Functions error name
    """No variant of the endpoint could be evaluated on the test set."""


class EndpointNotDeletable(PipelineError):  # noqa: N818 - the class name is the Step Functions error name
    """The endpoint stayed in a state that cannot be deleted within the wait budget; retry later."""


class ConfigurationError(PipelineError):
    """The function's environment (set by the stack) is missing or malformed."""
