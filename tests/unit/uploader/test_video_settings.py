"""The video resource sent to YouTube: description with chapters, privacy and scheduled release, YouTube's limits."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from reelflow.contracts import Chapter, LessonSpec, PublishTarget, RankingClip, RankingSpec, Scene, VideoScript
from reelflow.uploader.video_settings import (
    DESCRIPTION_MAX_BYTES,
    release_status,
    setting_problems,
    tags_length,
    video_settings,
    youtube_description,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def lesson(language: str = "ko") -> LessonSpec:
    scene = Scene(scene_id="s1", narration="Phishing is a scam.")
    return LessonSpec(
        language=language, script=VideoScript(chapters=[Chapter(chapter_id="c1", title="I", scenes=[scene])])
    )


def test_chapters_follow_the_description_after_a_blank_line() -> None:
    assert youtube_description("Spot a scam.\n", "0:00 Intro\n0:30 Next\n") == "Spot a scam.\n\n0:00 Intro\n0:30 Next"
    assert youtube_description("", "0:00 Intro\n") == "0:00 Intro"
    assert youtube_description("Only text", None) == "Only text"
    assert youtube_description("Only text", "  \n") == "Only text"


@pytest.mark.parametrize("privacy", ["public", "unlisted", "private"])
def test_without_a_schedule_the_targets_privacy_is_used(privacy: str) -> None:
    target = PublishTarget(title="t", privacy=privacy)  # type: ignore[arg-type]
    assert release_status(target, now=NOW) == {"privacyStatus": privacy, "selfDeclaredMadeForKids": False}


def test_a_future_release_is_private_until_publish_at_whatever_the_privacy_says() -> None:
    target = PublishTarget(
        title="t", privacy="public", publish_at=NOW + timedelta(days=1, minutes=1), made_for_kids=True
    )
    assert release_status(target, now=NOW) == {
        "privacyStatus": "private",
        "publishAt": "2026-03-02T12:01:00Z",
        "selfDeclaredMadeForKids": True,
    }


def test_publish_at_in_another_zone_or_without_one_is_sent_in_utc() -> None:
    seoul = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    assert release_status(PublishTarget(title="t", publish_at=seoul), now=NOW)["publishAt"] == "2026-03-02T00:00:00Z"
    naive = datetime(2026, 3, 2, 0, 0)
    assert release_status(PublishTarget(title="t", publish_at=naive), now=NOW)["publishAt"] == "2026-03-02T00:00:00Z"


def test_a_release_time_already_due_is_released_at_once() -> None:
    for due in (NOW - timedelta(hours=1), NOW + timedelta(seconds=30)):
        status = release_status(PublishTarget(title="t", privacy="private", publish_at=due), now=NOW)
        assert status == {"privacyStatus": "public", "selfDeclaredMadeForKids": False}


def test_the_snippet_takes_the_lessons_language_and_the_default_category() -> None:
    target = PublishTarget(title="Phishing", description="d", tags=["a"])
    chosen = video_settings(target, lesson("ko"), chapters_txt="0:00 Intro", default_category_id="27", now=NOW)
    assert chosen.resource["snippet"] == {
        "title": "Phishing",
        "description": "d\n\n0:00 Intro",
        "categoryId": "27",
        "tags": ["a"],
        "defaultLanguage": "ko",
        "defaultAudioLanguage": "ko",
    }
    assert chosen.caption_language == "ko"


def test_the_targets_category_and_language_win() -> None:
    target = PublishTarget(title="t", category_id="22", default_language="en")
    chosen = video_settings(target, lesson("ko"), chapters_txt=None, default_category_id="27", now=NOW)
    assert chosen.resource["snippet"]["categoryId"] == "22"
    assert chosen.resource["snippet"]["defaultLanguage"] == "en"
    assert "tags" not in chosen.resource["snippet"]
    assert chosen.caption_language == "en"


def test_a_ranking_short_has_no_language_unless_the_target_names_one() -> None:
    ranking = RankingSpec(clips=[RankingClip(media_key="uploads/a.mp4", rank=1)])
    chosen = video_settings(PublishTarget(title="t"), ranking, chapters_txt=None, default_category_id="27", now=NOW)
    assert "defaultLanguage" not in chosen.resource["snippet"]
    assert chosen.caption_language is None


def test_tags_are_counted_as_youtube_counts_them() -> None:
    assert tags_length([]) == 0
    assert tags_length(["ab", "c d"]) == 2 + 1 + (3 + 2)


def test_settings_within_youtubes_limits_have_no_problems() -> None:
    snippet = {"title": "t" * 100, "description": "é" * (DESCRIPTION_MAX_BYTES // 2), "tags": ["x" * 500]}
    assert setting_problems(snippet) == []


def test_each_limit_youtube_enforces_is_named() -> None:
    snippet = {"title": "t" * 101, "description": "é" * 2501, "tags": ["a b" * 200]}
    problems = setting_problems(snippet)
    assert any("title has 101 characters" in p for p in problems)
    assert any("5002 bytes" in p for p in problems)
    assert any("tags come to 602 characters" in p for p in problems)


def test_angle_brackets_are_refused_wherever_they_are() -> None:
    problems = setting_problems({"title": "a <b>", "description": "ok", "tags": ["fine", "x>y"]})
    assert len(problems) == 2
    assert "title" in problems[0]
    assert "tag 'x>y'" in problems[1]
