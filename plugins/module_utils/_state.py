# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place that decides `changed`, skips writes in check mode and records the diff.

Private to this collection: no compatibility promise outside it.

Modules describe each resource as two plain dicts of the fields they manage (`current` as read,
`desired` as declared; both normalised by the caller, e.g. lists sorted where order carries no
meaning) and hand the writes over as callables. Nothing here talks HTTP, and no module decides
`changed` or builds a diff by itself. Secrets never go into these dicts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from typing import Callable, List, Optional, Tuple

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import Problem, options_error

# Returned in check mode in place of ids the service would have made, so chained tasks keep going.
PLACEHOLDER = "(known after apply)"
# Returned in check mode in place of a new secret's value. Its own text: the value is handed on as a
# no_log option (a key), and Ansible masks every occurrence of such a value in the task's output, so
# sharing PLACEHOLDER's text would turn each predicted id into ********.
SECRET_VALUE_PLACEHOLDER = "(new secret value, known after apply)"


# Options whose PLACEHOLDER stands for a client secret's key id (any other for an application's id).
KEY_ID_OPTIONS = ("keep_key_id",)


def is_placeholder(value) -> bool:
    """Whether `value` is a check-mode placeholder: what an earlier task of a dry run only predicted."""
    return value in (PLACEHOLDER, SECRET_VALUE_PLACEHOLDER)


def differences(current: Optional[dict], desired: dict) -> dict:
    """Keys of `desired` whose value differs from `current` (missing counts as different)."""
    current = current or {}
    return dict((key, value) for key, value in desired.items() if current.get(key) != value)


class ChangeSet(object):
    """What one module run changed, or would change in check mode, with before/after per resource."""

    def __init__(self, check_mode: bool = False) -> None:
        self.check_mode = check_mode
        self.changed = False
        self.before = {}
        self.after = {}

    def ensure(
        self,
        label: str,
        current: Optional[dict],
        desired: Optional[dict],
        create: Optional[Callable[[dict], dict]] = None,
        update: Optional[Callable[[dict], Optional[dict]]] = None,
        delete: Optional[Callable[[], None]] = None,
        placeholder: Optional[dict] = None,
    ) -> Optional[dict]:
        """Bring one resource to `desired` (a dict) or remove it (`desired` None); return its new view.

        create(desired) -> created object; update(changes) -> updated object or None;
        delete() -> None. None of them is called in check mode: the return value is then the
        prediction (`placeholder` merged under `desired` for a create).
        """
        if desired is None:
            if current is None:
                return None
            self.record(label, current, None)
            if not self.check_mode:
                delete()
            return None
        if current is None:
            self.record(label, None, desired)
            if self.check_mode:
                predicted = dict(placeholder or {})
                predicted.update(desired)
                return predicted
            return create(desired)
        changes = differences(current, desired)
        predicted = dict(current)
        predicted.update(desired)
        if not changes:
            self.before.setdefault(label, copy.deepcopy(current))
            self.after.setdefault(label, copy.deepcopy(current))
            return current
        self.record(label, current, predicted)
        if self.check_mode:
            return predicted
        updated = update(changes)
        return predicted if updated is None else updated

    def record(self, label: str, before: Optional[dict], after: Optional[dict]) -> None:
        """Note a change made (or predicted) outside ensure(), e.g. a service action such as addPassword."""
        self.changed = True
        self.before[label] = copy.deepcopy(before)
        self.after[label] = copy.deepcopy(after)

    def write(self, action: Callable, *args, **kwargs):
        """Call a write unless in check mode; the single gate for writes that are not ensure()'d."""
        if self.check_mode:
            return None
        return action(*args, **kwargs)

    def prerequisite(self, find: Callable, wait: Callable, missing: Exception, assumption: Optional[str], warn: Callable[[str], None]):
        """An object an earlier task of the play makes (an application before its consent, say).

        Outside check mode wait() looks for it (a service may take a few seconds to show a new object)
        and its absence raises `missing` (an exception). In check mode find() looks once: the earlier
        task only predicted the object, so its absence is the prediction, said with warn(assumption).
        Returns the object or None.
        """
        if not self.check_mode:
            found = wait()
            if found is None:
                raise missing
            return found
        found = find()
        if found is None and assumption:
            warn(assumption)
        return found

    def live(self, action: Callable, *args, dry=None, **kwargs):
        """Call a step that only means something after real writes (waiting for a service, checking that it
        converged) unless in check mode, where `dry` stands for its answer."""
        if self.check_mode:
            return dry
        return action(*args, **kwargs)

    def planned(self, value, otherwise=None):
        """What earlier tasks of the run would have created (`value`), where a dry run must count it as done
        because those tasks only predicted it; `otherwise` in a real run, which reads the real state."""
        return value if self.check_mode else otherwise

    @property
    def holds_real_state(self) -> bool:
        """Whether what this run ensured is what the service now holds (false after a dry run that predicted a
        change): only then may a later task take it as known state instead of reading again."""
        return not (self.check_mode and self.changed)

    @property
    def dry_run(self) -> bool:
        """Whether this run only plans (check mode, from --check or the play's check_mode keyword): a module says
        so in its result, for a role whose later tasks word their output by it (ansible tells roles about --check
        only)."""
        return self.check_mode

    def tense(self, done: str, planned: str) -> str:
        """The wording of what a run did: `done` ("created"), or `planned` ("would create") in check mode."""
        return planned if self.check_mode else done

    def refuse_placeholders(self, options: dict) -> None:
        """The one check of check-mode placeholders in options: check mode takes them (an earlier task only
        predicted what they stand for); a real run fails with ServiceError naming them, before any request."""
        _known, problems = without_placeholders(options, self.check_mode)
        if problems:
            raise options_error(problems)

    def result(self, diff_mode: bool = True) -> dict:
        """`changed` and, in diff mode, the diff: a dict for exit_json(**...)."""
        out = {"changed": self.changed}
        if diff_mode:
            out["diff"] = {"before": _compact(self.before), "after": _compact(self.after)}
        return out


def _compact(states: dict) -> dict:
    # Absent resources show as an empty mapping rather than null, which Ansible renders as "state: absent".
    return dict((label, value if value is not None else {"state": "absent"}) for label, value in states.items())


def without_placeholders(options: dict, check_mode: bool) -> Tuple[dict, List[Problem]]:
    """(`options` with each placeholder value set to None, the problems those placeholders are: (option, message)
    pairs).

    A placeholder stands for the id of an application (or a secret's key id or value) an earlier task
    creates; in check mode that task only predicted it, so the placeholder is taken for it; in a real run
    it is a mistake.
    """
    known = dict(options)
    problems = []
    for name, value in sorted(options.items()):
        if not is_placeholder(value):
            continue
        known[name] = None
        if check_mode:
            continue
        if value == SECRET_VALUE_PLACEHOLDER:
            message = (
                "%s is the check-mode placeholder of a client secret an earlier task would create; outside check mode it must be the secret's value" % name
            )
        elif name in KEY_ID_OPTIONS:
            message = "%s is the check mode placeholder %r: pass the key_id a real run returned" % (name, PLACEHOLDER)
        else:
            message = (
                "%s is %s, the check-mode placeholder of an application an earlier task would create; outside check mode it must be the application's id"
                % (
                    name,
                    PLACEHOLDER,
                )
            )
        problems.append((name, message))
    return known, problems
