"""How long a scene should be: the pacing both writers aim for, balanced against ``target_minutes``.

A scene is one slide with its narration. About 6–12 seconds of speech per scene keeps the picture changing
without cutting thoughts apart; :func:`preferred_scene_sec` picks a length in that range for a given lesson.
"""

SCENE_MIN_SEC = 6.0
SCENE_PREFERRED_SEC = 9.0
SCENE_MAX_SEC = 12.0
# A scene grown by merging to respect ``max_scenes_per_chapter`` may hold up to this much speech; past it
# the offline writer drops the rest of the chapter rather than make one slide last for minutes.
MERGED_SCENE_MAX_SEC = 90.0


def preferred_scene_sec(spoken_sec: float, target_minutes: float) -> float:
    """The scene length to aim for, between 6 and 12 seconds.

    A lesson that reads for about ``target_minutes`` gets 9-second scenes. A lesson longer than the target
    gets proportionally longer scenes (fewer slides, so the video's scene count stays what the target
    implies), a shorter one shorter scenes (more slides, so a short video still moves), within 6–12 seconds.
    """
    target_sec = max(1.0, target_minutes * 60)
    return min(SCENE_MAX_SEC, max(SCENE_MIN_SEC, SCENE_PREFERRED_SEC * spoken_sec / target_sec))
