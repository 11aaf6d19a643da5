"""Which source joints are the 33 BlazePose landmarks, and in which unit a skeleton is.

`map_to_landmarks` picks the joints of a motion-capture skeleton (BVH joint names) that match
BlazePose landmarks, `landmark_positions` lays the joints' positions out as the 33 landmarks
(those the source lacks filled in near the body), and `guess_unit` decides metres per file unit
from the rest pose. Nothing here reads files: genseq.motion.bvh parses them.
"""

from __future__ import annotations

import math
import re

import numpy as np

from genseq.motion.skeleton import INDEX, LANDMARKS

# Which source joint each landmark is, as candidate names tried in order (the first one the
# file has wins). "{Side}" stands for Left/Right and "{s}" for l/r; names are compared after
# `normalise_name` (case, "_", "-", ".", spaces and a "namespace:" prefix ignored). Three
# naming families are covered, each with its real joint for the landmark:
# - Poser/DAZ (the CMU dance files in ../shared): lThigh is the hip joint (lButtock only
#   offsets it from the pelvis), lShin the knee, lFoot the ankle and its end site the toe
#   tip; lShldr the shoulder (lCollar is the clavicle), lForeArm the elbow, lHand the wrist;
#   lIndex1/lPinky1 the first knuckles, lThumb2 the second thumb joint; leftEye the eye.
# - Mixamo and the 31-joint CMU conversions: LeftUpLeg hip, LeftLeg knee, LeftFoot ankle,
#   LeftToe_End (Mixamo) or LeftToeBase's end site/joint toe; LeftArm shoulder (LeftShoulder
#   is the clavicle, so it is NOT used), LeftForeArm elbow, LeftHand wrist, LeftHandIndex1 /
#   LeftHandPinky1 / LeftHandThumb2 as above; the CMU skeleton has only LeftFingerBase (the
#   knuckle line) and LThumb. LHipJoint is not a hip: it starts at the pelvis centre.
# BlazePose marks the hand's index/pinky at the first knuckle and the thumb at its second
# joint, and foot_index at the toe tip. Heels, ears and the nose come only from joints
# named so; nothing is invented for them (the Poser head has no end site to call a nose).
LEFT_LANDMARK_SOURCES: dict[str, list[str]] = {
    "left_eye": ["{Side}Eye", "{s}Eye"],
    "left_ear": ["{Side}Ear", "{s}Ear"],
    "left_shoulder": ["{Side}Arm", "{s}Shldr", "{Side}Shldr"],
    "left_elbow": ["{Side}ForeArm", "{s}ForeArm"],
    "left_wrist": ["{Side}Hand", "{s}Hand"],
    "left_pinky": ["{Side}HandPinky1", "{s}Pinky1"],
    "left_index": ["{Side}HandIndex1", "{s}Index1", "{Side}FingerBase"],
    "left_thumb": ["{Side}HandThumb2", "{s}Thumb2", "{Side}HandThumb1", "{Side}HandThumb", "{s}Thumb1", "{s}Thumb"],
    "left_hip": ["{Side}UpLeg", "{s}Thigh", "{Side}Thigh"],
    "left_knee": ["{Side}Leg", "{s}Shin", "{Side}Shin"],
    "left_ankle": ["{Side}Foot", "{s}Foot"],
    "left_heel": ["{Side}Heel", "{s}Heel"],
    "left_foot_index": ["{Side}Toe_End", "{Side}ToeBase/end", "{Side}ToeBase", "{s}Toe/end", "{s}Toe",
                        "{s}Foot/end", "{Side}Foot/end"],
}
CENTRE_LANDMARK_SOURCES: dict[str, list[str]] = {"nose": ["Nose"]}
HEAD_SOURCES = ["Head"]

# Where a landmark the source lacks takes its (invalid, never drawn) position from, so that
# positions stay finite and near the body: the head for face points, else the named landmark.
FACE_LANDMARKS = LANDMARKS[:11]  # nose ... mouth_right
FILL_FROM = {
    "left_heel": "left_ankle", "right_heel": "right_ankle",
    "left_foot_index": "left_ankle", "right_foot_index": "right_ankle",
    "left_pinky": "left_wrist", "right_pinky": "right_wrist", "left_index": "left_wrist",
    "right_index": "right_wrist", "left_thumb": "left_wrist", "right_thumb": "right_wrist",
}

