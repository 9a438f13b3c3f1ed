"""Script tests' fixtures: the local fake OpenAI server and a maker of script JSON answers."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.fake_openai import FakeOpenAI

ScriptMaker = Callable[..., dict[str, Any]]

# Two sentences of 13 words: 26 words, 10 seconds at the English reading speed.
_SCENE_NARRATION = (
    "Phishing messages often pretend to come from a bank that you already trust. "
    "Pause and check the real sender before you click on any link inside."
)


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    """A fake OpenAI-compatible server on 127.0.0.1, stopped after the test."""
    with FakeOpenAI() as server:
        yield server


def make_script(chapters: int = 2, scenes: int = 3, *, narration: str = _SCENE_NARRATION) -> dict[str, Any]:
    """A contract-valid script as an LLM would send it: ``chapters × scenes`` scenes of 10 s each in English."""
    return {
        "chapters": [
            {
                "chapter_id": f"ch{c}",
                "title": f"Chapter {c}",
                "scenes": [
                    {
                        "scene_id": f"ch{c}-s{s}",
                        "narration": narration,
                        "on_screen_text": "Check the sender",
                        "duration_sec": 10.0,
                    }
                    for s in range(1, scenes + 1)
                ],
            }
            for c in range(1, chapters + 1)
        ]
    }


@pytest.fixture
def script_data() -> ScriptMaker:
    """``make_script``: 2 chapters × 3 scenes × 10 s = one minute by default."""
    return make_script
