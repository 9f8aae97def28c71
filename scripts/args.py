"""Typed shapes of step arguments and common step keys (pydantic), shared by validation and the JSON Schema."""
from __future__ import annotations

import re
from difflib import get_close_matches
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator
from pydantic_core import PydanticCustomError

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_duration(value: Any) -> float:
    """'10s', '500ms', '2m', '1h' or a number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 10s, 500ms or 2m")
    if isinstance(value, (int, float)):
        return float(value)
    m = DURATION.match(str(value))
    if not m:
        raise ValueError(f"expected a duration like 10s, 500ms or 2m, got '{value}'")
    n, unit = float(m.group(1)), m.group(2) or "s"
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def closest(word: str, options: list[str] | tuple[str, ...]) -> str | None:
    found = get_close_matches(str(word), list(options), n=1, cutoff=0.5)
    return found[0] if found else None


class Strict(BaseModel):
    """Unknown keys are reported one by one, with the closest valid word."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = [f.alias or n for n, f in cls.model_fields.items()]
            for key in data:
                if key not in allowed:
                    hint = closest(key, allowed)
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}' (expected one of: {allowed}){hint}",
                        {"key": key, "allowed": ", ".join(allowed), "hint": f"; did you mean '{hint}'?" if hint else ""},
                    )
        return data


ROLES = (
    "button", "link", "textbox", "checkbox", "radio", "combobox", "heading", "img", "listitem", "menuitem",
    "option", "tab", "dialog", "alert", "status", "row", "cell", "table", "navigation", "region", "switch", "spinbutton",
)
TARGET_KINDS = ("role", "label", "text", "placeholder", "testid", "css")


class Target(Strict):
    """One way to find an element: {role, name}, {label}, {text}, {placeholder}, {testid} or {css}."""
    role: str | None = None
    name: str | None = Field(None, description="accessible name, with role")
    label: str | None = None
    text: str | None = None
    placeholder: str | None = None
    testid: str | None = None
    css: str | None = None
    nth: int | None = Field(None, description="0-based index when several elements match; -1 for the last")
    exact: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> "Target":
        kinds = [k for k in TARGET_KINDS if getattr(self, k) is not None]
        if self.name is not None and self.role is None:
            raise PydanticCustomError("target_kind", "'name' goes with 'role' (e.g. {role: button, name: 登录})", {})
        if not kinds:
            raise PydanticCustomError("target_kind", "a target needs one of: {kinds}", {"kinds": ", ".join(TARGET_KINDS)})
        if len(kinds) > 1:
            raise PydanticCustomError("target_kind", "a target takes one of {kinds}, got {got}",
                                      {"kinds": ", ".join(TARGET_KINDS), "got": " and ".join(kinds)})
        if self.role is not None and self.role not in ROLES:
            hint = closest(self.role, ROLES)
            raise PydanticCustomError("target_role", "unknown role '{role}'{hint}",
                                      {"role": self.role, "hint": f"; did you mean '{hint}'?" if hint else ""})
        return self

    def describe(self) -> str:
        for k in TARGET_KINDS:
            v = getattr(self, k)
            if v is not None:
                s = f"{k}={v}" + (f" name={self.name}" if k == "role" and self.name else "")
                return s + (f" nth={self.nth}" if self.nth is not None else "")
        return "?"


def _str_or_map(v: Any) -> str:
    return "str" if isinstance(v, (str, int, float)) and not isinstance(v, bool) else "map"


TargetSpec = Annotated[
    Union[Annotated[str, Tag("str")], Annotated[Target, Tag("map")]],
    Discriminator(_str_or_map),
    Field(description="a string (button/link by accessible name, then exact text) or a target mapping"),
]


Duration = Annotated[Union[float, str], Field(description="seconds, or '10s', '500ms', '2m'")]


class FillOne(Target):
    value: str | int | float


FillArg = Annotated[
    Union[Annotated[dict[str, Union[str, int, float]], Tag("map")], Annotated[FillOne, Tag("one")]],
    # {label: 手机号, value: …} is one target; any other mapping is label → value pairs.
    Discriminator(lambda v: "one" if isinstance(v, dict) and "value" in v else "map"),
]


class SelectArg(Target):
    option: str | int


class PressArg(Target):
    key: str


