"""Font discovery: explicit path, NanumGothic on disk, fontconfig, and a clear error when there is none."""

import shutil
from pathlib import Path

import pytest

from reelflow.compose.fonts import find_fonts
from reelflow.runtime.failures import RenderError

NANUM_DIR = Path("/usr/share/fonts/truetype/nanum")


def test_system_nanum_gothic_is_found() -> None:
    fonts = find_fonts()

    assert fonts.regular.name == "NanumGothic.ttf"
    assert fonts.bold.name == "NanumGothicBold.ttf"
    assert fonts.fonts_dir == fonts.regular.parent
    assert fonts.family == "NanumGothic"


def test_explicit_path_wins_and_finds_its_bold_sibling(tmp_path: Path) -> None:
    shutil.copy(NANUM_DIR / "NanumGothic.ttf", tmp_path / "Brand-Regular.ttf")
    shutil.copy(NANUM_DIR / "NanumGothicBold.ttf", tmp_path / "Brand-Bold.ttf")

    fonts = find_fonts(tmp_path / "Brand-Regular.ttf")

    assert fonts.regular == tmp_path / "Brand-Regular.ttf"
    assert fonts.bold == tmp_path / "Brand-Bold.ttf"
    assert fonts.fonts_dir == tmp_path


def test_explicit_path_without_bold_uses_it_for_both(tmp_path: Path) -> None:
    shutil.copy(NANUM_DIR / "NanumGothic.ttf", tmp_path / "Only.ttf")

    fonts = find_fonts(tmp_path / "Only.ttf")

    assert fonts.bold == fonts.regular == tmp_path / "Only.ttf"


def test_nanum_is_found_in_nested_search_dirs(tmp_path: Path) -> None:
    nested = tmp_path / "truetype" / "nanum"
    nested.mkdir(parents=True)
    shutil.copy(NANUM_DIR / "NanumGothic.ttf", nested / "NanumGothic.ttf")

    fonts = find_fonts(search_dirs=[tmp_path], use_fontconfig=False)

    assert fonts.regular == nested / "NanumGothic.ttf"
    assert fonts.bold == fonts.regular  # no bold face beside it


def test_fontconfig_is_asked_when_no_nanum_file_is_on_the_search_path(tmp_path: Path) -> None:
    fonts = find_fonts(search_dirs=[tmp_path])  # fonts-nanum is installed, so fontconfig knows a Korean font

    assert fonts.regular.is_file()
    assert fonts.family


def test_missing_explicit_font_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="REELFLOW_COMPOSE_FONT_PATH") as raised:
        find_fonts(tmp_path / "nope.ttf")
    assert "nope.ttf" in raised.value.message


def test_no_font_anywhere_says_how_to_install_one(tmp_path: Path) -> None:
    with pytest.raises(RenderError) as raised:
        find_fonts(search_dirs=[tmp_path], use_fontconfig=False)

    assert "apt-get install fonts-nanum" in raised.value.message
    assert "REELFLOW_COMPOSE_FONT_PATH" in raised.value.message
    assert raised.value.retryable is False


def test_a_file_that_is_not_a_font_is_rejected(tmp_path: Path) -> None:
    bogus = tmp_path / "fake.ttf"
    bogus.write_bytes(b"not a font")

    with pytest.raises(RenderError, match="could not be loaded"):
        find_fonts(bogus)
