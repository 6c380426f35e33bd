"""Reading botocore's ClientError: error codes and SageMaker's ways of saying 'not found'."""

from botocore.exceptions import ClientError

_NOT_FOUND_CODES = frozenset(
    {"ResourceNotFound", "ResourceNotFoundException", "NoSuchKey", "NoSuchResource", "404"}
)


def error_code(err: ClientError) -> str:
    """The service's error code, e.g. 'ValidationException'."""
    return str(err.response.get("Error", {}).get("Code", ""))


def error_message(err: ClientError) -> str:
    """The service's error message."""
    return str(err.response.get("Error", {}).get("Message", ""))


def is_not_found(err: ClientError) -> bool:
    """Whether the error means the resource does not exist.

    SageMaker reports missing endpoints, configs and models as ValidationException "Could not find ...";
    missing jobs as ResourceNotFound.
    """
    code = error_code(err)
    if code in _NOT_FOUND_CODES:
        return True
    return code == "ValidationException" and "could not find" in error_message(err).lower()
