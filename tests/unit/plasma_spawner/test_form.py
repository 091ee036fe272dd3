"""The spawn page's environment cards, read as a browser's accessibility tree would: one radio group named
`image`, each button labelled by its card, the values the REST API takes."""

from __future__ import annotations

from plasma_spawner.environments import Environment
from plasma_spawner.form import environment_cards
from tests.support.spawn_form import Cards

PYTHON = Environment.from_config(
    {"display_name": "Python", "image": "example/python:1", "folder": "f", "description": "NumPy & pandas <2>", "mem_limit": "4G", "cpu_limit": 2}
)
COURSE = Environment.from_config(
    {
        "display_name": 'Course "X"',
        "image": "localhost:5000/course:0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
        "folder": "f",
        "mem_limit": "512M",
        "cpu_limit": 1,
        "repository": "https://git.example.org/course.git",
        "commit": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
    }
)
BARE = Environment.from_config({"display_name": "Bare", "image": "example/bare:1", "folder": "f"})


def test_each_environment_is_a_card_of_one_radio_group_the_first_chosen():
    buttons = Cards(environment_cards([PYTHON, COURSE, BARE])).buttons
    assert [button["value"] for button in buttons] == ["Python", 'Course "X"', "Bare"]  # the names the REST API takes
    assert {button["name"] for button in buttons} == {"image"}
    assert [button["checked"] for button in buttons] == [True, False, False]
    assert all(button["required"] for button in buttons)


def test_a_card_shows_the_description_and_what_a_server_gets():
    python, course, bare = (" ".join(button["text"].split()) for button in Cards(environment_cards([PYTHON, COURSE, BARE])).buttons)
    assert python == "Python NumPy & pandas <2> Memory: 4.0 GiB CPU: 2 CPUs"
    assert course == 'Course "X" Memory: 512.0 MiB CPU: 1 CPU Built from https://git.example.org/course.git at 0a1b2c3d4e5f'
    assert bare == "Bare Memory: no limit CPU: shared"


def test_what_the_operator_wrote_is_shown_as_text_never_as_markup():
    form = environment_cards([PYTHON, COURSE])
    assert "NumPy &amp; pandas &lt;2&gt;" in form and "<2>" not in form
    assert 'value="Course &quot;X&quot;"' in form
