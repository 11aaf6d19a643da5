"""The prepared CPU step: one recurrent update of a StackedRecurrent for a batch of B streams, in numpy
on buffers allocated once.

Why numpy and not torch at batch 1: a step is about 0.6 M multiply-adds, and torch's per-call dispatch
(3-5 us an op, about 20 ops a step) and its MKL gemv on these AMD cores (45 us for 488x768 against 18 us
for numpy's OpenBLAS) cost more than the arithmetic; bench/step_speed.py measures both. The layout:

- every layer's and the head's input part is one matmul of the step input (or, for a sparse input such
  as one-hot events, a sum of a few weight rows), biases folded in;
- the layers' outputs live side by side in one (B, L*H) buffer, so layer i reads [h_{i-1} new, h_i old]
  as one contiguous slice against its stacked [W_ih (below part); W_hh] weights: one matmul a layer;
- the gate rows are reordered and the sigmoid gates' rows halved once, so one tanh does every gate;
- the cell's gates and state are updated in place.

The same arithmetic as StackedRecurrent.forward (eval mode) in another summation order: the outputs agree
to float32 rounding (tests/model/test_fast_step.py), not bit for bit.
"""

from __future__ import annotations

import numpy as np
import torch

GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def supports(model) -> bool:
    """The prepared step covers float32 CPU models with tanh RNN, GRU or LSTM layers of one direction."""
    params = list(model.parameters())
    if not params or any(p.device.type != "cpu" or p.dtype != torch.float32 for p in params):
        return False
    return all(layer.num_layers == 1 and not layer.bidirectional and getattr(layer, "proj_size", 0) == 0
               and getattr(layer, "nonlinearity", "tanh") == "tanh" for layer in model.layers)


def numpy_of(tensor: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.detach().float().cpu().numpy())


