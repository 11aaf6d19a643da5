"""One stacked recurrent model; the cell (LSTM, GRU, plain RNN) is a config parameter.

Every layer reads the input (and the layer below) and every layer's state, plus the input,
feeds the output head, so the head sees several time scales at once (Graves 2013, "skip
connections").
"""

from __future__ import annotations

import torch
from torch import nn

from genseq.core.config import ModelConfig
from genseq.core.errors import GenseqError
from genseq.core.resources import note_run_in_flight
from genseq.model import heads
from genseq.model.nade import NADE

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}

State = list  # one entry per layer: a tensor, or an (h, c) tuple for LSTM


def check_head(config_head: str, data_head: str | None) -> None:
    """The config's head must fit the data's: "nade" and "bernoulli" need binary units."""
    if config_head == "default" or data_head is None:
        return
    if data_head != "bernoulli" or config_head not in ("bernoulli", "nade"):
        raise GenseqError(f"model head {config_head!r} does not fit this data (its values need a {data_head!r} head)")


class StackedRecurrent(nn.Module):
    def __init__(self, config: ModelConfig, input_size: int, output_size: int, data_head: str | None = None):
        super().__init__()
        check_head(config.head, data_head)
        self.config = config
        cell = CELLS[config.cell]
        hidden = config.hidden_size
        self.layers = nn.ModuleList()
        for index in range(config.num_layers):
            layer_input = input_size if index == 0 else hidden + (input_size if config.input_to_all_layers else 0)
            self.layers.append(cell(layer_input, hidden, batch_first=True))
        self.dropout = nn.Dropout(config.dropout)
        # the joint head's shared weights; the linear head then gives its per-step biases
        self.joint = NADE(output_size, config.nade_hidden) if config.head == "nade" else None
        head_size = self.joint.bias_size if self.joint is not None else output_size
        self.head = nn.Linear(hidden * config.num_layers + input_size, head_size)

    def forward(self, inputs: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """inputs (B, T, F) -> output logits/parameters (B, T, O) and the new state."""
        note_run_in_flight()  # this process's thread budget (genseq.core.resources)
        state = state or [None] * len(self.layers)
        layer_outputs, new_state = [], []
        below = inputs
        for index, (layer, layer_state) in enumerate(zip(self.layers, state)):
            layer_in = below
            if index > 0:
                layer_in = self.dropout(below)
                if self.config.input_to_all_layers:
                    layer_in = torch.cat([layer_in, inputs], dim=-1)
            below, layer_state = layer(layer_in, layer_state)
            layer_outputs.append(below)
            new_state.append(layer_state)
        # the input joins the head too: "the next step is much like the last" is then one linear map
        features = torch.cat([self.dropout(torch.cat(layer_outputs, dim=-1)), inputs], dim=-1)
        return self.head(features), new_state

    def step_losses(self, head: str, outputs: torch.Tensor, targets: torch.Tensor, target_mask=None) -> torch.Tensor:
        """NLL (nats) of each step (B, T) under the model's head (`head`: the data's, unless the model has its own)."""
        if self.joint is not None:
            return self.joint.step_losses(outputs, targets)
        return heads.step_losses(head, outputs, targets, target_mask)

    def sample_step(self, head: str, outputs: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                    top_p: float | None = None, generator: torch.Generator | None = None, value_size: int | None = None):
        """Draw one step from (B, O) outputs under the model's head (see heads.sample)."""
        if self.joint is not None:
            return self.joint.sample(outputs, temperature, top_k, generator)
        return heads.sample(head, outputs, temperature, top_k, top_p, generator, value_size)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def pick_device(requested: str | None = None) -> torch.device:
    """The GPU when there is one (or the device the user names, if this machine has it), else the CPU."""
    if requested:
        return named_device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def named_device(name: str) -> torch.device:
    from genseq.core.errors import GenseqError

    try:
        device = torch.device(name)
    except RuntimeError:
        raise GenseqError(f"not a torch device: {name!r} (cpu, cuda, cuda:N or mps)", "--device") from None
    mps = getattr(torch.backends, "mps", None)
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise GenseqError(f"no CUDA GPU {name!r} on this machine ({torch.cuda.device_count()} found); use --device cpu",
                          "--device")
    if device.type == "mps" and not (mps is not None and mps.is_available()):
        raise GenseqError("no Apple GPU (mps) on this machine; use --device cpu", "--device")
    return device
