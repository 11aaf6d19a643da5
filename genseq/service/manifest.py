"""Batch manifests: reading YAML or CSV rows and validating them into Jobs, each bad row failing alone.

A manifest is YAML (a list of rows, or a mapping with a `jobs:` list) or CSV (a header row;
columns kind, checkpoint, primer, output, and either a `parameters` column holding a JSON
object or `key=value;key=value`, or one extra column per parameter). A row:

    kind: music | dance
    checkpoint: a checkpoint file or run folder; empty for the bundled model of the kind
    primer: a MIDI file (music) or a video / BVH / .npz clip (dance) to continue; optional
    output: where the job writes, relative to the output root: a folder for music
            (sample_000.mid, .wav, .png ...), an .mp4 (or .mov) file for dance
    parameters: the fields of GenerateMusicOptions / GenerateDanceOptions (genseq/core/options.py)
                but out, checkpoint, primer and device; dance has keypoints: true for
                the .npz beside the video (unknown keys are errors)

Relative checkpoint and primer paths are read relative to the manifest's folder. Outputs
can never land outside the output root (absolute paths, '..' and symlinks that lead out are
rejected), no path may hold a control character, and no two rows may write the same file
(every file a job writes is compared: `clip.mp4` and `clip.mov` both write `clip.png`).

Hostile manifests are refused whole with one line: larger than bounded_yaml.MAX_MANIFEST_BYTES,
a YAML alias bomb or recursive alias, a CSV whose quoted field never ends.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from genseq.core.atomic import longest_name_written, name_limit
from genseq.core.errors import GenseqError
from genseq.core.options import GenerateDanceOptions, GenerateMusicOptions
from genseq.service.bounded_yaml import load_bounded_yaml, read_bounded_text
from genseq.service.files import control_character, inside_root
from genseq.service.results import JobResult

VIDEO_SUFFIXES = (".mp4", ".mov")
MEDIA_SUFFIXES = (".mid", ".midi", ".wav", ".png", ".gif", ".npz", *VIDEO_SUFFIXES)
ROW_KEYS = ("kind", "checkpoint", "primer", "output")
RECORD_SUFFIX = ".genseq-job.json"


ROW_FIELDS = ("out", "checkpoint", "primer", "device")  # given by the row's own columns and the batch


def row_parameters(options: type[BaseModel], name: str, drop: tuple[str, ...] = (), **extra) -> type[BaseModel]:
    """The parameters a batch row may give an operation: the fields of its options model (genseq/core/options.py)
    with their defaults and bounds, less those the row's columns and the batch give, plus `extra`."""
    fields = {key: (info.annotation, info) for key, info in options.model_fields.items()
              if key not in ROW_FIELDS + drop}
    return create_model(name, __config__=ConfigDict(extra="forbid"), __validators__=kept_validators(options, fields),
                        **fields, **extra)


def kept_validators(options: type[BaseModel], fields: dict) -> dict:
    """The options model's field validators on fields a row keeps (--bars with --seconds, say): a row is
    refused where the options would refuse it, when the manifest is read."""
    kept = {}
    for name, decorator in options.__pydantic_decorators__.field_validators.items():
        if set(decorator.info.fields) <= set(fields):
            function = getattr(decorator.func, "__func__", decorator.func)  # unbound from the options class
            kept[name] = field_validator(*decorator.info.fields, mode=decorator.info.mode)(classmethod(function))
    return kept


MusicParameters = row_parameters(GenerateMusicOptions, "MusicParameters")
DanceParameters = row_parameters(GenerateDanceOptions, "DanceParameters", drop=("keypoints_out",), keypoints=(
    bool, Field(False, description="also save each clip as .npz beside the video")))


