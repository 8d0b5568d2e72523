"""ml.robustness: the string reader's figures on fields changed as other files would bring them."""
import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from ml import robustness
from ml.tests.test_strings import compose


@pytest.fixture
def fields(tmp_path):
    (tmp_path / "images").mkdir()
    with open(tmp_path / "labels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "digits"])
        for i, text in enumerate(["907", "3614", "2389"]):
            image, _ = compose(text, 40)
            image.reduce(2).save(tmp_path / "images" / f"{i}.jpg", quality=90)
            writer.writerow([f"{i}.jpg", text])
    return tmp_path


def test_each_change_makes_a_readable_image():
    grey = Image.new("L", (120, 40), 230)
    for name, change in robustness.CHANGES.items():
        data = change(grey, np.random.default_rng(0))
        assert data is None if name == "as is" else Image.open(io.BytesIO(data)).size[0] >= 60


def test_figures_per_change(fields, capsys):
    robustness.main([str(fields), "--only", "as is", "scale 4", "inverted", "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == ["as is", "scale 4", "inverted"]
    assert figures["as is"]["exact_accuracy"] == 1.0 and figures["as is"]["errors"] == 0
    for row in figures.values():
        assert row["fields"] == 3 and 0 <= row["accepted_right"] <= row["accepted"] <= 3
        assert row["auto_accepted"] == row["accepted"] / 3


def test_unknown_change_is_refused(fields):
    with pytest.raises(SystemExit):
        robustness.main([str(fields), "--only", "upside down"])
