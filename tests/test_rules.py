"""Rule packs are data: validated like scenarios (file:line:col, the closest word), published as a schema; a
rule that cannot apply to the service says why; landmarks are resolved the same way by every reader.
No browser: run folders here are built from the typed record."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from support import ROOT, run_cli

from tuiding.check import Journey, check_run, inapplicable, judge
from tuiding.i18n import gettext_for
from tuiding.landmarks import resolve
from tuiding.record import Landmark, Manifest, PageFacts, ScenarioInfo, StepRecord
from tuiding.rules import AppliesIf, RulePackInvalid, load_pack, load_packs, shipped

BAD_PACK = """\
name: {en: House rules}
rules:
  - id: house-button
    title: The button says "cancel"
    source: our style guide
    chek: confirm_label
    patterns: {english: ["cancel"]}
  - id: house-receipt
    title: A receipt
    source: our style guide
    check: receipt
    channels: web
  - id: house-entry
    title: Entry close
    source: ours
    check: entry_clicks
    max: many
"""


def test_a_rule_pack_of_ones_own_is_validated_like_a_scenario(tmp_path):
    pack = tmp_path / "house.yaml"
    pack.write_text(BAD_PACK, encoding="utf-8")
    with pytest.raises(RulePackInvalid) as err:
        load_pack(str(pack))
    lines = [line.replace(str(tmp_path) + "/", "") for line in err.value.lines]
    assert lines == [
        "house.yaml:3:5: missing key 'check'; did you mean 'check' instead of 'chek'?",
        "house.yaml:12:15: channels: expected a list, got a string",
        "house.yaml:17:10: max: expected a whole number, got a string",
    ]
    pack.write_text(BAD_PACK.replace("chek: confirm_label", "check: confirm_labl"), encoding="utf-8")
    with pytest.raises(RulePackInvalid) as err:
        load_pack(str(pack))
    first = err.value.lines[0].replace(str(tmp_path) + "/", "")
    assert first.startswith("house.yaml:6:12: unknown check 'confirm_labl' (expected one of: entry_clicks, confirm_label,")
    assert first.endswith("did you mean 'confirm_label'?")
    pack.write_text(BAD_PACK.replace("chek:", "check:"), encoding="utf-8")
    with pytest.raises(RulePackInvalid) as err:
        load_pack(str(pack))
    assert err.value.lines[0].replace(str(tmp_path) + "/", "") == (
        "house.yaml:7:16: 'english' is not a language code (two or three letters, e.g. en, zh, de)"
    )
    # A scenario naming the pack is invalid, pointing into the pack's own lines; an unknown name is one line.
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\nbase_url: http://127.0.0.1:9/\ncheck: [house.yaml, fr]\nsteps:\n  - goto: /\n", encoding="utf-8"
    )
    r = run_cli("validate", scenario, cwd=tmp_path)
    assert r.returncode == 2
    assert "s.yaml:3:21: unknown rule pack 'fr'" in r.stdout + r.stderr
    assert "house.yaml:" in r.stdout + r.stderr


@pytest.mark.current_deps  # the published schema is pydantic's current rendering
def test_the_shipped_packs_validate_against_the_published_schema():
    schema = json.loads((ROOT / "docs" / "schema" / "rules.schema.json").read_text(encoding="utf-8"))
    for name in shipped():
        data = yaml.safe_load((ROOT / "scripts" / "tuiding" / "data" / "rules" / f"{name}.yaml").read_text(encoding="utf-8"))
        data["in_force"] = str(data["in_force"]) if "in_force" in data else None
        if data["in_force"] is None:
            del data["in_force"]
        jsonschema.validate(data, schema)
    assert run_cli("schema", "rules").stdout.strip() == json.dumps(schema, ensure_ascii=False, indent=2)


@pytest.mark.parametrize(
    ("applies", "facts", "why"),
    [
        (AppliesIf(paid=True), {"paid": False}, "applies to paid services; this one is free (service.paid: false)"),
        (AppliesIf(paid=True), {}, None),  # nobody said: the rule is judged
        (AppliesIf(renews=True, paid=True), {"paid": True, "renews": False}, "applies to services that renew automatically"),
        (
            AppliesIf(signup="online"),
            {"signup": "offline"},
            "applies to services signed up online; this one is signed up offline",
        ),
        (AppliesIf(consent=False), {"consent": True}, "does not apply to this service (service.consent: true)"),
        (None, {"paid": False}, None),
    ],
)
def test_a_rule_that_cannot_apply_says_why(applies, facts, why):
    found = inapplicable(applies, facts, gettext_for("en"))
    assert (found is None) if why is None else (found is not None and found.startswith(why)), found


def step(
    index: int, *, clicks: int = 0, target: str = "", page: PageFacts | None = None, marks: tuple[str, ...] = (), **kw
) -> StepRecord:
    return StepRecord.model_validate({
        "index": index, "name": f"step {index}", "action": kw.pop("action", "click" if clicks else "see"), "target": target,
        "source": "s.yaml:1", "started_at": "t", "duration_ms": 1, "status": kw.pop("status", "passed"), "page": page,
        "events": {"clicks": clicks}, "landmarks": [Landmark(kind=k) for k in marks], **kw,
    })  # fmt: skip


def manifest(steps: list[StepRecord], **kw) -> Manifest:
    return Manifest(
        tool="t", run_id="r", uuid="u", scenario=ScenarioInfo(name="s", file="s.yaml", tags=["web"]), started_at="t",
        steps=steps, locale="en-US", **kw,
    )  # fmt: skip


def test_landmarks_are_resolved_once_for_every_reader():
    flow = PageFacts(path="/cancel", in_flow=True)
    steps = [
        step(1, clicks=1, target="Account"),
        step(2, clicks=1, target="Cancel", page=flow, marks=("entry",)),
        step(3, clicks=1, target="Cancel my plan", page=flow, marks=("submit",)),  # a retention page's way on
        step(4, clicks=1, target="Yes, cancel", page=flow, marks=("submit",)),
        step(5, page=PageFacts(path="/done", in_flow=True, done="Your plan has been cancelled"), marks=("done",)),
        step(6, clicks=1, target="Back"),
    ]
    marks = resolve(steps)
    assert (marks.entry.index, marks.submit.index, marks.done.index) == (2, 4, 5)  # the last submit before done
    assert Journey(Path("r"), manifest(steps)).count("clicks") == 4  # up to done: step 6 is checking
    # Folders written before landmarks were recorded: the receipt and the last click into it, as before.
    old = [s.model_copy(update={"landmarks": []}) for s in steps]
    old[4] = old[4].model_copy(
        update={"page": PageFacts(path="/done", in_flow=True, reference="AB12345678", datetime="2026-11-20 10:00")}
    )
    legacy = resolve(old)
    assert (legacy.entry.index, legacy.submit.index, legacy.done.index) == (2, 4, 5)


def test_a_run_that_failed_is_not_judged_and_a_declared_free_service_is_not_held_to_paid_rules():
    steps = [step(1, clicks=1, page=PageFacts(path="/unsubscribe", in_flow=True), marks=("entry",)), step(2, status="failed")]
    failed = manifest(steps, status="failed", failure={"step": 2, "message": "expected to see 'Done', not visible after 10s"})
    verdict = check_run(Journey(Path("r"), failed), load_packs(["de"]), [])
    assert verdict.results == [] and verdict.not_judged == (
        "not judged: the journey stopped at step 2 (failed): expected to see 'Done', not visible after 10s"
    )
    # Stopped after the cancellation was sent: judged, and the receipt that never came is the finding.
    sent = [step(1, clicks=1, page=PageFacts(path="/unsubscribe", in_flow=True), marks=("entry",)),
            step(2, clicks=1, target="Cancel now", page=PageFacts(path="/unsubscribe", in_flow=True), marks=("submit",)),
            step(3, status="failed")]  # fmt: skip
    waited = manifest(sent, status="failed", failure={"step": 3, "message": "expected to see 'Done', not visible after 10s"})
    verdict = check_run(Journey(Path("r"), waited), load_packs(["de"]), [])
    assert verdict.not_judged is None
    assert {j.rule: j.verdict for j in verdict.results}["de-312k-receipt"] == "not met"
    done = [step(1, clicks=1, page=PageFacts(path="/unsubscribe", in_flow=True), marks=("entry",)),
            step(2, clicks=1, target="Unsubscribe", page=PageFacts(path="/done", in_flow=True, done="You have been unsubscribed"),
                 marks=("submit", "done"))]  # fmt: skip
    free = manifest(done, status="passed", service={"paid": False, "renews": False})
    results = judge(Journey(Path("r"), free), load_packs(["de", "us-ca", "zh"]))
    verdicts = {j.rule: j.verdict for j in results}
    assert verdicts["zh-no-preticked"] == "met"
    assert {v for k, v in verdicts.items() if k != "zh-no-preticked"} == {"not applicable"}
