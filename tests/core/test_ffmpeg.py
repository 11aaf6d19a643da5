"""describe_media says what ffprobe would, and can tell a file that is not ready for upload."""

from __future__ import annotations

import subprocess

from genseq.core.ffmpeg import describe_media, ffmpeg_exe, top_level_boxes


def encode(target, *options):
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=1",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=1", "-shortest", *options, str(target)],
                   check=True)
    return target


def test_a_file_without_fast_start_or_high_profile_is_told_apart(tmp_path):
    plain = describe_media(encode(tmp_path / "plain.mp4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p",
                                  "-c:a", "aac"))
    assert top_level_boxes(tmp_path / "plain.mp4").index("mdat") < top_level_boxes(tmp_path / "plain.mp4").index("moov")
    assert not plain["faststart"] and plain["pix_fmt"] == "yuv444p" and plain["profile"] != "High"
    assert (plain["width"], plain["height"], plain["fps"], plain["audio_rate"]) == (64, 48, 25.0, 44100)
    ready = describe_media(encode(tmp_path / "ready.mp4", "-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p",
                                  "-c:a", "aac", "-ar", "48000", "-movflags", "+faststart"))
    assert ready["faststart"] and ready["profile"] == "High" and ready["pix_fmt"] == "yuv420p" and ready["audio_rate"] == 48000
    assert ready["video_codec"] == "h264" and ready["audio_codec"] == "aac" and abs(ready["seconds"] - 1.0) < 0.1
