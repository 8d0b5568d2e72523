"""python -m ml.train for the digit CNN: a short run from scratch, then a fine-tune from it (--init)."""
import json

import keras
import numpy as np
import pytest

from ml.inference import Recognizer
from ml.tests.synth import bar_mnist
from ml.train import continental_digits, distillation_loss, main


def test_a_run_and_a_fine_tune_from_it_write_servable_models_and_cards_that_say_what_was_done(tmp_path):
    mnist = bar_mnist(tmp_path / "mnist.npz", count=200)
    main(["--mnist", str(mnist), "--epochs", "2", "--width", "4", "--batch-size", "32",
          "--mnist-validation", "40", "--out", str(tmp_path / "base")])
    base = json.loads((tmp_path / "base" / "model_card.json").read_text())
    assert base["data"]["train_images"] == 160  # the last 40 of MNIST train held out
    assert 0 <= base["mnist_validation_accuracy"] <= 1
    assert base["training"]["width"] == 4 and "init" not in base["training"]

    # The same command gives the same model.
    main(["--mnist", str(mnist), "--epochs", "2", "--width", "4", "--batch-size", "32",
          "--mnist-validation", "40", "--out", str(tmp_path / "again")])
    weights = [keras.models.load_model(tmp_path / run / "digits.keras").get_weights() for run in ("base", "again")]
    assert all(np.array_equal(a, b) for a, b in zip(*weights))

    # The fine-tune's width is the model it starts from, whatever --width says; it keeps the base's MNIST answers.
    main(["--mnist", str(mnist), "--init", str(tmp_path / "base" / "digits.keras"), "--epochs", "2",
          "--batch-size", "32", "--lr", "3e-4", "--distill", "1", "--mnist-validation", "40",
          "--out", str(tmp_path / "ft")])
    tuned = json.loads((tmp_path / "ft" / "model_card.json").read_text())
    assert tuned["training"]["width"] == 4 and tuned["parameters"] == base["parameters"]
    assert tuned["training"]["init"].endswith("digits.keras") and tuned["version"] != base["version"]
    assert tuned["training"]["distill"]["weight"] == 1 and 0 <= tuned["mnist_validation_accuracy"] <= 1

    reading = Recognizer(tmp_path / "ft", ensemble=False).read_arrays(np.zeros((1, 28, 28, 1), np.float32))
    assert reading.shape == (1, 10) and np.isclose(reading.sum(), 1, atol=1e-4)


def test_the_distillation_loss_adds_to_the_label_s_cross_entropy_only_on_mnist_images_the_teacher_reads_otherwise():
    loss = distillation_loss(1.0)
    student = np.array([[0.7, 0.2, 0.1] + [0.0] * 7, [0.7, 0.2, 0.1] + [0.0] * 7], np.float32)
    same = np.concatenate([[[0, 1], [0, 0]], student], axis=1).astype(np.float32)  # teacher = student
    other = same.copy()
    other[:, 2:5] = [0.1, 0.2, 0.7]  # the teacher reads the last class
    cross_entropy = -np.log(0.7)
    assert np.allclose(np.asarray(loss(same, student)), cross_entropy, atol=1e-4)
    with_other = np.asarray(loss(other, student))
    assert with_other[0] > cross_entropy + 0.1  # an MNIST image: pulled towards the teacher
    assert np.isclose(with_other[1], cross_entropy, atol=1e-4)  # a cheque crop: the label alone


def test_continental_digits_are_ones_and_sevens_written_so_in_mnist_form():
    images = np.zeros((400, 28, 28), np.uint8)
    images[:, 4:24, 13:15] = 255  # upright strokes: 1s, or 7s without their tops
    labels = np.arange(400) % 10
    x, y = continental_digits(images, labels, 0.5, seed=3)
    assert set(y) == {1, 7} and 20 <= len(y) <= 60  # about half of the 80 1s and 7s
    assert x.shape == (len(y), 28, 28, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    plain = images[0].astype(np.float32) / 255
    assert all((digit[..., 0] > 0.5).sum() > (plain > 0.5).sum() * 0.5 for digit in x)  # ink, brought to MNIST form
    assert not any(np.array_equal(digit[..., 0], plain) for digit in x)  # each with its flag or bar
    again, _ = continental_digits(images, labels, 0.5, seed=3)
    assert np.array_equal(x, again)
    none, no_labels = continental_digits(images[labels == 4], labels[labels == 4], 0.5, seed=3)  # no 1s or 7s
    assert none.shape == (0, 28, 28, 1) and len(no_labels) == 0


@pytest.mark.parametrize("argv", [["--distill", "1"], ["--splice", "0.5"], ["--strings", "--splice", "0.5"],
                                  ["--strings", "--orand", "x", "--splice", "2"], ["--binarize", "0.2"],
                                  ["--strings", "--binarize", "1.5"], ["--continental", "1.5"]])
def test_options_that_cannot_apply_are_refused_before_anything_is_read(argv, capsys):
    """--distill without the model to keep, --splice without ORAND lines to cut or outside (0, 1], --binarize
    without string lines or outside (0, 1], --continental outside (0, 1]: a usage error, not a run that quietly
    ignores the option."""
    with pytest.raises(SystemExit) as stopped:
        main(["--mnist", "/nonexistent/mnist.npz", *argv])
    assert stopped.value.code == 2 and "needs" in capsys.readouterr().err
