"""The scenario contract as types: every step is one pydantic model in one discriminated union.

One `TypeAdapter` gives validation and the JSON Schema (`tuiding schema`). Every error raised
here is our own `PydanticCustomError` (or a pydantic type error translated by its *type* in
scenario.py), so a pydantic upgrade cannot change the tool's messages. No Playwright, no Flask:
`tuiding validate` imports only this, the YAML loader and the portal names.

Adding an action = one model here (registered with @action, with its caption), one function in
steps.py, one test; the reference page is generated (docgen.py).
"""

from __future__ import annotations

import json
import math
import re
import zoneinfo
from collections.abc import Callable
from difflib import get_close_matches
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic import Strict as StrictMode
from pydantic_core import InitErrorDetails, PydanticCustomError

from .i18n import gettext_for

# ---------------------------------------------------------------- helpers


def closest(word: Any, options: Any) -> str | None:
    found = get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.5)
    return found[0] if found else None


def hint(word: Any, options: Any) -> str:
    h = closest(word, options)
    return f"; did you mean '{h}'?" if h else ""


SEP = "\x1f"  # joins lists inside error contexts (context values are plain strings)


class Strict(BaseModel):
    """Unknown keys are reported all at once (each at its own line:col), with the closest valid word."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    UNKNOWN_SCOPE: ClassVar[str] = "mapping"

    @classmethod
    def keys(cls) -> list[str]:
        return [f.alias or n for n, f in cls.model_fields.items()]

    @model_validator(mode="wrap")
    @classmethod
    def _unknown_keys(cls, data: Any, handler: Any) -> Any:
        # Validate the known keys even when there are unknown ones, so every problem is reported at once.
        if not isinstance(data, dict):
            return handler(data)
        allowed = cls.keys()
        unknown = [str(k) for k in data if k not in allowed]
        if not unknown:
            return handler(data)
        errors = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "unknown_key",
                    "unknown key(s): {keys}",
                    {"keys": SEP.join(unknown), "allowed": SEP.join(allowed), "scope": cls.UNKNOWN_SCOPE},
                ),
                loc=(),
                input=data,
            )
        ]
        try:
            handler({k: v for k, v in data.items() if k in allowed})
        except ValidationError as exc:
            errors += [
                InitErrorDetails(type=PydanticCustomError(e["type"], e["msg"], e.get("ctx")), loc=e["loc"], input=e["input"])
                for e in exc.errors()
            ]
        raise ValidationError.from_exception_data(cls.__name__, errors)


# ---------------------------------------------------------------- closed sets


def one_of(what: str, values: tuple[str, ...]) -> BeforeValidator:
    """A closed set's check with our own message (the Literal it guards gives types and the JSON Schema enum)."""

    def check(v: Any) -> Any:
        if v not in values:
            listed = f" (expected one of: {', '.join(values)})" if len(values) <= 10 else ""
            shown = v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else v
            raise PydanticCustomError(
                "one_of",
                "unknown {what} '{value}'{listed}{hint}",
                {"what": what, "value": str(shown), "listed": listed, "hint": hint(v, values) if isinstance(v, str) else ""},
            )
        return v

    return BeforeValidator(check)


RoleName = Literal[  # Playwright's ARIA roles (get_by_role)
    "alert", "alertdialog", "application", "article", "banner", "blockquote", "button", "caption", "cell", "checkbox",
    "code", "columnheader", "combobox", "complementary", "contentinfo", "definition", "deletion", "dialog", "directory",
    "document", "emphasis", "feed", "figure", "form", "generic", "grid", "gridcell", "group", "heading", "img",
    "insertion", "link", "list", "listbox", "listitem", "log", "main", "marquee", "math", "menu", "menubar", "menuitem",
    "menuitemcheckbox", "menuitemradio", "meter", "navigation", "none", "note", "option", "paragraph", "presentation",
    "progressbar", "radio", "radiogroup", "region", "row", "rowgroup", "rowheader", "scrollbar", "search", "searchbox",
    "separator", "slider", "spinbutton", "status", "strong", "subscript", "superscript", "switch", "tab", "table",
    "tablist", "tabpanel", "term", "textbox", "time", "timer", "toolbar", "tooltip", "tree", "treegrid", "treeitem"
]  # fmt: skip
PermissionName = Literal["camera", "microphone", "geolocation", "notifications", "clipboard-read", "clipboard-write"]
WaitStateName = Literal["visible", "hidden", "attached", "detached"]
DialogAnswerName = Literal["accept", "dismiss"]
HttpMethodName = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
ROLES: tuple[str, ...] = get_args(RoleName)
PERMISSIONS: tuple[str, ...] = get_args(PermissionName)
WAIT_STATES: tuple[str, ...] = get_args(WaitStateName)
DIALOG_ANSWERS: tuple[str, ...] = get_args(DialogAnswerName)
HTTP_METHODS: tuple[str, ...] = get_args(HttpMethodName)


@cache
def device_names() -> tuple[str, ...]:
    """Playwright's device names, shipped with the package (regenerate: python -m tuiding.devices)."""
    data = json.loads(resources.files("tuiding").joinpath("data/devices.json").read_text(encoding="utf-8"))
    return tuple(data["devices"])


StepKindName = Literal["sms", "face", "question", "password", "retention", "none"]
LandmarkName = Literal["entry", "submit", "done"]
LANDMARKS: tuple[str, ...] = get_args(LandmarkName)
Landmark = Annotated[LandmarkName, one_of("landmark", LANDMARKS)]
LandmarkSpec = Union[Landmark, Annotated[list[Landmark], Field(min_length=1, max_length=3)]]
STEP_KINDS: tuple[str, ...] = get_args(StepKindName)
Role = Annotated[RoleName, one_of("role", ROLES)]
Permission = Annotated[PermissionName, one_of("permission", PERMISSIONS)]
WaitState = Annotated[WaitStateName, one_of("state", WAIT_STATES)]
DialogAnswer = Annotated[DialogAnswerName, one_of("dialog answer", DIALOG_ANSWERS)]
HttpMethod = Annotated[HttpMethodName, one_of("method", HTTP_METHODS)]
# Over 200 names, loaded from the shipped list: a string whose JSON Schema is the enum of them.
Device = Annotated[
    str, BeforeValidator(lambda v: one_of("device", device_names()).func(v)), WithJsonSchema({"enum": list(device_names())})
]

StrictInt = Annotated[int, StrictMode()]

