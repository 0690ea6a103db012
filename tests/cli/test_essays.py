"""Reading essays and anchors from folders and CSV files, and the errors a user sees."""

from __future__ import annotations

import pytest

from huleedu_cli.essays import InputError, load


def write(path, text: str, encoding: str = "utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def test_folder_of_essays_with_a_folder_of_anchors_by_grade(tmp_path):
    write(tmp_path / "class" / "Bea Öberg.txt", "Phones distract.\n")
    write(tmp_path / "class" / "adam.md", "Schools should allow phones.")
    write(tmp_path / "class" / "notes.pdf", "not an essay")
    write(tmp_path / "anchors" / "A" / "strong.txt", "A clear, well argued essay.")
    write(tmp_path / "anchors" / "E" / "weak.txt", "phones bad")
    loaded = load(tmp_path / "class", tmp_path / "anchors")
    assert [(e.essay_id, e.text) for e in loaded.essays] == [
        ("Bea_Oberg", "Phones distract."),
        ("adam", "Schools should allow phones."),
    ]
    assert [(a.essay_id, a.grade) for a in loaded.anchors] == [("strong", "A"), ("weak", "E")]


def test_csv_with_a_grade_column_splits_essays_from_anchors(tmp_path):
    csv_file = write(
        tmp_path / "class.csv",
        'essay_id,text,grade\nadam,"Schools should, in fact, allow phones.",\nmodel-b,"A model answer.",B\n',
    )
    loaded = load(csv_file)
    assert [e.essay_id for e in loaded.essays] == ["adam"] and loaded.essays[0].text.startswith("Schools should, in")
    assert [(a.essay_id, a.grade) for a in loaded.anchors] == [("model-b", "B")]


def test_csv_header_may_say_id_and_carry_a_byte_order_mark(tmp_path):
    csv_file = tmp_path / "class.csv"
    csv_file.write_bytes("\ufeffID,Text\nx1,First essay\n".encode())
    assert [e.essay_id for e in load(csv_file).essays] == ["x1"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,body\nx,y\n", "the header must name the columns essay_id,text"),
        ("essay_id,text\nx,\n", "line 2: essay_id and text must both be non-empty"),
        ("essay_id,text\n", "no essays found"),
    ],
)
def test_bad_csv_names_the_file_and_the_problem(tmp_path, content, message):
    csv_file = write(tmp_path / "class.csv", content)
    with pytest.raises(InputError, match=message) as raised:
        load(csv_file)
    assert str(csv_file) in str(raised.value)


def test_anchor_csv_needs_a_grade_on_every_row(tmp_path):
    essays = write(tmp_path / "class.csv", "essay_id,text\nx,An essay.\n")
    write(tmp_path / "anchors.csv", "essay_id,text,grade\na1,An anchor.,C\na2,Another anchor.,\n")
    with pytest.raises(InputError, match="line 3: an anchor essay needs its grade"):
        load(essays, tmp_path / "anchors.csv")
    write(tmp_path / "anchors2.csv", "essay_id,text\na1,An anchor.\n")
    with pytest.raises(InputError, match="essay_id,text,grade"):
        load(essays, tmp_path / "anchors2.csv")


def test_empty_or_undecodable_files_and_missing_paths_are_clear_errors(tmp_path):
    write(tmp_path / "class" / "blank.txt", "   \n")
    with pytest.raises(InputError, match=r"blank\.txt: the file is empty"):
        load(tmp_path / "class")
    (tmp_path / "latin" / "x.txt").parent.mkdir()
    (tmp_path / "latin" / "x.txt").write_bytes("Malmö gymnasium".encode("latin-1"))
    with pytest.raises(InputError, match=r"x\.txt: not UTF-8 text"):
        load(tmp_path / "latin")
    with pytest.raises(InputError, match="no such file or folder"):
        load(tmp_path / "missing.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no essays found"):
        load(tmp_path / "empty")
    write(tmp_path / "ok" / "e.txt", "An essay.")
    (tmp_path / "no-grades").mkdir()
    with pytest.raises(InputError, match="one subfolder per grade"):
        load(tmp_path / "ok", tmp_path / "no-grades")
