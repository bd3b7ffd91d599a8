# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sync report's files: the whole report as JSON and CSV and a Markdown summary, readable by the owner only.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import TIMESTAMP_FORMAT
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import render_csv, render_markdown, trim_report

MARKDOWN_EXTENSION = ".md"
CSV_EXTENSION = ".csv"
REPORT_FILE_MODE = 0o600
REPORT_FOLDER_MODE = 0o700


def make_report_folder(path):
    """Make the folder `path` for report files (and its missing parents), readable by its owner only, and check
    that this process may write there; the reason it cannot, or None."""
    try:
        if not os.path.isdir(path):
            os.makedirs(path, REPORT_FOLDER_MODE)
        os.chmod(path, REPORT_FOLDER_MODE)
    except OSError as error:
        return "report_folder %s cannot be made: %s" % (path, error)
    if not os.access(path, os.W_OK | os.X_OK):
        return "report_folder %s is not a folder this run may write" % path
    return None


def report_path_problem(path):
    """Why `path` cannot take the report's JSON file (its Markdown and CSV files go next to it), or None."""
    if path.lower().endswith((MARKDOWN_EXTENSION, CSV_EXTENSION)):
        return "report_path names the JSON file (the Markdown and CSV files are written next to it), got %s" % path
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return "report_path %s: the directory %s does not exist" % (path, os.path.dirname(os.path.abspath(path)))
    return None


def write_report(json_path, report, settings, org, tenant_id, started, limit, atomic_move):
    """The whole report as JSON and CSV, and a Markdown summary (counts, the first `limit` entries); their paths.

    atomic_move(source, destination): the module's, so a reader never sees half a file.
    """
    base = os.path.splitext(json_path)[0]
    markdown_path, csv_path = base + MARKDOWN_EXTENSION, base + CSV_EXTENSION
    generated = started.strftime(TIMESTAMP_FORMAT)
    document = dict(report, org=org, tenant_id=tenant_id, generated_at=generated, settings=settings)
    title = "modusCloud Azure AD sync report for %s (%s)" % (org, generated)
    files = [("JSON", os.path.basename(json_path)), ("every user and action as CSV, for a spreadsheet", os.path.basename(csv_path))]
    write_file(json_path, json.dumps(document, indent=1, sort_keys=True) + "\n", atomic_move)
    write_file(csv_path, render_csv(report), atomic_move)
    write_file(markdown_path, render_markdown(trim_report(report, limit), title, files) + "\n", atomic_move)
    return {"json": json_path, "markdown": markdown_path, "csv": csv_path}


def write_file(path, text, atomic_move):
    # Written beside the target, then moved over it: a reader never sees half a report. The report
    # holds people's names and addresses: only the owner may read it, whatever the file was before.
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".report-")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    atomic_move(temporary, path)
    os.chmod(path, REPORT_FILE_MODE)
