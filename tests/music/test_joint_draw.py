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


def test_epsilon_keeps_off_the_units_less_likely_than_it_and_on_the_nearly_certain():
    joint = NADE(6, 3)
    with torch.no_grad():
        joint.W.zero_()  # every unit independent: P(on) = sigmoid(its bias)
        joint.V.zero_()
    biases = torch.tensor([-6.0, 0.0, 6.0, -6.0, 0.0, 6.0])  # P(on) 0.0025, 0.5, 0.9975
    outputs = torch.cat([biases, torch.zeros(3)]).expand(4000, -1)
    plain = draw_below(joint, outputs, 0, np.zeros(6, np.float32), 1.0, None, torch.Generator().manual_seed(1))
    truncated = draw_below(joint, outputs, 0, np.zeros(6, np.float32), 1.0, None, torch.Generator().manual_seed(1), 0.01)
    assert plain[:, [0, 3]].sum() > 0 and (plain[:, [2, 5]] == 0).sum() > 0  # the tails happen without it
    assert truncated[:, [0, 3]].sum() == 0 and truncated[:, [2, 5]].all()
    assert abs(truncated[:, [1, 4]].mean() - 0.5) < 0.05
