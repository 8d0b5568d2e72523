"""The shipped model and its LiteRT runtime: readings, batching, the CLI, no TensorFlow."""
import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml import predict
from ml.inference import Reading, Recognizer, get_recognizer
from ml.preprocess import ImageError, prepare
from ml.strings import mnist_line, prepare_line
from ml.tests.synth import draw_digit, encode, photo

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = sorted(FIXTURES.glob("*_[0-9].*"))
BLANK = encode(Image.new("L", (280, 280), 255))


@pytest.fixture(scope="module")
def recognizer():
    return get_recognizer()


def expected(path):
    return int(path.stem[-1])


@pytest.mark.parametrize("path", [p for p in SAMPLES if not p.name.startswith("orand")], ids=lambda p: p.name)
def test_reads_canvas_and_scanned_samples(recognizer, path):
    reading = recognizer.read_one(path.read_bytes())
    assert (reading.digit, reading.status) == (expected(path), "done")
    assert reading.confidence > 0.5


def test_reads_real_cheque_handwriting(recognizer):
    """Writers from outside MNIST: at most one miss in ten."""
    paths = sorted(FIXTURES.glob("orand_*"))
    readings = recognizer.read([p.read_bytes() for p in paths])
    misses = [(p.name, r.digit) for p, r in zip(paths, readings) if r.digit != expected(p)]
    assert len(paths) == 10 and len(misses) <= 1, misses


@pytest.mark.parametrize("digit", [0, 1, 4, 7])
def test_reads_drawn_strokes(recognizer, digit):
    assert recognizer.read_one(encode(draw_digit(digit))).digit == digit
    assert recognizer.read_one(encode(photo(draw_digit(digit)), "JPEG")).digit == digit


def overlapped_digits():
    """Two digits drawn over each other leave the CNN unsure; a clean one does not. MNIST form, (4, 28, 28)."""
    digit = {d: prepare(Image.open(FIXTURES / f"canvas_{d}.png")) for d in (2, 4, 5, 6, 7, 9)}
    return np.stack([(digit[4] + digit[9]) / 2, (digit[2] + digit[7]) / 2, np.maximum(digit[5], digit[6]), digit[7]])


def mix(p, q, weight):
    mixed = np.exp((1 - weight) * np.log(p + 1e-7) + weight * np.log(q + 1e-7))
    return mixed / mixed.sum(axis=1, keepdims=True)


def test_the_engine_asks_the_crnn_where_the_cnn_is_unsure(recognizer):
    """Where the CNN is less sure than the card's consult_below, the engine's probabilities are the card's weighted
    mix of the CNN's and the CRNN's; elsewhere the CNN's own. Digits given in MNIST form only are drawn as a line
    for the CRNN, with that source's own weight."""
    ensemble = recognizer.ensemble
    assert ensemble["fitted_on"]["split"] == "validation" and 0 < ensemble["mnist_form"]["string_weight"] < 1
    x = overlapped_digits()
    p = Recognizer(ensemble=False).read_arrays(x)
    unsure = p.max(axis=1) < ensemble["consult_below"]
    assert 0 < unsure.sum() < len(x)  # both kinds are in the batch
    form = ensemble["mnist_form"]
    q = recognizer.strings.digit_probabilities([mnist_line(a) for a in x[unsure]], form["passes"])
    engine = recognizer.read_arrays(x)
    assert np.allclose(engine[unsure], mix(p[unsure], q, form["string_weight"]), atol=1e-5)
    assert np.array_equal(engine[~unsure], p[~unsure])
    assert not np.allclose(engine[unsure], p[unsure], atol=1e-3)


