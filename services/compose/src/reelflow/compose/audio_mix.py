"""Filtergraph text that lays a background-music bed (or a finished soundtrack) under a voice: faded, ducked and
mixed at unit gain."""

from reelflow.compose.ffmpeg import AUDIO_SAMPLE_RATE, STEREO_48K, seconds_text
from reelflow.compose.loudness import SILENCE_LUFS

# Ducking: the voice (normalised to about -16 LUFS, so speech sits around -20 dBFS RMS) pushes the music
# down by roughly 10 dB while it speaks; release is long enough that the bed does not pump between words.
DUCK_THRESHOLD = 0.03  # ~ -30 dBFS: anything louder than breath noise on the voice triggers ducking
DUCK_RATIO = 8.0
DUCK_ATTACK_MS = 20.0
DUCK_RELEASE_MS = 400.0


# Music is brought to the published loudness before its volume applies (silence is left alone) ...
MUSIC_GAIN_RANGE_DB = (-30.0, 40.0)
# ... and a gain up is limited to about -1.5 dBFS, the lessons' true-peak headroom.
MUSIC_PEAK_LIMIT = 0.84


def music_gain_db(measured_lufs: float, target_lufs: float) -> float:
    """The gain that brings music measured at ``measured_lufs`` to ``target_lufs``, within a sane range; 0 for
    a file that is silent (nothing to bring up)."""
    if measured_lufs <= SILENCE_LUFS:
        return 0.0
    low, high = MUSIC_GAIN_RANGE_DB
    return max(low, min(high, target_lufs - measured_lufs))


def music_bed_filter(
    *,
    voice: str,
    music: str,
    out: str,
    volume: float,
    total_sec: float,
    fade_sec: float = 1.0,
    duck: bool = True,
    gain_db: float = 0.0,
) -> str:
    """Filtergraph text: takes the labelled streams [voice] and [music] (labels given without brackets),
    brings the music to 48 kHz stereo, trims it to total_sec (the caller opens the music input with
    -stream_loop -1 so it is long enough), sets its volume, fades it in and out over fade_sec, ducks it
    under the voice with sidechaincompress (when duck), and mixes it with the voice into [out] without
    changing the voice's level (amix normalize=0 or equivalent). The result lasts exactly total_sec.
    ``gain_db`` (see :func:`music_gain_db`) first brings the music to a known loudness, so ``volume`` means the
    same for a quiet file and a loud one; a gain up is followed by a limiter, so its peaks never clip.

    Both streams are padded before trimming, so a short music file or voice still yields exactly
    ``total_sec``; the fades shrink to half the length when the bed is shorter than two fades.
    """
    if total_sec <= 0:
        raise ValueError(f"the music bed needs a positive length, got {total_sec}")
    if not 0 <= volume <= 1:
        raise ValueError(f"music volume must be within 0..1, got {volume}")
    fade = max(0.0, min(fade_sec, total_sec / 2))
    end = seconds_text(total_sec)
    fit = f"apad,atrim=end={end},asetpts=PTS-STARTPTS"
    bed_chain = [f"aresample={AUDIO_SAMPLE_RATE}", STEREO_48K, fit]
    if gain_db:
        bed_chain.append(f"volume={gain_db:.2f}dB")
    if gain_db > 0:
        bed_chain.append(f"alimiter=limit={MUSIC_PEAK_LIMIT:g}:attack=5:release=50:level=disabled")
    bed_chain.append(f"volume={volume:g}")
    if fade > 0:
        bed_chain += [
            f"afade=t=in:st=0:d={seconds_text(fade)}",
            f"afade=t=out:st={seconds_text(total_sec - fade)}:d={seconds_text(fade)}",
        ]
    voice_chain = f"[{voice}]aresample={AUDIO_SAMPLE_RATE},{STEREO_48K},{fit}"
    mix = f"amix=inputs=2:duration=first:dropout_transition=0:normalize=0,atrim=end={end}[{out}]"
    if not duck:
        return ";".join(
            [
                f"{voice_chain}[{out}_voice]",
                f"[{music}]{','.join(bed_chain)}[{out}_bed]",
                f"[{out}_voice][{out}_bed]{mix}",
            ]
        )
    return ";".join(
        [
            f"{voice_chain},asplit=2[{out}_voice][{out}_key]",
            f"[{music}]{','.join(bed_chain)}[{out}_bed]",
            f"[{out}_bed][{out}_key]{_duck_filter()},{STEREO_48K}[{out}_ducked]",
            f"[{out}_voice][{out}_ducked]{mix}",
        ]
    )


def _duck_filter() -> str:
    return (
        f"sidechaincompress=threshold={DUCK_THRESHOLD:g}:ratio={DUCK_RATIO:g}"
        f":attack={DUCK_ATTACK_MS:g}:release={DUCK_RELEASE_MS:g}:detection=rms"
    )


def voice_over_bed_filter(*, voice: str, bed: str, out: str, total_sec: float) -> str:
    """Filtergraph text: the labelled stereo streams [voice] and [bed] (a finished soundtrack: a ranking short's
    clips and music) become [out], the bed ducked under the voice with the same ``sidechaincompress`` as music
    under a lesson, and the voice mixed over it at unit gain. [out] lasts exactly ``total_sec``.

    The bed is already at the published loudness and the voice is levelled to it; while the voice speaks the
    bed drops by about 10 dB, so the mix stays near the target instead of adding the two.
    """
    end = seconds_text(total_sec)
    return ";".join(
        [
            f"[{voice}]asplit=2[{out}_voice][{out}_key]",
            f"[{bed}][{out}_key]{_duck_filter()},{STEREO_48K}[{out}_ducked]",
            f"[{out}_voice][{out}_ducked]amix=inputs=2:duration=longest:dropout_transition=0:normalize=0,"
            f"atrim=end={end}[{out}]",
        ]
    )
