"""The dance stages by their old home: reading and training (genseq.motion.data), generating
(genseq.motion.generate) and evaluating (genseq.motion.evaluate). New code imports those."""

from genseq.motion.data import (  # noqa: F401
    CLIP_SUFFIX, MOTION_SUFFIXES, extract_motion, find_motion_files, load_motion_clips, load_motion_files,
    read_motion_file, resample_clip, resolve_dance_config, split_clips, train_dance,
)
from genseq.motion.evaluate import (  # noqa: F401
    PRIMER_SECONDS, compare_motion, evaluate_dance, held_out_primers, real_reference, summarise,
)
from genseq.motion.generate import (  # noqa: F401
    continue_dance, default_dance_checkpoint, generate_and_render_dance, generate_dance, load_dance_model, numbered,
    write_dance_outputs,
)
