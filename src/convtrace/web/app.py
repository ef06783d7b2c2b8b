"""The FastAPI app of the explorer (the ``web`` extra). :func:`create_app` builds it; the
OpenAPI schema is FastAPI's own, at ``/openapi.json`` (docs at ``/docs``).

Endpoints: ``GET /`` the page (static files in this package: no build step, nothing from a
CDN; served with its stylesheet, script and the first render inline, see :func:`index_page`); ``POST /api/explain`` the trace JSON (the document of ``convtrace explain --json``);
``POST /api/draw`` the SVG (and, if asked, the drawing model) of one step; ``POST
/api/snippet`` runnable PyTorch code; ``GET /api/torch`` whether PyTorch runs here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal, Union

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from .. import __version__
from ..params import POOL_OPS
from .assets import module_text, static_text
from .service import (
    LIMITS,
    ApiError,
    draw_response,
    explain_request,
    rejected,
    solve_request,
    stack_request,
    torch_snippet,
    torch_status,
)  # fmt: skip

__all__ = ["create_app", "ExplainRequest", "DrawRequest", "StackRequest", "SolveRequest"]

Scalar = Union[int, float, Annotated[str, Field(max_length=40)]]  # noqa: UP007
Row = Annotated[list[Scalar], Field(max_length=4096)]
Rows = Annotated[list[Row], Field(max_length=512)]
Cube = Annotated[list[Rows], Field(max_length=64)]
#: the command line's text form ("1,2,3:4,5,6", "[[1, 2]]"), read by the same parser
Text = Annotated[str, Field(max_length=LIMITS["text_chars"])]
Values = Union[Scalar, Row, Rows, Cube, Text]  # noqa: UP007
Lang = Literal["en", "zh"]
#: the text's width in display columns (the page's panel), None: as wide as it needs
Columns = Annotated[Union[Annotated[int, Field(ge=20, le=400)], None], Field(description="display columns")]  # noqa: UP007
Int = Annotated[int, Field(ge=-(10**6), le=10**6)]


#: the operations of the explorer's selector: the convolutions (``transposed`` picks one) and the pools
Op = Literal["conv1d", "conv_transpose1d", "max_pool1d", "avg_pool1d", "lp_pool1d", "adaptive_avg_pool1d",
             "adaptive_max_pool1d", "max_unpool1d"]


class ExplainRequest(BaseModel):
    """The keyword arguments of :func:`convtrace.explain`, plus ``transposed``. A pool
    (``op``) takes the arguments of its functional (``torch.nn.functional.max_pool1d``, ...):
    only those sent are passed on, the rest keep PyTorch's defaults."""

    model_config = ConfigDict(extra="forbid")

    op: Op | None = Field(None, description="conv1d (default), conv_transpose1d or a pool's functional name")

    input: Values | None = Field(None, description="(N, C, L), (C, L) or (L); numbers, or strings such as '1/3'; "
                                 "or text as the command line's --input: '1,2,3:4,5,6' (channels ':', batch items '::')")
    weight: Values | None = Field(None, description="PyTorch's layout, or one kernel (k), or text as --weight; default ones")
    bias: bool | Values | None = Field(None, description="(out,), a number, true (ones) or null")
    in_channels: Int | None = None
    out_channels: Int | None = None
    kernel_size: Int | None = None
    stride: Int = 1
    padding: Int | Annotated[str, Field(max_length=16)] = 0
    dilation: Int = 1
    groups: Int = 1
    padding_mode: Literal["zeros", "reflect", "replicate", "circular"] = "zeros"
    output_padding: Int = 0
    output_size: Int | Annotated[list[Int], Field(min_length=1, max_length=3)] | None = Field(
        None, description="ConvTranspose1d's and the adaptive pools' int; max_unpool1d's a sequence, as PyTorch's: [6]")
    transposed: bool = False
    ceil_mode: bool | None = Field(None, description="pools: max_pool1d, avg_pool1d, lp_pool1d")
    count_include_pad: bool | None = Field(None, description="avg_pool1d")
    norm_type: Annotated[float, Field(ge=-(10**6), le=10**6, allow_inf_nan=False)] | None = Field(
        None, description="lp_pool1d's p")
    indices: Values | None = Field(None, description="max_unpool1d: where each value goes (as return_indices gives)")
    return_indices: bool | None = Field(None, description="max_pool1d, adaptive_max_pool1d")
    input_shape: Annotated[list[Int], Field(max_length=3)] | None = None
    at: Annotated[list[Int], Field(min_length=3, max_length=3)] | None = None
    verify: bool = True
    exact: bool | None = None
    max_steps: Annotated[int, Field(ge=1, le=256)] = 64
    # one streamed push (issue 19): passed on as given, so that a bad value gets the rule's words
    stream_chunk: Scalar | None = Field(None, description="explain one streamed push: input samples per push, or 'hop'")
    stream_push: Scalar | None = Field(None, description="which push (from 1; default the second, or the only one)")
    lang: Lang = Field("en", description="language of the error's rule and suggestions")


