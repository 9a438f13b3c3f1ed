"""The benchmark ranking short, prepared once (untimed) and cached: three phone-like clips, a music bed, badges.

Three clips of different shapes, as users upload them: a landscape 1920x1080 clip at 30 fps with its own
sound, an upright 1080x1920 clip at 30 fps without sound, and a 1280x720 clip at 25 fps whose sound is
muted by the spec. Their picture is FFmpeg's moving test pattern with camera-like grain, so the encoder
works about as hard as on real footage. Each lasts 4 s, so the countdown short lasts 12 s minus two 0.4 s
transitions: 11.2 s. Both engines read the same files, listed in ``ranking.json``.
"""

import hashlib
import inspect
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelflow.compose import badges
from reelflow.compose.badges import write_badge
from reelflow.compose.fonts import find_fonts
from reelflow.compose.ranking import BADGE_FADE_SEC, TRANSITION_SEC
from reelflow.contracts import MusicTrack, RankingClip, RankingSpec, frame_size

# Bump when the way inputs are made changes, so stale caches are not reused.
INPUTS_VERSION = 2
MANIFEST_NAME = "ranking.json"
SHORT_SIZE = "1080x1920"
SHORT_FPS = 30
CLIP_SEC = 4.0
MUSIC_SEC = 30.0
MUSIC_VOLUME = 0.15
MAKE_TIMEOUT_SEC = 300.0


@dataclass(frozen=True)
class ClipRecipe:
    name: str
    rank: int
    label: str
    size: str
    fps: int
    tone_hz: int | None  # None: the file has no audio stream
    keep_audio: bool = True


CLIPS = (
    ClipRecipe("landscape", rank=3, label="Sunset drive", size="1920x1080", fps=30, tone_hz=330),
    ClipRecipe("upright", rank=2, label="City at night", size="1080x1920", fps=30, tone_hz=None),
    ClipRecipe("small", rank=1, label="우승 The winner", size="1280x720", fps=25, tone_hz=550, keep_audio=False),
)


@dataclass(frozen=True)
class BenchClip:
    rank: int
    label: str
    keep_audio: bool
    size: str
    path: Path
    badge_png: Path  # the badge reelflow draws for it, for the MoviePy side to lay over the clip


@dataclass(frozen=True)
class BenchShort:
    """Everything both engines need, written as ``ranking.json`` beside the files it names."""

    size: str
    fps: int
    transition_sec: float
    badge_fade_sec: float
    total_sec: float  # the clips minus one transition per join, in whole frames
    music: Path
    music_volume: float
    clips: tuple[BenchClip, ...]

    def spec(self) -> RankingSpec:
        """The short as the spec a client would send (media keys are the files' names)."""
        return RankingSpec(
            clips=[
                RankingClip(media_key=clip.path.name, rank=clip.rank, label=clip.label, keep_audio=clip.keep_audio)
                for clip in self.clips
            ],
            music=MusicTrack(media_key=self.music.name, volume=self.music_volume),
            size=self.size,
            fps=self.fps,
            title="Top 3 (render benchmark)",
        )


def prepare_short(cache_dir: Path) -> tuple[BenchShort, Path]:
    """The cached short, made first when missing; returns it and its manifest path."""
    folder = cache_dir / f"ranking-{_inputs_key()}"
    manifest = folder / MANIFEST_NAME
    if manifest.is_file():
        return load_short(manifest), manifest
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    fonts = find_fonts()
    size = frame_size(SHORT_SIZE)
    clips = []
    for recipe in CLIPS:
        path = partial / f"{recipe.name}.mp4"
        _run(_clip_args(recipe, path))
        badge = partial / f"badge-{recipe.rank}.png"
        write_badge(recipe.rank, recipe.label, size, fonts, badge)
        clips.append(
            {
                "rank": recipe.rank,
                "label": recipe.label,
                "keep_audio": recipe.keep_audio,
                "size": recipe.size,
                "file": path.name,
                "badge_png": badge.name,
            }
        )
    music = partial / "music.m4a"
    _run(_music_args(music))
    document = {
        "size": SHORT_SIZE,
        "fps": SHORT_FPS,
        "transition_sec": TRANSITION_SEC,
        "badge_fade_sec": BADGE_FADE_SEC,
        "total_sec": (len(CLIPS) * round(CLIP_SEC * SHORT_FPS) - (len(CLIPS) - 1) * round(TRANSITION_SEC * SHORT_FPS))
        / SHORT_FPS,
        "music": music.name,
        "music_volume": MUSIC_VOLUME,
        "clips": clips,
    }
    (partial / MANIFEST_NAME).write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)  # only a complete set ever has the real name
    return load_short(manifest), manifest


def load_short(manifest: Path) -> BenchShort:
    """Read ``ranking.json``; file names in it are relative to its folder."""
    data: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
    folder = manifest.parent.resolve()
    return BenchShort(
        size=str(data["size"]),
        fps=int(data["fps"]),
        transition_sec=float(data["transition_sec"]),
        badge_fade_sec=float(data["badge_fade_sec"]),
        total_sec=float(data["total_sec"]),
        music=folder / data["music"],
        music_volume=float(data["music_volume"]),
        clips=tuple(
            BenchClip(
                rank=int(clip["rank"]),
                label=str(clip["label"]),
                keep_audio=bool(clip["keep_audio"]),
                size=str(clip["size"]),
                path=folder / clip["file"],
                badge_png=folder / clip["badge_png"],
            )
            for clip in data["clips"]
        ),
    )


def _clip_args(recipe: ClipRecipe, path: Path) -> list[str]:
    """A phone-like upload: H.264 High at a phone's quality, AAC sound when the recipe has a tone."""
    picture = f"testsrc2=size={recipe.size}:rate={recipe.fps}:duration={CLIP_SEC},noise=alls=6:allf=t"
    args = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", picture]
    audio = ["-an"]
    if recipe.tone_hz is not None:
        sound = f"sine=frequency={recipe.tone_hz}:duration={CLIP_SEC},volume=3"
        args += ["-f", "lavfi", "-i", sound]
        audio = ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"]
    return [*args, "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p", *audio, str(path)]


def _music_args(path: Path) -> list[str]:
    """A soft chord with a slow pulse, long enough that the short never loops it."""
    chord = (
        "aevalsrc='0.2*sin(2*PI*220*t)+0.15*sin(2*PI*277.2*t)+0.12*sin(2*PI*329.6*t)"
        f"*(0.6+0.4*sin(2*PI*0.5*t))':s=48000:d={MUSIC_SEC}"
    )
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", chord,
        "-ac", "2", "-c:a", "aac", "-b:a", "160k", str(path),
    ]  # fmt: skip


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, timeout=MAKE_TIMEOUT_SEC, capture_output=True)


def _inputs_key() -> str:
    identity = {
        "version": INPUTS_VERSION,
        "clips": [_clip_args(recipe, Path(recipe.name)) for recipe in CLIPS],
        "music": _music_args(Path("music")),
        "size": SHORT_SIZE,
        "fps": SHORT_FPS,
        "clip_sec": CLIP_SEC,
        "music_sec": MUSIC_SEC,
        # The badges are reelflow's own; when that code changes, the MoviePy side must show the new ones.
        "badges_code": hashlib.sha256(inspect.getsource(badges).encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
