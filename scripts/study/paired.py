"""Paired differences of the study (docs/study.md): for each pair of configurations and each
metric, the mean of the per-photo differences A − B, its 95% confidence interval (Student's t
with n − 1 degrees of freedom) and on how many photos A is the better one.

    python3 scripts/study/paired.py study.csv

Reads the CSV `tiled-occlusion evaluate --csv` writes; standard library only.
"""

import csv
import math
import statistics
import sys
from collections import defaultdict

METRICS = [
    # (column, label, True when lower is better)
    ("deletion_auc", "deletion AUC", True),
    ("insertion_auc", "insertion AUC", False),
    ("aopc", "AOPC", False),
    ("total_variation", "total variation", True),
    ("entropy", "entropy", True),
    ("gini", "Gini", False),
]

PAIRS = [
    ("tiled:18:2", "occlusion:18:9"),
    ("tiled:18:2", "occlusion:9:9"),
    ("tiled:36:4", "occlusion:9:9"),
    ("tiled:18:2", "tiled-reference:18:2"),
]


def t_quantile(p, dof):
    """Student's t quantile by the Cornish-Fisher expansion around the normal one (within
    1e-3 of the exact value from 10 degrees of freedom on)."""
    z = statistics.NormalDist().inv_cdf(p)
    return (z + (z**3 + z) / (4 * dof) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * dof**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * dof**3))


def main():
    rows = defaultdict(dict)
    with open(sys.argv[1], newline="") as f:
        for row in csv.DictReader(f):
            rows[row["config"]][row["image"]] = row
    for a, b in PAIRS:
        if a not in rows or b not in rows:
            continue
        photos = sorted(set(rows[a]) & set(rows[b]))
        n = len(photos)
        print(f"\n{a} − {b}, {n} photos:")
        print("| metric | mean difference | 95% CI | A better on |")
        print("|---|---|---|---|")
        for column, label, lower_better in METRICS:
            d = [float(rows[a][p][column]) - float(rows[b][p][column]) for p in photos]
            mean = statistics.fmean(d)
            half = t_quantile(0.975, n - 1) * statistics.stdev(d) / math.sqrt(n) if n > 1 else float("nan")
            better = sum(1 for v in d if (v < 0 if lower_better else v > 0))
            print(f"| {label} | {mean:+.4f} | [{mean - half:+.4f}, {mean + half:+.4f}] | {better}/{n} |")


if __name__ == "__main__":
    main()
