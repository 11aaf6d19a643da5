"""Sound that the platforms play as it is: -14 LUFS integrated loudness (ITU-R BS.1770, pyloudnorm's
meter) with the true peak under -1 dBTP (4x oversampled peaks, held down by a look-ahead limiter).

The platforms turn louder uploads down and leave quieter ones quiet; a song normalised here plays at
their level without their gain. The ceiling is set below -1 dBTP because AAC encoding moves the peaks
a little. `ffmpeg_loudness` measures a finished file with ffmpeg's own EBU R128 meter: a second meter,
not the one that normalised.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.ffmpeg import AUDIO_RATE, ffmpeg_exe

TARGET_LUFS = -14.0
CEILING_DBTP = -2.0           # the limit asked for is -1 dBTP; AAC encoding raises peaks by up to a few tenths of a dB
OVERSAMPLE = 4                # BS.1770's true peak: peaks of the signal upsampled four times
LOOKAHEAD_SECONDS = 0.005     # the limiter reaches its gain this long before a peak and holds it as long after
CHUNK = 1 << 17               # samples oversampled at a time (bounded memory for long songs)
ROUNDS = 6                    # gain, limit, measure again: limiting lowers the loudness a little
MIN_MEASURED_SECONDS = 0.5    # BS.1770 gates 400 ms blocks: shorter sounds are measured padded with silence


def db(value: float) -> float:
    return 20 * np.log10(max(float(value), 1e-12))


def decode_audio(path: str | Path, rate: int = AUDIO_RATE, channels: int = 2) -> np.ndarray:
    """Any sound file ffmpeg reads (wav, mp3, flac, ogg, m4a, a video's sound) as float32 (samples, channels)."""
    path = Path(path)
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(path), "-map", "0:a:0",
               "-ac", str(channels), "-ar", str(rate), "-f", "f32le", "pipe:1"]
    result = subprocess.run(command, capture_output=True)
    if result.returncode != 0:
        lines = [re.sub(r"\[[^\]]*\]\s*", "", line).replace(str(path), "").strip()
                 for line in result.stderr.decode("utf-8", "replace").splitlines()]
        message = next((line for line in lines if line), "ffmpeg failed")[:200]
        raise GenseqError(f"cannot decode this sound file ({message})", path)
    samples = np.frombuffer(result.stdout, dtype=np.float32).reshape(-1, channels)
    if not len(samples):
        raise GenseqError("this sound file has no samples", path)
    return samples


def integrated_loudness(samples: np.ndarray, rate: int = AUDIO_RATE) -> float:
    """LUFS (BS.1770-4, pyloudnorm); -inf for silence."""
    import pyloudnorm

    need = int(MIN_MEASURED_SECONDS * rate)
    if len(samples) < need:
        samples = np.concatenate([samples, np.zeros((need - len(samples), samples.shape[1]), samples.dtype)])
    return float(pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64)))


def sample_peaks(samples: np.ndarray) -> np.ndarray:
    """(samples,) the largest true (4x oversampled) magnitude over the channels around each sample."""
    from scipy.signal import resample_poly

    pad = 32
    peaks = np.empty(len(samples), dtype=np.float32)
    for start in range(0, len(samples), CHUNK):
        stop = min(start + CHUNK, len(samples))
        low, high = max(0, start - pad), min(len(samples), stop + pad)
        upsampled = resample_poly(samples[low:high], OVERSAMPLE, 1, axis=0)
        upsampled = np.abs(upsampled[(start - low) * OVERSAMPLE:(stop - low) * OVERSAMPLE])
        peaks[start:stop] = upsampled.reshape(stop - start, OVERSAMPLE, -1).max(axis=(1, 2))
    return np.maximum(peaks, np.abs(samples).max(axis=1))


def true_peak_dbtp(samples: np.ndarray) -> float:
    return db(sample_peaks(samples).max()) if len(samples) else -np.inf


def limit(samples: np.ndarray, ceiling_dbtp: float = CEILING_DBTP, rate: int = AUDIO_RATE) -> np.ndarray:
    """The samples with every true peak at or under the ceiling: a look-ahead gain (both channels alike).

    The gain each sample needs is min(1, ceiling / peak); its running minimum over +-h, then averaged
    over +-h, stays under what every sample within reach needs (each averaged value is a minimum over a
    window holding the sample), and changes smoothly enough not to click.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    ceiling = 10 ** (ceiling_dbtp / 20)
    needed = np.minimum(1.0, ceiling / np.maximum(sample_peaks(samples), 1e-12)).astype(np.float64)
    if needed.min() >= 1.0:
        return samples
    reach = max(1, int(LOOKAHEAD_SECONDS * rate))
    held = minimum_filter1d(needed, 2 * reach + 1, mode="nearest")
    gain = np.minimum(uniform_filter1d(held, reach + 1, mode="nearest"), needed)
    return (samples * gain[:, None]).astype(np.float32)


def normalise_loudness(samples: np.ndarray, rate: int = AUDIO_RATE, target_lufs: float = TARGET_LUFS,
                       ceiling_dbtp: float = CEILING_DBTP) -> np.ndarray:
    """The samples at target_lufs integrated with true peaks under ceiling_dbtp (silence stays silence)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[:, None]
    loudness = integrated_loudness(samples, rate)
    if not np.isfinite(loudness):
        return limit(samples, ceiling_dbtp, rate)
    gain_db, result = 0.0, samples
    for _ in range(ROUNDS):
        gain_db += target_lufs - loudness
        result = limit(samples * np.float32(10 ** (gain_db / 20)), ceiling_dbtp, rate)
        loudness = integrated_loudness(result, rate)
        if abs(loudness - target_lufs) < 0.1:
            break
    return result


def normalised_copy(path: str | Path, target: str | Path, rate: int = AUDIO_RATE) -> Path:
    """A stereo WAV at `rate` of the sound file at `path`, loudness-normalised (float samples: no clipping)."""
    import soundfile

    samples = normalise_loudness(decode_audio(path, rate), rate)
    soundfile.write(str(target), samples, rate, subtype="FLOAT", format="WAV")
    return Path(target)


SUMMARY_LOUDNESS = re.compile(r"I:\s*(-?[\d.]+|-inf)\s*LUFS")
SUMMARY_PEAK = re.compile(r"Peak:\s*(-?[\d.]+|-inf)\s*dBFS")


def ffmpeg_loudness(path: str | Path) -> dict:
    """ffmpeg's EBU R128 meter (ebur128 filter, true peak) on a file's sound: {"lufs": ..., "true_peak_dbtp": ...}."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostats", "-nostdin", "-i", str(path), "-map", "0:a:0",
               "-af", "ebur128=peak=true", "-f", "null", "-"]
    output = subprocess.run(command, capture_output=True, text=True).stderr
    summary = output[output.rfind("Summary:"):] if "Summary:" in output else ""
    loudness, peak = SUMMARY_LOUDNESS.search(summary), SUMMARY_PEAK.search(summary)
    if loudness is None or peak is None:
        raise GenseqError("ffmpeg's loudness meter found no sound", path)
    return {"lufs": float(loudness[1]), "true_peak_dbtp": float(peak[1])}
