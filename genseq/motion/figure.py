"""The volumetric figure: a dancer drawn with limbs as tapered, shaded capsules, a torso, a head, on a
floor in perspective with the figure's soft shadow, seen by a camera that follows it smoothly.

Everything that depends on the clip is computed for all frames at once with numpy (the camera path,
each part's outline in fixed-point pixels, depth order, the shadow's place and width); a frame is
then a copy of the precomputed backdrop, a few floor lines, one blended shadow sprite and a few dozen
anti-aliased cv2 fills, so it draws at well over a thousand 512x512 frames a second.
The view is the stick figure's (genseq/motion/render.py): orthographic from the front, x right, y up,
z (towards the viewer) orders the parts back to front and dims those behind.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

from genseq.core.motion import MotionClip
from genseq.core.looks import THEMES, Theme

SHIFT = 4                                   # cv2 fixed point: 1/16 pixel
ONE = 1 << SHIFT
CAMERA_SMOOTH_SECONDS = 0.6                 # sigma of the follow camera's path
FLOOR_ROW = 0.86                            # the ground's row, as a fraction of the picture height
HORIZON_ROW = 0.58
GRID_METRES = 0.6
LEFT_TINT = np.array([-10.0, 20.0, 35.0])   # left limbs a little warmer, right a little cooler
RIGHT_TINT = np.array([30.0, 5.0, -25.0])

# (from, to, radius at from, radius at to in metres, the theme's colour, side)
PARTS = [
    ("left_hip", "left_knee", 0.085, 0.062, "trousers", "left"), ("left_knee", "left_ankle", 0.06, 0.045, "trousers", "left"),
    ("left_ankle", "left_foot_index", 0.045, 0.035, "shoes", "left"),
    ("right_hip", "right_knee", 0.085, 0.062, "trousers", "right"), ("right_knee", "right_ankle", 0.06, 0.045, "trousers", "right"),
    ("right_ankle", "right_foot_index", 0.045, 0.035, "shoes", "right"),
    ("left_hip", "right_hip", 0.1, 0.1, "trousers", "centre"),
    ("chest", "pelvis", 0.12, 0.105, "shirt", "centre"),
    ("left_shoulder", "right_shoulder", 0.06, 0.06, "shirt", "centre"),
    ("neck", "head", 0.045, 0.045, "skin", "centre"),
    ("left_shoulder", "left_elbow", 0.058, 0.048, "shirt", "left"), ("left_elbow", "left_wrist", 0.045, 0.034, "skin", "left"),
    ("left_wrist", "left_hand", 0.04, 0.03, "skin", "left"),
    ("right_shoulder", "right_elbow", 0.058, 0.048, "shirt", "right"), ("right_elbow", "right_wrist", 0.045, 0.034, "skin", "right"),
    ("right_wrist", "right_hand", 0.04, 0.03, "skin", "right"),
]
HEAD_RADIUS = 0.105
DERIVED = {"chest": ("left_shoulder", "right_shoulder"), "pelvis": ("left_hip", "right_hip"),
           "neck": ("left_shoulder", "right_shoulder"), "left_hand": ("left_index", "left_pinky"),
           "right_hand": ("right_index", "right_pinky")}
HEAD_JOINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


@dataclass
class Scene:
    """The whole clip laid out in pixels, ready to draw frame by frame."""

    width: int
    height: int
    backdrop: np.ndarray          # (height, width, 3) sky and floor, a picture, or the current frame of a video
    outlines: np.ndarray          # (frames, parts, 4, 2) int32 fixed-point capsule sides
    ends: np.ndarray              # (frames, parts, 2, 2) int32 fixed-point end centres
    radii: np.ndarray             # (frames, parts, 2) int32 fixed-point end radii
    shown: np.ndarray             # (frames, parts) bool
    order: np.ndarray             # (frames, parts) back to front
    colours: np.ndarray           # (frames, parts, 3) base colour after depth dimming
    head: np.ndarray              # (frames, 3) x, y, radius (fixed point); radius 0: no head
    camera_x: np.ndarray          # (frames,) camera centre in metres
    scale: float                  # pixels per metre
    floor_y: int                  # pixel row of the ground
    shadow: np.ndarray            # (frames, 3) centre x pixel, half width pixel, strength 0..1
    horizon_y: int = 0            # pixel row of the horizon
    grid: tuple[int, int, int] | None = None   # BGR floor lines; None: no lines (a picture behind the figure)
    head_colours: tuple = ((105, 126, 157), (171, 195, 231))   # BGR shade and light of the head


def joint_tracks(clip: MotionClip) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Positions (frames, 3) and validity (frames,) of every joint the parts use, derived ones included."""
    index = {name: i for i, name in enumerate(clip.joint_names)}
    where = {name: clip.positions[:, i].astype(np.float64) for name, i in index.items()}
    ok = {name: clip.valid[:, i] for name, i in index.items()}
    for name, (a, b) in DERIVED.items():
        if a in where and b in where:
            where[name], ok[name] = (where[a] + where[b]) / 2, ok[a] & ok[b]
    if "neck" in where:
        where["neck"] = where["neck"] + np.array([0.0, 0.04, 0.0])
    if "chest" in where and "pelvis" in where:
        where["chest"] = where["chest"] * 0.85 + where["pelvis"] * 0.15   # the rib cage's middle, below the shoulders
    heads = [name for name in HEAD_JOINTS if name in where]
    if heads:
        stack = np.stack([np.where(ok[n][:, None], where[n], np.nan) for n in heads])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # frames with no head joint: NaN
            head = np.nanmean(stack, axis=0)
        where["head"], ok["head"] = np.nan_to_num(head), np.isfinite(head).all(axis=1)
    if "neck" in where and not ok.get("head", np.zeros(1, bool)).any():
        where["head"], ok["head"] = where["neck"] + np.array([0.0, 0.2, 0.0]), ok["neck"]
    return where, ok