class DrawRequest(ExplainRequest):
    """A configuration, the frame to draw (null: the overview) and the language."""

    step: Int | None = None
    include_model: bool = False


class StackRequest(BaseModel):
    """A stack in the planner's syntax and an input length (``convtrace stack``)."""

    model_config = ConfigDict(extra="forbid")

    stack: Annotated[str, Field(max_length=2000, examples=["conv k=7 p=3; 4x(conv k=4 s=2 p=1)"])]
    length: Int = 16000
    in_channels: Int = 1
    lang: Lang = "en"
    width: Columns = None


class SolveRequest(BaseModel):
    """A goal and the bounds of the search (``convtrace solve``)."""

    model_config = ConfigDict(extra="forbid")

    goal: Literal["same", "down", "up", "undo", "length"]
    stride: Int = 1
    kernel_sizes: Annotated[str, Field(max_length=40)] = "1..16"
    dilations: Annotated[str, Field(max_length=40)] = "1"
    causal: bool = False
    length: Int | None = None
    target: Int | None = None
    conv: Annotated[str, Field(max_length=200)] | None = None
    channels: Annotated[int, Field(ge=1, le=4096)] = 1
    limit: Annotated[int, Field(ge=1, le=50)] = 10
    lang: Lang = "en"
    width: Columns = None


def _config(body: ExplainRequest) -> dict[str, Any]:
    """The request's arguments for :func:`convtrace.explain`: a convolution's with their
    defaults; a pool's only as sent (its functional's defaults are PyTorch's)."""
    skip = {"step", "lang", "include_model"}
    if body.op in POOL_OPS:
        data = body.model_dump(exclude=skip, exclude_unset=True)
        return {k: v for k, v in data.items() if v is not None}
    data = body.model_dump(exclude=skip)
    return {k: v for k, v in data.items() if v is not None or k == "bias"}


#: the rule of each kind of schema error (its ``code`` lets the page say it in its language)
_RULES: dict[str, str] = {
    "not_integer": "must be an integer", "not_bool": "must be true or false",
    "not_values": "must be numbers, strings such as '1/3', text such as '1,2,3:4,5,6' or nested arrays of them",
    "one_of": "must be one of {expected}", "at_least": "must be at least {limit}",
    "unknown_argument": "is not an argument of this request", "required": "is required",
    "not_json": "the request body must be a JSON object", "not_text": "must be text",
    "three_numbers": "must be three integers [n, c, t]", "invalid": "{msg}",
}
_CODES: dict[str, str] = {
    "int_type": "not_integer", "int_parsing": "not_integer", "int_from_float": "not_integer",
    "bool_type": "not_bool", "bool_parsing": "not_bool", "literal_error": "one_of", "extra_forbidden": "unknown_argument",
    "missing": "required", "json_invalid": "not_json", "model_attributes_type": "not_json", "dict_type": "not_json",
    "string_type": "not_text", "greater_than_equal": "at_least", "too_short": "three_numbers",
}


def request_error(errors: list[dict[str, Any]]) -> ApiError:
    """A request the schema refuses, worded as every other 422: the parameter, its value, the
    rule (``too_large`` for a value beyond the server's bounds, with its limit), and the
    rule's ``code``, which the page says in its own language.

    >>> request_error([{"type": "less_than_equal", "loc": ("body", "stride"), "msg": "",
    ...                 "input": 10**7, "ctx": {"le": 10**6}}]).detail["error"]
    'too_large'
    """
    field = next((e for e in errors if len(e.get("loc", ())) > 1), errors[0] if errors else {})
    loc = field.get("loc", ("body",))
    param = str(loc[1]) if len(loc) > 1 and field.get("type") != "json_invalid" else "body"
    mine = [e for e in errors if tuple(e.get("loc", ())[:2]) == tuple(loc[:2])] or [field]
    # a union (the values) fails in each of its forms: the bound that matters is the largest
    bounds = [e for e in mine if e.get("type") in ("too_long", "string_too_long", "less_than_equal")]
    if bounds:
        e = max(bounds, key=lambda b: (b.get("ctx") or {}).get("max_length", (b.get("ctx") or {}).get("le", 0)))
        ctx = e.get("ctx") or {}
        size = ctx.get("actual_length", len(e["input"]) if isinstance(e.get("input"), (str, list)) else e.get("input"))
        limit = ctx.get("max_length", ctx.get("le"))
        if e.get("type") == "string_too_long":
            param = f"{param} characters"
        return ApiError(422, {"error": "too_large", "param": param, "value": size, "limit": limit,
                              "rule": f"at most {limit} on this server", "code": "too_large",
                              "message": f"{param}={size} is larger than this server explains (at most {limit})"})
    e = mine[0]
    ctx = e.get("ctx") or {}
    code = "not_values" if param in ("input", "weight", "bias") and e.get("type") != "extra_forbidden" else (
        _CODES.get(str(e.get("type")), "invalid"))
    words = {"expected": ctx.get("expected", ""), "limit": ctx.get("ge", ""), "msg": e.get("msg", "")}
    value = "" if e.get("type") in ("missing", "json_invalid") else repr(e.get("input"))
    error = rejected(param, value, _RULES[code].format(**words))  # the page words it by its code
    error.detail.update(code=code, **{k: v for k, v in words.items() if v != "" and (k != "msg" or code == "invalid")})
    return error




