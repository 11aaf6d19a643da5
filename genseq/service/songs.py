"""A folder of songs in one command (`genseq batch --songs FOLDER --out DIR`): one music-video row per
song (a dance row of the batch with the song as its music: the dance moves on the song's beats, the
video carries it, loudness-normalised), run and reported as a manifest's rows are.

Each video is named after its song (`song.mp3` -> `song.mp4`, inside the output root); songs that
share a name in different formats are told apart by their suffix (`song-mp3.mp4`, `song-wav.mp4`).
Parameters given once (`size=vertical;theme=neon`) go to every row, checked as a manifest row's are.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from genseq.core.errors import GenseqError
from genseq.service.manifest import Plan, parse_parameters, plan_rows

SONG_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".mid", ".midi")


def songs_in(folder: str | Path) -> list[Path]:
    """The song files directly in `folder`, sorted by name; GenseqError when there is none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GenseqError("no such folder of songs" if not folder.exists() else "is a file, not a folder of songs", folder)
    songs = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SONG_SUFFIXES and not p.name.startswith("."))
    if not songs:
        raise GenseqError(f"no songs here (files ending in {', '.join(SONG_SUFFIXES)})", folder)
    return songs


def video_names(songs: list[Path]) -> list[str]:
    """The output video of each song: its name with .mp4, or name-suffix.mp4 where two songs share a name."""
    shared = Counter(song.stem for song in songs)
    return [f"{song.stem}-{song.suffix[1:].lower()}.mp4" if shared[song.stem] > 1 else f"{song.stem}.mp4" for song in songs]


def song_rows(folder: str | Path, parameters: str | dict | None = None) -> list[dict]:
    """One dance row per song, as read_manifest_rows gives a manifest's rows."""
    given = parse_parameters(parameters) if isinstance(parameters, str) else dict(parameters or {})
    if "__invalid__" in given:
        raise GenseqError(given["__invalid__"], "--parameters")
    if "music" in given:
        raise GenseqError("each row's music is its song: leave music out", "--parameters")
    songs = songs_in(folder)
    return [{"row": number, "kind": "dance", "output": name, "parameters": {**given, "music": str(song.resolve())}}
            for number, (song, name) in enumerate(zip(songs, video_names(songs)), start=1)]


def plan_songs(folder: str | Path, output_root: str | Path, parameters: str | dict | None = None) -> Plan:
    """The batch plan of a folder of songs: its rows validated as a manifest's (a bad parameter fails every row)."""
    rows = song_rows(folder, parameters)
    plan = plan_rows(rows, str(Path(folder).resolve()), output_root)
    if not plan.jobs and plan.rejected:
        raise GenseqError(f"--parameters: {plan.rejected[0].reason}")
    return plan
