"""Python client for evaluate.mjs: IAM authorization decisions made by @cloud-copilot/iam-simulate.

Every decision comes from iam-simulate, the maintained evaluator, so the local AWS follows AWS's
evaluation logic (explicit deny wins, KMS key policies, same- and cross-account resource policies)
instead of an approximation of it. The Node process starts once and answers requests over pipes,
because loading the package and its IAM data costs far more than one decision.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Self, cast

SCRIPT = Path(__file__).resolve().with_name("evaluate.mjs")
PROJECT_ROOT = SCRIPT.parents[2]
NPM_PACKAGE = "@cloud-copilot/iam-simulate"
# evaluate.mjs exits with this code when it cannot import NPM_PACKAGE.
MISSING_PACKAGE_EXIT_CODE = 3

PolicyDocument = Mapping[str, Any] | str
"""A policy document as a JSON object, or the JSON text IAM stores."""
ContextValue = str | Sequence[str]
DecisionKind = Literal["Allowed", "ImplicitlyDenied", "ExplicitlyDenied"]


class EvaluatorError(RuntimeError):
    """The evaluator process could not be started or answered something unusable."""


class IamSimulateNotInstalledError(EvaluatorError):
    """The npm package is missing, so no decision can be made until `make setup` installs it."""


class InvalidAccessRequestError(EvaluatorError):
    """iam-simulate refused the request (invalid policy, unknown action, unsupported resource ARN).

    AWS itself would have rejected such input before authorizing anything, so there is no decision.
    """

    def __init__(self, message: str, errors: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class AccessRequest:
    """One authorization question: may `principal` perform `action` on `resource`?

    `account_id` is the account that owns the resource; it is explicit because S3 ARNs carry none and
    same- versus cross-account changes the outcome. `identity_policies` maps each policy's name (inline
    policy name or managed policy ARN) to its document so decisions can say which policy decided.
    Wildcard-only actions (kms:CreateKey) are authorized against "*" whatever `resource` says, as in AWS.
    """

    principal: str
    action: str
    resource: str
    account_id: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    identity_policies: Mapping[str, PolicyDocument] = field(default_factory=dict)
    resource_policy: PolicyDocument | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome of an AccessRequest and, when one decided it, the statement responsible.

    `statement` names the allow that granted access or the explicit deny that refused it, for example
    "AllowDecrypt in identity policy kms-use"; it is None for an implicit deny. `ignored_context_keys`
    lists context keys iam-simulate dropped because the action never carries them, which is why a
    condition on one of them can never match.
    """

    allowed: bool
    decision: DecisionKind
    statement: str | None = None
    ignored_context_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.allowed != (self.decision == "Allowed"):
            raise ValueError(f"allowed={self.allowed} contradicts decision {self.decision}")


def _node_executable() -> str:
    """The repository's Node (the version make setup pins) first, any Node on PATH otherwise."""
    pinned = PROJECT_ROOT / "node_modules" / ".bin" / "node"
    if pinned.exists():
        return str(pinned)
    found = shutil.which("node")
    if found is None:
        raise EvaluatorError(f"node is not installed (run make setup to install {NPM_PACKAGE} and Node)")
    return found


def _document(policy: PolicyDocument) -> Any:
    return json.loads(policy) if isinstance(policy, str) else dict(policy)


def _wire_request(request_id: int, request: AccessRequest) -> str:
    # A bare string is itself a Sequence[str]: send it as one value, not as a list of characters.
    context = {
        key: value if isinstance(value, str) else list(value) for key, value in request.context.items()
    }
    return json.dumps(
        {
            "id": request_id,
            "principal": request.principal,
            "action": request.action,
            "resource": request.resource,
            "accountId": request.account_id,
            "context": context,
            "identityPolicies": [
                {"name": name, "policy": _document(policy)}
                for name, policy in request.identity_policies.items()
            ],
            "resourcePolicy": None if request.resource_policy is None else _document(request.resource_policy),
        }
    )


def _describe_statement(statement: Mapping[str, Any] | None) -> str | None:
    if statement is None:
        return None
    sid = statement.get("sid") or f"statement #{statement.get('index')}"
    policy = statement.get("policy")
    where = f"{statement.get('policyType')} policy" + (f" {policy}" if policy else "")
    return f"{sid} in {where}"