#: The configuration the page's form starts with (what its script's ``readConfig`` reads from
#: ``index.html``); the page gets the answers for it inside the HTML.
PAGE_CONFIG: dict[str, Any] = {"input": "1,1,1,1", "transposed": False, "kernel_size": 3, "stride": 1,
                               "dilation": 1, "groups": 1, "padding": 1, "padding_mode": "zeros"}


def first_render(config: dict[str, Any]) -> dict[str, Any]:
    """The four answers a page render asks for (explain, overview, snippet, the first step's
    figure), the same documents the endpoints return."""
    trace = explain_request(_config(ExplainRequest(**config)))
    return {"config": config, "explain": json.loads(trace.to_json(as_text=True)),
            "overview": draw_response(trace, None, "en"), "snippet": {"code": torch_snippet(trace)},
            "step": draw_response(trace, 0, "en")}


def _inline(page: str, tag: str, element: str, text: str) -> str:
    """``tag`` in ``page`` replaced by ``element`` (an opening tag) holding ``text``."""
    name = element.split()[0].strip("<>")
    if "</" + name in text.lower() or "<!--" in text:  # would end the element early
        return page
    return page.replace(tag, f"{element}{text}</{name}>")


@cache
def index_page() -> str:
    """``index.html`` as served: its stylesheet and script inline, and the answers for the
    form's defaults (:data:`PAGE_CONFIG`) inside, so the first figure needs no further request.
    The script falls back to the API whenever its form holds anything else."""
    page = static_text("index.html")
    page = _inline(page, '<link rel="stylesheet" href="/static/style.css">', "<style>", static_text("style.css"))
    script = '<script type="module" src="/static/app.js"></script>'
    page = _inline(page, script, '<script type="module">', module_text("app.js"))
    try:
        data = json.dumps(first_render(PAGE_CONFIG), separators=(",", ":")).replace("<", "\\u003c")
    except Exception:
        return page
    return page.replace('<div id="explorer"></div>',
                        f'<div id="explorer"></div>\n<script type="application/json" id="first-render">{data}</script>')


ERRORS: dict[int | str, dict[str, Any]] = {422: {"description": "invalid configuration, or too large"}}


@asynccontextmanager
async def _warm_up(_: FastAPI) -> AsyncIterator[None]:
    """Import PyTorch and everything a page needs once at start, so the first page answers quickly."""
    try:
        torch_status()  # imports PyTorch once, here
        index_page()  # the page with its first render, built once
    except Exception:
        pass
    yield


def create_app() -> FastAPI:
    """The explorer's app (mount it anywhere; ``convtrace serve`` runs it with uvicorn)."""
    app = FastAPI(title="convtrace explorer", version=__version__, lifespan=_warm_up,
                  description="PyTorch's 1-D convolutions and pools, explained step by step and drawn.")
    static_dir = resources.files(__package__).joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static_dir)), name="static")

    @app.exception_handler(ApiError)
    async def api_error(_: Any, exc: ApiError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"detail": exc.detail})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Any, exc: RequestValidationError) -> JSONResponse:
        error = request_error(list(exc.errors()))
        return JSONResponse(status_code=error.status, content={"detail": error.detail})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return index_page()

    @app.post("/api/explain", responses=ERRORS, summary="Explain a Conv1d / ConvTranspose1d configuration or a pool (op)")
    def explain(body: ExplainRequest) -> Response:
        trace = explain_request(_config(body), body.lang)
        return Response(trace.to_json(as_text=True), media_type="application/json")

    @app.post("/api/draw", responses=ERRORS, summary="The figure of one step (SVG and drawing model)")
    def draw(body: DrawRequest) -> dict[str, Any]:
        trace = explain_request(_config(body), body.lang)
        return draw_response(trace, body.step, body.lang, model=body.include_model)

    @app.post("/api/snippet", responses=ERRORS, summary="Runnable PyTorch code for the configuration")
    def snippet(body: ExplainRequest) -> dict[str, str]:
        return {"code": torch_snippet(explain_request(_config(body), body.lang))}

    @app.post("/api/stack", responses=ERRORS, summary="The planner's stack report (receptive field, hop, lengths)")
    def stack(body: StackRequest) -> dict[str, Any]:
        return stack_request(body.stack, body.length, body.in_channels, body.lang, body.width)

    @app.post("/api/solve", responses=ERRORS, summary="The planner's solver: layers reaching a length goal")
    def solve(body: SolveRequest) -> dict[str, Any]:
        return solve_request(**body.model_dump())

    @app.get("/api/torch", summary="Whether PyTorch runs on this server")
    def torch() -> dict[str, Any]:
        return torch_status()

    return app
