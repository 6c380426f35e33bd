"""CSV delimiter sniffing shared by the dataset loader and the training channel reader."""

import csv
from pathlib import Path

DELIMITERS = ",;\t|"
_SAMPLE_BYTES = 64 * 1024


def sniff_delimiter(sample: str) -> str:
    """Return the delimiter of a CSV sample (',' when it cannot tell)."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        # A single column has no delimiter to find; ',' reads it the same way.
        return ","


def sniff_file_delimiter(path: Path) -> str:
    """Return the delimiter of a CSV file from its first lines."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    if len(sample) == _SAMPLE_BYTES and "\n" in sample:
        # A cut-off last line confuses the sniffer's consistency check.
        sample = sample[: sample.rindex("\n")]
    return sniff_delimiter(sample)
