"""genseq: generative music and motion sequences."""

__version__ = "0.1.0"
