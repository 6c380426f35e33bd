"""A synthetic bank-marketing set with the UCI bank-additional schema and a planted, learnable signal."""

import numpy as np
import pandas as pd

from training.errors import DatasetError

DEFAULT_ROWS = 41_188  # the row count of bank-additional-full.csv
POSITIVE_RATE = 0.1127  # 4,640 "yes" out of 41,188 in the UCI file
TARGET = "y"
COLUMNS = (
    "age",
    "job",
    "marital",
    "education",
    "default",
    "housing",
    "loan",
    "contact",
    "month",
    "day_of_week",
    "duration",
    "campaign",
    "pdays",
    "previous",
    "poutcome",
    "emp.var.rate",
    "cons.price.idx",
    "cons.conf.idx",
    "euribor3m",
    "nr.employed",
    TARGET,
)
NEVER_CONTACTED = 999  # pdays value the UCI file uses for "not previously contacted"

EDUCATION = (
    "basic.4y",
    "basic.6y",
    "basic.9y",
    "high.school",
    "illiterate",
    "professional.course",
    "university.degree",
    "unknown",
)
# job: share of rows, age mean, age sd, education weights (in EDUCATION order), logit effect.
_JOBS: tuple[tuple[str, float, float, float, tuple[float, ...], float], ...] = (
    ("admin.", 0.253, 38, 9, (1, 1, 5, 35, 0, 5, 50, 4), 0.0),
    ("blue-collar", 0.225, 39, 9, (25, 16, 39, 9, 0.1, 5, 1, 5), -0.3),
    ("technician", 0.164, 38, 9, (1, 2, 6, 13, 0, 47, 25, 6), 0.0),
    ("services", 0.096, 37, 10, (4, 6, 10, 65, 0, 6, 5, 4), -0.2),
    ("management", 0.071, 42, 9, (3, 3, 5, 10, 0, 3, 72, 4), 0.0),
    ("retired", 0.042, 62, 9, (34, 5, 9, 16, 0.2, 14, 17, 5), 0.5),
    ("entrepreneur", 0.035, 42, 9, (9, 5, 14, 16, 0, 9, 42, 5), -0.1),
    ("self-employed", 0.035, 40, 10, (6, 2, 15, 8, 0, 12, 54, 3), 0.0),
    ("housemaid", 0.026, 45, 11, (45, 7, 9, 17, 0.2, 6, 13, 3), 0.0),
    ("unemployed", 0.025, 40, 10, (11, 3, 18, 25, 0, 14, 26, 3), 0.1),
    ("student", 0.021, 26, 5, (3, 2, 11, 41, 0, 5, 19, 19), 0.6),
    ("unknown", 0.008, 45, 11, (16, 7, 9, 11, 0, 3, 14, 40), 0.0),
)
# Macro-economic periods (the UCI file runs May 2008 - Nov 2010): month, emp.var.rate,
# cons.price.idx, cons.conf.idx, euribor3m centre, nr.employed, share of rows, P(cellular),
# P(contacted in an earlier campaign).
_PERIODS: tuple[tuple[str, float, float, float, float, float, float, float, float], ...] = (
    ("may", 1.1, 93.994, -36.4, 4.857, 5191.0, 0.188, 0.30, 0.04),
    ("jun", 1.4, 94.465, -41.8, 4.961, 5228.1, 0.106, 0.35, 0.04),
    ("jul", 1.4, 93.918, -42.7, 4.962, 5228.1, 0.162, 0.80, 0.04),
    ("aug", 1.4, 93.444, -36.1, 4.965, 5228.1, 0.126, 0.95, 0.05),
    ("oct", -0.1, 93.798, -40.4, 4.921, 5195.8, 0.003, 0.85, 0.10),
    ("nov", -0.1, 93.200, -42.0, 4.076, 5195.8, 0.088, 0.90, 0.12),
    ("mar", -1.8, 92.843, -50.0, 1.650, 5099.1, 0.005, 0.90, 0.20),
    ("apr", -1.8, 93.075, -47.1, 1.405, 5099.1, 0.060, 0.85, 0.18),
    ("may", -1.8, 92.893, -46.2, 1.313, 5099.1, 0.141, 0.60, 0.16),
    ("jun", -2.9, 92.963, -40.8, 1.260, 5076.2, 0.011, 0.80, 0.30),
    ("jul", -2.9, 92.469, -33.6, 1.072, 5076.2, 0.008, 0.85, 0.30),
    ("aug", -2.9, 92.201, -31.4, 0.884, 5076.2, 0.016, 0.90, 0.35),
    ("nov", -3.4, 92.649, -30.1, 0.722, 5017.5, 0.006, 0.90, 0.45),
    ("dec", -3.0, 92.713, -33.0, 0.720, 5023.5, 0.004, 0.90, 0.50),
    ("mar", -1.8, 93.369, -34.8, 0.655, 5008.7, 0.008, 0.90, 0.45),
    ("apr", -1.8, 93.749, -34.6, 0.644, 5008.7, 0.005, 0.90, 0.45),
    ("jun", -1.7, 94.055, -39.8, 0.720, 4991.6, 0.006, 0.90, 0.45),
    ("aug", -1.7, 94.027, -38.3, 0.900, 4991.6, 0.007, 0.90, 0.45),
    ("sep", -3.4, 92.379, -29.8, 0.800, 5017.5, 0.006, 0.90, 0.50),
    ("oct", -3.4, 92.431, -26.9, 0.750, 5017.5, 0.006, 0.90, 0.50),
    ("sep", -1.1, 94.199, -37.5, 0.880, 4963.6, 0.008, 0.90, 0.50),
    ("oct", -1.1, 94.601, -49.5, 0.980, 4963.6, 0.005, 0.90, 0.50),
    ("nov", -1.1, 94.767, -50.8, 1.050, 4963.6, 0.004, 0.90, 0.50),
)
_MONTH_EFFECT = {"mar": 1.2, "sep": 0.8, "oct": 0.9, "dec": 0.8, "may": -0.4}
_DAYS = ("mon", "tue", "wed", "thu", "fri")
_DAY_WEIGHTS = (0.207, 0.196, 0.197, 0.209, 0.191)
_DAY_EFFECT = (-0.15, 0.0, 0.05, 0.1, 0.0)


