"""Generated pieces against real ones, statistic by statistic (genseq/music/statistics.py).

Per statistic: the real and generated mean ± sd (sample sd), the distance |Δmean| / sd_real, and
the overlapping area of the two sets' distributions, each smoothed by a Gaussian kernel density
estimate (Yang & Lerch 2020, "On the evaluation of generative models in music", who take the
overlapping area of such KDEs; here of the per-piece values themselves). Overlap 1: the same
distribution; 0: disjoint. ``worst_distance_sd`` is the largest distance over the statistics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.files import find_files
from genseq.core.notes import NoteSequence, load_sequences
from genseq.music.statistics import STATISTICS, piece_statistics

KDE_GRID = 512
CONSTANT = 1e-9  # a spread below this is no spread


def finite(value: float | None) -> float | None:
    """JSON has no NaN: an undefined figure is None."""
    return None if value is None or not np.isfinite(value) else float(value)


def mean_sd(values: np.ndarray) -> tuple[float, float]:
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def distance_sd(real: np.ndarray, generated: np.ndarray, unit: np.ndarray | None = None) -> float | None:
    """|Δmean| / sd_real (the sd of `unit` when given); 0 when both means agree, None (infinitely
    far) when the real values are constant and the generated ones differ."""
    (real_mean, real_sd), (gen_mean, _) = mean_sd(real), mean_sd(generated)
    real_sd = real_sd if unit is None else mean_sd(unit)[1]
    if np.isnan(real_mean) or np.isnan(gen_mean):
        return None
    gap = abs(gen_mean - real_mean)
    if real_sd < CONSTANT:
        return 0.0 if gap < CONSTANT else None
    return gap / real_sd


def kde(values: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    z = (grid[:, None] - values[None, :]) / bandwidth
    return np.exp(-0.5 * z * z).sum(axis=1) / (len(values) * bandwidth * np.sqrt(2 * np.pi))


def scott_bandwidth(values: np.ndarray, floor: float) -> float:
    spread = values.std(ddof=1) if len(values) > 1 else 0.0
    return max(spread * len(values) ** (-1 / 5), floor)


def overlap_area(a: np.ndarray, b: np.ndarray) -> float | None:
    """∫ min(p_a, p_b) of Gaussian KDEs (Scott's bandwidth, floored at 1% of the pooled spread)."""
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) == 0 or len(b) == 0:
        return None
    pooled = np.concatenate([a, b])
    scale = pooled.max() - pooled.min()
    if scale < CONSTANT:
        return 1.0
    floor = 0.01 * scale
    ha, hb = scott_bandwidth(a, floor), scott_bandwidth(b, floor)
    reach = 4 * max(ha, hb)
    grid = np.linspace(pooled.min() - reach, pooled.max() + reach, KDE_GRID)
    area = np.trapezoid(np.minimum(kde(a, grid, ha), kde(b, grid, hb)), grid)
    return float(min(1.0, area))


def statistics_table(pieces: list[NoteSequence], bars: int | None = None) -> dict[str, np.ndarray]:
    rows = [piece_statistics(p, bars) for p in pieces]
    return {name: np.array([row[name] for row in rows], dtype=np.float64) for name in STATISTICS}


def compare_tables(real: dict[str, np.ndarray], generated: dict[str, np.ndarray],
                   unit: dict[str, np.ndarray] | None = None) -> dict:
    per_statistic = {}
    for name in STATISTICS:
        (rm, rs), (gm, gs) = mean_sd(real[name]), mean_sd(generated[name])
        per_statistic[name] = {
            "real_mean": finite(rm), "real_sd": finite(rs), "generated_mean": finite(gm), "generated_sd": finite(gs),
            "distance_sd": distance_sd(real[name], generated[name], None if unit is None else unit[name]), "overlap": overlap_area(real[name], generated[name]),
        }
    distances = {name: row["distance_sd"] for name, row in per_statistic.items()}
    worst = max(distances, key=lambda n: float("inf") if distances[n] is None else distances[n])
    overlaps = [row["overlap"] for row in per_statistic.values() if row["overlap"] is not None]
    return {
        "statistics": per_statistic,
        "worst_distance_sd": distances[worst], "worst_statistic": worst,
        "mean_overlap": float(np.mean(overlaps)) if overlaps else None,
    }


def compare_pieces(real: list[NoteSequence], generated: list[NoteSequence], bars: int | None = None,
                   unit: list[NoteSequence] | None = None) -> dict:
    """The comparison of two sets of pieces (see the module docstring); worst_distance_sd None: infinitely
    far. Distances are in sds of `unit` when given (e.g. a whole held-out set, when `real` and
    `generated` are its two halves), else of `real`."""
    if not real or not generated:
        raise GenseqError(f"need real and generated pieces, got {len(real)} and {len(generated)}")
    result = compare_tables(statistics_table(real, bars), statistics_table(generated, bars),
                            None if unit is None else statistics_table(unit, bars))
    return {"real_pieces": len(real), "generated_pieces": len(generated), "bars": bars, **result}


def read_pieces(path: str | Path, steps_per_quarter: int = 4) -> list[NoteSequence]:
    """A folder of MIDI files (recursively) or a note-sequence dataset (.npz); unreadable files are errors."""
    from genseq.music.midi import MIDI_SUFFIXES, read_midi

    path = Path(path)
    if not path.exists():
        raise GenseqError("no such file or folder", path)
    if path.is_file() and path.suffix == ".npz":
        pieces = load_sequences(path)
    else:
        pieces = [read_midi(f, steps_per_quarter) for f in find_files([path], MIDI_SUFFIXES)]
    if not pieces:
        raise GenseqError("no MIDI files (.mid, .midi) here", path)
    return pieces


def evaluate_samples(generated_dir: str | Path, reference_dir: str | Path, bars: int | None = None) -> dict:
    """Generated pieces (a folder of MIDI, or .npz) against real ones, per statistic; see compare_pieces.
    Both are read on a 4-steps-a-quarter grid (a .npz keeps its own)."""
    result = compare_pieces(read_pieces(reference_dir), read_pieces(generated_dir), bars)
    return {"generated": str(generated_dir), "reference": str(reference_dir), **result}


def summary_lines(result: dict) -> list[str]:
    """A table of the comparison, one statistic a line."""
    lines = [f"{'statistic':<20} {'real':>17} {'generated':>17} {'distance':>9} {'overlap':>8}"]
    show = lambda value: "nan" if value is None else f"{value:.3f}"  # noqa: E731
    for name, row in result["statistics"].items():
        distance = "inf" if row["distance_sd"] is None else f"{row['distance_sd']:.2f} sd"
        overlap = "-" if row["overlap"] is None else f"{row['overlap']:.2f}"
        lines.append(f"{name:<20} {show(row['real_mean']):>8} ± {show(row['real_sd']):<6} "
                     f"{show(row['generated_mean']):>8} ± {show(row['generated_sd']):<6} {distance:>9} {overlap:>8}")
    worst = "inf" if result["worst_distance_sd"] is None else f"{result['worst_distance_sd']:.2f} sd"
    lines.append(f"worst: {result['worst_statistic']} at {worst}; {result['real_pieces']} real, "
                 f"{result['generated_pieces']} generated pieces")
    return lines