class PreparedStep:
    """Weights rearranged once for the step above, and the state of `batch` streams."""

    def __init__(self, model, batch: int):
        config = model.config
        self.cell, self.batch = config.cell, batch
        self.layers, self.hidden = len(model.layers), config.hidden_size
        self.input_size = model.layers[0].input_size
        h, width = self.hidden, GATES[self.cell] * self.hidden
        self.gate_width = width
        x_parts, x_biases, self.recurrent, self.hidden_bias = [], [], [], []
        for index, layer in enumerate(model.layers):
            w_ih, w_hh, b_ih, b_hh = (self.arranged(numpy_of(weight)) for weight in (
                layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0))
            below, x_part = (None, w_ih) if index == 0 else (w_ih[:, :h], w_ih[:, h:])
            x_parts.append(x_part if x_part.shape[1] else np.zeros((width, self.input_size), np.float32))
            if self.cell == "gru":  # the new gate reads r * (W_hn h + b_hn): the hidden part stays apart
                x_biases.append(b_ih)
                self.recurrent.append((None if below is None else np.ascontiguousarray(below.T), np.ascontiguousarray(w_hh.T)))
                self.hidden_bias.append(b_hh)
            else:
                x_biases.append(b_ih + b_hh)
                stacked = w_hh if below is None else np.concatenate([below, w_hh], axis=1)
                self.recurrent.append(np.ascontiguousarray(stacked.T))
        head_w, head_b = numpy_of(model.head.weight), numpy_of(model.head.bias)
        self.output_size = head_w.shape[0]
        self.head_t = np.ascontiguousarray(head_w[:, : self.layers * h].T)
        self.x_t = np.ascontiguousarray(np.concatenate(x_parts + [head_w[:, self.layers * h:]], axis=0).T)
        self.x_bias = np.concatenate(x_biases + [head_b]).astype(np.float32)
        self._allocate(batch)

    def arranged(self, rows: np.ndarray) -> np.ndarray:
        """A copy of a layer's gate rows (torch's order: LSTM i, f, g, o; GRU r, z, n) in the step's order,
        LSTM i, f, o, g, with the sigmoid gates' rows halved: sigmoid(x) = 0.5 + 0.5 tanh(x / 2), so one tanh
        over all the gates does them all (halving is exact in floating point)."""
        h = self.hidden
        if self.cell == "lstm":
            rows = np.concatenate([rows[:2 * h], rows[3 * h:], rows[2 * h:3 * h]])
            rows[:3 * h] *= 0.5
        elif self.cell == "gru":
            rows = rows.copy()
            rows[:2 * h] *= 0.5
        return rows

    def _allocate(self, batch: int) -> None:
        h, layers = self.hidden, self.layers
        self.x_proj = np.zeros((batch, self.x_t.shape[1]), np.float32)
        self.h = np.zeros((batch, layers * h), np.float32)
        self.c = np.zeros((batch, layers * h), np.float32) if self.cell == "lstm" else None
        self.gates = np.zeros((batch, self.gate_width), np.float32)
        self.hidden_gates = np.zeros((batch, self.gate_width), np.float32) if self.cell == "gru" else None
        self.scratch = np.zeros((batch, h), np.float32)
        self.outputs = np.zeros((batch, self.output_size), np.float32)

    # -- state -------------------------------------------------------------------------------------

    def load_state(self, state) -> None:
        """Take a StackedRecurrent state (a list of (1, B, H) tensors, or (h, c) pairs); None: zeros."""
        self.h[:] = 0
        if self.c is not None:
            self.c[:] = 0
        if state is None:
            return
        h = self.hidden
        for index, layer_state in enumerate(state):
            if layer_state is None:
                continue
            hidden, cell = layer_state if isinstance(layer_state, tuple) else (layer_state, None)
            self.h[:, index * h:(index + 1) * h] = hidden.detach()[0].cpu().numpy()
            if cell is not None:
                self.c[:, index * h:(index + 1) * h] = cell.detach()[0].cpu().numpy()

    def state(self) -> list:
        """A copy of the state as StackedRecurrent takes it."""
        h, state = self.hidden, []
        for index in range(self.layers):
            hidden = torch.from_numpy(self.h[:, index * h:(index + 1) * h].copy()).unsqueeze(0)
            if self.c is not None:
                state.append((hidden, torch.from_numpy(self.c[:, index * h:(index + 1) * h].copy()).unsqueeze(0)))
            else:
                state.append(hidden)
        return state

    # -- the step ----------------------------------------------------------------------------------

    def project_dense(self, inputs: np.ndarray) -> None:
        """x_proj = inputs @ x_t + bias; a sparse input (one-hot events, one-hot metric blocks) sums its rows."""
        nonzero = np.flatnonzero(inputs)
        if nonzero.size * 8 <= inputs.size:
            if self.batch == 1:
                np.dot(inputs[0, nonzero], self.x_t[nonzero], out=self.x_proj[0])
                self.x_proj += self.x_bias
            else:
                rows, columns = np.divmod(nonzero, self.input_size)
                self.project_active(columns, inputs.reshape(-1)[nonzero], rows)
            return
        np.dot(inputs, self.x_t, out=self.x_proj)
        self.x_proj += self.x_bias

    def project_active(self, columns: np.ndarray, values: np.ndarray | None = None, rows: np.ndarray | None = None) -> None:
        """x_proj for inputs given by their nonzero entries: columns (B, n) that are 1 (values None), or flat
        (columns, values, rows) triples, rows ascending."""
        if rows is None:
            if self.batch == 1:
                np.add(self.x_t[columns[0]].sum(axis=0), self.x_bias, out=self.x_proj[0])
            else:
                np.add(self.x_t[columns].sum(axis=1), self.x_bias, out=self.x_proj)
            return
        self.x_proj[:] = self.x_bias
        if rows.size:
            contributions = self.x_t[columns] * values[:, None]
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            self.x_proj[rows[starts]] += np.add.reduceat(contributions, starts, axis=0)

    def run(self) -> np.ndarray:
        """One update of every layer from x_proj; returns the (B, O) outputs (a buffer, overwritten next step)."""
        width, step = self.gate_width, getattr(self, f"_{self.cell}")
        for index in range(self.layers):
            step(index, self.x_proj[:, index * width:(index + 1) * width])
        np.dot(self.h, self.head_t, out=self.outputs)
        self.outputs += self.x_proj[:, self.layers * width:]
        return self.outputs

    def _pair(self, index: int) -> np.ndarray:
        h = self.hidden
        return self.h[:, max(0, index - 1) * h:(index + 1) * h]

    def _lstm(self, index: int, x_part: np.ndarray) -> None:
        h, gates, scratch = self.hidden, self.gates, self.scratch
        np.dot(self._pair(index), self.recurrent[index], out=gates)
        gates += x_part
        np.tanh(gates, out=gates)
        sigmoids = gates[:, :3 * h]  # i, f, o from their halved pre-activations; g is the tanh itself
        sigmoids *= 0.5
        sigmoids += 0.5
        cell = self.c[:, index * h:(index + 1) * h]
        cell *= gates[:, h:2 * h]
        np.multiply(gates[:, :h], gates[:, 3 * h:], out=scratch)
        cell += scratch
        np.tanh(cell, out=scratch)
        np.multiply(gates[:, 2 * h:3 * h], scratch, out=self.h[:, index * h:(index + 1) * h])

    def _gru(self, index: int, x_part: np.ndarray) -> None:
        h, gates, hidden_gates, scratch = self.hidden, self.gates, self.hidden_gates, self.scratch
        below_t, hidden_t = self.recurrent[index]
        own = self.h[:, index * h:(index + 1) * h]
        if below_t is None:
            gates[:] = x_part
        else:
            np.dot(self.h[:, (index - 1) * h:index * h], below_t, out=gates)
            gates += x_part
        np.dot(own, hidden_t, out=hidden_gates)
        hidden_gates += self.hidden_bias[index]
        reset_update = gates[:, :2 * h]
        reset_update += hidden_gates[:, :2 * h]
        np.tanh(reset_update, out=reset_update)  # halved pre-activations: sigmoid = 0.5 + 0.5 tanh
        reset_update *= 0.5
        reset_update += 0.5
        new = gates[:, 2 * h:]
        np.multiply(gates[:, :h], hidden_gates[:, 2 * h:], out=scratch)
        new += scratch
        np.tanh(new, out=new)
        # h' = (1 - z) * n + z * h = n + z * (h - n)
        np.subtract(own, new, out=scratch)
        scratch *= gates[:, h:2 * h]
        np.add(new, scratch, out=own)

    def _rnn(self, index: int, x_part: np.ndarray) -> None:
        h, gates = self.hidden, self.gates
        np.dot(self._pair(index), self.recurrent[index], out=gates)
        gates += x_part
        np.tanh(gates, out=self.h[:, index * h:(index + 1) * h])

