"""python -m ml.train for the digit CNN: a short run from scratch, then a fine-tune from it (--init)."""
import json

import numpy as np

from ml.inference import Recognizer
from ml.tests.synth import bar_mnist
from ml.train import main


def test_a_run_and_a_fine_tune_from_it_write_servable_models_and_cards_that_say_what_was_done(tmp_path):
    mnist = bar_mnist(tmp_path / "mnist.npz", count=200)
    main(["--mnist", str(mnist), "--epochs", "2", "--width", "4", "--batch-size", "32",
          "--mnist-validation", "40", "--out", str(tmp_path / "base")])
    base = json.loads((tmp_path / "base" / "model_card.json").read_text())
    assert base["data"]["train_images"] == 160  # the last 40 of MNIST train held out
    assert 0 <= base["mnist_validation_accuracy"] <= 1
    assert base["training"]["width"] == 4 and "init" not in base["training"]

    # The fine-tune's width is the model it starts from, whatever --width says.
    main(["--mnist", str(mnist), "--init", str(tmp_path / "base" / "digits.keras"), "--epochs", "2",
          "--batch-size", "32", "--lr", "3e-4", "--out", str(tmp_path / "ft")])
    tuned = json.loads((tmp_path / "ft" / "model_card.json").read_text())
    assert tuned["training"]["width"] == 4 and tuned["parameters"] == base["parameters"]
    assert tuned["training"]["init"].endswith("digits.keras") and tuned["version"] != base["version"]

    reading = Recognizer(tmp_path / "ft", ensemble=False).read_arrays(np.zeros((1, 28, 28, 1), np.float32))
    assert reading.shape == (1, 10) and np.isclose(reading.sum(), 1, atol=1e-4)
