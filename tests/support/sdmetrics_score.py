"""Scores a synthetic CSV against a real one with SDMetrics' QualityReport.

Usage: sdmetrics_score.py REAL.csv SYNTH.csv METADATA.json

Prints one JSON object: the overall score, the two property scores and the
per-column and per-pair details, so that tests/quality_parity.rs can check
shopsynth's own computation against the reference implementation. The CSVs
are read the plain `pandas.read_csv` way, as users read them.
"""

import csv
import json
import math
import sys
import warnings

import pandas as pd

warnings.simplefilter("ignore")

from sdmetrics.reports.single_table import QualityReport  # noqa: E402


def number(value):
    """A float for JSON, None for NaN."""
    value = float(value)
    return None if math.isnan(value) else value


def read(path):
    """Reads a CSV the plain pandas way, naming columns as shopsynth does.

    pandas calls a blank header cell `Unnamed: N` (N from 0) where shopsynth,
    and so its metadata, calls it `unnamed_N` (N from 1); only those
    columns are renamed.
    """
    frame = pd.read_csv(path)
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    if len(header) == len(frame.columns):
        frame.columns = [
            name if name else f"unnamed_{position}"
            for position, name in enumerate(header, start=1)
        ]
    return frame


def plain(value):
    """A JSON value for a pandas cell: None for NaN and NA."""
    if pd.isna(value):
        return None
    if isinstance(value, (bool, str)):
        return value
    return float(value)


def details(report, name, keys):
    """The property's detail rows, with the given columns renamed."""
    table = report.get_details(name)
    return [
        {key: plain(row[column]) for key, column in keys.items() if column in table.columns}
        for _, row in table.iterrows()
    ]


def main(real_path, synthetic_path, metadata_path):
    with open(metadata_path, encoding="utf-8") as handle:
        metadata = json.load(handle)
    report = QualityReport()
    report.generate(read(real_path), read(synthetic_path), metadata, verbose=False)
    properties = report.get_properties()
    scores = dict(zip(properties["Property"], properties["Score"]))
    result = {
        "overall": number(report.get_score()),
        "column_shapes": number(scores["Column Shapes"]),
        "column_pair_trends": number(scores["Column Pair Trends"]),
        "columns": details(report, "Column Shapes", {"column": "Column", "score": "Score"}),
        "pairs": details(
            report,
            "Column Pair Trends",
            {
                "column_1": "Column 1",
                "column_2": "Column 2",
                "score": "Score",
                "counted": "Meets Threshold?",
            },
        ),
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
