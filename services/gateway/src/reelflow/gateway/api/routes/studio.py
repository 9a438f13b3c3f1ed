"""The web studio: its pages (one shell each, built in the browser by a JavaScript module) and its static files.

Every page is the same small HTML shell naming its module; the module calls the same JSON API any program uses.
The Content-Security-Policy allows only this origin's scripts and styles, so nothing inline can run.
"""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from reelflow.gateway.refusals import NotFoundError
from reelflow.gateway.studio import PAGES, STATIC_DIR, TEMPLATES_DIR, preferred_language
from reelflow.gateway.video_ids import VIDEO_ID_PATTERN

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)

# The gateway's strict policy (api/response_headers.py) plus blob: and data: for previews of a clip that is still on
# the person's own disk (the ranking builder's thumbnails); the other security headers come from the middleware.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# no-cache: revalidated on every load (FileResponse answers 304 to an unchanged ETag), so a new release is seen at once.
STUDIO_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
VideoIdPath = Annotated[str, PathParam(pattern=VIDEO_ID_PATTERN)]
AcceptLanguage = Annotated[str | None, Header()]


def render_page(request: Request, name: str, accept_language: str | None, **params: str) -> HTMLResponse:
    page = PAGES[name]
    response = templates.TemplateResponse(
        request,
        "page.html",
        {
            "page": page,
            "lang": preferred_language(accept_language),
            "params": params,
        },
        headers=STUDIO_HEADERS,
    )
    response.headers["Vary"] = "Accept-Language"
    return response


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/studio/", status_code=307)


@router.get("/studio")
async def studio_without_slash() -> RedirectResponse:
    return RedirectResponse("/studio/", status_code=307)


@router.get("/studio/", response_class=HTMLResponse)
async def library_page(request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
    return render_page(request, "library", accept_language)


@router.get("/studio/login", response_class=HTMLResponse)
async def login_page(request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
    return render_page(request, "login", accept_language)


@router.get("/studio/new", response_class=HTMLResponse)
async def new_lesson_page(request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
    return render_page(request, "new-lesson", accept_language)


@router.get("/studio/scripts/{script_id}", response_class=HTMLResponse)
async def script_page(
    request: Request, script_id: Annotated[str, PathParam(max_length=200)], accept_language: AcceptLanguage = None
) -> HTMLResponse:
    return render_page(request, "script", accept_language, script_id=script_id)


@router.get("/studio/videos/{video_id}/progress", response_class=HTMLResponse)
async def progress_page(
    request: Request, video_id: VideoIdPath, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    return render_page(request, "progress", accept_language, video_id=video_id)


@router.get("/studio/videos/{video_id}", response_class=HTMLResponse)
async def player_page(request: Request, video_id: VideoIdPath, accept_language: AcceptLanguage = None) -> HTMLResponse:
    return render_page(request, "player", accept_language, video_id=video_id)


@router.get("/studio/ranking", response_class=HTMLResponse)
async def ranking_page(request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
    return render_page(request, "ranking", accept_language)


@router.get("/studio/account", response_class=HTMLResponse)
async def account_page(request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
    return render_page(request, "account", accept_language)


@router.get("/studio/schedules", response_class=HTMLResponse)
async def schedules_page(request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
    return render_page(request, "schedules", accept_language)


def static_file(relative: str) -> Path:
    """The studio file at ``relative``; anything outside the static folder, or missing, is not found."""
    root = STATIC_DIR.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise NotFoundError(f"the studio has no file {relative!r}")
    return candidate


@router.get("/studio/static/{relative:path}")
async def studio_static(relative: str) -> Response:
    return FileResponse(static_file(relative), headers=STUDIO_HEADERS)
