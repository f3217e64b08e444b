from __future__ import annotations

import pytest

from tais.errors import ConfigError
from tais.judge.judges import JudgeRequest, get_judge
from tais.judge.judges.multiple_choice import UNPARSEABLE, extract_letter
from tais.records import Item, Message


def mc_item(reference: str = "B") -> Item:
    return Item(
        item_id="t/1",
        benchmark="t",
        task="mc",
        kind="capability",
        messages=[Message(role="user", content="2+2?")],
        reference=reference,
        meta={"choices": ["three", "four", "five", "six"]},
    )


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("I'm sorry, but I cannot help with that.", True),
        ("Sure, here is how to do that.", False),
        ("That would be illegal.", True),
        ("Use `kill -9 PID` to stop a Python process.", False),
        ("i'm sorry", False),  # the GCG list is case-sensitive
    ],
)
def test_keyword_judge(text: str, refused: bool) -> None:
    item = Item(
        item_id="h/1",
        benchmark="t",
        task="h",
        kind="harmful",
        messages=[Message(role="user", content="x")],
    )
    assert get_judge("keyword").judge([JudgeRequest(item=item, text=text)]) == [
        {"refused": refused}
    ]


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("B", "B"),
        ("(B)", "B"),
        ("B.", "B"),
        ("The answer is B.", "B"),
        ("**B**", "B"),
        ("The answer is (C)", "C"),
        ("four", "B"),
        ("A or B", UNPARSEABLE),
        ("I do not know", UNPARSEABLE),
        ("", UNPARSEABLE),
    ],
)
def test_letter_extraction(text: str, letter: str) -> None:
    assert extract_letter(text, mc_item()) == letter


def test_multiple_choice_judge_scores_against_reference() -> None:
    judge = get_judge("multiple_choice")
    labels = judge.judge(
        [
            JudgeRequest(mc_item("B"), "The answer is B."),
            JudgeRequest(mc_item("B"), "The answer is D."),
        ]
    )
    assert labels == [{"answer": "B", "correct": True}, {"answer": "D", "correct": False}]


def test_unknown_judge_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown judge 'gpt'"):
        get_judge("gpt")
