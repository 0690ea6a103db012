"""Reading essays and anchor essays from a folder or a CSV file, with errors that name the file and row.

A folder holds one essay per `.txt` or `.md` file; the file name without its suffix is the
essay id, with accents dropped and any other character than ASCII letters, digits and
`. _ : -` (which is all an id may hold) replaced by `_`, so `Åsa Öberg.txt` becomes
`Asa_Oberg`. A folder of anchors holds one subfolder per grade (`anchors/B/strong-essay.txt`).

A CSV file has a header row with `essay_id` (or `id`) and `text`; an optional `grade`
column marks a row as an anchor essay of that known grade. A CSV of anchors must give
every row a grade.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ESSAY_SUFFIXES = (".txt", ".md")
NOT_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._:-]+")


class InputError(ValueError):
    """The essays cannot be read; the message says which file or row and why."""


@dataclass(frozen=True)
class EssayText:
    essay_id: str
    text: str
    grade: str = ""  # non-empty for an anchor essay of known grade


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
    return loaded


def _load_essays(path: Path) -> EssaySet:
    if path.is_dir():
        return EssaySet(essays=[_read_file(file) for file in _essay_files(path)])
    rows = _read_csv(path, grade_required=False)
    return EssaySet(essays=[r for r in rows if not r.grade], anchors=[r for r in rows if r.grade])


def _load_anchors(path: Path) -> list[EssayText]:
    if not path.is_dir():
        return _read_csv(path, grade_required=True)
    anchors = [
        EssayText(essay.essay_id, essay.text, grade=grade_dir.name)
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
    return EssayText(essay_id_from_name(file.stem), text)


def essay_id_from_name(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return NOT_ID_CHARACTERS.sub("_", ascii_name)


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
                rows.append(EssayText(essay_id, text, grade))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from exc
    return rows
