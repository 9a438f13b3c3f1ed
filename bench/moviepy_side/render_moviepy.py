"""The MoviePy 2.x side of reelflow's render benchmark: the same lesson, or ranking short, written the way
MoviePy's docs show it.

Each scene is the slide as an ``ImageClip`` (slowly zoomed with ``resized(lambda t: …)`` in animated mode)
under its burned captions (``TextClip``), with the scene's narration as its audio; scenes cross-fade into
each other through ``concatenate_videoclips(method="compose", padding=-crossfade)``. The x264 preset, CRF
and AAC settings are reelflow's, so the comparison is of the two ways of building the frames, not of two
encoder presets.

The ranking short (``--mode ranking``) is each clip as a ``VideoFileClip``, centre-cropped to 9:16
(``cropped``) and ``resized`` to the frame, with reelflow's badge PNG fading in over it (``ImageClip`` with
``CrossFadeIn``), each next clip sliding up over the last (``SlideIn``, ``concatenate_videoclips`` with a
negative padding), the kept clips' sound peak-normalised (``AudioNormalize``) and the music under it all
(``AudioFileClip``, ``with_volume_scaled``, ``AudioFadeIn``/``AudioFadeOut``, ``CompositeAudioClip``).

It reads ``lesson.json`` (made by ``bench.lesson_inputs``) or ``ranking.json`` (``bench.ranking_inputs``) and
needs MoviePy only: it runs in its own uv project (``bench/moviepy_side``) so MoviePy and the Pillow it pins
never enter reelflow's lockfile.
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from moviepy import (
    AudioFileClip,
    CompositeAudioClip,
    CompositeVideoClip,
    ImageClip,
    TextClip,
    VideoClip,
    VideoFileClip,
    afx,
    concatenate_videoclips,
    vfx,
)

# reelflow's encoder settings (reelflow.compose.ffmpeg): same preset, quality and audio on both sides.
X264_PRESET = "veryfast"
VIDEO_CRF = "20"
AUDIO_SAMPLE_RATE = 48_000
AUDIO_BITRATE = "160k"


def caption_clips(scene: dict[str, Any], lesson: dict[str, Any], frame: tuple[int, int]) -> list[VideoClip]:
    """One white, black-outlined caption per cue, wrapped to the title-safe width, above the bottom margin."""
    width, height = frame
    style = lesson["caption"]
    clips = []
    for cue in scene["cues"]:
        text = TextClip(
            font=style["font_path"],
            text=cue["text"],
            font_size=style["font_size"],
            color="white",
            stroke_color="black",
            stroke_width=style["stroke_width"],
            method="caption",
            size=(width - 2 * style["margin_h"], None),
            text_align="center",
            # Without a vertical margin MoviePy 2.x cuts the descenders of the last line (g, p, y, commas).
            margin=(None, 2 * style["stroke_width"] + 2),
        )
        clips.append(
            text.with_start(cue["start_sec"])
            .with_duration(cue["end_sec"] - cue["start_sec"])
            .with_position(("center", height - style["margin_v"] - text.h))
        )
    return clips


def scene_clip(scene: dict[str, Any], lesson: dict[str, Any], folder: Path, animated: bool) -> VideoClip:
    frame = _frame_size(lesson["size"])
    narration = AudioFileClip(str(folder / scene["audio_wav"]))
    duration = narration.duration
    slide = ImageClip(str(folder / scene["slide_png"])).with_duration(duration)
    if animated:
        zoom = lesson["ken_burns_zoom"]
        slide = slide.resized(lambda t: 1 + zoom * t / duration).with_position("center")
    layers = [slide, *caption_clips(scene, lesson, frame)]
    return CompositeVideoClip(layers, size=frame).with_duration(duration).with_audio(narration)


def lesson_video(lesson: dict[str, Any], folder: Path, animated: bool) -> VideoClip:
    crossfade = lesson["crossfade_sec"]
    scenes = [scene_clip(scene, lesson, folder, animated) for scene in lesson["scenes"]]
    faded = [scenes[0], *(clip.with_effects([vfx.CrossFadeIn(crossfade)]) for clip in scenes[1:])]
    return concatenate_videoclips(faded, method="compose", padding=-crossfade)


def ranked_clip(clip: dict[str, Any], short: dict[str, Any], folder: Path) -> VideoClip:
    """One clip of the countdown: cropped to the frame's shape, resized to it, its badge fading in on top."""
    frame = _frame_size(short["size"])
    video = VideoFileClip(str(folder / clip["file"]))
    if not clip["keep_audio"]:
        video = video.without_audio()
    elif video.audio is not None:
        video = video.with_effects([afx.AudioNormalize()])
    width, height = video.size
    aspect = frame[0] / frame[1]
    if width / height > aspect:
        video = video.cropped(x_center=width / 2, width=round(height * aspect))
    else:
        video = video.cropped(y_center=height / 2, height=round(width / aspect))
    video = video.resized(frame)
    badge = (
        ImageClip(str(folder / clip["badge_png"]))
        .with_duration(video.duration)
        .with_position(("left", "top"))
        .with_effects([vfx.CrossFadeIn(short["badge_fade_sec"])])
    )
    return CompositeVideoClip([video, badge], size=frame).with_duration(video.duration)


