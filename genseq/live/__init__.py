"""Live play: call and response over MIDI (and in the browser), and endless streams.

One step-by-step session (session.py) holds a music model's recurrent state on the one Sampler;
the call-and-response engine (engine.py) quantises a played call onto the model's grid, primes the
session with it and schedules the answer on the next bar line; stream.py draws without end. Time
comes from an injectable clock (clock.py), MIDI from mido ports (ports.py), so tests run the real
loops in fake time with in-process ports.
"""