# ---------------------------------------------------------------- durations (bounded: no unbounded waits by accident)

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """'10s', '500ms', '2m', '1h' or a number of seconds → seconds (finite, ≥ 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PydanticCustomError("duration", "expected a duration like 10s, 500ms or 2m", {})
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        m = DURATION.match(value)
        if not m:
            raise PydanticCustomError("duration", "expected a duration like 10s, 500ms or 2m, got '{got}'", {"got": value})
        seconds = float(m.group(1)) * UNITS[m.group(2) or "s"]
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        raise PydanticCustomError("duration", "expected a duration like 10s, 500ms or 2m, got {got}", {"got": str(value)})
    return seconds


def _fmt(seconds: float) -> str:
    return f"{seconds / 3600:g}h" if seconds >= 3600 else f"{seconds / 60:g}m" if seconds >= 60 else f"{seconds:g}s"


def duration(low: float, high: float, *, allow_zero: bool = False) -> BeforeValidator:
    """A bounded duration's check: [low, high] seconds (0 only where it means 'no wait')."""

    def check(v: Any) -> float:
        s = parse_duration(v)
        if (s == 0 and not allow_zero) or (s != 0 and not low <= s <= high):
            raise PydanticCustomError(
                "duration_range",
                "expected a duration from {low} to {high}, got '{got}'",
                {"low": _fmt(low), "high": _fmt(high), "got": str(v)},
            )
        return s

    return BeforeValidator(check)


DURATION_SCHEMA = WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": DURATION.pattern}]})
MAX_STEP_TIMEOUT = 600.0  # 10 min: Playwright reads 0 as "wait forever"; we never pass it 0
StepTimeout = Annotated[float, duration(0.05, MAX_STEP_TIMEOUT), DURATION_SCHEMA]
Pause = Annotated[float, duration(0.001, 600.0, allow_zero=True), DURATION_SCHEMA]
PollEvery = Annotated[float, duration(0.05, 600.0), DURATION_SCHEMA]
PollTimeout = Annotated[float, duration(0.1, 3600.0), DURATION_SCHEMA]

# ---------------------------------------------------------------- text and targets


