"""Finding a Korean-capable TrueType font pair for slides (Pillow) and burned subtitles (libass)."""

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from reelflow.runtime.failures import MediaInvalidError, RenderError

SYSTEM_FONTS_DIR = Path("/usr/share/fonts")
NANUM_REGULAR = "NanumGothic.ttf"
NANUM_BOLD = "NanumGothicBold.ttf"
FC_MATCH_TIMEOUT_SEC = 10.0
FONT_PATH_SETTING = "REELFLOW_COMPOSE_FONT_PATH"
_INSTALL_HINT = (
    f"install one with `apt-get install fonts-nanum`, or point the setting {FONT_PATH_SETTING} "
    "at a .ttf/.otf file that has Hangul glyphs"
)


@dataclass(frozen=True)
class FontSet:
    """The faces every slide and subtitle is drawn with.

    ``fonts_dir`` is handed to libass (``subtitles=…:fontsdir=``) so burned subtitles find ``family``
    without relying on the system fontconfig cache.
    """

    regular: Path
    bold: Path
    fonts_dir: Path
    family: str


def find_fonts(
    explicit_path: Path | None = None,
    *,
    search_dirs: Sequence[Path] = (SYSTEM_FONTS_DIR,),
    use_fontconfig: bool = True,
) -> FontSet:
    """Explicit path first, then NanumGothic under ``search_dirs``, then ``fc-match :lang=ko``.

    Raises :class:`RenderError` (non-retryable: a redelivery will not install a font) when none is found.
    """
    if explicit_path is not None:
        if not explicit_path.is_file():
            raise RenderError(f"the font {explicit_path} (from {FONT_PATH_SETTING}) does not exist; {_INSTALL_HINT}")
        return _font_set(explicit_path, _bold_sibling(explicit_path))
    for directory in search_dirs:
        regular = _find_file(directory, NANUM_REGULAR)
        if regular is not None:
            return _font_set(regular, _find_file(regular.parent, NANUM_BOLD) or _find_file(directory, NANUM_BOLD))
    if use_fontconfig:
        regular = _fc_match_korean(":lang=ko")
        if regular is not None:
            return _font_set(regular, _fc_match_korean(":lang=ko:weight=bold"))
    searched = ", ".join(str(directory) for directory in search_dirs) or "no directories"
    raise RenderError(f"no Korean-capable font was found (looked for {NANUM_REGULAR} in {searched}); {_INSTALL_HINT}")


# The faces SubtitleStyle.font names, all in Debian's fonts-nanum: (regular file, bold file).
SUBTITLE_FACES = {
    "barun_gothic": ("NanumBarunGothic.ttf", "NanumBarunGothicBold.ttf"),
    "square_round": ("NanumSquareRoundR.ttf", "NanumSquareRoundB.ttf"),
    "myeongjo": ("NanumMyeongjo.ttf", "NanumMyeongjoBold.ttf"),
}


def subtitle_font_set(font: str, fonts: FontSet, *, search_dirs: Sequence[Path] = (SYSTEM_FONTS_DIR,)) -> FontSet:
    """The faces burned subtitles are drawn with for ``SubtitleStyle.font``: ``gothic`` is the slides' own set
    (``fonts``, which honours the font setting); the others are looked for beside it and in ``search_dirs``.

    Raises :class:`RenderError` (non-retryable) naming the missing file and the package that has it.
    """
    faces = SUBTITLE_FACES.get(font)
    if faces is None:
        return fonts
    regular_name, bold_name = faces
    for directory in (fonts.regular.parent, *search_dirs):
        regular = _find_file(directory, regular_name)
        if regular is not None:
            return _font_set(regular, _find_file(regular.parent, bold_name))
    raise RenderError(
        f"the subtitle font {font!r} needs {regular_name}, which is not installed: `apt-get install fonts-nanum`, "
        "or choose subtitle_style.font 'gothic'"
    )


def brand_font_set(font: Path) -> FontSet:
    """The slides' faces from a brand's uploaded font (one face, drawn for the regular and the bold text).

    Raises :class:`MediaInvalidError` (non-retryable) when FreeType cannot load it.
    """
    try:
        return _font_set(font, None)
    except RenderError as exc:
        raise MediaInvalidError(
            f"brand.font could not be loaded as a font ({exc.message}); upload a TrueType or OpenType font",
            retryable=False,
        ) from exc


def subtitle_fonts_folder(fonts: FontSet, folder: Path) -> Path:
    """``folder``, holding only ``fonts``' two faces (as links), for libass's ``fontsdir``.

    libass reads every file in its fonts folder into memory and indexes it. Pointed at the system folder of
    the faces, it would load their whole family (33 MB for Nanum) into every FFmpeg that burns subtitles.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for face in dict.fromkeys((fonts.regular, fonts.bold)):
        link = folder / face.name
        if link.exists():
            continue
        try:
            link.symlink_to(face.resolve())
        except OSError:
            shutil.copyfile(face, link)
    return folder


def _font_set(regular: Path, bold: Path | None) -> FontSet:
    try:
        family = ImageFont.truetype(str(regular), 12).getname()[0] or regular.stem
    except OSError as exc:
        raise RenderError(f"the font {regular} could not be loaded ({exc}); {_INSTALL_HINT}") from exc
    return FontSet(regular=regular, bold=bold or regular, fonts_dir=regular.parent, family=family)


def _find_file(directory: Path, name: str) -> Path | None:
    if not directory.is_dir():
        return None
    direct = directory / name
    if direct.is_file():
        return direct
    return next((path for path in sorted(directory.rglob(name)) if path.is_file()), None)


def _bold_sibling(regular: Path) -> Path | None:
    """``Foo.ttf`` → ``FooBold.ttf`` / ``Foo-Bold.ttf`` beside it, when one exists."""
    base = regular.stem.removesuffix("-Regular").removesuffix("Regular")
    for candidate in (f"{base}Bold", f"{base}-Bold"):
        path = regular.with_name(candidate + regular.suffix)
        if path.is_file() and path != regular:
            return path
    return None


def _fc_match_korean(pattern: str) -> Path | None:
    """The file fontconfig picks for ``pattern``, only when that font really covers Korean.

    fc-match always answers with *some* font, so its language list is checked as well.
    """
    try:
        completed = subprocess.run(
            ["fc-match", "-f", "%{file}\n%{lang}", pattern],
            capture_output=True,
            text=True,
            timeout=FC_MATCH_TIMEOUT_SEC,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    file_line, _, lang_line = completed.stdout.partition("\n")
    path = Path(file_line.strip())
    if not file_line.strip() or not path.is_file() or "ko" not in lang_line.strip().split("|"):
        return None
    return path
