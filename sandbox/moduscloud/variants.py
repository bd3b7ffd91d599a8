"""The open modusCloud API questions (docs/moduscloud-api.md, "Known unknowns") and each plausible
answer, as named variants.

A variant is named "<question>:<answer>"; the first answer of each question is the default (the
collection's assumption). `python -m sandbox variants` lists them; `serve --moduscloud-variant NAME`
sets them for the whole service, and the control API (PUT /moduscloud/variants) for the service or
for one organization.
"""

from __future__ import annotations

QUESTIONS = {
    # PUT /settings/azure without ad_key once a key is stored: the key stays / 400 / the key is dropped.
    "put-without-key": ("keeps", "refused", "clears"),
    # GET /settings/azure when nothing is configured.
    "unconfigured": ("404", "200-empty", "200-null", "204"),
    # The body of PUT /settings/azure/exemptions.
    "exemptions-body": ("comma-string", "json-list", "bare-list", "bare-string"),
    # Booleans of the settings: JSON booleans; answered as "true"/"false" strings (both accepted on
    # PUT); or strings answered and the only form accepted on PUT.
    "booleans": ("json", "strings", "strings-only"),
    # The status of a wrong X-User / X-Password.
    "bad-password": ("401", "403"),
    # secret_expiry / last_successful_sync: "2028-01-01" / "2026-06-30T18:15:00Z"; with a space and
    # seconds; Unix seconds (JSON numbers).
    "dates": ("iso", "space", "epoch"),
}
VARIANTS = tuple(f"{question}:{answer}" for question, answers in QUESTIONS.items() for answer in answers)
DEFAULT_ANSWERS = {question: answers[0] for question, answers in QUESTIONS.items()}
EXEMPTIONS_BODY_SHAPES = {
    "comma-string": '{"exemptions": "a@example.com,b@example.com"}',
    "json-list": '{"exemptions": ["a@example.com", "b@example.com"]}',
    "bare-list": '["a@example.com", "b@example.com"]',
    "bare-string": '"a@example.com,b@example.com"',
}
DATE_FORMATS = {"iso": ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ"), "space": ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S")}


def parse_variants(names) -> dict:
    """{question: answer} from variant names; ValueError naming the bad name and every known one."""
    answers = {}
    for name in names or ():
        if name not in VARIANTS:
            raise ValueError(f"unknown modusCloud variant {name!r}; known: {', '.join(VARIANTS)}")
        question, answer = name.split(":", 1)
        answers[question] = answer
    return answers


def variant_names(answers: dict) -> list:
    return [f"{question}:{answers[question]}" for question in QUESTIONS if question in answers]


def wire_date(moment, answer, *, with_time):
    if moment is None:
        return None
    if not with_time:  # a date: its midnight, UTC
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if answer == "epoch":
        return int(moment.timestamp())
    return moment.strftime(DATE_FORMATS[answer][1 if with_time else 0])