class Condition(Strict):
    see: TargetSpec | None = None
    not_see: TargetSpec | None = None
    url: str | None = Field(None, description="the page URL contains this text")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Condition":
        n = sum(x is not None for x in (self.see, self.not_see, self.url))
        if n != 1:
            raise PydanticCustomError("condition", "a condition takes exactly one of: see, not_see, url", {})
        return self


class WaitFor(Strict):
    for_: TargetSpec = Field(alias="for")
    state: Literal["visible", "hidden", "attached", "detached"] = "visible"


class WaitUntil(Strict):
    until: Condition
    reload: bool = False
    every: Duration = 2.0
    timeout: Duration = 60.0

    @field_validator("every", "timeout")
    @classmethod
    def _dur(cls, v: Any) -> float:
        return parse_duration(v)


def _wait_kind(v: Any) -> str:
    if isinstance(v, dict):
        return "until" if "until" in v else "for"
    return "duration"


WaitArg = Annotated[
    Union[Annotated[Duration, Tag("duration")], Annotated[WaitFor, Tag("for")], Annotated[WaitUntil, Tag("until")]],
    Discriminator(_wait_kind),
]


class SaveArg(Strict):
    var: str = Field(description="variable name to store into")
    from_: TargetSpec = Field(alias="from", description="element whose text is read")
    pattern: str | None = Field(None, description="regular expression; its first group (or whole match) is kept")

    @field_validator("var")
    @classmethod
    def _ident(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", v):
            raise ValueError(f"'{v}' is not a valid variable name (letters, digits, _)")
        return v

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return v


class RequestArg(Strict):
    url: str = Field(description="absolute, or a path against the site's base URL")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    json_: Any = Field(None, alias="json")
    form: dict[str, str | int | float] | None = None
    headers: dict[str, str] | None = None
    expect_status: int | None = Field(None, description="default: any 2xx")
    save: dict[str, str] | None = Field(None, description="{var: json.path} values from the JSON response")


class UploadArg(Target):
    files: str | list[str]


class DownloadArg(Strict):
    click: TargetSpec
    as_: str | None = Field(None, alias="as", description="file name inside the run folder's downloads/")


DialogArg = Literal["accept", "dismiss"]
ScreenshotOpt = Annotated[
    Union[Annotated[bool, Tag("bool")], Annotated[Literal["full", "viewport"], Tag("str")], Annotated[Target, Tag("map")]],
    Discriminator(lambda v: "bool" if isinstance(v, bool) else ("map" if isinstance(v, dict) else "str")),
]


class StepOptions(Strict):
    """The keys every step may carry besides its one action."""
    name: str | None = Field(None, description="caption; defaults to one derived from the action")
    note: str | None = Field(None, description="extra text for the walkthrough")
    screenshot: ScreenshotOpt = True
    timeout: Duration | None = None
    retry: int = Field(0, ge=0, le=10)
    optional: bool = False
    if_: Condition | None = Field(None, alias="if")
    vars: dict[str, Any] | None = Field(None, description="with run: values for the flow's variables")

    @field_validator("timeout")
    @classmethod
    def _dur(cls, v: Any) -> float | None:
        return None if v is None else parse_duration(v)


class Budget(Strict):
    clicks: int | None = Field(None, ge=0)
    pages: int | None = Field(None, ge=0)
    inputs: int | None = Field(None, ge=0)


Scalar = Union[str, int, float, bool, None]


class Header(Strict):
    """Top-level keys of a scenario file (everything but steps)."""
    name: str
    description: str | None = None
    portal: str | None = None
    base_url: str | None = None
    device: str | None = None
    locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    permissions: list[Literal["camera", "microphone", "geolocation", "notifications", "clipboard-read", "clipboard-write"]] = Field(
        [], description="browser permissions granted to the site, e.g. [camera] for the fake camera")
    tags: list[str] = []
    vars: dict[str, Scalar] = {}
    secrets: list[str] = []
    budget: Budget | None = None
    matrix: list[dict[str, Scalar]] | None = Field(None, min_length=1, description="run once per row; row values are variables, 'id' names the row")
    steps: list[Any] = Field(min_length=1)


class FlowHeader(Strict):
    """Top-level keys of a reusable flow (a `vars` value of null means the caller must pass it)."""
    name: str | None = None
    description: str | None = None
    vars: dict[str, Scalar] = {}
    secrets: list[str] = []
    steps: list[Any] = Field(min_length=1)
