"""The exported contracts work in other languages' tools: the official AsyncAPI parser accepts the document, and
quicktype's Java for a render request has a class per spec, whose Jackson output reelflow's contract accepts.

The tools are installed by ``scripts/bootstrap.sh --tests``: Node.js with the locked npm packages of
``tools/contract-check``, and a JDK with Debian's Jackson. Nothing is downloaded here.
"""

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.unit.contracts.test_contracts_schema_export import JOB, lesson_spec, ranking_spec

from reelflow.cli.main import main as reelflow_cli
from reelflow.contracts import LessonSpec, RankingSpec, RenderRequested

REPO = Path(__file__).resolve().parents[3]
TOOLS = REPO / "tools" / "contract-check"
JAVA_MAIN = Path(__file__).parent / "java" / "RenderRequestsFromJava.java"
JAVA_PACKAGE = "org.example.reelflow"
JACKSON_JARS = [Path("/usr/share/java") / f"jackson-{name}.jar" for name in ("databind", "core", "annotations")]
TOOL_TIMEOUT_SEC = 120

NODE = shutil.which("node")
JAVAC = shutil.which("javac")
JAVA = shutil.which("java")
needs_node_tools = pytest.mark.skipif(
    NODE is None or not (TOOLS / "node_modules").is_dir(),
    reason="Node.js and tools/contract-check/node_modules are missing (scripts/bootstrap.sh --tests installs them)",
)
needs_jdk = pytest.mark.skipif(
    JAVAC is None or JAVA is None or not all(jar.is_file() for jar in JACKSON_JARS),
    reason="a JDK and Debian's Jackson are missing (scripts/bootstrap.sh --tests installs them)",
)


