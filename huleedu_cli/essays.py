"""Reading essays and anchor essays from a folder or a CSV file, with errors that name the file and row.

A folder holds one essay per `.txt` or `.md` file; the file name without its suffix is the
essay's name. A folder of anchors holds one subfolder per grade (`anchors/B/strong-essay.txt`).

A CSV file has a header row with `essay_id` (or `id`) and `text`; an optional `grade`
column marks a row as an anchor essay of that known grade. A CSV of anchors must give
every row a grade. The `essay_id` column is the essay's name.

One rule turns every name, from a file or a CSV, into the id the server sees (an id holds
only ASCII letters, digits and `. _ : -`): letters are transliterated (Unidecode), so
`Søren Ødegaard` becomes `Soren_Odegaard` and `张伟` becomes `Zhang_Wei`; any other run of
characters becomes one `_`. A name with nothing left (only symbols) gets `essay-` and a
digest of the name. The name itself is kept for reports. Two essays whose names give one
id are an error that names both.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from unidecode import unidecode

ESSAY_SUFFIXES = (".txt", ".md")
NOT_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._:-]+")
MAX_ID_LENGTH = 128  # the CJ server's limit


class InputError(ValueError):
    """The essays cannot be read; the message says which file or row and why."""


@dataclass(frozen=True)
class EssayText:
    essay_id: str
    text: str
    grade: str = ""  # non-empty for an anchor essay of known grade
    name: str = ""  # the name it was given (file name or CSV essay_id), for reports
    source: str = ""  # where it was read: a file, or a CSV file and line
    filename: str = ""  # the file's name, for an essay read from a folder

    @property
    def display_name(self) -> str:
        return self.name or self.essay_id


@dataclass
class EssaySet:
    essays: list[EssayText] = field(default_factory=list)
    anchors: list[EssayText] = field(default_factory=list)


def load(path: Path, anchors_path: Path | None = None) -> EssaySet:
    """Essays (and anchors found in a CSV's grade column) from `path`, plus anchors from `anchors_path`."""
    loaded = _load_essays(path)
    if anchors_path is not None:
        loaded.anchors.extend(_load_anchors(anchors_path))
    if not loaded.essays:
        raise InputError(f"{path}: no essays found (a folder of .txt/.md files or a CSV with essay_id,text)")
    _check_unique(loaded.essays + loaded.anchors)
    return loaded


def _check_unique(texts: list[EssayText]) -> None:
    seen: dict[str, EssayText] = {}
    for text in texts:
        if (first := seen.setdefault(text.essay_id, text)) is not text:
            raise InputError(
                f"{first.source} ({first.display_name!r}) and {text.source} ({text.display_name!r}) both become "
                f"the essay id {text.essay_id!r}: rename one of them"
            )


def _load_essays(path: Path) -> EssaySet:
    if path.is_dir():
        return EssaySet(essays=[_read_file(file) for file in _essay_files(path)])
    rows = _read_csv(path, grade_required=False)
    return EssaySet(essays=[r for r in rows if not r.grade], anchors=[r for r in rows if r.grade])


def _load_anchors(path: Path) -> list[EssayText]:
    if not path.is_dir():
        return _read_csv(path, grade_required=True)
    anchors = [
        EssayText(essay.essay_id, essay.text, grade=grade_dir.name, name=essay.name, source=essay.source)
        for grade_dir in sorted(p for p in path.iterdir() if p.is_dir())
        for essay in map(_read_file, _essay_files(grade_dir))
    ]
    if not anchors:
        raise InputError(f"{path}: no anchor essays found (expected one subfolder per grade, e.g. {path}/B/essay.txt)")
    return anchors


def _essay_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in ESSAY_SUFFIXES)


def _read_file(file: Path) -> EssayText:
    try:
        text = file.read_text(encoding="utf-8-sig").strip()
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not text:
        raise InputError(f"{file}: the file is empty")
    return EssayText(essay_id_from_name(file.stem), text, name=file.stem, source=str(file), filename=file.name)


def essay_id_from_name(name: str) -> str:
    """The id for a name: transliterated to ASCII, other characters as `_`, never empty."""
    essay_id = NOT_ID_CHARACTERS.sub("_", unidecode(name.strip())).strip("_")
    if not essay_id:
        return "essay-" + hashlib.sha256(name.encode()).hexdigest()[:12]
    return essay_id[:MAX_ID_LENGTH]


def _read_csv(path: Path, grade_required: bool) -> list[EssayText]:
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = {name.strip().lower(): name for name in reader.fieldnames or []}
            id_column = columns.get("essay_id") or columns.get("id")
            text_column = columns.get("text")
            grade_column = columns.get("grade")
            if not id_column or not text_column or (grade_required and not grade_column):
                needed = "essay_id,text,grade" if grade_required else "essay_id,text (and optionally grade)"
                raise InputError(f"{path}: the header must name the columns {needed}; found {reader.fieldnames}")
            rows = []
            for line, row in enumerate(reader, start=2):
                essay_id, text = (row.get(id_column) or "").strip(), (row.get(text_column) or "").strip()
                grade = (row.get(grade_column) or "").strip() if grade_column else ""
                if not essay_id or not text:
                    raise InputError(f"{path}, line {line}: essay_id and text must both be non-empty")
                if grade_required and not grade:
                    raise InputError(f"{path}, line {line}: an anchor essay needs its grade")
                rows.append(EssayText(essay_id_from_name(essay_id), text, grade, essay_id, f"{path}, line {line}"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from exc
    return rows


# The CJ proto has no field for an essay's name, so the client keeps names in the assessment's labels,
# one per essay whose name is not its id; reports read them back (and show the id where there is none).
NAME_LABEL_PREFIX = "essay-name/"
MAX_NAME_LENGTH = 256  # well within what a label value may hold


def name_labels(texts: list[EssayText]) -> dict[str, str]:
    return {NAME_LABEL_PREFIX + t.essay_id: t.name[:MAX_NAME_LENGTH] for t in texts if t.name and t.name != t.essay_id}


def names_from_labels(labels: dict[str, str]) -> dict[str, str]:
    prefix = NAME_LABEL_PREFIX
    return {key.removeprefix(prefix): value for key, value in labels.items() if key.startswith(prefix)}
