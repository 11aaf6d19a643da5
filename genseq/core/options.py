"""One options model per operation: every field's default and bounds live here, once.

The library function of an operation takes its model; the Prefect flow uses the same model as
its parameters (so the UI form shows these bounds and defaults); a batch row's parameters are
validated against it; the CLI's flags map onto its fields one to one (tests/cli/test_options_agree.py
checks all three against these classes).
"""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from genseq.core.errors import GenseqError
from genseq.core.looks import DEFAULT_SIZE, DEFAULT_THEME, SIZE_HELP, THEME_HELP, check_background, check_size, check_theme

MAX_SEED = 2**63 - 1
TEMPO_RANGE = (10.0, 1000.0)  # quarter notes per minute
DEFAULT_BARS = 8  # a music piece's length when neither bars nor seconds is given
DEVICE_PATTERN = re.compile(r"^(cpu|cuda(:\d+)?|mps)$")
CORPUS_NAMES = ("bach-chorales", "oneills", "essen")
CORPUS_PATTERN = rf"^({'|'.join(CORPUS_NAMES)})(,({'|'.join(CORPUS_NAMES)}))*$"


class Options(BaseModel):
    """Unknown fields are errors; assignment is validated too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @classmethod
    def build(cls, **values):
        """Validate values (None: the field's default) into the model; a bad value is a GenseqError
        naming the option as a user writes it (--top-p), not a traceback."""
        given = {key: value for key, value in values.items() if value is not None}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            raise options_error(exc) from None


def flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def options_error(exc: ValidationError) -> GenseqError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "options"
    message = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    shown = f" (got {value!r})" if value is not None and not isinstance(value, (dict, list)) and len(repr(value)) < 60 else ""
    return GenseqError(f"{message}{shown}", flag(where) if "." not in where else where)


def check_device(value: Optional[str]) -> Optional[str]:
    if value in (None, ""):
        return None
    if not DEVICE_PATTERN.match(value):
        raise ValueError("a torch device: cpu, cuda, cuda:N or mps")
    return value


def check_memory(value: Optional[str]) -> Optional[str]:
    from genseq.core.resources import parse_memory

    if value in (None, ""):
        return None
    try:
        parse_memory(value, "--max-memory")
    except GenseqError as exc:
        raise ValueError(exc.problem) from None
    return value


class DeviceOption(Options):
    device: Optional[str] = Field(None, description="torch device: cpu, cuda, cuda:N or mps (default: the GPU when there is one)")

    @field_validator("device")
    @classmethod
    def known_device(cls, value: Optional[str]) -> Optional[str]:
        return check_device(value)


class SamplingOptions(Options):
    """How each step is drawn; the one home of temperature, top_k, top_p and seed."""

    temperature: float = Field(1.0, ge=0.0, le=10.0, description="0 is greedy (always the most likely); higher is wilder")
    top_k: Optional[int] = Field(None, ge=1, le=1000, description="sample among the k most likely events "
                                                                   "(piano roll: at most k keys on; dance: mixture components)")
    top_p: Optional[float] = Field(None, gt=0.0, le=1.0, description="nucleus sampling: the smallest set of events "
                                                                     "whose probability reaches top_p")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="same seed, same output")


# ---------------------------------------------------------------------------------------------
# Generate


class GenerateMusicOptions(SamplingOptions, DeviceOption):
    """`genseq generate music`, the generate-music flow and batch rows of kind music."""

    # the default chosen by bench/music_samples (melody; the piano roll's Bernoulli head ignores top_p)
    top_p: Optional[float] = Field(0.95, gt=0.0, le=1.0, description="nucleus sampling: the smallest set of events "
                                                                    "whose probability reaches top_p (melody)")
    out: str = Field("generated", description="folder for the new files (sample_000.mid ...)")
    checkpoint: Optional[str] = Field(None, description="checkpoint or run folder; empty: the bundled model")
    representation: Literal["melody", "pianoroll"] = Field("melody", description="which bundled model when no checkpoint")
    primer: Optional[str] = Field(None, description="a MIDI file, or a recording of a sung or played phrase, to continue")
    include_primer: bool = Field(False, description="start the output with the primer")
    harmonize: Optional[str] = Field(None, description="a melody (MIDI or recording) to keep as the top voice, note for "
                                                       "note, with voices sampled under it (default model: the chorales'; its length)")
    bars: Optional[int] = Field(None, ge=1, le=1024, description=f"length in bars (default {DEFAULT_BARS})")
    seconds: Optional[float] = Field(None, gt=0, le=3600, description="length in seconds (instead of bars)")
    num_outputs: int = Field(1, ge=1, le=64, description="how many pieces")
    tempo: Optional[float] = Field(None, ge=TEMPO_RANGE[0], le=TEMPO_RANGE[1], description="quarter notes per minute (default: the primer's, else 120)")
    program: Optional[int] = Field(None, ge=0, le=127, description="General MIDI program of the output")
    wav: bool = Field(True, description="also write a WAV of each output")
    png: bool = Field(True, description="also write a piano-roll PNG of each output")
    allow_sine: bool = Field(False, description="use the sine synthesiser when fluidsynth is missing")

    @field_validator("bars", "seconds")
    @classmethod
    def bars_or_seconds(cls, value, info):
        """Both set the length: refused together rather than one silently winning (bars come first, so
        seconds is refused at construction; either one at an assignment)."""
        other = "seconds" if info.field_name == "bars" else "bars"
        if value is not None and info.data.get(other) is not None:
            raise ValueError("--bars and --seconds both set the length; give one of them")
        return value


FPS_HELP = "video frames per second (30 or 60 for the platforms; default: the motion's own)"
BACKGROUND_HELP = "behind the dancer: R,G,B, a picture or a video (default: the theme's sky and floor)"
COVER_HELP = "also a cover picture (thumbnail, .jpg) beside each video"


def check_look(field: str, value):
    """Size, theme and background of a video (genseq/core/looks.py); a number of pixels is a size too."""
    if field == "size":
        return check_size(str(value) if isinstance(value, int) and not isinstance(value, bool) else value)
    return check_theme(value) if field == "theme" else check_background(value)


DANCE_TEMPERATURE = 1.2  # bench/dance_quality.py: with the low-pass and planted feet of decoding, closest to real
DANCE_TEMPERATURE_HELP = "mixture spread (and flatness of its weights); 0 is greedy; decoding low-passes the frames"
DANCE_VARIETY = 1.5  # bench/dance_quality.py (issue 20): diversity 1.08x real on held-out clips, 0.38x at 0


class LookOptions(Options):
    """How a dance video looks and is framed: size (or a preset), frame rate, theme, background, cover;
    shared by generate dance, render dance and the music video."""

    size: str = Field(DEFAULT_SIZE, description=SIZE_HELP)
    fps: Optional[int] = Field(None, ge=10, le=120, description=FPS_HELP)
    theme: str = Field(DEFAULT_THEME, description=THEME_HELP)
    background: Optional[str] = Field(None, description=BACKGROUND_HELP)
    cover: bool = Field(True, description=COVER_HELP)

    _looks = field_validator("size", "theme", "background", mode="before")(lambda cls, value, info: check_look(info.field_name, value))


class DanceSamplingOptions(SamplingOptions):
    """How a dance is drawn: generate dance and eval dance alike."""

    temperature: float = Field(DANCE_TEMPERATURE, ge=0.0, le=10.0, description=DANCE_TEMPERATURE_HELP)
    variety: float = Field(DANCE_VARIETY, ge=0.0, le=5.0, description="how strongly each dance keeps its own preference "
                           "among the model's ways of moving (a fixed random offset of the mixture's weights a dance); "
                           "0: every dance draws alike")


class GenerateDanceOptions(LookOptions, DanceSamplingOptions, DeviceOption):
    """`genseq generate dance`, the generate-dance flow and batch rows of kind dance."""

    out: str = Field("dance.mp4", description="skeleton video (.mp4); several outputs get _000, _001 ...")
    checkpoint: Optional[str] = Field(None, description="checkpoint or run folder; empty: the bundled model")
    primer: Optional[str] = Field(None, description="a video, BVH or .npz clip to continue")
    seconds: float = Field(20.0, gt=0, le=600, description="length of each dance")
    num_outputs: int = Field(1, ge=1, le=16, description="how many dances")
    keypoints_out: Optional[str] = Field(None, description="also save each clip as .npz (positions, valid, fps, joint_names)")
    camera: Literal["follow", "fixed"] = Field("follow", description="follow the dancer or a fixed camera")
    preview: bool = Field(True, description="also a PNG contact sheet beside each video")
    style: Literal["figure", "stick"] = Field("figure", description="figure: shaded limbs on a floor; stick: the skeleton's bones")
    music: Optional[str] = Field(None, description="a song (wav, mp3, flac, ogg, m4a) to dance to: the dance moves on its "
                                                   "beats and the video carries it")
    whole_song: bool = Field(True, description="with --music: the dance lasts the whole song (--no-whole-song: "
                                               "--seconds of it)")
    dance_style: Optional[str] = Field(None, max_length=100, description="a dance style the model knows (its training "
                                       "folders; the bundled model: salsa, indian, martial); empty: none asked")


class MusicVideoOptions(LookOptions):
    """`genseq demo`'s last step and the music-video flow: a dance to a song in one MP4 with sound."""

    song: Optional[str] = Field(None, description="a song (wav, mp3, flac, ogg, m4a or MIDI); empty: a new melody "
                                                  "from the bundled model")
    out: str = Field("music-video", description="folder for the video (music_video.mp4), its preview and the melody")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="same seed, same melody and dance")
    style: Literal["figure", "stick"] = Field("figure", description="figure: shaded limbs on a floor; stick: the skeleton's bones")