def _choice_per_row(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Draw one category index per row from row-specific weights (rows x categories)."""
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    draws = rng.random(len(weights))[:, None]
    chosen: np.ndarray = np.minimum((draws > cumulative).sum(axis=1), weights.shape[1] - 1)
    return chosen


def _intercept_for_rate(logits: np.ndarray, rate: float) -> float:
    """Find the intercept that makes the mean predicted probability equal `rate`."""
    low, high = -30.0, 30.0
    for _ in range(60):
        middle = (low + high) / 2
        if float(np.mean(1 / (1 + np.exp(-(logits + middle))))) < rate:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def generate_bank(rows: int = DEFAULT_ROWS, seed: int = 42) -> pd.DataFrame:
    """Generate `rows` seeded rows with the UCI bank-additional columns and a "yes"/"no" target."""
    if rows < 1:
        raise DatasetError(f"rows must be at least 1, got {rows}")
    rng = np.random.default_rng(seed)

    job_shares = np.array([job[1] for job in _JOBS])
    job = rng.choice(len(_JOBS), size=rows, p=job_shares / job_shares.sum())
    age_mean = np.array([j[2] for j in _JOBS])[job]
    age_sd = np.array([j[3] for j in _JOBS])[job]
    age = np.clip(np.rint(rng.normal(age_mean, age_sd)), 17, 98).astype(np.int64)
    education = _choice_per_row(rng, np.array([j[4] for j in _JOBS], dtype=float)[job])

    # Younger clients are mostly single; "unknown" is as rare as in the UCI file.
    p_single = 0.85 / (1 + np.exp((age - 30) / 3.5)) + 0.08
    p_divorced = np.where(age > 30, 0.12, 0.03)
    marital_weights = np.column_stack(
        [1 - p_single - p_divorced - 0.002, p_single, p_divorced, np.full(rows, 0.002)]
    )
    marital = np.array(["married", "single", "divorced", "unknown"])[_choice_per_row(rng, marital_weights)]

    default = rng.choice(["no", "unknown", "yes"], size=rows, p=[0.7909, 0.2090, 0.0001])
    housing_unknown = rng.random(rows) < 0.024  # housing and loan are unknown together in the UCI file
    housing = np.where(housing_unknown, "unknown", np.where(rng.random(rows) < 0.537, "yes", "no"))
    loan = np.where(housing_unknown, "unknown", np.where(rng.random(rows) < 0.155, "yes", "no"))

    shares = np.array([p[6] for p in _PERIODS])
    period = rng.choice(len(_PERIODS), size=rows, p=shares / shares.sum())
    table = np.array([p[1:] for p in _PERIODS], dtype=float)[period]
    month = np.array([p[0] for p in _PERIODS])[period]
    contact = np.where(rng.random(rows) < table[:, 6], "cellular", "telephone")
    day = rng.choice(len(_DAYS), size=rows, p=_DAY_WEIGHTS)
    euribor = np.round(np.maximum(table[:, 3] + rng.normal(0, 0.02, rows), 0.634), 3)

    duration = np.clip(np.rint(rng.lognormal(np.log(180), 0.85, rows)), 0, 4918).astype(np.int64)
    campaign = np.minimum(rng.geometric(0.42, rows), 56)
    contacted_before = rng.random(rows) < table[:, 7]
    previous = np.where(contacted_before, np.minimum(rng.geometric(0.7, rows), 7), 0)
    success = contacted_before & (rng.random(rows) < 0.3)
    poutcome = np.where(~contacted_before, "nonexistent", np.where(success, "success", "failure"))
    recent = np.clip(np.rint(rng.gamma(2.5, 2.4, rows)), 0, 27).astype(np.int64)
    has_pdays = np.where(success, rng.random(rows) < 0.95, contacted_before & (rng.random(rows) < 0.03))
    pdays = np.where(has_pdays, recent, NEVER_CONTACTED)

    logits = (
        0.004 * np.minimum(duration, 1500)
        - 3.0 * (duration < 60)
        + 2.0 * success
        - 0.2 * (poutcome == "failure")
        - 0.015 * (table[:, 4] - 5100)
        - 0.15 * euribor
        + 0.02 * (table[:, 2] + 40)
        + 0.6 * (contact == "cellular")
        + np.array([_MONTH_EFFECT.get(m, 0.0) for m in month])
        + np.array(_DAY_EFFECT)[day]
        + np.array([j[5] for j in _JOBS])[job]
        + 0.5 * (age > 60)
        + 0.3 * (age < 25)
        - 0.08 * (campaign - 1)
        - 0.3 * (default == "unknown")
    )
    probability = 1 / (1 + np.exp(-(logits + _intercept_for_rate(logits, POSITIVE_RATE))))
    target = np.where(rng.random(rows) < probability, "yes", "no")

    return pd.DataFrame(
        {
            "age": age,
            "job": np.array([j[0] for j in _JOBS])[job],
            "marital": marital,
            "education": np.array(EDUCATION)[education],
            "default": default,
            "housing": housing,
            "loan": loan,
            "contact": contact,
            "month": month,
            "day_of_week": np.array(_DAYS)[day],
            "duration": duration,
            "campaign": campaign,
            "pdays": pdays,
            "previous": previous,
            "poutcome": poutcome,
            "emp.var.rate": table[:, 0],
            "cons.price.idx": table[:, 1],
            "cons.conf.idx": table[:, 2],
            "euribor3m": euribor,
            "nr.employed": table[:, 4],
            TARGET: target,
        },
        columns=list(COLUMNS),
    )
