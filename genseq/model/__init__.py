"""Tensors only: the stacked recurrent model, its heads, training, sampling, checkpoints."""