# ---------------------------------------------------------------------------------------------
# Render


class RenderMusicOptions(Options):
    midi: str = Field(..., description="MIDI file to render")
    wav: Optional[str] = Field(None, description="WAV path (default: beside the MIDI)")
    png: Optional[str] = Field(None, description="piano-roll PNG path (default: beside the MIDI)")
    allow_sine: bool = Field(False, description="use the sine synthesiser when fluidsynth is missing")


class RenderDanceOptions(LookOptions):
    clip: str = Field(..., description="a .npz clip or a BVH file")
    out: Optional[str] = Field(None, description="H.264 MP4 (default: beside the clip)")
    camera: Literal["follow", "fixed"] = Field("follow", description="follow the dancer or a fixed camera")
    side_by_side: Optional[str] = Field(None, description="the source video, shown left of the skeleton")
    audio: Optional[str] = Field(None, description="a sound file to mux in")
    preview: Optional[str] = Field(None, description="also a .gif or .png contact-sheet preview")
    style: Literal["figure", "stick"] = Field("figure", description="figure: shaded limbs on a floor; stick: the skeleton's bones")


# ---------------------------------------------------------------------------------------------
# Train, extract, eval


class TrainOptions(DeviceOption):
    """`genseq train music|dance` and the train flows. Unset fields keep the config's value."""

    data: str = Field(..., description="music: MIDI folder (with or without train/ valid/ test/) or .npz; "
                                       "dance: folder of videos, BVH files or .npz clips")
    out: str = Field(..., description="run folder (best.pt, last.pt, config.yaml); an unfinished run there is resumed")
    config: Optional[str] = Field(None, description="YAML config laid over the tuned defaults in configs/")
    set: list[str] = Field(default_factory=list, description="override any config key: section.key=value (repeatable)")
    cell: Optional[Literal["lstm", "gru", "rnn"]] = Field(None, description="shortcut for --set model.cell=...")
    epochs: Optional[int] = Field(None, ge=1, le=100_000, description="shortcut for --set train.epochs=...")
    max_minutes: Optional[float] = Field(None, gt=0, le=10_000, description="stop after this much training time")
    seed: Optional[int] = Field(None, ge=0, le=MAX_SEED, description="shortcut for --set train.seed=...")
    max_memory: Optional[str] = Field(None, description="refuse a model that needs more memory than this (e.g. 8G; "
                                                        "default: half of this machine's, or $GENSEQ_MAX_MEMORY)")

    @field_validator("max_memory")
    @classmethod
    def readable_memory(cls, value: Optional[str]) -> Optional[str]:
        return check_memory(value)

    def shortcut_values(self) -> dict:
        """The shortcut flags that were given, as config keys: {"model.cell": "gru", ...}."""
        pairs = {"model.cell": self.cell, "train.epochs": self.epochs, "train.max_minutes": self.max_minutes,
                 "train.seed": self.seed}
        return {key: value for key, value in pairs.items() if value is not None}

    def config_sets(self) -> list[str]:
        """The shortcut flags spelled out as the --set they stand for, then every --set as given."""
        return [f"{key}={value}" for key, value in self.shortcut_values().items()] + list(self.set)


