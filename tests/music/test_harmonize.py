from dataclasses import dataclass

import numpy as np
import pytest
import torch

from genseq.core.config import ModelConfig
from genseq.core.errors import GenseqError
from genseq.core.notes import NoteSequence
from genseq.core.options import SamplingOptions
from genseq.model.recurrent import StackedRecurrent
from genseq.music.encode import OnsetRollEncoding, PianorollEncoding
from genseq.music.harmonize import draw_below, harmonize_melody
from genseq.music.statistics import melody_line


@dataclass
class Loaded:  # what harmonize_melody reads of a loaded checkpoint
    model: StackedRecurrent
    representation: object
    payload: dict

    @property
    def device(self):
        return torch.device("cpu")


def tiny_model(encoding, head="nade", seed=0):
    torch.manual_seed(seed)
    model = StackedRecurrent(ModelConfig(hidden_size=16, num_layers=1, head=head, nade_hidden=8),
                             encoding.input_size, encoding.value_size, "bernoulli")
    with torch.no_grad():  # voices likely enough to show up under the melody
        model.head.bias[: encoding.value_size] += 1.5
        model.joint.W.mul_(100.0)
    return Loaded(model, encoding, {"path": "tiny.pt"})


MELODY = NoteSequence([[72, 90, 0, 2, 0], [72, 90, 2, 4, 0], [71, 90, 4, 5, 0], [74, 90, 6, 16, 0]], 4, 100.0,
                      [(0, 3, 4)], 16, "tune")


def test_the_melody_comes_out_note_for_note_on_top():
    loaded = tiny_model(OnsetRollEncoding(4))
    pieces = harmonize_melody(loaded, MELODY, SamplingOptions(temperature=1.0, seed=3), num_outputs=3)
    assert len(pieces) == 3
    for piece in pieces:
        assert melody_line(piece).notes[:, [0, 2, 3]].tolist() == MELODY.notes[:, [0, 2, 3]].tolist()
        assert piece.time_signatures == [(0, 3, 4)] and piece.qpm == 100.0 and piece.total_steps == 16
        voices = [n for n in piece.notes.tolist() if n[1] != 90]
        assert voices, "nothing was drawn under the melody"
        assert all(not (s < 6 and e > 5) for _, _, s, e, _ in voices)  # silent under the melody's rest
    assert pieces[0].notes.tolist() != pieces[1].notes.tolist()


def test_a_clamped_draw_with_nothing_clamped_is_the_heads_own_draw():
    loaded = tiny_model(OnsetRollEncoding(4), seed=1)
    joint = loaded.model.joint
    outputs = torch.randn(4, joint.bias_size)
    own = joint.sample(outputs, 0.8, None, torch.Generator().manual_seed(5)).numpy()
    ours = draw_below(joint, outputs, 0, np.zeros(joint.units, np.float32), 0.8, None, torch.Generator().manual_seed(5))
    assert np.array_equal(own, ours)


def test_a_model_without_onsets_or_a_joint_head_is_refused():
    with pytest.raises(GenseqError, match="onsetroll"):
        harmonize_melody(tiny_model(PianorollEncoding(4)), MELODY, SamplingOptions())


def test_harmonizing_and_continuing_a_primer_at_once_is_refused():
    from genseq.core.options import GenerateMusicOptions
    from genseq.music.harmonize import harmonize_pieces

    with pytest.raises(GenseqError, match="--primer"):
        harmonize_pieces(GenerateMusicOptions(harmonize="tune.mid", primer="phrase.mid"))