def _text(v: Any) -> Any:
    """Text in a target: a bare YAML number is almost always a price or code that lost its form (1.10 → 1.1)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        raise PydanticCustomError(
            "quote_number",
            '{value} is a number to YAML: write it in quotes ("{value}") so it is matched as text exactly as written',
            {"value": str(v)},
        )
    return v


Text = Annotated[str, BeforeValidator(_text)]
TARGET_KINDS = ("role", "label", "text", "placeholder", "testid", "css")


class Target(Strict):
    """One way to find an element: {role, name}, {label}, {text}, {placeholder}, {testid} or {css}."""

    role: Role | None = Field(None, description="an ARIA role (`button`, `link`, `checkbox`, …), with `name`")
    name: Text | None = Field(None, description="the accessible name, with `role`")
    label: Text | None = Field(None, description="a form field by its label text")
    text: Text | None = Field(None, description="an element by its text")
    placeholder: Text | None = Field(None, description="a field by its placeholder")
    testid: str | None = Field(None, description="an element by its `data-testid`")
    css: str | None = Field(None, description="a CSS selector (the last resort: it breaks when the page's markup changes)")
    nth: StrictInt | None = Field(None, description="0-based index when several elements match; -1 for the last")
    exact: bool = Field(False, description="the name, label or text must match whole (default: contained)")

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        kinds = [k for k in TARGET_KINDS if getattr(self, k) is not None]
        if self.name is not None and self.role is None:
            raise PydanticCustomError("target_kind", "'name' goes with 'role' (e.g. {role: button, name: Log in})", {})
        if not kinds:
            raise PydanticCustomError("target_kind", "a target needs one of: {kinds}", {"kinds": ", ".join(TARGET_KINDS)})
        if len(kinds) > 1:
            raise PydanticCustomError(
                "target_kind",
                "a target takes one of {kinds}, got {got}",
                {"kinds": ", ".join(TARGET_KINDS), "got": " and ".join(kinds)},
            )
        return self

    def describe(self) -> str:
        for k in TARGET_KINDS:
            v = getattr(self, k)
            if v is not None:
                s = f"{k}={v}" + (f" name={self.name}" if k == "role" and self.name else "")
                return s + (f" nth={self.nth}" if self.nth is not None else "")
        return "?"

    def words(self) -> str:
        """What a reader calls this element: its name or text, else the selector."""
        return str(self.name or self.label or self.text or self.placeholder or self.testid or self.css or self.role)


def _str_or_map(v: Any) -> str | None:
    if isinstance(v, (dict, BaseModel)):  # a mapping when validating, a model when serialising
        return "@target"
    return "@text" if isinstance(v, (str, int, float)) and not isinstance(v, bool) else None


TargetSpec = Annotated[
    Union[Annotated[Text, Tag("@text")], Annotated[Target, Tag("@target")]],
    Discriminator(_str_or_map, custom_error_type="target_type", custom_error_message="expected a target: text or a mapping"),
    Field(description="a string (button/link by accessible name, then exact text, then containing) or a target mapping"),
]


def words(spec: str | Target) -> str:
    return spec if isinstance(spec, str) else spec.words()


def describe(spec: str | Target) -> str:
    return spec if isinstance(spec, str) else spec.describe()


# ---------------------------------------------------------------- action arguments

FieldValue = Union[str, int, float]


class FillOne(Target):
    value: FieldValue


def _fill_kind(v: Any) -> str | None:
    if isinstance(v, BaseModel):
        return "@one"
    if not isinstance(v, dict):
        return None
    return "@one" if "value" in v else "@target"


FillArg = Annotated[
    # {label: 手机号, value: …} is one target; any other mapping is label → value pairs.
    Union[
        Annotated[
            dict[str, FieldValue],
            Tag("@target"),
            WithJsonSchema(
                {
                    "type": "object",
                    "description": "label → value pairs",
                    "additionalProperties": {"type": ["string", "number"]},
                    "not": {"required": ["value"]},
                }
            ),
        ],
        Annotated[FillOne, Tag("@one")],
    ],
    Discriminator(
        _fill_kind, custom_error_type="fill_type", custom_error_message="expected {label: value, …} or {target…, value}"
    ),
]


class SelectArg(Target):
    option: FieldValue = Field(description="the option's label or value")


class PressArg(Target):
    key: str = Field(description="a key as Playwright names it: `Enter`, `Tab`, `ArrowDown`, `Control+A` …")


class Condition(Strict):
    see: TargetSpec | None = Field(None, description="the page shows this target")
    not_see: TargetSpec | None = Field(None, description="the page does not show this target")
    url: str | None = Field(None, description="the page URL contains this text")

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        if sum(x is not None for x in (self.see, self.not_see, self.url)) != 1:
            raise PydanticCustomError("condition", "a condition takes exactly one of: see, not_see, url", {})
        return self

    def caption(self, lang: str) -> str:
        _ = gettext_for(lang)
        if self.see is not None:
            return _("the page shows {text}").format(text=quoted(lang, words(self.see)))
        if self.not_see is not None:
            return _("{text} is gone").format(text=quoted(lang, words(self.not_see)))
        return _("the URL contains {url}").format(url=self.url)


class WaitFor(Strict):
    for_: TargetSpec = Field(alias="for", description="the element")
    state: WaitState = Field("visible", description="the state to wait for")


class WaitUntil(Strict):
    until: Condition = Field(description="what must hold")
    reload: bool = Field(False, description="reload the page before each check (a status that changes on the server)")
    every: PollEvery = Field(2.0, description="time between checks (50ms to 10m)")
    timeout: PollTimeout = Field(60.0, description="give up after this long (up to 1h)")


def _wait_kind(v: Any) -> str | None:
    if isinstance(v, BaseModel):
        return "@poll" if hasattr(v, "until") else "@element"
    if isinstance(v, dict):
        return "@poll" if "until" in v else "@element"
    return "@pause" if isinstance(v, (str, int, float)) and not isinstance(v, bool) else None


WaitArg = Annotated[
    Union[Annotated[Pause, Tag("@pause")], Annotated[WaitFor, Tag("@element")], Annotated[WaitUntil, Tag("@poll")]],
    Discriminator(_wait_kind, custom_error_type="wait_type", custom_error_message="expected a duration, {for: …} or {until: …}"),
]

VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _var_name(v: Any) -> Any:
    if isinstance(v, str) and not VAR_NAME.match(v):
        raise PydanticCustomError("var_name", "'{v}' is not a valid variable name (letters, digits, _)", {"v": v})
    return v


VarName = Annotated[str, BeforeValidator(_var_name)]


def _regex(v: Any) -> Any:
    if isinstance(v, str):
        try:
            re.compile(v)
        except re.error as exc:
            raise PydanticCustomError("regex", "invalid regular expression: {err}", {"err": str(exc)}) from None
    return v


Regex = Annotated[str, BeforeValidator(_regex)]


class SaveArg(Strict):
    var: VarName = Field(description="variable name to store into")
    from_: TargetSpec = Field(alias="from", description="element whose text is read")
    pattern: Regex | None = Field(None, description="regular expression; its first group (or whole match) is kept")
    secret: bool = Field(False, description="the value is a secret: masked in every artefact from now on")


class RequestArg(Strict):
    url: str = Field(description="absolute, or a path against the site's base URL")
    method: HttpMethod = Field("GET", description="the HTTP method")
    json_: Any = Field(None, alias="json", description="a JSON body")
    form: dict[str, FieldValue] | None = Field(None, description="a form body (name → value)")
    headers: dict[str, str] | None = Field(None, description="extra request headers")
    expect_status: StrictInt | None = Field(None, ge=100, le=599, description="default: any 2xx")
    save: dict[VarName, str] | None = Field(None, description="{var: json.path} values from the JSON response")
    secret: bool = Field(False, description="the saved values are secrets: masked in every artefact from now on")


class UrlMatch(Strict):
    """How a URL is matched: text it contains, Playwright's glob, or a regular expression."""

    contains: str | None = Field(None, description="text the URL contains (a `*` in it is literal)")
    glob: str | None = Field(None, description="Playwright's URL glob: ** any characters, * any but /, e.g. **/login/**")
    regex: Regex | None = Field(None, description="a regular expression searched in the URL")

    @model_validator(mode="after")
    def _one(self) -> UrlMatch:
        if sum(x is not None for x in (self.contains, self.glob, self.regex)) != 1:
            raise PydanticCustomError("url_match", "expect_url takes exactly one of: contains, glob, regex", {})
        return self

    def describe(self) -> str:
        return self.contains or self.glob or f"/{self.regex}/"


def _url_kind(v: Any) -> str | None:
    if isinstance(v, (dict, BaseModel)):
        return "@match"
    return "@text" if isinstance(v, str) else None


UrlExpectation = Annotated[
    Union[Annotated[str, Tag("@text")], Annotated[UrlMatch, Tag("@match")]],
    Discriminator(_url_kind, custom_error_type="url_spec", custom_error_message="expected text or {contains|glob|regex: …}"),
    Field(description="text the URL contains; with * a Playwright glob (**/login/**); or {regex: …}, {glob: …}, {contains: …}"),
]


class EmailArg(Strict):
    """Which message: the first one not read yet that matches every filter given (case-insensitive, contained)."""

    to: str | None = Field(None, description="a recipient address contains this")
    from_: str | None = Field(None, alias="from", description="the sender contains this")
    subject: str | None = Field(None, description="the subject contains this")
    text: str | None = Field(None, description="the message's text contains this")
    save: dict[VarName, Regex] | None = Field(
        None, description="{var: pattern}: searched in the text and the links' addresses; the first group (or match) is kept"
    )
    secret: bool = Field(False, description="the saved values are secrets: masked in every artefact from now on")

    def words(self) -> str:
        return self.subject or self.text or self.to or self.from_ or ""


class UploadArg(Target):
    files: str | list[str] = Field(description="a file or a list of files, relative to the scenario file")


class CountArg(Target):
    equals: StrictInt | None = Field(None, ge=0, le=100_000, description="exactly this many visible matches")
    at_least: StrictInt | None = Field(None, ge=0, le=100_000, description="at least this many")
    at_most: StrictInt | None = Field(None, ge=0, le=100_000, description="at most this many")

    @model_validator(mode="after")
    def _one_bound(self) -> CountArg:
        if self.equals is None and self.at_least is None and self.at_most is None:
            raise PydanticCustomError("count_bound", "say how many: equals, at_least or at_most")
        if self.equals is not None and (self.at_least is not None or self.at_most is not None):
            raise PydanticCustomError("count_bound", "equals cannot be combined with at_least / at_most")
        return self

    def bounds(self) -> str:
        if self.equals is not None:
            return f"exactly {self.equals}"
        return " and ".join(
            part
            for part in (
                f"at least {self.at_least}" if self.at_least is not None else "",
                f"at most {self.at_most}" if self.at_most is not None else "",
            )
            if part
        )