class TrainMusicOptions(TrainOptions):
    representation: Optional[Literal["melody", "pianoroll", "onsetroll"]] = Field(None, description="melody, pianoroll or onsetroll "
                                                                                       "(default: the config's, else melody)")
    steps_per_quarter: Optional[int] = Field(None, ge=1, le=24, description="grid steps per quarter note")

    def shortcut_values(self) -> dict:
        given = {"representation": self.representation, "steps_per_quarter": self.steps_per_quarter}
        return {**super().shortcut_values(), **{key: value for key, value in given.items() if value is not None}}


class TrainDanceOptions(TrainOptions):
    teacher_forcing: bool = Field(False, description="plain teacher forcing (no auto-conditioning): the freezing baseline")

    def shortcut_values(self) -> dict:
        return {**super().shortcut_values(), **({"train.condition_self_steps": 0} if self.teacher_forcing else {})}


class ExtractMusicOptions(Options):
    paths: list[str] = Field(default_factory=list, description="MIDI files, recordings (wav, mp3, flac, ogg, m4a) or folders")
    out: str = Field(..., description="dataset file to write (.npz)")
    corpus: Optional[str] = Field(None, pattern=CORPUS_PATTERN, description="instead of files: a corpus shipped offline "
                                  "(music21): bach-chorales, oneills, essen, or several joined with commas")
    voices: Literal["all", "soprano"] = Field("all", description="with --corpus: all voices, or soprano (a melody line)")
    steps_per_quarter: int = Field(4, ge=1, le=24, description="grid steps per quarter note")
    program: list[int] = Field(default_factory=list, description="keep only instruments with this General MIDI program")
    name: list[str] = Field(default_factory=list, description="keep only instruments whose name contains this")
    index: list[int] = Field(default_factory=list, description="keep only the instrument at this index in the file")
    include_drums: bool = Field(False, description="keep drum tracks too")
    write_midi: bool = Field(False, description="also write each piece (e.g. a transcription) as MIDI beside --out")

    @field_validator("program")
    @classmethod
    def programs_in_range(cls, value: list[int]) -> list[int]:
        if any(not 0 <= p <= 127 for p in value):
            raise ValueError("General MIDI programs are 0-127")
        return value


