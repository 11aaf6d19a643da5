"""Looks of a dance video, as the options models and the renderers share them: its size (a side, WxH
or a named preset for the platforms), named colour themes for the figure, the floor and the background,
a figure colour of one's own (R,G,B), and what stands behind the dancer (the theme's sky and floor, one
flat colour, a picture, or a video).

Colours here are RGB, as a user writes them; the drawing code turns them into cv2's BGR.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import re
from pathlib import Path

from genseq.core.errors import GenseqError

RGB = tuple[int, int, int]
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
VIDEO_BACKGROUND_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")


# ---------------------------------------------------------------------------------------------
# Sizes

SIZE_PRESETS = {"vertical": (1080, 1920), "wide": (1920, 1080), "square": (1080, 1080)}
DEFAULT_SIZE = "512"
SIDE_RANGE = (16, 3840)
SIZE_PATTERN = re.compile(r"^\s*(\d{1,5})\s*(?:[xX]\s*(\d{1,5}))?\s*$")
SIZE_HELP = ("video size: one side (a square), WIDTHxHEIGHT, or vertical (1080x1920), wide (1920x1080), "
             "square (1080x1080)")


def parse_size(value: str | int | tuple | list) -> tuple[int, int]:
    """(width, height) of a size: 512, "512", "1080x1920", "vertical" or (width, height); each side even
    (yuv420p halves the colour planes) and within SIDE_RANGE."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        width, height = (int(v) for v in value)
    elif isinstance(value, int) and not isinstance(value, bool):
        width = height = value
    elif isinstance(value, str) and value.strip().lower() in SIZE_PRESETS:
        width, height = SIZE_PRESETS[value.strip().lower()]
    else:
        found = SIZE_PATTERN.match(str(value)) if isinstance(value, str) else None
        if found is None:
            raise GenseqError(f"a size is a side in pixels, WIDTHxHEIGHT or one of {', '.join(SIZE_PRESETS)}; got {value!r}")
        width = int(found.group(1))
        height = int(found.group(2) or width)
    low, high = SIDE_RANGE
    for side in (width, height):
        if not low <= side <= high or side % 2:
            raise GenseqError(f"picture sides must be even numbers of pixels from {low} to {high}, got {width}x{height}")
    return width, height


def check_size(value: str | int) -> str:
    """For the options models: the size as text if it parses (ValueError with the reason if not)."""
    try:
        parse_size(value)
    except GenseqError as exc:
        raise ValueError(exc.problem) from None
    return str(value).strip()


# ---------------------------------------------------------------------------------------------
# Themes


@dataclass(frozen=True)
class Theme:
    """Every colour of a dance picture (RGB)."""

    name: str
    sky_top: RGB
    sky_bottom: RGB
    floor_far: RGB
    floor_near: RGB
    skin: RGB
    shirt: RGB
    trousers: RGB
    shoes: RGB
    stick_background: RGB
    stick_left: RGB
    stick_right: RGB
    stick_centre: RGB
    stick_joint: RGB


THEMES = {
    "night": Theme("night", sky_top=(24, 28, 40), sky_bottom=(44, 52, 70), floor_far=(66, 60, 58), floor_near=(104, 96, 92),
                   skin=(225, 180, 150), shirt=(215, 110, 70), trousers=(50, 70, 110), shoes=(50, 45, 45),
                   stick_background=(20, 20, 24), stick_left=(255, 150, 50), stick_right=(70, 160, 255),
                   stick_centre=(200, 200, 205), stick_joint=(245, 245, 245)),
    "studio": Theme("studio", sky_top=(236, 238, 242), sky_bottom=(214, 218, 226), floor_far=(196, 198, 204),
                    floor_near=(228, 229, 232), skin=(214, 160, 128), shirt=(40, 44, 52), trousers=(70, 78, 96),
                    shoes=(25, 25, 28), stick_background=(240, 240, 244), stick_left=(220, 90, 30),
                    stick_right=(30, 100, 210), stick_centre=(60, 60, 70), stick_joint=(20, 20, 24)),
    "sunset": Theme("sunset", sky_top=(70, 40, 110), sky_bottom=(250, 140, 90), floor_far=(120, 70, 80),
                    floor_near=(180, 110, 95), skin=(240, 190, 160), shirt=(255, 220, 90), trousers=(40, 30, 70),
                    shoes=(30, 20, 40), stick_background=(60, 30, 80), stick_left=(255, 200, 80),
                    stick_right=(255, 110, 140), stick_centre=(250, 230, 210), stick_joint=(255, 250, 240)),
    "neon": Theme("neon", sky_top=(5, 5, 15), sky_bottom=(20, 10, 40), floor_far=(15, 10, 30), floor_near=(40, 20, 70),
                  skin=(255, 120, 220), shirt=(0, 240, 255), trousers=(120, 60, 255), shoes=(255, 255, 255),
                  stick_background=(5, 5, 15), stick_left=(0, 255, 200), stick_right=(255, 60, 200),
                  stick_centre=(160, 160, 255), stick_joint=(255, 255, 255)),
    "forest": Theme("forest", sky_top=(150, 200, 220), sky_bottom=(210, 230, 215), floor_far=(60, 100, 50),
                    floor_near=(95, 140, 70), skin=(200, 150, 110), shirt=(180, 40, 40), trousers=(60, 50, 40),
                    shoes=(35, 30, 25), stick_background=(30, 50, 30), stick_left=(250, 200, 60),
                    stick_right=(120, 220, 255), stick_centre=(230, 235, 220), stick_joint=(255, 255, 240)),
}
DEFAULT_THEME = "night"
THEME_HELP = f"colours: {', '.join(THEMES)}, or R,G,B for the figure on the {DEFAULT_THEME} theme"


