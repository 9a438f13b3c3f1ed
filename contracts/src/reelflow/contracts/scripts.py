"""Script models: the chapters and scenes a video is made of, the options that shape them, the script document."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from reelflow.contracts._base import Contract
from reelflow.contracts.upload_keys import is_uploaded_video

LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

# The limits every script keeps, whoever wrote it (the LLM, the offline writer, an edit): one narration is what
# one TTS call speaks, and the caps follow ScriptOptions' own (30 chapters of at most 50 scenes).
MAX_NARRATION_CHARS = 2000
MAX_ON_SCREEN_TEXT_CHARS = 2000
MAX_CHAPTERS_PER_SCRIPT = 30
MAX_SCENES_PER_SCRIPT = 1500
# The latest second of a video visual a scene may start or stop it at (six hours: any screen recording).
MAX_VIDEO_VISUAL_SEC = 6 * 3600.0
Narration = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NARRATION_CHARS)]


class Scene(Contract):
    scene_id: NonBlank
    narration: Narration
    on_screen_text: str | None = Field(default=None, max_length=MAX_ON_SCREEN_TEXT_CHARS)
    duration_sec: float | None = Field(default=None, ge=0)
    visual: str | None = Field(
        default=None,
        max_length=MAX_ON_SCREEN_TEXT_CHARS,
        description="A picture or a video on the scene's slide, beside (landscape) or above (upright) its text: a "
        "picture's media_key from POST /api/uploads (uploads/{sha256}.png, .jpg or .webp), a video's "
        "(uploads/{sha256}.mp4, .mov, .mkv or .webm), or a prompt for the image provider (REELFLOW_IMAGES_*). A "
        "video plays from its start when the scene does, muted (its own sound is not used), brought to the "
        "lesson's frame rate; if it is shorter than the scene, its last frame stays on screen.",
    )
    visual_start_sec: float = Field(
        default=0.0,
        ge=0,
        le=MAX_VIDEO_VISUAL_SEC,
        description="For a video visual: where in the video the scene starts showing it, in seconds from its first "
        "frame (0, the default, is its start). It must be before the video's end, and it needs a video visual.",
    )
    visual_end_sec: float | None = Field(
        default=None,
        gt=0,
        le=MAX_VIDEO_VISUAL_SEC,
        description="For a video visual: where in the video the scene stops playing it, in seconds from its first "
        "frame; the frame there then stays on screen for the rest of the scene. None (the default): it plays to its "
        "end. It must be after visual_start_sec, and it needs a video visual.",
    )
    visual_placement: Literal["beside", "full_frame"] = Field(
        default="beside",
        description="`beside`: the picture or video beside (landscape) or above (upright) the slide's text. "
        "`full_frame`: it fills the frame (cropped to the frame's shape), darkened under the text; a picture "
        "moves gently (a slow Ken Burns) in both visual styles, and in a basic lesson the text stays still over it.",
    )

    @model_validator(mode="after")
    def _only_a_video_is_cut(self) -> "Scene":
        is_video = is_uploaded_video(self.visual or "")
        if self.visual_start_sec > 0 and not is_video:
            raise ValueError(
                f"scene {self.scene_id!r} sets visual_start_sec, which starts a video visual later, but its visual "
                "is not an uploaded video (uploads/{sha256}.mp4, .mov, .mkv or .webm); leave visual_start_sec at 0"
            )
        if self.visual_end_sec is not None and not is_video:
            raise ValueError(
                f"scene {self.scene_id!r} sets visual_end_sec, which stops a video visual early, but its visual is "
                "not an uploaded video (uploads/{sha256}.mp4, .mov, .mkv or .webm); leave visual_end_sec out"
            )
        if self.visual_end_sec is not None and self.visual_end_sec <= self.visual_start_sec:
            raise ValueError(
                f"scene {self.scene_id!r}: visual_end_sec ({self.visual_end_sec:g}) must be after visual_start_sec "
                f"({self.visual_start_sec:g})"
            )
        return self


class Chapter(Contract):
    chapter_id: NonBlank
    title: NonBlank
    scenes: list[Scene] = Field(min_length=1)


class VideoScript(Contract):
    chapters: list[Chapter] = Field(min_length=1, max_length=MAX_CHAPTERS_PER_SCRIPT)

    @model_validator(mode="after")
    def _scenes_fit_one_video_and_are_unique(self) -> "VideoScript":
        count = sum(len(chapter.scenes) for chapter in self.chapters)
        if count > MAX_SCENES_PER_SCRIPT:
            raise ValueError(
                f"the script has {count} scenes; at most {MAX_SCENES_PER_SCRIPT} fit one video, so split the lesson"
            )
        seen: set[str] = set()
        for chapter in self.chapters:
            for scene in chapter.scenes:
                if scene.scene_id in seen:
                    raise ValueError(f"scene_id {scene.scene_id!r} appears twice; every scene needs its own id")
                seen.add(scene.scene_id)
        return self

    def scenes(self) -> list[Scene]:
        return [scene for chapter in self.chapters for scene in chapter.scenes]


class ScriptOptions(Contract):
    language: LanguageCode = "ko"
    target_minutes: float = Field(default=3, gt=0, le=60)
    max_chapters: int = Field(default=5, ge=1, le=30)
    max_scenes_per_chapter: int = Field(default=6, ge=1, le=50)
    style: str = "friendly security training"


class ScriptStatus(StrEnum):
    DRAFT = "DRAFT"
    APPROVED = "APPROVED"
    ARCHIVED = "ARCHIVED"


class Script(Contract):
    script_id: NonBlank
    video_id: NonBlank
    version: int = Field(default=1, ge=1)
    status: ScriptStatus = ScriptStatus.DRAFT
    title: str = ""
    source_text: str = ""
    options: ScriptOptions = Field(default_factory=ScriptOptions)
    script: VideoScript
    created_at: datetime