class DownloadExpect(Strict):
    """What the downloaded file must hold (checked right after it is saved)."""

    contains: list[str] = Field([], description="texts the file holds (for a ZIP: entry names or text inside entries)")
    rows: StrictInt | None = Field(
        None, ge=0, description="CSV: data rows after the header; JSON: items of the top-level list (or its first list)"
    )
    entries: StrictInt | None = Field(None, ge=0, description="ZIP: number of files inside")
    size: tuple[StrictInt, StrictInt] | None = Field(None, description="PNG: [width, height] in pixels")
    min_bytes: StrictInt | None = Field(None, ge=0, description="the file is at least this big")


class DownloadArg(Strict):
    click: TargetSpec = Field(description="what to click to start the download")
    as_: str | None = Field(None, alias="as", description="file name inside the run folder's downloads/")
    expect: DownloadExpect | None = Field(None, description="what the file must hold (below)")


def _screenshot_kind(v: Any) -> str | None:
    if isinstance(v, bool):
        return "@flag"
    return "@target" if isinstance(v, (dict, BaseModel)) else "@text" if isinstance(v, str) else None


ScreenshotOpt = Annotated[
    Union[
        Annotated[bool, Tag("@flag")],
        Annotated[Literal["full", "viewport"], one_of("screenshot", ("full", "viewport")), Tag("@text")],
        Annotated[Target, Tag("@target")],
    ],
    Discriminator(
        _screenshot_kind, custom_error_type="screenshot_type", custom_error_message="expected true, false, full or a target"
    ),
]

# ---------------------------------------------------------------- steps


class StepBase(Strict):
    """The keys every step may carry besides its one action."""

    UNKNOWN_SCOPE: ClassVar[str] = "step"
    ACTION: ClassVar[str] = ""
    SUMMARY: ClassVar[str] = ""  # what the action does: its docstring, in one line
    EXAMPLES: ClassVar[tuple[str, ...]] = ()  # YAML, each a whole step (tests validate them; the reference shows them)
    DEFAULT_TIMEOUT: ClassVar[float | None] = None  # the action's own default (else --timeout, 10 s)

    name: str | None = Field(
        None,
        description="the step's caption in the console, report and walkthroughs (default: derived from the action, "
        "e.g. 点击「登录」 / Click “Log in”)",
        examples=["name: 点击「确认退订」"],
    )
    note: str | None = Field(
        None, description="extra text kept with the step (shown under it in walkthroughs)", examples=["note: 协议需滚动到底部"]
    )
    screenshot: ScreenshotOpt = Field(
        True,
        description="`true` (the viewport, the default), `false`, `full` (the whole page), or a target (a shot of that element)",
        examples=["screenshot: {testid: receipt-no}"],
    )
    timeout: StepTimeout | None = Field(
        None,
        description="how long the step may wait in total — finding its target and acting on it share it (default 10s; "
        "`email` 30s; `--timeout` changes the default)",
        examples=["timeout: 30s"],
    )
    retry: StrictInt = Field(
        0,
        ge=0,
        le=10,
        description="run the action again this many times if it fails, waiting 0.5 s, 1 s, 2 s, then 4 s between attempts",
        examples=["retry: 2"],
    )
    optional: bool = Field(False, description="a failure is recorded, not fatal", examples=["optional: true"])
    if_: Condition | None = Field(
        None,
        alias="if",
        description="run only when a condition holds now: `{see: …}`, `{not_see: …}` or `{url: …}` (otherwise the step "
        "is skipped)",
        examples=["if: {see: 挽留优惠}"],
    )
    section: str | None = Field(
        None, description="walkthroughs start a heading at this step", examples=["section: 第一步:登录咪咕会员账户"]
    )
    walkthrough: bool = Field(
        True,
        description="`false`: leave the step out of walkthroughs (it stays in the report)",
        examples=["walkthrough: false"],
    )
    zoom: bool = Field(False, description="walkthroughs add an enlarged crop around the step's target", examples=["zoom: true"])
    kind: Annotated[StepKindName, one_of("kind", STEP_KINDS)] | None = Field(
        None,
        description="what the step meets when the page cannot tell: `sms`, `face`, `question`, `password` (a "
        "verification), `retention`, or `none`",
        examples=["kind: sms"],
    )
    mask: list[TargetSpec] = Field(
        [],
        description="targets excluded from visual comparison at this step (dates, numbers)",
        examples=["mask: [{testid: refund-by}]"],
    )
    within: TargetSpec | None = Field(
        None,
        description="look for the step's target only inside this part of the page (a target), so a `see:` does not "
        "match the navigation or the step bar",
        examples=["within: {testid: receipt}"],
    )
    a11y: bool | None = Field(
        None,
        description="`true`: audit this step with axe-core; `false`: not even when the scenario says so",
        examples=["a11y: true"],
    )
    landmark: LandmarkSpec | None = Field(
        None,
        description="what this step is in the cancellation: `entry` (where it begins), `submit` (the click that sends "
        "it), `done` (the page or e-mail that says it is done), or a list of them; a kind declared anywhere replaces "
        "its detection",
        examples=["landmark: submit"],
    )

    def landmarks(self) -> tuple[str, ...]:
        """The landmark kinds this step declares (none, one, or several: a click can submit and be done)."""
        if self.landmark is None:
            return ()
        return (self.landmark,) if isinstance(self.landmark, str) else tuple(dict.fromkeys(self.landmark))

    @property
    def arg(self) -> Any:
        return getattr(self, self.ACTION)

    def caption(self, lang: str = "en") -> str:
        raise NotImplementedError


ACTIONS: dict[str, type[StepBase]] = {}


def action(cls: type[StepBase]) -> type[StepBase]:
    """Register a step model: its one action field is the model's first own field; its docstring the summary."""
    name = next(n for n in cls.model_fields if n not in StepBase.model_fields)
    cls.ACTION = name
    cls.SUMMARY = " ".join((cls.__doc__ or "").split())
    ACTIONS[name] = cls
    return cls


def common_keys() -> list[str]:
    return StepBase.keys()


