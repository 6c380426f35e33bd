"""A training job's log in CloudWatch Logs, where SageMaker writes it: the log group
/aws/sagemaker/TrainingJobs, one stream `<job name>/algo-1-<epoch seconds>` per host.

The local SageMaker writes it once the job has ended (SageMaker streams it as the job runs), straight
into the local AWS's Logs backend: `aws logs get-log-events` and the console read it as on AWS.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from moto.logs.models import logs_backends

GROUP = "/aws/sagemaker/TrainingJobs"
MAX_LINES = 20_000  # kept per job: the first and the last, as a long log's reader needs them
_BATCH = 5_000  # PutLogEvents takes at most 10,000 events
_lock = threading.Lock()


@dataclass
class JobLog:
    """The lines one job wrote (its algorithm's, and the local SageMaker's own notes), with their times."""

    lines: list[tuple[int, str]] = field(default_factory=list)  # (epoch milliseconds, text)
    dropped: int = 0

    def add(self, millis: int, text: str) -> None:
        if len(self.lines) >= MAX_LINES:
            # Keep the head (what started the job) and the most recent half: drop from the middle.
            del self.lines[MAX_LINES // 2]
            self.dropped += 1
        self.lines.append((millis, text))


def stream_name(job_name: str, started_epoch_s: int) -> str:
    return f"{job_name}/algo-1-{started_epoch_s}"


def publish(account_id: str, region: str, stream: str, log: JobLog) -> None:
    """Write the job's lines to its stream (the group made if missing), in order."""
    backend = logs_backends[account_id][region]
    events = [{"timestamp": millis, "message": text} for millis, text in log.lines]
    if log.dropped and events:
        note = f"[the local SageMaker kept {MAX_LINES} lines of this log; {log.dropped} were dropped]"
        events.insert(len(events) // 2, {"timestamp": events[len(events) // 2]["timestamp"], "message": note})
    with _lock:
        if GROUP not in backend.groups:
            backend.create_log_group(GROUP, {})
        if stream not in backend.groups[GROUP].streams:
            backend.create_log_stream(GROUP, stream)
    for start in range(0, len(events), _BATCH):
        backend.put_log_events(GROUP, stream, events[start : start + _BATCH])
