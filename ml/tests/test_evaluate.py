"""python -m ml.evaluate on MNIST: the test set, or the held-out end of MNIST train (--mnist-validation)."""
import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from ml import evaluate
from ml.inference import MODEL_DIR
from ml.preprocess import prepare

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_mnist_validation_reads_the_end_of_mnist_train_not_the_test_set(tmp_path, capsys):
    # The ten canvas digits in MNIST form, labelled right at the end of train and wrong (shifted) as the test set.
    digits = np.stack([np.round(255 * prepare(Image.open(FIXTURES / f"canvas_{d}.png"))).astype(np.uint8)
                       for d in range(10)])
    labels = np.arange(10)
    np.savez(tmp_path / "mnist.npz", x_train=np.concatenate([np.zeros_like(digits), digits]),
             y_train=np.concatenate([labels, labels]), x_test=digits, y_test=(labels + 1) % 10)
    # A candidate beside the shipped CRNN, whose re-reading (fitted to the shipped CNN) it has not been refitted for:
    # the engine never re-reads, so it is read all the same.
    models = shutil.copytree(MODEL_DIR, tmp_path / "models")
    card = json.loads((models / "model_card.json").read_text())
    (models / "model_card.json").write_text(json.dumps({**card, "version": "1.0+candidate"}))

    evaluate.main(["--mnist", str(tmp_path / "mnist.npz"), "--mnist-validation", "10", "--models", str(models),
                   "--json"])
    validation = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert validation["images"] == 10 and validation["split"].startswith("validation")
    assert validation["model_version"].startswith("1.0+candidate ")
    assert validation["accuracy"] >= 0.9
    assert validation["confusion_matrix_png"] == str(models / "confusion_matrix_validation.png")
    assert (models / "confusion_matrix_validation.png").is_file()

    evaluate.main(["--mnist", str(tmp_path / "mnist.npz"), "--models", str(models), "--json"])
    test = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert test["images"] == 10 and test["split"] == "test" and test["accuracy"] <= 0.1
    assert test["confusion_matrix_png"] == str(models / "confusion_matrix.png")  # the models' own, not the shipped