def parse_rgb(text: str) -> RGB | None:
    """(r, g, b) when text is three numbers 0-255 joined by commas, else None."""
    parts = text.split(",")
    if len(parts) != 3 or not all(part.strip().isdigit() for part in parts):
        return None
    values = tuple(int(part) for part in parts)
    if not all(0 <= value <= 255 for value in values):
        raise GenseqError(f"R,G,B values are 0-255, got {text!r}")
    return values  # type: ignore[return-value]


def figure_colour_theme(colour: RGB) -> Theme:
    """The default theme with the figure in one colour of one's own: shirt as given, trousers a darker shade."""
    base = THEMES[DEFAULT_THEME]
    darker = tuple(int(c * 0.55) for c in colour)
    lighter = tuple(int(c + (255 - c) * 0.5) for c in colour)
    return replace(base, name=",".join(map(str, colour)), shirt=colour, trousers=darker, stick_left=lighter,
                   stick_right=colour, stick_centre=lighter)


def resolve_theme(value: str | Theme | None) -> Theme:
    """A theme by name, or R,G,B for the figure's colour; None: the default."""
    if isinstance(value, Theme):
        return value
    text = (value or DEFAULT_THEME).strip().lower()
    if text in THEMES:
        return THEMES[text]
    colour = parse_rgb(text)
    if colour is not None:
        return figure_colour_theme(colour)
    raise GenseqError(f"theme must be one of {', '.join(THEMES)} or R,G,B, got {value!r}")


def check_theme(value: str) -> str:
    """For the options models: the value if it names a theme (ValueError with the reason if not)."""
    try:
        resolve_theme(value)
    except GenseqError as exc:
        raise ValueError(exc.problem) from None
    return value


# ---------------------------------------------------------------------------------------------
# Backgrounds


@dataclass(frozen=True)
class Background:
    """What stands behind the dancer: the theme's own (kind "theme"), a flat colour, a picture or a video."""

    kind: str                  # "theme", "colour", "picture" or "video"
    colour: RGB | None = None
    path: Path | None = None


def parse_background(value: str | tuple | list | None) -> Background:
    """None or "": the theme's; R,G,B (text or three numbers): a flat colour; else a picture or video file."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Background("theme")
    if isinstance(value, Background):
        return value
    if not isinstance(value, str):
        colour = tuple(int(c) for c in value)
        if len(colour) != 3 or not all(0 <= c <= 255 for c in colour):
            raise GenseqError(f"a colour is three numbers 0-255 (red, green, blue), got {tuple(value)}")
        return Background("colour", colour)  # type: ignore[arg-type]
    colour = parse_rgb(value)
    if colour is not None:
        return Background("colour", colour)
    path = Path(value)
    suffix = path.suffix.lower()
    if suffix not in PICTURE_SUFFIXES + VIDEO_BACKGROUND_SUFFIXES:
        raise GenseqError(f"a background is R,G,B, a picture ({', '.join(PICTURE_SUFFIXES)}) or a video "
                          f"({', '.join(VIDEO_BACKGROUND_SUFFIXES)})", path)
    if not path.is_file():
        raise GenseqError("no such background file", path)
    return Background("picture" if suffix in PICTURE_SUFFIXES else "video", path=path)


def check_background(value: str | None) -> str | None:
    """For the options models: R,G,B in range, or a picture/video name (whether it exists is checked when rendering)."""
    if value is None or not value.strip():
        return None
    try:
        colour = parse_rgb(value)
    except GenseqError as exc:
        raise ValueError(exc.problem) from None
    if colour is None and Path(value).suffix.lower() not in PICTURE_SUFFIXES + VIDEO_BACKGROUND_SUFFIXES:
        raise ValueError(f"R,G,B, a picture ({', '.join(PICTURE_SUFFIXES)}) or a video ({', '.join(VIDEO_BACKGROUND_SUFFIXES)})")
    return value