def _decision(response: Mapping[str, Any], request: AccessRequest) -> Decision:
    errors = response.get("errors")
    if errors:
        raise InvalidAccessRequestError(
            f"cannot evaluate {request.action} on {request.resource}: {json.dumps(errors)}", errors
        )
    kind = response.get("decision")
    if kind not in ("Allowed", "ImplicitlyDenied", "ExplicitlyDenied"):
        raise EvaluatorError(f"unexpected decision from {SCRIPT.name}: {response!r}")
    return Decision(
        allowed=kind == "Allowed",
        decision=cast(DecisionKind, kind),
        statement=_describe_statement(response.get("statement")),
        ignored_context_keys=tuple(response.get("ignoredContextKeys") or ()),
    )


class _ProcessDiedError(Exception):
    """The Node process went away during an exchange."""


class PolicyEvaluator:
    """Answers AccessRequests with one long-lived `node evaluate.mjs` process.

    Safe to share between threads: requests are serialized over the process's pipes. The process starts
    here and is started again if it dies, so one crash does not take the local AWS's IAM down with it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._process: subprocess.Popen[str] | None = None
        self._stderr: deque[str] = deque(maxlen=50)
        self._stderr_reader: threading.Thread | None = None
        self._closed = False
        with self._lock:
            self._start()

    @property
    def pid(self) -> int | None:
        """The Node process's id, None when none is running."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def evaluate(self, request: AccessRequest) -> Decision:
        """Ask iam-simulate whether AWS would allow `request`."""
        request_id = next(self._ids)
        line = _wire_request(request_id, request)
        with self._lock:
            if self._closed:
                raise EvaluatorError("the policy evaluator is closed")
            # One retry: a process that died between requests, or under this one, is replaced once; a
            # request that kills the fresh process too is reported instead of looping.
            for attempt in (1, 2):
                process = self._running()
                try:
                    response = self._exchange(process, line)
                    break
                except _ProcessDiedError:
                    failure = self._failure(process)
                    if attempt == 2 or isinstance(failure, IamSimulateNotInstalledError):
                        raise failure from None
            if response.get("id") != request_id:
                # Out of step, every later answer would belong to another request: start afresh.
                process.kill()
                raise EvaluatorError(
                    f"{SCRIPT.name} answered request {response.get('id')!r}, expected {request_id}"
                )
        return _decision(response, request)

    def close(self) -> None:
        """Stop the Node process; the evaluator cannot be used afterwards."""
        with self._lock:
            self._closed = True
            process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            # A process that already died has a broken pipe; the wait below reaps it all the same.
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._join_stderr_reader()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [_node_executable(), str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._stderr.clear()
        # Drained continuously so a chatty process never blocks on a full stderr pipe.
        reader = threading.Thread(
            target=self._drain, args=(process.stderr,), name="iam-evaluator-stderr", daemon=True
        )
        reader.start()
        self._process, self._stderr_reader = process, reader
        return process

    def _running(self) -> subprocess.Popen[str]:
        process = self._process
        if process is not None and process.poll() is None:
            return process
        if process is not None:
            failure = self._failure(process)
            # Starting again cannot help until the package is installed.
            if isinstance(failure, IamSimulateNotInstalledError):
                raise failure
        return self._start()

    def _drain(self, stream: IO[str] | None) -> None:
        if stream is None:
            return
        for line in stream:
            self._stderr.append(line.rstrip("\n"))

    def _join_stderr_reader(self) -> None:
        if self._stderr_reader is not None:
            self._stderr_reader.join(timeout=5)
            self._stderr_reader = None

    @staticmethod
    def _exchange(process: subprocess.Popen[str], line: str) -> Any:
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(line + "\n")
            process.stdin.flush()
            answer = process.stdout.readline()
        except (BrokenPipeError, ValueError) as error:  # ValueError: the pipe was closed under us
            raise _ProcessDiedError from error
        if not answer:
            raise _ProcessDiedError
        try:
            return json.loads(answer)
        except json.JSONDecodeError as error:
            raise EvaluatorError(f"{SCRIPT.name} wrote something that is not JSON: {answer!r}") from error

    def _failure(self, process: subprocess.Popen[str]) -> EvaluatorError:
        """Reap a process that stopped answering and explain why it stopped."""
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        self._join_stderr_reader()
        self._process = None
        stderr = "\n".join(self._stderr)
        if code == MISSING_PACKAGE_EXIT_CODE:
            return IamSimulateNotInstalledError(
                f"npm package {NPM_PACKAGE} is not installed (run make setup): {stderr}"
            )
        return EvaluatorError(f"{SCRIPT.name} exited with code {code}: {stderr or 'no output on stderr'}")
