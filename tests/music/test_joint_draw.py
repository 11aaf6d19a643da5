import numpy as np
import torch

from genseq.model.nade import NADE
from genseq.music.joint_draw import draw_below


def test_with_nothing_clamped_and_no_epsilon_it_is_the_heads_own_draw():
    torch.manual_seed(0)
    joint = NADE(12, 5)
    outputs = torch.randn(6, joint.bias_size)
    own = joint.sample(outputs, 1.0, None, torch.Generator().manual_seed(2)).numpy()
    ours = draw_below(joint, outputs, 0, np.zeros(12, np.float32), 1.0, None, torch.Generator().manual_seed(2))
    assert np.array_equal(own, ours)


def independent_units(biases):
    joint = NADE(len(biases), 3)
    with torch.no_grad():
        joint.W.zero_()  # every unit independent: P(on) = sigmoid(its bias)
        joint.V.zero_()
    return joint


def test_epsilon_keeps_off_the_units_less_likely_than_it():
    biases = torch.tensor([-6.0, 0.0, 6.0, -6.0, 0.0, 6.0])  # P(on) 0.0025, 0.5, 0.9975
    joint = independent_units(biases)
    outputs = torch.cat([biases, torch.zeros(3)]).expand(4000, -1)
    plain = draw_below(joint, outputs, 0, np.zeros(6, np.float32), 1.0, None, torch.Generator().manual_seed(1))
    truncated = draw_below(joint, outputs, 0, np.zeros(6, np.float32), 1.0, None, torch.Generator().manual_seed(1), 0.01)
    assert plain[:, [0, 3]].sum() > 0  # the tail happens without it
    assert truncated[:, [0, 3]].sum() == 0
    assert abs(truncated[:, [1, 4]].mean() - 0.5) < 0.05 and truncated[:, [2, 5]].mean() > 0.99


def test_a_jumps_nucleus_keeps_the_exact_distribution_at_1_and_cuts_its_tail_below():
    biases = torch.tensor([0.0, -1.0, -3.0])  # P(on) 0.5, 0.27, 0.05
    joint = independent_units(biases)
    outputs = torch.cat([biases, torch.zeros(3)]).expand(6000, -1)
    whole = draw_below(joint, outputs, 0, np.zeros(3, np.float32), 1.0, None, torch.Generator().manual_seed(4), top_p=0.9999)
    assert np.abs(whole.mean(0) - torch.sigmoid(biases).numpy()).max() < 0.03  # each unit as likely as the head says
    # jumps from the first unit: unit 0 first 0.5, unit 1 first 0.135, unit 2 first 0.018, none 0.347
    cut = draw_below(joint, outputs, 0, np.zeros(3, np.float32), 1.0, None, torch.Generator().manual_seed(4), top_p=0.8)
    assert cut[cut[:, 0] == 0, 1:].sum() == 0  # after unit 0 stays off, only "none" is in the nucleus (0.347 / 0.5)
    assert abs(cut[:, 0].mean() - 0.5 / 0.847) < 0.03
