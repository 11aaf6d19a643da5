"""Batch rows of kind dance can dance to a song: the song is read beside the manifest, is part of
the job's identity, and a missing one fails its row alone."""

import numpy as np
import soundfile

from genseq.service.scheduler import run_batch
from tests.service.conftest import needs_dance


@needs_dance
def test_a_dance_row_to_a_song(assets, tmp_path):
    rate = 22050
    clicks = np.zeros(rate * 4, dtype=np.float32)
    clicks[:: rate // 2] = 0.9  # a click every half second: 120 beats a minute
    soundfile.write(tmp_path / "song.wav", np.convolve(clicks, np.hanning(200), "same"), rate)
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text(f"""
- {{kind: dance, checkpoint: {assets / 'dance.pt'}, output: song.mp4, parameters: {{music: song.wav, size: 96, preview: false}}}}
- {{kind: dance, checkpoint: {assets / 'dance.pt'}, output: lost.mp4, parameters: {{music: missing.wav, size: 96}}}}
""")
    report = run_batch(manifest, tmp_path / "root", workers=1, runner="thread")
    status = {r.row: (r.status, r.reason) for r in report.results}
    assert status[1][0] == "done", status
    assert status[2][0] == "failed" and "no such song file" in status[2][1] and "missing.wav" in status[2][1]
    assert (tmp_path / "root" / "song.mp4").read_bytes()[4:8] == b"ftyp"
    again = run_batch(manifest, tmp_path / "root", workers=1, runner="thread")
    assert again.count("skipped") == 1
    soundfile.write(tmp_path / "song.wav", np.convolve(np.roll(clicks, 3000), np.hanning(200), "same"), rate)
    changed = run_batch(manifest, tmp_path / "root", workers=1, runner="thread")
    assert changed.count("done") == 1  # another song: the job runs again