class ExtractMotionOptions(Options):
    paths: list[str] = Field(..., min_length=1, description="videos, BVH files or folders of them")
    out: str = Field("clips", description="a .npz file (one input) or a folder (one .npz per input)")
    fps: float = Field(30.0, ge=1.0, le=240.0, description="clip frame rate (BVH is resampled to it)")
    smoothing: float = Field(0.5, ge=0.0, le=1.0, description="One Euro jitter smoothing for video: 0 off, 1 strong")


class EvalOptions(DeviceOption):
    checkpoint: str = Field(..., description="checkpoint file or run folder (its best checkpoint)")
    data: str = Field(..., description="held-out data: MIDI folder (its test/ subfolder when it has one), .npz, or dance clips")


class EvalDanceOptions(EvalOptions, DanceSamplingOptions):
    seconds: float = Field(60.0, ge=1.0, le=600.0, description="length of each generated dance")
    num_samples: int = Field(5, ge=1, le=100, description="how many dances to generate")


# ---------------------------------------------------------------------------------------------
# Live play and streams (genseq/live)


class LiveMusicOptions(SamplingOptions):
    """What `genseq live` and `genseq stream music` share: the model, how it is drawn, where it plays."""

    top_p: Optional[float] = Field(0.95, gt=0.0, le=1.0, description="nucleus sampling: the smallest set of events "
                                                                    "whose probability reaches top_p (melody)")
    checkpoint: Optional[str] = Field(None, description="checkpoint or run folder; empty: the bundled model")
    representation: Literal["melody", "pianoroll"] = Field("melody", description="which bundled model when no checkpoint")
    out_port: Optional[str] = Field(None, description="MIDI output port (a name or its start), or 'synth' for FluidSynth "
                                                      "on this machine's sound; empty: a virtual port genseq-out")
    list_ports: bool = Field(False, description="print the MIDI ports and stop")
    channel: int = Field(1, ge=1, le=16, description="MIDI channel played on")
    program: Optional[int] = Field(None, ge=0, le=127, description="General MIDI program sent before playing")
    seconds: Optional[float] = Field(None, gt=0, le=7 * 24 * 3600, description="stop after this long (default: Ctrl-C stops)")