def ranking_video(short: dict[str, Any], folder: Path) -> VideoClip:
    """The countdown (highest rank first), each next clip sliding up over the last, the music under it all."""
    transition = short["transition_sec"]
    ordered = sorted(short["clips"], key=lambda clip: clip["rank"], reverse=True)
    clips = [ranked_clip(clip, short, folder) for clip in ordered]
    sliding = [clips[0], *(clip.with_effects([vfx.SlideIn(transition, "bottom")]) for clip in clips[1:])]
    video = concatenate_videoclips(sliding, method="compose", padding=-transition)
    music = (
        AudioFileClip(str(folder / short["music"]))
        .with_duration(video.duration)
        .with_volume_scaled(short["music_volume"])
        .with_effects([afx.AudioFadeIn(1.0), afx.AudioFadeOut(1.0)])
    )
    sound = CompositeAudioClip([video.audio, music]) if video.audio is not None else music
    return video.with_audio(sound)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", type=Path, required=True, help="lesson.json or ranking.json from bench")
    parser.add_argument("--mode", choices=["basic", "animated", "ranking"], required=True)
    parser.add_argument("--out", type=Path, required=True, help="the MP4 to write")
    parser.add_argument("--result", type=Path, required=True, help="where to write this run's JSON facts")
    args = parser.parse_args(argv)

    document = json.loads(args.manifest.read_text(encoding="utf-8"))
    started = time.monotonic()  # the render alone, after the imports, as the reelflow side times its job
    if args.mode == "ranking":
        video = ranking_video(document, args.manifest.parent)
    else:
        video = lesson_video(document, args.manifest.parent, animated=args.mode == "animated")
    video.write_videofile(
        str(args.out),
        fps=document["fps"],
        codec="libx264",
        preset=X264_PRESET,
        ffmpeg_params=["-crf", VIDEO_CRF],
        audio_codec="aac",
        audio_fps=AUDIO_SAMPLE_RATE,
        audio_bitrate=AUDIO_BITRATE,
        threads=os.cpu_count(),
    )
    facts = {
        "video": str(args.out),
        "moviepy_version": version("moviepy"),
        "planned_duration_sec": video.duration,
        "job_sec": round(time.monotonic() - started, 3),
    }
    args.result.write_text(json.dumps(facts, indent=2), encoding="utf-8")
    return 0


def _frame_size(size: str) -> tuple[int, int]:
    width, height = size.split("x")
    return int(width), int(height)


if __name__ == "__main__":
    sys.exit(main())