class Job(BaseModel):
    """One validated manifest row (paths still as written; resolve with genseq.service.jobs.input_path)."""

    model_config = ConfigDict(extra="forbid")
    row: int = Field(..., description="1-based row number in the manifest")
    kind: Literal["music", "dance"]
    checkpoint: Optional[str] = None
    primer: Optional[str] = None
    output: str
    parameters: Union[MusicParameters, DanceParameters]
    base_dir: str = Field(".", description="folder relative checkpoint/primer paths are read from")

    @model_validator(mode="before")
    @classmethod
    def parameters_of_kind(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            params = data.get("parameters") or {}
            if isinstance(params, BaseModel):
                params = params.model_dump()
            kind = data.get("kind")
            if kind not in ("music", "dance"):
                data["parameters"] = {}  # the kind is the error; say only that
            elif kind == "music":
                data["parameters"] = MusicParameters.model_validate(params)
            elif kind == "dance":
                data["parameters"] = DanceParameters.model_validate(params)
            for key in ("checkpoint", "primer"):
                if isinstance(data.get(key), str) and not data[key].strip():
                    data[key] = None
        return data

    @field_validator("output", "checkpoint", "primer")
    @classmethod
    def no_control_characters(cls, value: str | None) -> str | None:
        found = control_character(value or "")
        if found:
            raise ValueError(f"contains a control character ({found}), which no file name may hold")
        return value

    @model_validator(mode="after")
    def output_fits_kind(self) -> "Job":
        suffix = Path(self.output).suffix.lower()
        if self.kind == "dance" and suffix not in VIDEO_SUFFIXES:
            raise ValueError(f"a dance output is a video file ending in {' or '.join(VIDEO_SUFFIXES)}, got '{self.output}'")
        if self.kind == "music" and suffix in MEDIA_SUFFIXES:
            raise ValueError(f"a music output is a folder (sample_000.mid ... go inside), got '{self.output}'")
        return self

    def writes(self, target: Path) -> list[str]:
        """Every file the job writes (its record aside), given its output resolved (inside_root); as strings,
        cheap to make and compare for the rows of a large manifest."""
        from genseq.motion.generate import output_files as dance_files
        from genseq.music.generate import output_files as music_files

        p = self.parameters
        if self.kind == "music":
            return list(map(str, music_files(target, p.num_outputs, p.png, p.wav)))
        keypoints = target.with_suffix(".npz") if p.keypoints else None
        return list(map(str, dance_files(target, p.num_outputs, keypoints, p.preview, p.cover)))


def record_path(target: Path) -> Path:
    """Where a job's record goes: beside its output (genseq.service.jobs writes and reads it)."""
    return target.parent / f".{target.name}{RECORD_SUFFIX}"


# ---------------------------------------------------------------------------------------------
# Reading rows


def read_manifest_rows(manifest: str | Path) -> list[dict]:
    """The raw rows of a YAML or CSV manifest, each with its 'row' number."""
    path = Path(manifest)
    if not path.is_file():
        raise GenseqError("no such manifest file", path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml", ".json"):
        raise GenseqError("manifest must be .yaml, .yml or .csv", path)
    text = read_bounded_text(path)
    return read_csv_rows(text, path) if suffix == ".csv" else read_yaml_rows(text, path)


def read_yaml_rows(text: str, path: Path) -> list[dict]:
    try:
        data = load_bounded_yaml(text)
    except yaml.YAMLError as exc:
        raise GenseqError(f"not valid YAML ({str(exc).splitlines()[0]})", path) from None
    except GenseqError as exc:
        raise GenseqError(exc.problem, path) from None
    if isinstance(data, dict) and "jobs" in data:
        data = data["jobs"]
    if not isinstance(data, list):
        raise GenseqError("a YAML manifest is a list of jobs (or a mapping with a 'jobs' list)", path)
    return [{"row": number, **(item if isinstance(item, dict) else {"invalid": item})}
            for number, item in enumerate(data, start=1)]


def read_csv_rows(text: str, path: Path) -> list[dict]:
    """The rows of a CSV manifest; a broken file (a quoted field that never ends, say) is refused whole,
    naming the line its record starts on."""
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        fields = reader.fieldnames
    except csv.Error as exc:
        raise GenseqError(f"line 1: not valid CSV ({exc})", path) from None
    if not fields or "kind" not in [f.strip() for f in fields]:
        raise GenseqError("a CSV manifest needs a header row with at least 'kind' and 'output' columns", path)
    rows = []
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            why = "a quoted field never ends (unterminated quote)" if "end of data" in str(exc) else str(exc)
            raise GenseqError(f"line {line}: not valid CSV: {why}", path) from None
        rows.append({"row": len(rows) + 1, **csv_row(record)})


def csv_row(record: dict) -> dict:
    """A CSV record as a row: the known columns, then `parameters` and every other non-empty column as parameters."""
    row: dict = {}
    parameters: dict = {}
    for key, value in record.items():
        if key is None:  # more cells than header columns
            row["invalid"] = f"{len(value)} cell(s) beyond the header"
            continue
        key = key.strip()
        value = (value or "").strip()
        if key in ROW_KEYS:
            row[key] = value
        elif key == "parameters":
            if value:
                parameters.update(parse_parameters(value))
        elif value:
            parameters[key] = cell_value(value)  # "3" -> 3, "true" -> True, "0.9" -> 0.9
    row["parameters"] = parameters
    return row


def cell_value(text: str) -> Any:
    """A CSV cell or key=value value read as YAML (bounded); text that is not YAML stays text."""
    try:
        return load_bounded_yaml(text)
    except yaml.YAMLError:
        return text


def parse_parameters(text: str) -> dict:
    """A JSON object, or key=value pairs separated by ';'."""
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return {"__invalid__": f"parameters is not valid JSON ({exc.msg})"}
        return value if isinstance(value, dict) else {"__invalid__": "parameters must be an object"}
    out = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep:
            return {"__invalid__": f"parameters: expected key=value, got '{part}'"}
        out[key.strip()] = cell_value(value.strip())
    return out


# ---------------------------------------------------------------------------------------------
# Validating rows into jobs


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"] if not str(p).startswith(("function-", "MusicParameters", "DanceParameters")))
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


@dataclass
class Plan:
    """What a manifest asks for: valid jobs (with their resolved output) and rows that failed validation."""

    jobs: list[Job]
    rejected: list[JobResult]

    @property
    def rows(self) -> int:
        return len(self.jobs) + len(self.rejected)


def plan_batch(manifest: str | Path, output_root: str | Path) -> Plan:
    """Validate every row; a bad row becomes a failed result with its reason, never an exception."""
    manifest = Path(manifest)
    return plan_rows(read_manifest_rows(manifest), str(manifest.resolve().parent), output_root)


def plan_rows(rows: list[dict], base_dir: str, output_root: str | Path) -> Plan:
    """plan_batch for rows made elsewhere (genseq/service/songs.py: one per song of a folder)."""
    jobs, rejected, claimed, limit = [], [], {}, name_limit(output_root)
    for raw in rows:
        number = raw.get("row", 0)
        kind, output = str(raw.get("kind") or ""), str(raw.get("output") or "")
        try:
            job = validate_row(raw, base_dir)
            target = inside_root(output_root, job.output)
            check_name_lengths(job, target, limit)
            claim_outputs(job, target, output_root, claimed)
            jobs.append(job)
        except ValidationError as exc:
            rejected.append(JobResult(number, kind, output, "failed", describe_validation_error(exc)))
        except GenseqError as exc:
            rejected.append(JobResult(number, kind, output, "failed", str(exc)))
    return Plan(jobs, rejected)


def validate_row(raw: dict, base_dir: str) -> Job:
    if "invalid" in raw:
        raise GenseqError(f"row is not a mapping of kind/checkpoint/primer/output/parameters: {raw['invalid']!r}")
    params = raw.get("parameters") or {}
    if isinstance(params, dict) and "__invalid__" in params:
        raise GenseqError(params["__invalid__"])
    return Job.model_validate({**raw, "base_dir": base_dir})


def shortened(name: str, keep: int = 24) -> str:
    return name if len(name) <= 2 * keep + 3 else f"{name[:keep]}...{name[-keep:]}"


def check_name_lengths(job: Job, target: Path, limit: int) -> None:
    """Refuse a row whose output makes a name longer than the file system allows (`limit` bytes), saying
    which: beside the output the job writes its record and temporary files, whose names are longer."""
    for part in Path(job.output).parts[:-1]:
        if len(os.fsencode(part)) > limit:
            raise GenseqError(f"folder name '{shortened(part)}' is {len(os.fsencode(part))} bytes, longer than the "
                              f"{limit} bytes the file system allows a name", job.output)
    name = os.fsencode(target.name)
    for path in (*job.writes(target), record_path(target)):
        longest = longest_name_written(path)
        excess = len(os.fsencode(longest)) - limit
        if excess > 0:
            raise GenseqError(f"output name is too long for the file system: the job writes '{shortened(longest)}' "
                              f"({len(os.fsencode(longest))} bytes) and a name may have at most {limit} bytes; "
                              f"shorten the output's name ({len(name)} bytes) to at most {max(1, len(name) - excess)}",
                              job.output)


def claim_outputs(job: Job, target: Path, output_root: str | Path, claimed: dict[str, tuple[int, str]]) -> None:
    """Claim the job's output (`target`, resolved by inside_root) and every file it writes; GenseqError when an
    earlier row claimed one. (The files are plain names beside or inside the output.)"""
    paths = [str(target), *job.writes(target)]
    for path in paths:
        if path in claimed:
            row, theirs = claimed[path]
            if path == paths[0] and theirs == "output":
                raise GenseqError(f"same output as row {row}", job.output)
            raise GenseqError(f"writes {os.path.relpath(path, Path(output_root).resolve())}, as does row {row}", job.output)
    for path in paths:
        claimed[path] = (job.row, "output" if path == paths[0] else "file")
