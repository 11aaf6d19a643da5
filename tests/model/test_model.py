import pytest
import torch

from genseq.core.config import ModelConfig
from genseq.core.errors import GenseqError
from genseq.model import heads
from genseq.model.checkpoint import load_checkpoint, save_checkpoint
from genseq.model.recurrent import StackedRecurrent


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_every_layer_feeds_the_head(cell):
    model = StackedRecurrent(ModelConfig(cell=cell, hidden_size=8, num_layers=3, dropout=0.0), 5, 7)
    assert model.head.in_features == 3 * 8 + 5
    out, state = model(torch.randn(2, 4, 5))
    assert out.shape == (2, 4, 7) and len(state) == 3
    # the head reads the first layer directly (skip connection): with every upper layer cut off
    # (zero weights: their outputs are constant), the first layer still moves the output
    with torch.no_grad():
        for layer in model.layers[1:]:
            for weight in layer.parameters():
                weight.zero_()
    out, _ = model(torch.randn(2, 4, 5))
    out.sum().backward()
    assert model.layers[0].weight_ih_l0.grad.abs().sum() > 0


def test_step_by_step_equals_whole_sequence():
    torch.manual_seed(0)
    model = StackedRecurrent(ModelConfig(hidden_size=8, num_layers=2, dropout=0.0), 3, 4).eval()
    x = torch.randn(1, 6, 3)
    whole, _ = model(x)
    state, steps = None, []
    for t in range(6):
        out, state = model(x[:, t : t + 1], state)
        steps.append(out)
    assert torch.allclose(whole, torch.cat(steps, 1), atol=1e-5)


def test_heads_keep_to_top_k():
    torch.manual_seed(0)
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0]])
    assert set(heads.sample("categorical", logits.expand(200, 4), top_k=2).tolist()) <= {2, 3}
    drawn = heads.sample("bernoulli", torch.full((50, 10), 5.0), top_k=3)
    assert drawn.sum(1).max() == 3


def test_top_p_keeps_the_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = heads.filter_logits(logits, None, 0.75)
    assert torch.isfinite(kept).tolist() == [[True, True, False, False]]


def test_checkpoint_loads_weights_only_and_checks_kind(tmp_path):
    path = save_checkpoint(tmp_path / "ck.pt", {"kind": "music", "state_dict": {"w": torch.ones(2)}, "config": {"a": 1}})
    assert load_checkpoint(path, kind="music")["config"] == {"a": 1}
    with pytest.raises(GenseqError, match="expected a dance checkpoint"):
        load_checkpoint(path, kind="dance")


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize("make", ["empty", "truncated", "pickle", "foreign"])
def test_bad_checkpoints_are_refused(tmp_path, make):
    path = tmp_path / "bad.pt"
    good = save_checkpoint(tmp_path / "good.pt", {"kind": "music", "state_dict": {"w": torch.ones(100)}})
    if make == "empty":
        path.write_bytes(b"")
    elif make == "truncated":
        path.write_bytes(good.read_bytes()[:200])
    elif make == "pickle":
        torch.save({"format": "genseq-checkpoint-1", "kind": "music", "x": Evil()}, path)
    else:
        torch.save({"weights": torch.ones(1)}, path)
    with pytest.raises(GenseqError) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)
