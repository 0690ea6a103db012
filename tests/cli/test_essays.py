"""Reading essays and anchors from folders and CSV files, and the errors a user sees."""

from __future__ import annotations

import pytest

from huleedu_cli.essays import InputError, essay_id_from_name, load


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


@pytest.mark.parametrize(
    ("name", "essay_id"),
    [
        ("Søren Ødegaard", "Soren_Odegaard"),
        ("Łukasz Nowak", "Lukasz_Nowak"),
        ("Иван Петров", "Ivan_Petrov"),
        ("张伟", "Zhang_Wei"),
        ("Åsa Öberg", "Asa_Oberg"),
        ("  essay #3 (final)  ", "essay_3_final"),
    ],
)
def test_names_keep_their_letters_through_transliteration(name, essay_id):
    assert essay_id_from_name(name) == essay_id


def test_a_name_of_symbols_only_still_gets_a_stable_non_empty_id():
    assert essay_id_from_name("???") == essay_id_from_name("???") != essay_id_from_name("!!!")
    assert essay_id_from_name("???").startswith("essay-")


def test_folders_and_csv_files_follow_the_same_rule_and_keep_the_name(tmp_path):
    write(tmp_path / "class" / "Søren Ødegaard.txt", "An essay.")
    write(tmp_path / "class" / "张伟.txt", "Another essay.")
    csv_file = write(tmp_path / "class.csv", 'essay_id,text\nSøren Ødegaard,"An essay."\n张伟,Another essay.\n')
    from_folder, from_csv = load(tmp_path / "class"), load(csv_file)
    ids = sorted((e.essay_id, e.display_name) for e in from_folder.essays)
    assert ids == sorted((e.essay_id, e.display_name) for e in from_csv.essays)
    assert ids == [("Soren_Odegaard", "Søren Ødegaard"), ("Zhang_Wei", "张伟")]


def test_a_csv_id_with_letters_outside_ascii_is_accepted(tmp_path):
    csv_file = write(tmp_path / "class.csv", "essay_id,text\nÅsa Öberg,Phones distract.\n")
    (essay,) = load(csv_file).essays
    assert (essay.essay_id, essay.name) == ("Asa_Oberg", "Åsa Öberg")


def test_two_essays_that_map_to_one_id_are_a_clear_error(tmp_path):
    write(tmp_path / "class" / "Åsa Öberg.txt", "One essay.")
    write(tmp_path / "class" / "Asa Oberg.md", "Another essay.")
    with pytest.raises(InputError, match="both become the essay id 'Asa_Oberg'") as raised:
        load(tmp_path / "class")
    assert "Åsa Öberg.txt" in str(raised.value) and "Asa Oberg.md" in str(raised.value)


def test_an_anchor_and_an_essay_that_map_to_one_id_are_an_error(tmp_path):
    csv_file = write(tmp_path / "class.csv", "essay_id,text,grade\nmodel b,Essay.,\nmodel-b,Anchor.,B\n")
    write(tmp_path / "anchors" / "B" / "model_b.txt", "Anchor.")
    with pytest.raises(InputError, match="line 2"):
        load(csv_file, tmp_path / "anchors")