# Metres per file unit: the candidates `guess_unit` chooses among. The CMU unit is the one
# of the original ASF/AMC files and their 31-joint BVH conversions: length 1/0.45 inch.
UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "cmu": 0.0254 / 0.45}
# An adult's hip-to-knee plus knee-to-ankle length, and standing height, in metres.
TYPICAL_LEG_M = 0.85
TYPICAL_HEIGHT_M = 1.7


def landmark_sources() -> dict[str, list[str]]:
    """Every landmark's candidate source joint names, left and right spelled out."""
    table: dict[str, list[str]] = dict(CENTRE_LANDMARK_SOURCES)
    for side, (full, short) in {"left": ("Left", "l"), "right": ("Right", "r")}.items():
        for landmark, candidates in LEFT_LANDMARK_SOURCES.items():
            table[side + landmark[4:]] = [c.format(Side=full, s=short) for c in candidates]
    return table


def normalise_name(name: str) -> str:
    """Compare joint names ignoring case, separators and a namespace prefix ("mixamorig:Hips")."""
    return re.sub(r"[\s_.\-]", "", name.rsplit(":", 1)[-1]).lower()


def map_to_landmarks(names: list[str]) -> dict[str, int]:
    """Landmark name -> index into `names` of the source joint it is (only landmarks the source has)."""
    by_name = {normalise_name(name): i for i, name in enumerate(names)}
    mapping: dict[str, int] = {}
    for landmark, candidates in landmark_sources().items():
        for candidate in candidates:
            found = by_name.get(normalise_name(candidate))
            if found is not None:
                mapping[landmark] = found
                break
    return mapping


def guess_unit(rest: np.ndarray, mapping: dict[str, int]) -> tuple[str, float]:
    """(unit name, metres per file unit): the unit of UNITS that gives the skeleton a human size.

    `rest` holds the joints' rest-pose positions in file units (genseq.motion.bvh.rest_positions).
    The measure is the leg, hip to knee to ankle (an adult's is about 0.85 m), averaged over the
    legs the mapping found; without legs, the rest pose's height against 1.7 m. The unit whose result is nearest on a log scale wins: the candidates are at least
    2.2x apart, so any adult-to-child skeleton lands on its own unit.
    """
    legs = [np.linalg.norm(rest[mapping[f"{side}_hip"]] - rest[mapping[f"{side}_knee"]])
            + np.linalg.norm(rest[mapping[f"{side}_knee"]] - rest[mapping[f"{side}_ankle"]])
            for side in ("left", "right") if {f"{side}_hip", f"{side}_knee", f"{side}_ankle"} <= mapping.keys()]
    if legs and np.mean(legs) > 0:
        measured, typical = float(np.mean(legs)), TYPICAL_LEG_M
    else:
        measured, typical = float(np.ptp(rest[:, 1])) if len(rest) > 1 else 0.0, TYPICAL_HEIGHT_M
    if measured <= 0:
        return "m", 1.0
    name = min(UNITS, key=lambda unit: abs(math.log(measured * UNITS[unit] / typical)))
    return name, UNITS[name]


def landmark_positions(source: np.ndarray, mapping: dict[str, int], root: int, head: int | None) -> np.ndarray:
    """(frames, 33, 3): mapped landmarks from their joints; the others filled in (see FILL_FROM)."""
    positions = np.empty((len(source), len(LANDMARKS), 3))
    for landmark in LANDMARKS:
        if landmark in mapping:
            joint = mapping[landmark]
        elif landmark in FACE_LANDMARKS and head is not None:
            joint = head
        elif FILL_FROM.get(landmark) in mapping:
            joint = mapping[FILL_FROM[landmark]]
        else:
            joint = root
        positions[:, INDEX[landmark]] = source[:, joint]
    return positions
