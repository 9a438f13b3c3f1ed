"""A script's versions: edits make the next DRAFT, stale or archived edits are refused, old versions stay readable."""

from datetime import UTC, datetime, timedelta

import pytest

from reelflow.contracts import (
    Chapter,
    JobStatus,
    LessonSpec,
    RenderDefaults,
    RenderJob,
    Scene,
    Script,
    ScriptOptions,
    ScriptStatus,
    VideoScript,
    Voice,
)
from reelflow.contracts.errors import ApiErrorCode, ErrorCode
from reelflow.gateway.api.errors import status_of
from reelflow.gateway.event_projector import auto_render_job_id
from reelflow.gateway.job_views import view_of
from reelflow.gateway.refusals import GatewayError
from reelflow.gateway.render_specs import RenderOptions, lesson_spec_for
from reelflow.gateway.script_versions import (
    ScriptEdit,
    approved,
    expected_version,
    history_of,
    newest_first,
    next_version,
    version_from_if_match,
    version_of,
)
from reelflow.gateway.workspace_lexicons import merged_voice

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def video_script(*narrations: str) -> VideoScript:
    scenes = [Scene(scene_id=f"s{index}", narration=text) for index, text in enumerate(narrations, start=1)]
    return VideoScript(chapters=[Chapter(chapter_id="c1", title="Phishing", scenes=scenes)])


def script(
    *,
    version: int = 1,
    status: ScriptStatus = ScriptStatus.DRAFT,
    narration: str = "Phishing is a scam.",
    at: datetime = T0,
    script_id: str = "script-1",
) -> Script:
    return Script(
        script_id=script_id,
        video_id="video-1",
        version=version,
        status=status,
        title="What is phishing?",
        source_text="# What is phishing?",
        options=ScriptOptions(language="en"),
        script=video_script(narration),
        created_at=at,
    )


def refusal(error: pytest.ExceptionInfo[GatewayError]) -> tuple[ApiErrorCode | ErrorCode, int | None]:
    return error.value.public_code, status_of(error.value)


# ---- editing ------------------------------------------------------------------------------------------------------
def test_an_edit_makes_the_next_version_a_draft_again() -> None:
    current = script(version=2, status=ScriptStatus.APPROVED)
    edited_at = T0 + timedelta(hours=1)
    edit = ScriptEdit(script=video_script("Phishing steals passwords.", "Report it."), version=2)

    edited = next_version(current, edit, expected=2, at=edited_at)

    assert edited.version == 3
    assert edited.status == ScriptStatus.DRAFT
    assert edited.script == edit.script
    assert edited.created_at == edited_at
    assert edited.title == current.title, "no title in the edit keeps the current one"
    kept = {"script_id", "video_id", "source_text", "options"}
    assert edited.model_dump(include=kept) == current.model_dump(include=kept)


def test_an_edit_may_change_the_title_alone() -> None:
    current = script()
    edited = next_version(current, ScriptEdit(script=current.script, title="Spotting phishing"), expected=None, at=T0)
    assert (edited.version, edited.title, edited.script) == (2, "Spotting phishing", current.script)


def test_an_edit_that_changes_nothing_makes_no_version_even_when_retried_with_the_old_number() -> None:
    current = script(version=2, status=ScriptStatus.APPROVED)
    same = ScriptEdit(script=current.script, title=current.title)
    assert next_version(current, same, expected=1, at=T0 + timedelta(days=1)) is current


def test_editing_a_stale_version_is_refused_naming_the_current_one() -> None:
    current = script(version=3)
    with pytest.raises(GatewayError) as error:
        next_version(current, ScriptEdit(script=video_script("Changed.")), expected=2, at=T0)
    assert refusal(error) == (ApiErrorCode.CONFLICT, 409)
    assert "is at version 3, not 2" in error.value.message
    assert "GET /api/scripts/script-1" in error.value.message
    assert error.value.details == {"script_id": "script-1", "current_version": 3, "expected_version": 2}


def test_an_edit_without_a_version_applies_to_the_latest() -> None:
    edited = next_version(script(version=4), ScriptEdit(script=video_script("Changed.")), expected=None, at=T0)
    assert edited.version == 5


def test_an_archived_script_cannot_be_edited() -> None:
    with pytest.raises(GatewayError) as error:
        next_version(script(status=ScriptStatus.ARCHIVED), ScriptEdit(script=video_script("x")), expected=1, at=T0)
    assert refusal(error) == (ApiErrorCode.CONFLICT, 409)
    assert "archived and can no longer be edited" in error.value.message


# ---- approving ----------------------------------------------------------------------------------------------------
def test_approving_the_latest_version_approves_it_once() -> None:
    current = script(version=2)
    first = approved(current, expected=2)
    assert (first.status, first.version, first.script) == (ScriptStatus.APPROVED, 2, current.script)
    assert approved(first, expected=None) is first


def test_an_old_version_cannot_be_approved() -> None:
    with pytest.raises(GatewayError) as error:
        approved(script(version=2), expected=1)
    assert refusal(error) == (ApiErrorCode.CONFLICT, 409)
    assert "only the latest version can be approved" in error.value.message
    assert error.value.details["current_version"] == 2


def test_an_archived_script_cannot_be_approved() -> None:
    with pytest.raises(GatewayError) as error:
        approved(script(status=ScriptStatus.ARCHIVED), expected=None)
    assert "can no longer be approved" in error.value.message


# ---- the version a caller names -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "version"), [(None, None), ("*", None), ("", None), ('"2"', 2), ('W/"12"', 12), ("3", 3), (' "4" ', 4)]
)
def test_if_match_names_a_version(header: str | None, version: int | None) -> None:
    assert version_from_if_match(header) == version


