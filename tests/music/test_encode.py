import numpy as np

from genseq.core.notes import NoteSequence
from genseq.music.encode import (FIRST_PITCH_EVENT, HELD, HOLD, ONSET, REST, MelodyEncoding, OnsetRollEncoding,
                                 PianorollEncoding, make_encoding)


def melody_of(seq):
    enc = MelodyEncoding(4)
    return enc, enc.values(seq)


def test_melody_takes_the_highest_voice_with_holds_and_rests():
    seq = NoteSequence([[60, 80, 0, 4, 0], [48, 80, 0, 8, 0], [67, 80, 6, 8, 0]], 4, 120.0, [(0, 4, 4)], 10)
    enc, events = melody_of(seq)
    pitch = lambda p: FIRST_PITCH_EVENT + p - enc.min_pitch  # noqa: E731
    # 60 on top for 4 steps, then the held bass 48 becomes the top line (a new note), then 67, then rest
    assert events.tolist() == [pitch(60), HOLD, HOLD, HOLD, pitch(48), HOLD, pitch(67), HOLD, REST, REST]
    back = enc.to_sequence(events, 120.0, [(0, 4, 4)])
    assert back.notes[:, [0, 2, 3]].tolist() == [[60, 0, 4], [48, 4, 6], [67, 6, 8]]


def test_melody_repeated_pitch_is_two_notes_and_out_of_range_folds():
    seq = NoteSequence([[100, 80, 0, 2, 0], [100, 80, 2, 4, 0]], 4, 120.0, [(0, 4, 4)], 4)
    enc, events = melody_of(seq)
    assert events.tolist() == [FIRST_PITCH_EVENT + 88 - 36, HOLD] * 2  # 100 folds an octave down to 88


def test_encode_shifts_by_one_and_carries_three_time_scales():
    enc = PianorollEncoding(1)
    seq = NoteSequence([[60, 80, 0, 2, 0], [64, 80, 2, 3, 0]], 1, 120.0, [(0, 4, 4)], 6)
    piece = enc.encode(seq)
    assert len(piece) == 5  # the first frame is never predicted
    assert piece.inputs.shape[1] == 88 + enc.metric.size
    assert np.array_equal(piece.inputs[:, :88], enc.values(seq)[:-1])
    assert np.array_equal(piece.targets, enc.values(seq)[1:])
    beat, bar, phrase = np.split(piece.inputs[:, 88:], [1, 1 + enc.metric.bar_slots], axis=1)
    assert bar.argmax(1).tolist() == [1, 2, 3, 0, 1]  # metric position of the predicted step
    assert phrase.argmax(1).tolist() == [0, 0, 0, 1, 1]


def test_pianoroll_frames_to_notes_merges_held_keys():
    enc = PianorollEncoding(1)
    roll = np.zeros((5, 88))
    roll[0:3, 60 - 21] = 1
    roll[3:5, 60 - 21] = 0
    roll[1:5, 64 - 21] = 1
    seq = enc.to_sequence(roll, 120.0, [(0, 4, 4)])
    assert seq.notes[:, [0, 2, 3]].tolist() == [[60, 0, 3], [64, 1, 5]]
    assert np.array_equal(enc.values(seq), roll)


def test_a_melody_starts_from_a_start_input_that_no_other_step_has():
    enc = MelodyEncoding(4)
    seq = NoteSequence([[60, 80, 1, 3, 0]], 4, 120.0, [(0, 4, 4)], 4)
    piece = enc.encode(seq)
    assert len(piece) == 4  # with the start input every step is predicted, the first one too
    assert piece.targets.tolist() == enc.values(seq).tolist() == [REST, FIRST_PITCH_EVENT + 24, HOLD, REST]
    fed = piece.inputs[:, : enc.input_value_size].argmax(1)
    assert fed.tolist() == [enc.start_event, REST, FIRST_PITCH_EVENT + 24, HOLD]
    assert enc.input_size == enc.value_size + 1 + enc.metric.size
    bar = piece.inputs[:, enc.input_value_size + 4 : enc.input_value_size + 4 + enc.metric.bar_slots]
    assert bar.argmax(1).tolist() == [0, 1, 2, 3]  # the start row carries step 0's metric position
    # an unprimed generation is fed exactly that first row
    assert enc.silence().tolist() == [enc.start_event]
    assert np.array_equal(enc.value_vectors(enc.silence())[0], piece.inputs[0, : enc.input_value_size])


