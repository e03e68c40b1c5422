"""Static files of the pages: our own CSS and JS, and plotly.js from the installed plotly
package (its bundled ``plotly.min.js``), so charts draw without any network."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from microfluence.kernel.errors import NotFoundError

router = APIRouter(prefix="/static", include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static"
OWN = {
    "app.css": "text/css",
    "app.js": "text/javascript",
    "labels.js": "text/javascript",
    "pipeline.js": "text/javascript",
    "outreach.js": "text/javascript",
}
CACHE = {"Cache-Control": "public, max-age=3600"}


@lru_cache(maxsize=1)
def plotly_js() -> Path:
    path = Path(str(files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():
        raise NotFoundError("plotly.min.js is missing from the installed plotly package")
    return path


@router.get("/plotly.min.js")
def plotly() -> FileResponse:
    return FileResponse(plotly_js(), media_type="text/javascript", headers=CACHE)


@router.get("/{name}")
def own_file(name: str) -> FileResponse:
    if name not in OWN:  # a fixed list: no path from the request ever reaches the disk
        raise NotFoundError(f"no static file {name!r}")
    return FileResponse(STATIC / name, media_type=OWN[name], headers=CACHE)