def quoted(lang: str, text: Any) -> str:
    """Text quoted as the language quotes it: 「…」, “…”, „…“."""
    return {"zh": f"「{text}」", "de": f"„{text}“"}.get(lang, f"“{text}”")


@action
class Goto(StepBase):
    """open a URL (a path is joined to the site's base URL)"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("goto: /login",)

    goto: str

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Open {url}").format(url=self.goto)


@action
class Click(StepBase):
    """click an element"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("click: 会员管理",)

    click: TargetSpec

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Click {target}").format(target=quoted(lang, words(self.click)))


@action
class Fill(StepBase):
    """type into fields by label (or placeholder): `{label: value, …}` — the label exactly, else one containing the
    words (`其他原因说明` finds "其他原因说明(选择「其他」时必填…)"); or `{target…, value}`"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ('fill: {账号: "${account}", 密码: "${password}"}',)

    fill: FillArg

    def labels(self) -> list[str]:
        return list(self.fill) if isinstance(self.fill, dict) else [words(self.fill)]

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Fill in {fields}").format(fields=("、" if lang == "zh" else ", ").join(self.labels()))


@action
class Select(StepBase):
    """choose an option of a `<select>` by its label or value"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("select: {label: 暂停时长, option: 2 个月}",)

    select: SelectArg

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Choose {option}").format(option=quoted(lang, self.select.option))


@action
class Check(StepBase):
    """tick a checkbox or radio button (a string is its label text)"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("check: 我已阅读并同意《咪咕会员退订协议》",)

    check: TargetSpec

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Tick {target}").format(target=quoted(lang, words(self.check)))


@action
class Uncheck(StepBase):
    """untick a checkbox"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("uncheck: {label: 自动续费}",)

    uncheck: TargetSpec

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Untick {target}").format(target=quoted(lang, words(self.uncheck)))


@action
class Press(StepBase):
    """press a key on the focused element, or `{target…, key}`"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("press: {label: 密码, key: Enter}",)

    press: str | PressArg

    def caption(self, lang: str = "en") -> str:
        key = self.press if isinstance(self.press, str) else self.press.key
        _ = gettext_for(lang)
        return _("Press {key}").format(key=key)


@action
class See(StepBase):
    """assert something is visible (waits up to `timeout`)"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("see: 已退订",)

    see: TargetSpec

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Check that the page shows {text}").format(text=quoted(lang, words(self.see)))


@action
class CountStep(StepBase):
    """assert how many visible elements match: `equals`, or `at_least` / `at_most` (waits up to `timeout`)"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ('count: {css: "tr.receipt", equals: 1}',)

    count: CountArg

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        c = self.count
        text = quoted(lang, c.words())
        if c.equals is not None:
            return _("Check that the page shows exactly {n} {text}").format(n=c.equals, text=text)
        if c.at_least is not None and c.at_most is not None:
            return _("Check that the page shows {low} to {high} {text}").format(low=c.at_least, high=c.at_most, text=text)
        if c.at_least is not None:
            return _("Check that the page shows at least {n} {text}").format(n=c.at_least, text=text)
        return _("Check that the page shows at most {n} {text}").format(n=c.at_most, text=text)


@action
class NotSee(StepBase):
    """assert something is not visible"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("not_see: 欢迎回来",)

    not_see: TargetSpec

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Check that the page does not show {text}").format(text=quoted(lang, words(self.not_see)))


@action
class ExpectUrl(StepBase):
    """assert the page's URL (waits up to `timeout`): text it contains; a text with `*` (or `{glob: …}`) is
    Playwright's URL glob — `**` any characters, `*` any but `/`, relative to the site like `page.wait_for_url`;
    `{regex: …}` is searched; `{contains: …}` for a `*` meant literally"""

    EXAMPLES: ClassVar[tuple[str, ...]] = (
        "expect_url: /member/receipts/",
        'expect_url: "**/admin/login/**"',
        'expect_url: {regex: "/receipts/MG\\\\d+$"}',
    )

    expect_url: UrlExpectation

    def caption(self, lang: str = "en") -> str:
        spec = self.expect_url
        _ = gettext_for(lang)
        if isinstance(spec, str) and "*" not in spec:
            return _("Check that the URL contains {url}").format(url=spec)
        if isinstance(spec, UrlMatch) and spec.contains is not None:
            return _("Check that the URL contains {url}").format(url=spec.contains)
        return _("Check that the URL matches {pattern}").format(pattern=spec if isinstance(spec, str) else spec.describe())


@action
class Wait(StepBase):
    """a pause (`wait: 2s`), an element (`{for: target, state: visible|hidden|attached|detached}`), or polling
    (`{until: {see: …}, reload: true, every: 2s, timeout: 60s}`)"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("wait: {until: {see: 已退订}, reload: true}",)

    wait: WaitArg

    def caption(self, lang: str = "en") -> str:
        a = self.wait
        if isinstance(a, WaitUntil):
            _ = gettext_for(lang)
            return _("Wait until {condition}").format(condition=a.until.caption(lang))
        if isinstance(a, WaitFor):
            _ = gettext_for(lang)
            return _("Wait for {target}").format(target=quoted(lang, words(a.for_)))
        _ = gettext_for(lang)
        return _("Wait {duration}").format(duration=_fmt(a))


@action
class Save(StepBase):
    """store an element's text (or the first group of `pattern`) in a variable; `secret: true` masks it from then on
    (like `secrets:`)"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ('save: {var: receipt_no, from: {testid: receipt-no}, pattern: "MG(\\\\d+)"}',)

    save: SaveArg

    def caption(self, lang: str = "en") -> str:
        w = words(self.save.from_)
        _ = gettext_for(lang)
        return _("Note {text} as {var}").format(text=quoted(lang, w), var=self.save.var)


@action
class Request(StepBase):
    """HTTP call against the site with the browser's cookies: `method`, `json`, `form`, `headers`, `expect_status`
    (default any 2xx); `save: {var: json.path}` keeps values of a JSON answer (`messages.0.code`), `secret: true`
    masks them"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ('request: {url: "/__mock__/sms/latest?phone=${account}", save: {code: code}}',)

    request: RequestArg

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Request {method} {url}").format(method=self.request.method, url=self.request.url)


@action
class Upload(StepBase):
    """set files on a file input (paths relative to the scenario)"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("upload: {label: 附件, files: data/id.png}",)

    upload: UploadArg

    def caption(self, lang: str = "en") -> str:
        files = self.upload.files if isinstance(self.upload.files, str) else "、".join(self.upload.files)
        _ = gettext_for(lang)
        return _("Upload {files}").format(files=files)