def camera_path(where: dict, ok: dict, fps: float, frames: int) -> np.ndarray:
    """(frames,) x in metres the camera centres on: the pelvis (else the mean joint), smoothed both ways."""
    if "pelvis" in where and ok["pelvis"].any():
        x = np.where(ok["pelvis"], where["pelvis"][:, 0], np.nan)
    else:
        x = np.full(frames, 0.0)
    good = np.isfinite(x)
    x = np.interp(np.arange(frames), np.flatnonzero(good), x[good]) if good.any() else np.zeros(frames)
    return gaussian_filter1d(x, CAMERA_SMOOTH_SECONDS * fps, mode="nearest")


def bgr_of(rgb) -> np.ndarray:
    return np.array(rgb[::-1], dtype=np.float64)


def backdrop(width: int, height: int, floor_top: int, theme: Theme, flat: tuple[int, int, int] | None = None) -> np.ndarray:
    """The theme's sky fading down to the horizon (or one flat BGR colour), then its floor lightening
    towards the viewer."""
    picture = np.empty((height, width, 3), dtype=np.uint8)
    sky = np.linspace(0, 1, floor_top)[:, None]
    top, bottom = (bgr_of(theme.sky_top), bgr_of(theme.sky_bottom)) if flat is None else (np.array(flat), np.array(flat))
    picture[:floor_top] = (top * (1 - sky) + bottom * sky).astype(np.uint8)[:, None, :]
    ground = np.linspace(0, 1, height - floor_top)[:, None] ** 0.7
    near, far = bgr_of(theme.floor_near), bgr_of(theme.floor_far)
    picture[floor_top:] = (far * (1 - ground) + near * ground).astype(np.uint8)[:, None, :]
    return picture


def framing_scale(width: int, height: int, top: float, ground: float, reach: float) -> float:
    """Pixels per metre: the whole body (ground to the top of the head) fits the height above the floor
    row, and its reach either side of the camera fits the width; a wide frame leaves room to move."""
    return min(height * (FLOOR_ROW - 0.08) / max(top - ground, 0.5), width * 0.46 / max(float(reach), 0.4))


def ground_rows(height: int, body_pixels: float) -> tuple[int, int]:
    """(floor row, horizon row). A frame taller than the body needs (vertical) holds the body in its middle,
    the floor raised and the horizon with it; otherwise the floor is at FLOOR_ROW, the horizon at HORIZON_ROW."""
    floor = min(height * FLOOR_ROW, (height + body_pixels) / 2 + 0.04 * height)
    return int(round(floor)), int(round(floor - (FLOOR_ROW - HORIZON_ROW) * height))


