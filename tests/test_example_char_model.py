"""examples/09_char_model.py's claims, on its quick setting (a few seconds): the model learns (its validation
loss is far below guessing uniformly, and below counting bigrams), its word list and samples repeat, and
its embeddings put the vowels together. (tests/test_examples.py also runs it and checks its files.)"""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

example = importlib.import_module("examples.09_char_model")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return example.main(tmp_path_factory.mktemp("09"), quick=True)


def test_validation_loss_is_far_below_the_uniform_guess_and_below_bigram_counts(result):
    assert result["uniform_loss"] == pytest.approx(math.log(27))
    assert result["val_loss"] < 0.8 * result["uniform_loss"], result["val_loss"]
    assert result["val_loss"] < result["bigram_loss"] < result["uniform_loss"]
    assert result["train_curve"][0] == pytest.approx(math.log(27), abs=0.5)  # it starts out guessing
    assert result["val_curve"][-1][1] == pytest.approx(result["val_loss"])  # the curve ends where the claim is


def test_samples_are_new_words_made_of_letters(result):
    samples = result["samples"]
    assert len(samples) == 12 and all(w.isalpha() and w.islower() for w in samples if w)
    assert result["novel_samples"] >= 6  # it writes words it has not seen, not only copies


def test_vowels_sit_together_in_the_embedding(result):
    assert result["vowel_distance"] < result["vowel_consonant_distance"]


def test_the_word_list_is_the_same_in_every_process():
    code = "import importlib; print(','.join(importlib.import_module('examples.09_char_model').make_words(300)))"
    root = Path(__file__).resolve().parent.parent
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONHASHSEED": seed}, check=True
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1] == ",".join(example.make_words(300)) + "\n"
    words = example.make_words(300)
    assert len(set(words)) == 300 and all(3 <= len(w) <= 12 and w.isalpha() for w in words)


def test_dataset_rows_are_context_and_next_character():
    X, Y = example.dataset(["ab"])
    assert X.tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 2]] and Y.tolist() == [1, 2, 0]  # "...": a, "..a": b, ".ab": "."
