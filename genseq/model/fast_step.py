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
- the cell's gates and state are updated in place, each layer by a closure over views made once;
- inputs whose ones all streams share but one (a melody's metric columns beside its event) add a sum of
  the shared rows kept by their columns to the one row that differs.

The same arithmetic as StackedRecurrent.forward (eval mode) in another summation order: the outputs agree
to float32 rounding (tests/model/test_fast_step.py), not bit for bit. low_precision (opt-in) runs the
products in bfloat16 through torch (the batch path's throughput; outputs within bfloat16 rounding).
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

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

    def __init__(self, model, batch: int, low_precision: bool = False, threads: int = 1):
        config = model.config
        self.cell, self.batch, self.low_precision = config.cell, batch, low_precision
        self.threads = max(1, min(threads, batch))
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
        bounds = np.linspace(0, batch, self.threads + 1).astype(int)
        self._parts = [self._rows_step(slice(start, stop)) for start, stop in zip(bounds[:-1], bounds[1:])]
        self._pool = None if self.threads == 1 else ThreadPoolExecutor(self.threads - 1, thread_name_prefix="genseq-step")
        self._shared_sums: dict[bytes, np.ndarray] = {}  # bias + the rows of inputs every stream shares, by columns

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
            self._project_columns(columns)
            return
        self.x_proj[:] = self.x_bias
        if rows.size:
            contributions = self.x_t[columns] * values[:, None]
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            self.x_proj[rows[starts]] += np.add.reduceat(contributions, starts, axis=0)

    def _project_columns(self, columns: np.ndarray) -> None:
        """Columns (B, n): when every stream shares columns 1.. (a melody: the event, then the step's metric
        columns), x_proj = the first column's row + (bias + the shared rows), the latter kept by columns."""
        shared = columns[0, 1:]
        if len(columns) > 1 and not (columns[1:, 1:] == shared).all():
            np.add(self.x_t[columns].sum(axis=1), self.x_bias, out=self.x_proj)
            return
        key = shared.tobytes()
        base = self._shared_sums.get(key)
        if base is None:
            if len(self._shared_sums) >= 1024:
                self._shared_sums.clear()
            base = self._shared_sums[key] = self.x_t[shared].sum(axis=0) + self.x_bias
        if len(columns) == 1:
            np.add(self.x_t[columns[0, 0]], base, out=self.x_proj[0])
        else:
            np.take(self.x_t, columns[:, 0], axis=0, out=self.x_proj)
            self.x_proj += base

    def run(self) -> np.ndarray:
        """One update of every layer from x_proj; returns the (B, O) outputs (a buffer, overwritten next step).
        With threads > 1 the batch's rows are split among that many threads (numpy and BLAS leave the GIL;
        give BLAS and torch one thread each): the same arithmetic for each row."""
        if self._pool is None:
            self._parts[0]()
            return self.outputs
        pending = [self._pool.submit(part) for part in self._parts[1:]]
        self._parts[0]()
        for future in pending:
            future.result()
        return self.outputs

    def _rows_step(self, rows: slice):
        """The whole step (every layer and the head) of these rows of the batch, as one call."""
        part = copy.copy(self)  # the same weights, these rows' views of every buffer
        for name in ("x_proj", "h", "c", "gates", "hidden_gates", "scratch", "outputs"):
            if getattr(self, name) is not None:
                setattr(part, name, getattr(self, name)[rows])
        kernels = [getattr(part, f"_{self.cell}_kernel")(index) for index in range(self.layers)]
        head = part._product(part.h, self.head_t, part.outputs, part.x_proj[:, self.layers * self.gate_width:])

        def step() -> None:
            for kernel in kernels:
                kernel()
            head()
        return step

    # Each kernel is a closure over views of the buffers, made once: a step then costs its numpy calls
    # and no slicing or attribute lookups (at batch 1 those were a third of the cell's time).

    def _product(self, rows: np.ndarray, weights: np.ndarray, out: np.ndarray, plus: np.ndarray):
        """out = rows @ weights + plus as a call without arguments: numpy's float32 product, or (low_precision)
        torch's bfloat16 one (avx512_bf16 where the CPU has it: about 1.7x the float32 rate at batch 64 on our
        AMD cores; products rounded to bfloat16, about 3 significant digits, so other logits and other draws),
        added to `plus` in float32 in the same pass."""
        dot, add = np.dot, np.add
        if not self.low_precision:
            def product() -> None:
                dot(rows, weights, out=out)
                add(out, plus, out=out)
            return product
        rows_t, out_t, plus_t = torch.from_numpy(rows), torch.from_numpy(out), torch.from_numpy(plus)
        weights_t, bfloat16, mm, add_t = torch.from_numpy(weights).to(torch.bfloat16), torch.bfloat16, torch.mm, torch.add

        def low_product() -> None:
            add_t(plus_t, mm(rows_t.to(bfloat16), weights_t), out=out_t)
        return low_product

    def _pair(self, index: int) -> np.ndarray:
        h = self.hidden
        return self.h[:, max(0, index - 1) * h:(index + 1) * h]

    def _own(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Layer index's (hidden, input part of x_proj) views."""
        h, width = self.hidden, self.gate_width
        return self.h[:, index * h:(index + 1) * h], self.x_proj[:, index * width:(index + 1) * width]

    def _lstm_kernel(self, index: int):
        h, gates, scratch = self.hidden, self.gates, self.scratch
        pair, (hidden, x_part) = self._pair(index), self._own(index)
        recurrent = self._product(pair, self.recurrent[index], gates, x_part)
        sigmoids = gates[:, :3 * h]  # i, f, o from their halved pre-activations; g is the tanh itself
        input_gate, forget, output, candidate = (gates[:, k * h:(k + 1) * h] for k in range(4))
        cell = self.c[:, index * h:(index + 1) * h]
        add, multiply, tanh = np.add, np.multiply, np.tanh

        def step() -> None:
            recurrent()
            tanh(gates, out=gates)
            multiply(sigmoids, 0.5, out=sigmoids)
            add(sigmoids, 0.5, out=sigmoids)
            multiply(cell, forget, out=cell)
            multiply(input_gate, candidate, out=scratch)
            add(cell, scratch, out=cell)
            tanh(cell, out=scratch)
            multiply(output, scratch, out=hidden)
        return step

    def _gru_kernel(self, index: int):
        h, gates, hidden_gates, scratch = self.hidden, self.gates, self.hidden_gates, self.scratch
        below_t, hidden_t = self.recurrent[index]
        own, x_part = self._own(index)
        from_below = None if below_t is None else self._product(self.h[:, (index - 1) * h:index * h], below_t, gates, x_part)
        from_own = self._product(own, hidden_t, hidden_gates, self.hidden_bias[index])
        reset_update, reset, update, new = gates[:, :2 * h], gates[:, :h], gates[:, h:2 * h], gates[:, 2 * h:]
        hidden_reset_update, hidden_new = hidden_gates[:, :2 * h], hidden_gates[:, 2 * h:]
        add, multiply, subtract, tanh = np.add, np.multiply, np.subtract, np.tanh

        def step() -> None:
            if from_below is None:
                gates[:] = x_part
            else:
                from_below()
            from_own()
            add(reset_update, hidden_reset_update, out=reset_update)
            tanh(reset_update, out=reset_update)  # halved pre-activations: sigmoid = 0.5 + 0.5 tanh
            multiply(reset_update, 0.5, out=reset_update)
            add(reset_update, 0.5, out=reset_update)
            multiply(reset, hidden_new, out=scratch)
            add(new, scratch, out=new)
            tanh(new, out=new)
            subtract(own, new, out=scratch)  # h' = (1 - z) * n + z * h = n + z * (h - n)
            multiply(scratch, update, out=scratch)
            add(new, scratch, out=own)
        return step

    def _rnn_kernel(self, index: int):
        gates = self.gates
        pair, (hidden, x_part) = self._pair(index), self._own(index)
        recurrent = self._product(pair, self.recurrent[index], gates, x_part)
        tanh = np.tanh

        def step() -> None:
            recurrent()
            tanh(gates, out=hidden)
        return step
