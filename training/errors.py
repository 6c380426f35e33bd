"""Exceptions that carry a message telling the user what to fix (standard library only)."""


class DatasetError(ValueError):
    """The input data cannot be prepared as asked."""


class HyperparameterError(ValueError):
    """A hyperparameter is unknown, missing or out of range."""


class ChannelError(ValueError):
    """A training channel is missing or holds data the algorithm cannot read."""


class InferenceError(ValueError):
    """An inference request body cannot be scored."""


class UnsupportedContentTypeError(InferenceError):
    """The request's content type is not one the model server reads."""