def test_an_upload_the_cnn_is_unsure_of_is_read_by_the_crnn_from_its_file(recognizer):
    """From an upload, the CRNN reads the file itself as a line (ml.strings.prepare_line), not the digit's MNIST
    form, with the card's weight and passes for files."""
    ensemble = recognizer.ensemble
    assert 0 < ensemble["string_weight"] < 1 and ensemble["passes"] >= 1
    files = [encode(Image.fromarray(np.uint8(255 - 255 * a)).resize((280, 280))) for a in overlapped_digits()]
    x = np.stack([prepare(Image.open(io.BytesIO(data))) for data in files])
    p = Recognizer(ensemble=False).read_arrays(x)
    unsure = np.flatnonzero(p.max(axis=1) < ensemble["consult_below"])
    assert 0 < len(unsure) < len(files)
    q = recognizer.strings.digit_probabilities([prepare_line(files[i]).x for i in unsure], ensemble["passes"])
    readings = recognizer.read(files)
    engine = np.array([reading.probabilities for reading in readings])
    assert np.allclose(engine[unsure], mix(p[unsure], q, ensemble["string_weight"]), atol=1e-5)
    form = recognizer.read_arrays(x)  # the same digits without their files: another line, another weight
    assert not np.allclose(engine[unsure], form[unsure], atol=1e-3)


def test_reading_fields(recognizer):
    reading = recognizer.read_one(encode(draw_digit(7)))
    assert isinstance(reading, Reading)
    assert len(reading.probabilities) == 10 and sum(reading.probabilities) == pytest.approx(1, abs=1e-4)
    assert reading.confidence == max(reading.probabilities)
    # Both networks of the engine are named: the digit CNN's version, then the string reader's.
    assert reading.model_version == f"{recognizer.card['version']} {recognizer.strings.card['version']}"
    assert set(reading.timings) == {"decode", "preprocess", "infer", "total"}
    assert json.loads(json.dumps(reading.to_dict()))["digit"] == 7


def test_blank_reading(recognizer):
    reading = recognizer.read_one(BLANK)
    assert (reading.digit, reading.status, reading.confidence) == (None, "blank", 0.0)
    assert reading.probabilities == [0.1] * 10


def test_batch_keeps_order_and_isolates_bad_files(recognizer):
    images = [encode(draw_digit(d)) for d in (4, 7)]
    results = recognizer.read([images[0], b"not an image", BLANK, images[1]])
    assert [type(r) for r in results] == [Reading, ImageError, Reading, Reading]
    assert [results[0].digit, results[2].digit, results[3].digit] == [4, None, 7]
    with pytest.raises(ImageError):
        recognizer.read_one(b"")


def test_read_arrays_matches_single_reads(recognizer):
    x = np.random.default_rng(0).random((300, 28, 28), np.float32)
    together = recognizer.read_arrays(x)
    assert together.shape == (300, 10)
    assert np.allclose(together[:3], recognizer.read_arrays(x[:3]), atol=1e-5)


def test_one_recognizer_per_process_even_with_threads():
    found = []
    threads = [threading.Thread(target=lambda: found.append(get_recognizer())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(r) for r in found}) == 1 and found[0] is get_recognizer()


def test_concurrent_reads_are_safe():
    recognizer = Recognizer()
    image = encode(draw_digit(4))
    results = []
    threads = [threading.Thread(target=lambda: results.append(recognizer.read_one(image).digit))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [4] * 6


def test_inference_does_not_import_tensorflow(tmp_path):
    sample = tmp_path / "four.png"
    sample.write_bytes(encode(draw_digit(4)))
    code = ("import sys; from ml.inference import get_recognizer; "
            f"print(get_recognizer().read_one(open({str(sample)!r}, 'rb').read()).digit); "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout.split()
    assert out == ["4", "False"]


def test_predict_cli_json(tmp_path, capsys):
    good, bad = tmp_path / "seven.png", tmp_path / "notes.txt"
    good.write_bytes(encode(draw_digit(7)))
    bad.write_text("shopping list")
    predict.main([str(good), str(bad), str(tmp_path / "missing.png"), "--json"])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in records] == [str(good), str(bad), str(tmp_path / "missing.png")]
    assert records[0]["digit"] == 7 and 0 < records[0]["confidence"] <= 1
    assert "error" in records[1] and "error" in records[2]