@action
class Download(StepBase):
    """click something that downloads; the file is kept in the run's `downloads/` and listed in the step record;
    `expect:` checks what it holds: `contains` (texts; for a ZIP entry names or text inside), `rows` (CSV data
    rows after the header, JSON list items), `entries` (ZIP files), `size` (PNG `[w, h]`), `min_bytes`"""

    EXAMPLES: ClassVar[tuple[str, ...]] = (
        "download: {click: 导出观看记录, as: 观看记录.csv, expect: {rows: 4, contains: [新闻]}}",
    )

    download: DownloadArg

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Download {target}").format(target=quoted(lang, words(self.download.click)))


@action
class Dialog(StepBase):
    """accept or dismiss the JS `confirm`/`alert` the **next** step opens (unanswered dialogs are dismissed); if that
    step opens none, its record carries a warning (shown in the console and the report)"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("dialog: accept",)

    dialog: DialogAnswer

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Accept the dialog") if self.dialog == "accept" else _("Dismiss the dialog")


@action
class Email(StepBase):
    """wait for an e-mail in the scenario's `mailbox:` (`to`, `from`, `subject`, `text`: contained, case-
    insensitive), keep it (`mail/NN.eml`, secrets masked) and show it as the step's receipt; `save: {var:
    pattern}` reads a link or code from its text and links (`secret: true` masks them)"""

    EXAMPLES: ClassVar[tuple[str, ...]] = (
        'email: {to: "${account}@139.com", subject: 退订凭证, save: {link: "https?://\\\\S+/receipts/\\\\S+"}}',
    )

    email: EmailArg
    DEFAULT_TIMEOUT: ClassVar[float | None] = 30.0  # mail takes its time

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        w = self.email.words()
        return _("Open the e-mail {subject}").format(subject=quoted(lang, w)) if w else _("Open the e-mail")


@action
class Run(StepBase):
    """run a reusable flow file (path relative to this file; its steps are inlined in the receipts) with `vars`"""

    EXAMPLES: ClassVar[tuple[str, ...]] = ("run: ../flows/migu_login.yaml",)

    run: str
    vars: dict[str, Any] | None = Field(
        None, description="with `run:` only: values for the flow's variables", examples=['vars: {account: "${account}"}']
    )

    def caption(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        return _("Run the flow {file}").format(file=self.run)


def _action_of(v: Any) -> str | None:
    """The step's tag: its one action key. None (→ a `step_action` error, explained in scenario.py) otherwise."""
    if isinstance(v, StepBase):
        return v.ACTION
    if not isinstance(v, dict):
        return None
    found = [k for k in v if k in ACTIONS]
    return found[0] if len(found) == 1 else None


if TYPE_CHECKING:
    Step = StepBase
else:  # one tagged union of every registered step model (built from the table, so it cannot miss one)
    Step = Annotated[
        Union[tuple(Annotated[model, Tag(name)] for name, model in ACTIONS.items())],
        Discriminator(_action_of, custom_error_type="step_action", custom_error_message="expected a step with one action"),
    ]


@cache
def step_adapter(action_name: str) -> TypeAdapter[Any]:
    """Validates one step of a known action (cached: building an adapter costs ~1 ms)."""
    return TypeAdapter(ACTIONS[action_name])


# ---------------------------------------------------------------- scenario and flow files

Scalar = Union[str, int, float, bool, None]


Count = Annotated[StrictInt, Field(ge=0)]


class Budget(Strict):
    """UX budget: maxima for the whole run; exceeding one fails the run."""

    clicks: Count | None = Field(None, description="clicks, ticks and download clicks")
    inputs: Count | None = Field(None, description="fields filled, options chosen, files set")
    keystrokes: Count | None = Field(None, description="characters typed plus keys pressed")
    pages: Count | None = Field(None, description="distinct URL paths")
    navigations: Count | None = Field(None, description="main-frame navigations")
    dialogs: Count | None = Field(None, description="JS dialogs answered")
    downloads: Count | None = Field(None, description="files downloaded")
    emails: Count | None = Field(None, description="e-mails the user has to open")
    verifications: Count | None = Field(None, description="identity checks met (SMS code, face, question, password)")
    retention_pages: Count | None = Field(None, description="pages after the entry whose own text is a retention offer")
    preticked: Count | None = Field(None, description="checkboxes the site ticked before the user touched them")
    seconds: Annotated[float, Field(ge=0)] | None = Field(None, description="active seconds (waiting is not counted)")
    a11y: Count | None = Field(None, description="serious + critical accessibility violations")
    receipt: Annotated[Literal["required"], one_of("receipt requirement", ("required",))] | None = Field(
        None, description="required: fail unless a receipt (reference + date-time) was shown"
    )


class UxPatterns(Strict):
    """Text patterns (regular expressions, case-insensitive) replacing the defaults in data/ux_patterns.json."""

    retention: list[Regex] | None = Field(None, description="a page's own text that makes it a retention page")
    entry: list[Regex] | None = Field(None, description="where the unsubscribe flow begins (URL path or the clicked text)")
    reference: list[Regex] | None = Field(None, description="a reference number on a receipt")
    datetime: list[Regex] | None = Field(None, description="a date and time on a receipt")
    question: list[Regex] | None = Field(None, description="a security question's label (a verification)")
    otp: list[Regex] | None = Field(None, description="a one-time-code field's label (a verification)")
    continue_cancel: list[Regex] | None = Field(
        None, description="the label of the control that keeps cancelling past a retention offer"
    )
    submit: list[Regex] | None = Field(None, description="the name of the button or link that sends the cancellation")
    done: list[Regex] | None = Field(None, description="words of a page saying the cancellation is done")


PerLanguage = dict[Annotated[str, Field(pattern=r"^([a-z]{2,3}|any)$")], list[Regex]]


class UxPatternTable(Strict):
    """data/ux_patterns.json: each kind's patterns per language (zh, en, de …; `any` for language-free ones)."""

    retention: PerLanguage
    entry: PerLanguage
    submit: PerLanguage
    done: PerLanguage
    reference: PerLanguage
    datetime: PerLanguage
    question: PerLanguage
    otp: PerLanguage
    continue_cancel: PerLanguage


PersonalKind = Literal["phone", "email", "id_card", "card"]


class PersonalData(Strict):
    """Personal data found on the page (redaction.py): boxed in every step's record, hidden in guides and videos."""

    hide: bool = Field(True, description="`false`: guides and videos of this scenario show what was found")
    kinds: list[PersonalKind] = Field(
        ["phone", "email", "id_card", "card"],
        description="what is looked for: phone numbers (CN mobile, +international), e-mail addresses, ID-card numbers "
        "(with a valid check digit), bank-card numbers (passing the Luhn check)",
    )
    keep: list[str] = Field(
        [], description="texts that stay visible although they look personal, e.g. the service's own `support@example.com`"
    )


class VisualOptions(Strict):
    threshold: Annotated[float, Field(ge=0, le=1)] = Field(0.2, description="per-pixel colour tolerance (pixelmatch), 0–1")
    max_diff_pixels: Count = Field(0, description="changed pixels allowed before a step fails")


SettingValue = Union[str, int, float, bool]


def _portal_check(v: Any, info: ValidationInfo) -> Any:
    from .portals import portal_names

    known = tuple((info.context or {}).get("portals") or portal_names())
    if isinstance(v, str) and v not in known:
        raise PydanticCustomError(
            "one_of",
            "unknown {what} '{value}' (expected one of: {listed}){hint}",
            {"what": "portal", "value": v, "listed": ", ".join(known) or "none installed", "hint": hint(v, known)},
        )
    return v


def _timezone(v: Any) -> Any:
    if isinstance(v, str):
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "timezone", "unknown time zone '{v}' (e.g. Asia/Shanghai, Europe/Berlin, UTC)", {"v": v}
            ) from None
    return v


RULE_PACK = re.compile(r"^[a-z][a-z0-9-]{0,30}$|\.ya?ml$")


def _pack_name(v: Any) -> Any:
    if isinstance(v, str) and not RULE_PACK.search(v):
        raise PydanticCustomError(
            "rule_pack", "'{v}' is neither a rule pack's name (e.g. de, us-ca) nor a .yaml file of your own", {"v": v}
        )
    return v


RulePackRef = Annotated[str, BeforeValidator(_pack_name)]


class CheckOptions(Strict):
    """The scenario's own rights check, run after the journey."""

    rules: list[RulePackRef] = Field(min_length=1, description="rule packs: shipped names (de, us-ca …) or .yaml files")
    fail: bool = Field(False, description="a rule not met fails the run (its status, the exit code, pytest)")


def _check_kind(v: Any) -> str | None:
    if isinstance(v, (dict, CheckOptions)):
        return "@options"
    return "@list" if isinstance(v, list) else None


CheckSpec = Annotated[
    Union[Annotated[list[RulePackRef], Tag("@list")], Annotated[CheckOptions, Tag("@options")]],
    Discriminator(
        _check_kind, custom_error_type="check_spec", custom_error_message="expected a list of rule packs or {rules, fail}"
    ),
]


class Service(Strict):
    """What the service is: rules that cannot apply to it answer "not applicable" with the reason."""

    paid: bool | None = Field(None, description="the user pays for it")
    renews: bool | None = Field(None, description="it renews or continues automatically until cancelled")
    contract: bool | None = Field(None, description="a contract with a minimum term or a notice period")
    consent: bool | None = Field(None, description="cancelling withdraws a consent, e.g. to marketing e-mails")
    signup: Literal["online", "offline"] | None = Field(None, description="where users sign up")
    jurisdictions: list[RulePackRef] = Field(
        [], description="rule packs that apply where it is offered; `tuiding check` uses them when no --rules is given"
    )


class SmtpSink(Strict):
    """An SMTP server on 127.0.0.1 started for the run (its address: ${mailbox.host}, ${mailbox.port})."""

    smtp: Annotated[StrictInt, Field(ge=0, le=65535)] = Field(0, description="its port; 0: any free one")


class FolderSpec(Strict):
    folder: str = Field(
        description="a Maildir, a folder of .eml files, or a file e-mail back-end's folder (relative to the scenario)"
    )


class ImapAccount(Strict):
    host: str = Field(description="the IMAP server")
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = Field(None, description="default 993 (ssl) or 143")
    user: str = Field(description="the login")
    password: str = Field(description="a ${variable} listed under secrets")
    folder: str = Field("INBOX", description="the folder to read")
    ssl: bool = Field(True, description="IMAP over TLS (`false`: plain IMAP, for a server on this machine)")


class ImapSpec(Strict):
    imap: ImapAccount


def _mailbox_kind(v: Any) -> str | None:
    if isinstance(v, str):
        return "@smtp-default"
    if isinstance(v, SmtpSink):
        return "@smtp"
    if isinstance(v, FolderSpec):
        return "@folder"
    if isinstance(v, ImapSpec):
        return "@imap"
    if isinstance(v, dict) and len(v) == 1:
        return {"smtp": "@smtp", "folder": "@folder", "imap": "@imap"}.get(next(iter(v)))
    return None


MailboxSpec = Annotated[
    Union[
        Annotated[Annotated[Literal["smtp"], one_of("mailbox", ("smtp",))], Tag("@smtp-default")],
        Annotated[SmtpSink, Tag("@smtp")],
        Annotated[FolderSpec, Tag("@folder")],
        Annotated[ImapSpec, Tag("@imap")],
    ],
    Discriminator(
        _mailbox_kind,
        custom_error_type="mailbox_spec",
        custom_error_message="expected smtp, {smtp: PORT}, {folder: PATH} or {imap: {host, user, password}}",
    ),
]


def _instant(v: Any) -> Any:
    import datetime as _dt

    if isinstance(v, _dt.datetime):
        return v.isoformat()
    if isinstance(v, str):
        try:
            _dt.datetime.fromisoformat(v)
        except ValueError:
            raise PydanticCustomError(
                "instant", "expected a date and time like 2026-11-20T10:00:00+08:00, got '{v}'", {"v": v}
            ) from None
    return v


class ScenarioFile(Strict):
    """A scenario file: the top-level keys and its steps."""

    name: str = Field(description="required: the journey's title in the console, reports and walkthroughs")
    description: str | None = Field(None, description="what the journey does, in a sentence or two (reports, walkthroughs)")
    portal: Annotated[str, BeforeValidator(_portal_check)] | None = Field(
        None,
        description="`migu` or `cloudpc` (any installed tuiding portal): start a fresh embedded mock portal for the run "
        "(its own port and SQLite state)",
    )
    base_url: str | None = Field(
        None,
        description="run against this site instead (overrides `portal`; `--base-url` overrides both); a site that is not "
        "this machine needs `live: true` or `--live`",
    )
    live: bool = Field(
        False, description="`true`: this scenario may run against a site that is not 127.0.0.1/localhost (it really cancels)"
    )
    allow_hosts: list[str] = Field(
        [], description="hosts besides the site's own that `request` steps may reach, e.g. `[sms-gateway.test]`"
    )
    allow_files: list[str] = Field(
        [],
        description="folders (relative to the scenario file) whose files a `goto: file:///…` may open, e.g. `[saved_pages]`; "
        "every other `file:` URL is refused, also when a page links to it",
    )
    device: Device | None = Field(
        None,
        description="a Playwright device name, e.g. `iPhone 13` or `Pixel 7`: user agent, viewport, pixel ratio, touch "
        "(default: desktop 1280×720); the Migu portal sends phones to its app layout",
    )
    locale: str = Field(
        "zh-CN", description="the browser's locale, and the language tuiding writes in (`zh-*`, `de-*`, else English)"
    )
    timezone: Annotated[str, BeforeValidator(_timezone)] = Field(
        "Asia/Shanghai", description="the browser's time zone, and the one `${now}` and the records use"
    )
    permissions: list[Permission] = Field(
        [],
        description="browser permissions granted to the site: `camera`, `microphone`, `geolocation`, `notifications`, "
        "`clipboard-read`, `clipboard-write` (the browser has a fake camera; without `camera`, `getUserMedia` is denied)",
    )
    tags: list[str] = Field([], description="words for `--tag` and pytest markers, e.g. `[migu, web, smoke]`")
    vars: dict[str, Scalar] = Field({}, description="values for `${name}`; they may use `${env:…}`, `${now:…}` and `${run.id}`")
    secrets: list[str] = Field(
        [],
        description="variables whose values are never shown — from `vars`, or saved by a step — masked in every record, "
        "report and trace and painted over in screenshots",
    )
    budget: Budget | None = Field(None, description="maxima for the whole run (clicks, pages, …): exceeding one fails it")
    before: list[str] = Field([], description="walkthroughs: sentences for 准备工作 / Before you start")
    after: list[str] = Field([], description="walkthroughs: sentences for 退订后的注意事项 / Afterwards")
    redact: list[TargetSpec] = Field(
        [],
        description="targets blacked out in guide pictures and every video frame (receipt numbers, names); "
        "secrets are never shown anyway, personal data is found by itself (`personal_data:`)",
    )
    personal_data: PersonalData = Field(
        PersonalData(),
        description="phone numbers, e-mail addresses, ID-card and card numbers found on the page and hidden in guides "
        "and videos; `{hide: false}` shows them, `keep: [texts]` leaves some visible",
    )
    mask: list[TargetSpec] = Field(
        [], description="targets excluded from visual comparison on every step, e.g. `[{testid: receipt-no}]`"
    )
    a11y: bool | Literal["every-step"] = Field(
        False,
        description="`true`: run axe-core after every step that shows a new page or changes what the page shows (a menu "
        "opened, a dialog; about 0.2–0.5 s each); `every-step`: after every step",
    )
    ux: UxPatterns | None = Field(None, description="text patterns replacing the defaults of detection, per kind")
    visual: VisualOptions = Field(
        VisualOptions(), description="`{threshold: 0.2, max_diff_pixels: 0}`: how different a receipt may be from its baseline"
    )
    settings: dict[str, SettingValue] = Field(
        {}, description="embedded portal settings at start, e.g. `{variant: retention}` or `{clock: real}`"
    )
    variant: str | None = Field(
        None, description="shortcut for `settings: {variant: …}`; `tuiding run --variant NAME` overrides it"
    )
    check: CheckSpec = Field(
        [],
        description="`[zh, de, us-ca]` (rule packs: names or files): judge the run when it ends — `check.json` in the run "
        "folder, the verdicts on the console and in the report; `{rules: […], fail: true}` also fails the run when a "
        "rule is not met",
    )
    service: Service | None = Field(None, description="what the service is, so rules that cannot apply answer “not applicable”")
    mailbox: MailboxSpec | None = Field(
        None,
        description="where `email` steps read: `smtp` (an SMTP sink on 127.0.0.1 for the run; `{smtp: PORT}` for a fixed "
        "port), `{folder: PATH}` (a Maildir, `.eml` files, a framework's file back-end), `{imap: {host, user, password, "
        "…}}`",
    )
    clock: Annotated[str, BeforeValidator(_instant)] | None = Field(
        None,
        description="install the browser's clock at this instant (`2026-11-20T10:00:00+08:00`; the scenario's time zone if "
        "none is given): the page's `Date` starts there and `${now}` reads it",
    )
    matrix: list[dict[str, Scalar]] | None = Field(
        None,
        min_length=1,
        description="run the journey once per row (like pytest's parametrize): each row's keys are variables (over "
        "`vars`), `id` names the row; each row gets its own run folder (`…-<id>`) and pytest item (`file[id]`)",
    )
    steps: list[Step] = Field(min_length=1, description="required: the journey, a non-empty list of steps")

    def check_rules(self) -> tuple[str, ...]:
        """The rule packs the scenario's own check uses (`check:`)."""
        return tuple(self.check.rules if isinstance(self.check, CheckOptions) else self.check)

    def check_fails_run(self) -> bool:
        return isinstance(self.check, CheckOptions) and self.check.fail


class FlowFile(Strict):
    """A reusable flow (under a flows/ folder): a `vars` value of null means the caller must pass it."""

    name: str | None = None
    description: str | None = None
    vars: dict[str, Scalar] = {}
    secrets: list[str] = []
    steps: list[Step] = Field(min_length=1)


def field_keys() -> set[str]:
    """Every key any model of the contract defines (error messages name these, not user data)."""
    seen: set[str] = set()

    def walk(cls: type[BaseModel]) -> None:
        for sub in cls.__subclasses__():
            seen.update(sub.keys() if issubclass(sub, Strict) else [])
            walk(sub)

    walk(Strict)
    return seen


SCENARIO_ADAPTER: TypeAdapter[ScenarioFile] = TypeAdapter(ScenarioFile)
FLOW_ADAPTER: TypeAdapter[FlowFile] = TypeAdapter(FlowFile)
ValidatorFn = Callable[[Any], Any]