def run_tool(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT_SEC, check=False)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the Spring team gets: ``reelflow contracts export``."""
    out = tmp_path_factory.mktemp("contracts")
    assert reelflow_cli(["contracts", "export", str(out)]) == 0
    return out


def asyncapi_diagnostics(document: Path) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    assert NODE is not None
    result = run_tool([NODE, str(TOOLS / "validate-asyncapi.mjs"), str(document)])
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, list[dict[str, Any]]] = json.loads(result.stdout)
    return result.returncode, report


@needs_node_tools
def test_the_asyncapi_document_is_valid_under_the_official_parser(exported: Path) -> None:
    returncode, report = asyncapi_diagnostics(exported / "asyncapi.json")
    assert report["errors"] == [], json.dumps(report["errors"], indent=2)
    assert report["warnings"] == [], json.dumps(report["warnings"], indent=2)
    assert returncode == 0


@needs_node_tools
def test_the_parser_refuses_pydantics_openapi_discriminator(exported: Path, tmp_path: Path) -> None:
    """The check above is not vacuous: the document as pydantic wrote it (before the export dropped the
    OpenAPI-style ``discriminator`` whose mapping points at ``#/$defs/…``) fails with the parser's errors."""
    document = json.loads((exported / "asyncapi.json").read_text(encoding="utf-8"))
    broken = copy.deepcopy(document)
    spec = broken["components"]["schemas"]["render_requested_v1"]["properties"]["spec"]
    spec["discriminator"] = {
        "propertyName": "template",
        "mapping": {"lesson": "#/$defs/LessonSpec", "ranking": "#/$defs/RankingSpec"},
    }
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    returncode, report = asyncapi_diagnostics(path)
    assert returncode == 1
    assert any(error["path"][-1:] == ["discriminator"] for error in report["errors"]), report["errors"]


def java_fields(source: str) -> dict[str, str]:
    """``{json name: Java type}`` of a quicktype class, read from its ``@JsonProperty`` getters."""
    getters = re.finditer(r'@JsonProperty\("([^"]+)"\)\s+public ([\w<>, ]+) get\w+\(\)', source)
    return {match.group(1): match.group(2) for match in getters}


@pytest.fixture(scope="module")
def generated_java(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """quicktype's Java for the two shapes of ``rf.render.requested``, from the code-generation bundle."""
    assert NODE is not None
    out = tmp_path_factory.mktemp("java")
    bundle = exported / "codegen.schema.json"
    uris = [f"{bundle}#/$defs/{name}" for name in ("LessonRenderRequested", "RankingRenderRequested")]
    result = run_tool([NODE, str(TOOLS / "generate-java.mjs"), str(out), JAVA_PACKAGE, *uris])
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def java_classes(generated_java: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """javac on quicktype's model classes and the main; not its Converter.java (see the main's header comment)."""
    assert JAVAC is not None
    out = tmp_path_factory.mktemp("classes")
    files = [str(path) for path in sorted(generated_java.glob("*.java")) if path.name != "Converter.java"]
    result = run_tool([JAVAC, "-d", str(out), "-cp", classpath(), *files, str(JAVA_MAIN)])
    assert result.returncode == 0, result.stderr
    return out


def run_java(classes: Path, *args: str) -> list[str]:
    assert JAVA is not None
    main = f"{JAVA_PACKAGE}.{JAVA_MAIN.stem}"
    result = run_tool([JAVA, "-cp", classpath(classes), main, *args])
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def classpath(*extra: Path) -> str:
    return ":".join(str(path) for path in (*extra, *JACKSON_JARS))


@needs_node_tools
def test_quicktype_makes_a_class_per_render_spec(generated_java: Path) -> None:
    classes = {path.stem: path.read_text(encoding="utf-8") for path in generated_java.glob("*.java")}
    assert {"LessonRenderRequested", "RankingRenderRequested", "LessonSpec", "RankingSpec"} <= set(classes)
    assert java_fields(classes["LessonRenderRequested"])["spec"] == "LessonSpec"
    assert java_fields(classes["RankingRenderRequested"])["spec"] == "RankingSpec"

    lesson, ranking = java_fields(classes["LessonSpec"]), java_fields(classes["RankingSpec"])
    assert set(lesson) == set(LessonSpec.model_fields)
    assert set(ranking) == set(RankingSpec.model_fields)
    assert lesson["template"] == "LessonTemplate" and ranking["template"] == "RankingTemplate"
    for name, source in classes.items():
        fields = java_fields(source)
        assert not {"script", "clips"} <= set(fields), f"{name} flattens the two specs into one class"


@needs_node_tools
@needs_jdk
def test_requests_built_in_java_are_accepted_by_the_contract(java_classes: Path) -> None:
    """A small main builds a lesson and a ranking request through quicktype's classes; Jackson writes each, and
    reelflow's ``RenderRequested`` accepts it as the spec the Java side meant."""
    lesson_json, ranking_json = run_java(java_classes, "build")

    lesson = RenderRequested.model_validate_json(lesson_json)
    assert isinstance(lesson.spec, LessonSpec)
    assert lesson.job_id == "job-java-lesson" and lesson.attempt == 1
    assert lesson.spec.script.chapters[0].scenes[0].duration_sec == 4.5
    assert (lesson.spec.fps, lesson.spec.size, lesson.spec.visual_style, lesson.spec.subtitles) == (
        25,
        "1920x1080",
        "animated",
        "sidecar",
    )
    assert lesson.spec.voice.lexicon == {"SQL": "sequel"}
    assert lesson.spec.publish is not None and lesson.spec.publish.publish_at is not None
    assert lesson.spec.publish.publish_at.isoformat() == "2025-03-01T09:30:00+09:00"

    ranking = RenderRequested.model_validate_json(ranking_json)
    assert isinstance(ranking.spec, RankingSpec)
    assert [(clip.rank, clip.keep_audio) for clip in ranking.spec.clips] == [(2, True), (1, False)]
    assert ranking.spec.size == "1080x1920", "a field Java left unset takes the contract's default"


@needs_node_tools
@needs_jdk
def test_reelflow_requests_survive_the_generated_classes(java_classes: Path, tmp_path: Path) -> None:
    """The other way: a body reelflow writes, bound to the generated classes and written again, is the same event."""
    events = [RenderRequested(**JOB, spec=lesson_spec()), RenderRequested(**JOB, spec=ranking_spec())]
    paths = []
    for index, event in enumerate(events):
        path = tmp_path / f"event-{index}.json"
        path.write_text(event.model_dump_json(), encoding="utf-8")
        paths.append(str(path))
    echoed = run_java(java_classes, "echo", *paths)
    assert [RenderRequested.model_validate_json(line) for line in echoed] == events
