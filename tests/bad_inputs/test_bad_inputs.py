"""The bad-input corpus (tests/bad_inputs/corpus.py), every case run against the real reader, mapping,
contracts and policy in one small warehouse: refused naming the file, column or rule, or quarantined row
by row with the reason, the good rows loaded, never a crash."""

from __future__ import annotations

import duckdb
import pytest
from corpus import CASES, Corpus, Outcome


@pytest.fixture(scope="module")
def corpus(chicago_config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_inputs")
    with duckdb.connect(str(folder / "corpus.duckdb")) as con:
        yield Corpus(chicago_config, folder, con)


def test_the_corpus_is_large_and_covers_every_feed():
    from beatwise.contracts import CONTRACTS

    assert len(CASES) >= 40
    assert set(CONTRACTS) <= {case.feed for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.feed}: {c.name}" for c in CASES])
def test_a_bad_input_is_refused_or_quarantined_and_the_good_rows_load(corpus, case):
    outcome: Outcome = case.run(corpus)
    assert outcome.crash == 0, outcome.message
    assert outcome.outcome == case.expect, outcome.message
    assert case.says in outcome.message
    if outcome.outcome != "refused":
        assert outcome.loaded == outcome.good_in, outcome.message