def build_scene(clip: MotionClip, width: int, height: int | None = None, background: tuple[int, int, int] | None = None,
                camera: str = "follow", theme: Theme | None = None, picture: np.ndarray | None = None) -> Scene:
    """The clip laid out in a width x height picture (height None: square). background: one flat BGR
    colour for the sky; picture: a (height, width, 3) BGR picture behind the figure instead of sky and
    floor (no floor lines then)."""
    height = width if height is None else height
    theme = theme or THEMES["night"]
    where, ok = joint_tracks(clip)
    frames = clip.num_frames
    camera_x = camera_path(where, ok, clip.fps, frames)
    if camera == "fixed":
        camera_x = np.full(frames, (camera_x.min() + camera_x.max()) / 2)
    used = [where[n][ok[n]] for n in where if ok[n].any()]
    points = np.concatenate(used) if used else np.zeros((1, 3))
    ground = float(np.percentile(points[:, 1], 1))
    top = float(np.percentile(points[:, 1], 99.5)) + HEAD_RADIUS
    reach = max((float(np.abs(where[n][ok[n], 0] - camera_x[ok[n]]).max()) for n in where if ok[n].any()), default=1.0)
    scale = framing_scale(width, height, top, ground, reach)
    floor_y, horizon_y = ground_rows(height, (top - ground) * scale)

    def pixels(xyz: np.ndarray) -> np.ndarray:
        x = (xyz[:, 0] - camera_x) * scale + width / 2
        y = floor_y - (xyz[:, 1] - ground) * scale
        return np.stack([x, y], axis=1)

    count = len(PARTS)
    ends = np.zeros((frames, count, 2, 2))
    radii = np.zeros((frames, count, 2))
    shown = np.zeros((frames, count), dtype=bool)
    depth = np.zeros((frames, count))
    base = np.zeros((frames, count, 3))
    for k, (a, b, ra, rb, colour, side) in enumerate(PARTS):
        if a not in where or b not in where:
            continue
        ends[:, k, 0], ends[:, k, 1] = pixels(where[a]), pixels(where[b])
        radii[:, k] = (ra * scale, rb * scale)
        shown[:, k] = ok[a] & ok[b]
        depth[:, k] = (where[a][:, 2] + where[b][:, 2]) / 2
        tint = LEFT_TINT if side == "left" else (RIGHT_TINT if side == "right" else 0.0)
        base[:, k] = np.clip(bgr_of(getattr(theme, colour)) + tint, 0, 255)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no part shown: NaN, zeroed below
        centre_z = np.nanmedian(np.where(shown, depth, np.nan), axis=1, keepdims=True) if shown.any() else depth[:, :1]
    behind = np.clip((np.nan_to_num(centre_z) - depth) / 0.3, 0, 1)   # parts 30 cm behind the body: dimmest
    colours = base * (1 - 0.35 * behind[..., None])
    order = np.argsort(depth + np.arange(count) * 1e-4, axis=1, kind="stable")
    outlines = capsule_outlines(ends, radii)
    head_xy = pixels(where["head"]) if "head" in where else np.zeros((frames, 2))
    head_r = np.where(ok.get("head", np.zeros(frames, bool)), HEAD_RADIUS * scale, 0.0)
    head = np.concatenate([head_xy, head_r[:, None]], axis=1)
    behind_figure = picture if picture is not None else backdrop(width, height, horizon_y, theme, background)
    grid = None if picture is not None else tuple(int(c) for c in np.clip(bgr_of(theme.floor_near) + 12, 0, 255))
    return Scene(width, height, behind_figure, fixed(outlines), fixed(ends), fixed(radii), shown, order, colours, fixed(head),
                 camera_x, scale, floor_y, shadow_track(where, ok, pixels, ground, scale, frames), horizon_y, grid,
                 head_colours(theme))


def head_colours(theme: Theme) -> tuple[tuple, tuple]:
    skin = bgr_of(theme.skin)
    return tuple(int(c * (1 - SHADE)) for c in skin), tuple(int(c + (255 - c) * SHINE) for c in skin)