def test_checkpoints_without_a_start_input_keep_their_encoding():
    from genseq.music.encode import make_encoding

    old = make_encoding({"name": "melody", "steps_per_quarter": 4})
    assert not old.start_input and old.silence().tolist() == [REST]
    seq = NoteSequence([[60, 80, 1, 3, 0]], 4, 120.0, [(0, 4, 4)], 4)
    assert len(old.encode(seq)) == 3 and old.input_size == old.value_size + old.metric.size
    assert make_encoding(MelodyEncoding(4).metadata()).start_input


def test_onset_roll_keeps_repeated_notes_and_eighths_apart():
    enc = OnsetRollEncoding(4)
    # two eighths of 60 (a repeated note), a held 64 under them, and a sixteenth 67 off the beat
    seq = NoteSequence([[60, 80, 0, 2, 0], [60, 80, 2, 4, 0], [64, 80, 0, 8, 0], [67, 80, 3, 4, 0]], 4, 120.0, [(0, 4, 4)], 8)
    roll = enc.values(seq)
    assert roll.shape == (8, 2 * 88)
    assert roll[:, enc.unit(60, ONSET)].tolist() == [1, 0, 1, 0, 0, 0, 0, 0]
    assert roll[:, enc.unit(60, HELD)].tolist() == [0, 1, 0, 1, 0, 0, 0, 0]
    assert roll[:, enc.unit(64, HELD)].tolist() == [0, 1, 1, 1, 1, 1, 1, 1]
    back = enc.to_sequence(roll, 120.0, [(0, 4, 4)])
    assert back.notes[:, [0, 2, 3]].tolist() == [[60, 0, 2], [64, 0, 8], [60, 2, 4], [67, 3, 4]]
    assert np.array_equal(enc.values(back), roll)


def test_onset_roll_orders_keys_from_the_top_and_a_stray_hold_starts_a_note():
    enc = OnsetRollEncoding(4)
    assert enc.unit(108, ONSET) == 0 and enc.unit(108, HELD) == 1 and enc.unit(21, HELD) == 2 * 88 - 1
    assert enc.pitch_of(enc.unit(72, HELD)) == 72
    roll = np.zeros((4, 2 * 88), dtype=np.float32)
    roll[1:3, enc.unit(55, HELD)] = 1  # held with nothing before it: a note from step 1
    roll[2, enc.unit(70, ONSET)] = roll[2, enc.unit(70, HELD)] = 1  # both units: the onset wins
    roll[3, enc.unit(70, HELD)] = 1
    assert enc.to_sequence(roll, 120.0, [(0, 4, 4)]).notes[:, [0, 2, 3]].tolist() == [[55, 1, 3], [70, 2, 4]]


def test_onset_roll_predicts_every_step_from_a_start_input():
    enc = OnsetRollEncoding(4)
    seq = NoteSequence([[60, 80, 1, 3, 0]], 4, 120.0, [(0, 4, 4)], 4)
    piece = enc.encode(seq)
    assert len(piece) == 4 and np.array_equal(piece.targets, enc.values(seq))
    start = enc.value_size
    assert piece.inputs[:, start].tolist() == [1, 0, 0, 0]  # only the row before the first step
    assert np.array_equal(piece.inputs[1:, :start], enc.values(seq)[:-1])
    assert enc.input_size == piece.inputs.shape[1] == 2 * 88 + 1 + enc.metric.size
    assert np.array_equal(enc.value_vectors(enc.silence()), piece.inputs[:1, : start + 1])
    assert make_encoding(enc.metadata()).name == "onsetroll"