class LiveOptions(LiveMusicOptions):
    """`genseq live`: call and response with a melody or piano-roll model."""

    in_port: Optional[str] = Field(None, description="MIDI input port (a name or its start); empty: a virtual port genseq-in")
    tempo: Optional[float] = Field(None, ge=TEMPO_RANGE[0], le=TEMPO_RANGE[1], description="quarter notes per minute "
                                                                                            "(default: estimated from the first call)")
    gap_ms: Optional[float] = Field(None, ge=50, le=10_000, description="a call ends this long after the last key up "
                                                                        "(default: after a bar of silence)")
    min_notes: int = Field(1, ge=1, le=64, description="calls of fewer notes are ignored")
    max_bars: int = Field(8, ge=1, le=32, description="the longest answer in bars (an answer is as long as its call)")
    thru: bool = Field(False, description="also play the call's notes on the output")
    temperature_cc: int = Field(16, ge=0, le=127, description="controller that sets the temperature (0-127: 0 to 2)")
    tempo_cc: int = Field(17, ge=0, le=127, description="controller that sets the tempo (0-127: 60 to 200 qpm)")
    panic_cc: int = Field(123, ge=0, le=127, description="controller that ends every note genseq plays (panic)")
    web: bool = Field(False, description="play in the browser instead: a local page on 127.0.0.1 (its address is printed)")
    web_port: int = Field(8765, ge=0, le=65535, description="the page's port with --web (0: any free port)")


class StreamMusicOptions(LiveMusicOptions):
    """`genseq stream music`: new music without end, in real time, in constant memory."""

    tempo: float = Field(120.0, ge=TEMPO_RANGE[0], le=TEMPO_RANGE[1], description="quarter notes per minute")
    velocity: int = Field(80, ge=1, le=127, description="how hard each note is played")


class StreamDanceOptions(SamplingOptions):
    """`genseq stream dance`: an endless dance, live, as a page (MJPEG) and/or MPEG-TS on stdout."""

    temperature: float = Field(DANCE_TEMPERATURE, ge=0.0, le=10.0, description=DANCE_TEMPERATURE_HELP)
    checkpoint: Optional[str] = Field(None, description="checkpoint or run folder; empty: the bundled model")
    size: int = Field(384, ge=64, le=1024, description="picture side in pixels")
    web: bool = Field(True, description="show it on a local page (MJPEG on 127.0.0.1; its address is printed)")
    web_port: int = Field(8766, ge=0, le=65535, description="the page's port (0: any free port)")
    mpegts: bool = Field(False, description="also write H.264 in MPEG-TS to stdout (e.g. | ffplay -)")
    seconds: Optional[float] = Field(None, gt=0, le=7 * 24 * 3600, description="stop after this long (default: Ctrl-C stops)")
