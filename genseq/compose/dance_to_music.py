"""Dance to music, the layer above both domains: generate motion (no retraining: the dance model knows nothing of music), then
time-warp it so its kinematic beats land on the song's beats (genseq/motion/beats.py), playing it
faster for fast songs and slower for slow ones, and write the video with the song as its sound.

The song's beats come from its MIDI tempo map when it is a MIDI file (exact; the song is then
synthesised for the sound track) or from librosa's beat tracker for a recording."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from genseq.core.motion import MotionClip
from genseq.core.options import GenerateDanceOptions, GenerateMusicOptions, MusicVideoOptions
from genseq.model.load import LoadedModel, load_model
from genseq.motion.beats import (MAX_RATE, beat_alignment, beats_per_second, kinematic_beats, source_seconds_needed,
                                 tempo_rate, warp_to_beats)
from genseq.motion.domain import DANCE
from genseq.motion.generate import (check_dance_outputs, continue_dance, default_dance_checkpoint,
                                    generate_and_render_dance, load_primer, write_and_preview)
from genseq.music.beats import SongBeats, audio_seconds, midi_beats, song_beats
from genseq.music.generate import generate_and_render
from genseq.music.midi import MIDI_SUFFIXES
from genseq.music.render import synthesize, write_wav

Progress = Callable[[int, int], None]


CANDIDATES = 3  # motions sampled per dance; the one whose warp lands best on the beats is kept


def dance_to_song(loaded: LoadedModel, primer: MotionClip | None, beats: SongBeats, seconds: float,
                  options: GenerateDanceOptions, progress: Progress | None = None) -> list[MotionClip]:
    """options.num_outputs dances of `seconds` on the song's beats: CANDIDATES motions are sampled for
    each (in one batch), each is warped onto the beats, and the best aligned is kept."""
    sampled = sample_for_song(loaded, primer, seconds, options, progress, CANDIDATES)
    chosen = []
    for index in range(options.num_outputs):
        best = best_fit(sampled[index * CANDIDATES:(index + 1) * CANDIDATES], beats, seconds)[1]
        best.name = f"dance_{index:03d}"
        chosen.append(best)
    return chosen


def best_fit(sources: list[MotionClip], beats: SongBeats, seconds: float) -> tuple[int, MotionClip]:
    """(index, warped clip) of the source whose warp onto the beats scores the highest beat alignment;
    for a tracked recording each source dances to the tempo alternative that suits its own beat rate
    (SongBeats.for_dance: the tracker's half- and double-tempo confusions)."""
    songs = [beats_for(clip, beats) for clip in sources]
    fitted = [fit_to_song(clip, song, seconds) for clip, song in zip(sources, songs)]
    scores = [np.nan_to_num(beat_alignment(kinematic_beats(clip), song.within(seconds).times))
              for clip, song in zip(fitted, songs)]
    best = int(np.argmax(scores))
    return best, fitted[best]


def beats_for(clip: MotionClip, beats: SongBeats) -> SongBeats:
    """The song's beats for this motion: the tempo alternative nearest its own kinematic beat rate."""
    return beats.for_dance(60.0 * beats_per_second(clip)) if beats.alternatives else beats


def sample_for_song(loaded: LoadedModel, primer: MotionClip | None, seconds: float, options: GenerateDanceOptions,
                    progress: Progress | None = None, candidates: int = 1) -> list[MotionClip]:
    """Enough new motion for a dance of `seconds` at the fastest play rate allowed: `candidates` clips
    for each of options.num_outputs, in one batch."""
    steps = max(2, round(source_seconds_needed(seconds, MAX_RATE) * loaded.representation.fps))
    on_step = None if progress is None else (lambda done: progress(done, steps))
    return continue_dance(loaded, primer, steps, options, options.num_outputs * candidates, on_step,
                          style=options.dance_style, variety=options.variety)


def song_rate(clip: MotionClip, beats: SongBeats) -> float:
    """The play rate for this motion and song: proportional to the tempo, one motion beat a music beat
    on average (tempo_rate with the motion's own beat rate)."""
    return tempo_rate(beats.qpm, beats_per_second(clip))


def fit_to_song(clip: MotionClip, beats: SongBeats, seconds: float) -> MotionClip:
    """The motion warped onto the song's beats, round(seconds * fps) frames."""
    return warp_to_beats(clip, beats.within(seconds).times, seconds, song_rate(clip, beats))


@contextmanager
def song_for_dance(path: str | Path) -> Iterator[tuple[SongBeats, Path]]:
    """(the song's beats, a sound file of it to mux in): a recording as it is; a MIDI file synthesised
    to a temporary WAV (removed afterwards), its beats from the tempo map."""
    path = Path(path)
    if path.suffix.lower() not in MIDI_SUFFIXES:
        yield song_beats(path), path
        return
    beats = midi_beats(path)
    with tempfile.TemporaryDirectory(prefix="genseq-song-") as folder:
        wav = write_wav(synthesize(path, allow_sine=True), Path(folder) / f"{path.stem}.wav")
        yield SongBeats(beats.times, beats.qpm, audio_seconds(wav), str(path)), wav


def make_dance(options: GenerateDanceOptions, progress: Progress | None = None) -> list[Path]:
    """`genseq generate dance` (the CLI, the flow, batch): a dance to options.music when it names a song,
    else a dance on its own (genseq/motion/generate.py). Returns every file written."""
    if options.music:
        return generate_and_render_to_music(options, progress)
    return generate_and_render_dance(options, progress)


def generate_and_render_to_music(options: GenerateDanceOptions, progress: Progress | None = None) -> list[Path]:
    """`genseq generate dance --music SONG`: the dances (as long as the song, or options.seconds of it with
    whole_song off) written as videos carrying the song, with their clips and previews as without music."""
    check_dance_outputs(options)
    with song_for_dance(options.music) as (beats, audio):
        loaded = load_model(options.checkpoint or default_dance_checkpoint(), DANCE, options.device)
        primer = load_primer(loaded, options.primer)
        seconds = beats.seconds if options.whole_song else min(options.seconds, beats.seconds)
        clips = dance_to_song(loaded, primer, beats, seconds, options, progress)
        return write_and_preview(options, clips, audio)


def make_music_video(options: MusicVideoOptions, progress: Progress | None = None) -> list[Path]:
    """A music video in options.out: a dance to options.song, or (no song) to a new melody from the bundled
    model (its MIDI and WAV written too): music_video.mp4 with the song as its sound, in the options'
    look (size, fps, theme, background, cover), and its preview."""
    folder, song = Path(options.out), options.song
    written: list[Path] = []
    if song is None:
        melody = generate_and_render(GenerateMusicOptions(out=str(folder / "melody"), bars=16, seed=options.seed,
                                                          allow_sine=True, png=False))
        written += melody
        song = next(path for path in melody if path.suffix.lower() in MIDI_SUFFIXES)
    look = options.model_dump(include={"seed", "style", "size", "fps", "theme", "background", "cover"})
    dance = GenerateDanceOptions(out=str(folder / "music_video.mp4"), music=str(song), **look)
    return written + generate_and_render_to_music(dance, progress)