@pytest.mark.parametrize("header", ['"0"', "two", '"1", "2"', '"-1"', '"1.5"'])
def test_an_if_match_that_is_not_a_version_is_a_validation_failure(header: str) -> None:
    with pytest.raises(GatewayError) as error:
        version_from_if_match(header)
    assert refusal(error) == (ApiErrorCode.VALIDATION_FAILED, 422)
    assert error.value.details["problems"][0]["field"] == "If-Match"


def test_the_body_or_the_header_names_the_version_but_they_must_agree() -> None:
    assert expected_version(2, None) == 2
    assert expected_version(None, '"3"') == 3
    assert expected_version(4, '"4"') == 4
    assert expected_version(None, None) is None
    with pytest.raises(GatewayError) as error:
        expected_version(2, '"3"')
    assert refusal(error) == (ApiErrorCode.VALIDATION_FAILED, 422)
    assert "version 2" in error.value.message and "If-Match names 3" in error.value.message


# ---- reading versions ---------------------------------------------------------------------------------------------
def test_an_old_version_reads_as_written_but_archived() -> None:
    v1 = script(version=1, narration="Original.", status=ScriptStatus.APPROVED)
    latest = script(version=2, narration="Edited.", at=T0 + timedelta(hours=1))

    old = version_of(latest, 1, v1)

    assert old.status == ScriptStatus.ARCHIVED
    assert old.script.scenes()[0].narration == "Original."
    assert old.created_at == T0
    assert version_of(latest, 2, None) is latest


@pytest.mark.parametrize("version", [3, 7])
def test_a_version_after_the_latest_does_not_exist(version: int) -> None:
    with pytest.raises(GatewayError) as error:
        version_of(script(version=2), version, None)
    assert refusal(error) == (ApiErrorCode.NOT_FOUND, 404)
    assert "its latest is 2" in error.value.message


def test_an_old_version_that_was_not_kept_is_not_found() -> None:
    with pytest.raises(GatewayError) as error:
        version_of(script(version=2), 1, None)
    assert refusal(error) == (ApiErrorCode.NOT_FOUND, 404)
    assert "was not kept" in error.value.message


def test_history_lists_versions_newest_first_with_only_the_latest_live() -> None:
    v1 = script(version=1, narration="One.")
    v2 = script(version=2, narration="Two.", at=T0 + timedelta(hours=1))
    latest = script(version=3, narration="Three.", status=ScriptStatus.APPROVED, at=T0 + timedelta(hours=2))
    # The kept copy of the latest version is still DRAFT; the script document's status wins.
    kept_latest = latest.model_copy(update={"status": ScriptStatus.DRAFT})

    history = history_of(latest, [v1, kept_latest, v2])

    assert [entry.version for entry in history.versions] == [3, 2, 1]
    assert [entry.status for entry in history.versions] == [
        ScriptStatus.APPROVED,
        ScriptStatus.ARCHIVED,
        ScriptStatus.ARCHIVED,
    ]
    assert (history.latest_version, history.status) == (3, ScriptStatus.APPROVED)
    assert (history.created_at, history.updated_at) == (T0, T0 + timedelta(hours=2))
    assert history.versions[0].scene_count == 1


def test_history_of_a_script_without_kept_versions_is_its_latest_alone() -> None:
    history = history_of(script(version=2), [])
    assert [entry.version for entry in history.versions] == [2]


def test_scripts_are_listed_most_recently_written_first() -> None:
    older = history_of(script(script_id="a", at=T0), [])
    newer = history_of(script(script_id="b", at=T0 + timedelta(minutes=5)), [])
    assert [history.script_id for history in newest_first([older, newer])] == ["b", "a"]


# ---- render jobs of a version ---------------------------------------------------------------------------------------
def test_a_job_freezes_the_version_it_was_started_from() -> None:
    v2 = script(version=2, narration="Edited narration.", status=ScriptStatus.APPROVED)
    spec = lesson_spec_for(v2, RenderOptions(script_id=v2.script_id))
    job = RenderJob(job_id="job-1", video_id="video-1", script_id="script-1", spec=spec, created_at=T0, updated_at=T0)

    view = view_of(job, v2.version)

    assert view.script_version == 2 and view.status == JobStatus.QUEUED
    assert isinstance(view.spec, LessonSpec)
    assert view.spec.script.scenes()[0].narration == "Edited narration."
    assert view.model_dump(exclude={"script_version"}) == job.model_dump()


def test_an_auto_render_job_id_is_derived_from_its_script() -> None:
    first = auto_render_job_id("script-1")
    assert first == auto_render_job_id("script-1")
    assert first != auto_render_job_id("script-2")
    assert len(first) == 32 and int(first, 16) >= 0


def test_the_title_card_is_asked_for_per_render_and_reaches_the_spec() -> None:
    approved = script(status=ScriptStatus.APPROVED)
    assert lesson_spec_for(approved, RenderOptions(script_id=approved.script_id)).title_card is False
    asked = RenderOptions.model_validate({"script_id": approved.script_id, "title_card": True})
    assert lesson_spec_for(approved, asked).title_card is True
    defaults = RenderDefaults(title_card=True)
    assert RenderOptions.from_defaults(approved.script_id, defaults).title_card is True


def test_the_workspace_lexicon_is_laid_under_the_requests_own() -> None:
    voice = Voice(lexicon={"sql": "S Q L"})
    merged = merged_voice(voice, {"SQL": "sequel", "119": "일일구"})
    assert merged.lexicon == {"119": "일일구", "sql": "S Q L"}  # case-insensitively, the request's reading wins
    assert merged_voice(voice, {}) is voice
    many = {f"w{n}": "x" for n in range(600)}
    capped = merged_voice(voice, many)
    assert len(capped.lexicon) == 500 and capped.lexicon["sql"] == "S Q L"