def shadow_track(where, ok, pixels, ground: float, scale: float, frames: int) -> np.ndarray:
    """Per frame: the shadow's centre column, half width (the feet's spread) and strength (fading as the
    body rises off the ground)."""
    feet = [n for n in ("left_ankle", "right_ankle", "left_foot_index", "right_foot_index", "pelvis") if n in where]
    if not feet:
        return np.zeros((frames, 3))
    xs = np.stack([np.where(ok[n], pixels(where[n])[:, 0], np.nan) for n in feet], axis=1)
    ys = np.stack([np.where(ok[n], where[n][:, 1], np.nan) for n in feet], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no foot: NaN, filled below
        low, high = np.nanmin(xs, axis=1), np.nanmax(xs, axis=1)
        lift = np.nanmin(ys, axis=1) - ground
    centre = np.nan_to_num((low + high) / 2, nan=0.0)
    half = np.nan_to_num((high - low) / 2, nan=0.0) + 0.25 * scale
    strength = np.clip(1.0 - np.nan_to_num(lift, nan=1.0) / 0.6, 0.2, 1.0)
    return np.stack([centre, half, strength], axis=1)


def capsule_outlines(ends: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """(..., 4, 2) the quadrilateral joining two end circles (tangent sides approximated by the normals)."""
    start, stop = ends[..., 0, :], ends[..., 1, :]
    direction = stop - start
    length = np.linalg.norm(direction, axis=-1, keepdims=True)
    unit = np.where(length > 1e-9, direction / np.maximum(length, 1e-9), np.array([0.0, 1.0]))
    normal = np.stack([-unit[..., 1], unit[..., 0]], axis=-1)
    ra, rb = radii[..., :1], radii[..., 1:]
    return np.stack([start + normal * ra, stop + normal * rb, stop - normal * rb, start - normal * ra], axis=-2)


def fixed(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.nan_to_num(values) * ONE), -(1 << 24), 1 << 24).astype(np.int32)


# ---------------------------------------------------------------------------------------------
# Drawing

HALF = 2
LIGHT = np.array([-0.5, -0.55])      # where the lit ridge sits, in radii from the axis
SHADE, SHINE = 0.3, 0.2              # base darkened, ridge lightened by these fractions


@dataclass
class Strokes:
    """Per frame, per part, the cv2 arguments ready as Python lists."""

    outlines: np.ndarray          # (frames, parts, 4, 2) int32, as cv2 takes them
    ends: list
    radii: list
    ridge_ends: list
    ridge_width: list
    dark: list
    light: list


def strokes(scene: Scene) -> Strokes:
    """Every part's base capsule and lit ridge (a thick line towards the light) for all frames at once."""
    ends = scene.ends.astype(np.float64)
    radii = scene.radii.astype(np.float64)
    shift = LIGHT * radii.mean(axis=-1, keepdims=True)[..., None] * 0.6
    ridge = np.round(ends + shift).astype(np.int32)
    width = np.maximum(1, np.round(radii.mean(axis=-1) * 0.9 / ONE)).astype(np.int32)
    dark = np.clip(scene.colours * (1 - SHADE), 0, 255).astype(np.int32)
    light = np.clip(scene.colours + (255 - scene.colours) * SHINE, 0, 255).astype(np.int32)
    return Strokes(np.ascontiguousarray(scene.outlines), scene.ends.tolist(), scene.radii.tolist(), ridge.tolist(), width.tolist(),
                   dark.tolist(), light.tolist())


def draw_floor(canvas: np.ndarray, scene: Scene, camera_x: float) -> None:
    """Floor lines running towards the horizon, sliding as the camera moves."""
    if scene.grid is None:
        return
    width, height, horizon = scene.width, scene.height, scene.horizon_y
    spacing = GRID_METRES * scene.scale * 0.35
    first = int(np.floor((camera_x * scene.scale * 0.35 - width / 2) / spacing)) - 1
    for k in range(first, first + int(width / spacing) + 3):
        offset = k * GRID_METRES * scene.scale - camera_x * scene.scale
        bottom, top = width / 2 + offset * 1.8, width / 2 + offset * 0.35
        if min(bottom, top) < width and max(bottom, top) > 0:  # only the lines that cross the picture
            cv2.line(canvas, (int(bottom * ONE), height * ONE), (int(top * ONE), horizon * ONE), scene.grid, 1,
                     cv2.LINE_AA, SHIFT)


def draw_shadow(canvas: np.ndarray, scene: Scene, centre: float, half: float, strength: float) -> None:
    """A soft shadow under the feet: three nested ellipses, darker towards the middle."""
    column = int(min(max(centre, 0), scene.width - 1))
    floor = scene.backdrop[min(scene.floor_y, scene.height - 1), column].astype(np.float64)
    depth = max(2.0, scene.scale * 0.06)
    for ring, fraction in enumerate((1.0, 0.75, 0.5)):
        colour = tuple(int(c) for c in floor * (1 - 0.22 * (ring + 1) * strength))
        axes = (max(1, int(half * fraction * ONE)), max(1, int(depth * fraction * ONE)))
        cv2.ellipse(canvas, (int(centre * ONE), scene.floor_y * ONE), axes, 0, 0, 360, colour, -1, cv2.LINE_AA, SHIFT)


def draw_figure(canvas: np.ndarray, scene: Scene, lines: Strokes, frame: int) -> np.ndarray:
    """One frame: backdrop, floor lines, shadow, then the parts back to front (a shaded capsule with its
    lit ridge each), the head on top of the neck."""
    np.copyto(canvas, scene.backdrop)
    draw_floor(canvas, scene, float(scene.camera_x[frame]))
    draw_shadow(canvas, scene, *scene.shadow[frame].tolist())
    outlines, ends, radii = lines.outlines[frame], lines.ends[frame], lines.radii[frame]
    ridge, width, dark, light = lines.ridge_ends[frame], lines.ridge_width[frame], lines.dark[frame], lines.light[frame]
    shown = scene.shown[frame].tolist()
    for part in scene.order[frame].tolist():
        if not shown[part]:
            continue
        (a, b), (ra, rb) = ends[part], radii[part]
        cv2.fillConvexPoly(canvas, outlines[part], dark[part], cv2.LINE_AA, SHIFT)
        cv2.circle(canvas, a, ra, dark[part], -1, cv2.LINE_AA, SHIFT)
        cv2.circle(canvas, b, rb, dark[part], -1, cv2.LINE_AA, SHIFT)
        cv2.line(canvas, ridge[part][0], ridge[part][1], light[part], width[part], cv2.LINE_8, SHIFT)  # inside the limb, low contrast: no anti-aliasing needed
        if part == NECK:
            draw_head(canvas, scene.head[frame].tolist(), scene.head_colours)
    return canvas


NECK = next(k for k, part in enumerate(PARTS) if part[1] == "head")


def draw_head(canvas: np.ndarray, head: list, colours: tuple) -> None:
    x, y, radius = head
    if radius <= 0:
        return
    dark, light = colours
    cv2.circle(canvas, (x, y), radius, dark, -1, cv2.LINE_AA, SHIFT)
    cv2.circle(canvas, (int(x + LIGHT[0] * radius * 0.35), int(y + LIGHT[1] * radius * 0.35)), int(radius * 0.62),
               light, -1, cv2.LINE_AA, SHIFT)


def figure_frames(clip: MotionClip, size: int, frame_indices: np.ndarray, reuse_buffer: bool = False,
                  background: tuple[int, int, int] | None = None, camera: str = "follow", height: int | None = None,
                  theme: Theme | None = None, behind: np.ndarray | Iterator[np.ndarray] | None = None) -> Iterator[np.ndarray]:
    """Yield (height, size, 3) BGR pictures of the figure at the given clip frames (height None: square).

    background: a flat BGR colour instead of the sky; behind: one BGR picture of the frame's size, or an
    iterator of them (a video, one per output frame), instead of sky and floor; camera fixed: one view for
    the whole clip; reuse_buffer: one array redrawn each time (and not redrawn when a frame repeats).
    """
    height = size if height is None else height
    moving = behind is not None and not isinstance(behind, np.ndarray)
    first_behind = next(behind) if moving else behind
    scene = build_scene(clip, size, height, background, camera, theme, first_behind)
    lines = strokes(scene)
    canvas = np.empty((height, size, 3), dtype=np.uint8)
    previous = None
    for number, index in enumerate(np.asarray(frame_indices).tolist()):
        if moving and number:
            scene.backdrop = next(behind)
        elif reuse_buffer and index == previous:
            yield canvas  # a repeated clip frame (a higher output rate): the same picture
            continue
        if not reuse_buffer:
            canvas = np.empty((height, size, 3), dtype=np.uint8)
        previous = index
        yield draw_figure(canvas, scene, lines, index)
