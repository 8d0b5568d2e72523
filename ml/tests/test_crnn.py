"""The CRNN string reader's pieces: the synthetic line generator, the shared normalisation, greedy CTC
decoding, the model's shape and its LiteRT export, two training runs of a few batches. No data files."""
import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from PIL import Image

from ml.ctc import BLANK, greedy_decode
from ml.data import orand_split
from ml.photos import lean
from ml.synth_strings import HEIGHT, SEPARATORS, WIDTH, LineSynth, continental, normalise_line, orand_train_crops


def box_digits():
    """Ten 28x28 stand-ins for digits, MNIST-like (white strokes on black): hollow boxes of 2 px strokes."""
    images = np.zeros((10, 28, 28), np.uint8)
    images[:, 4:24, 8:20] = 255
    images[:, 6:22, 10:18] = 0
    return images, np.arange(10)


def test_line_label_is_the_digits_asked_for_in_order():
    synth = LineSynth(*box_digits(), seed=3)
    for digits in ([3, 1, 4], [0], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]):
        ink, label = synth.ink_line(digits)
        assert label == "".join(map(str, digits))
        assert ink.ndim == 2 and ink.max() > 0.5


def test_compose_places_the_pieces_left_to_right_with_their_gaps():
    synth = LineSynth(*box_digits(), seed=0)
    pieces = [np.ones((20, w), np.float32) for w in (4, 10, 6)]
    canvas, spans = synth.compose(pieces, 20, gaps=[5, -3])
    assert [b - a for a, b in spans] == [4, 10, 6]
    assert spans[1][0] - spans[0][1] == 5 and spans[2][0] - spans[1][1] == -3  # a gap, then an overlap
    columns = np.flatnonzero(canvas.max(0) > 0)
    assert columns[0] == spans[0][0] and columns[-1] == spans[2][1] - 1


def test_lines_are_deterministic_by_seed():
    images, labels = box_digits()
    a = [LineSynth(images, labels, seed=7).line() for _ in range(2)]
    assert np.array_equal(a[0][0], a[1][0]) and a[0][1] == a[1][1]
    first, second = LineSynth(images, labels, seed=7), LineSynth(images, labels, seed=8)
    assert [first.line()[1] for _ in range(5)] != [second.line()[1] for _ in range(5)]


def test_labels_are_digits_only_one_to_ten_of_them_and_images_are_grey_scans():
    synth = LineSynth(*box_digits(), seed=1)
    for _ in range(100):
        image, label = synth.line()
        assert label.isdigit() and 1 <= len(label) <= 10 and not set(label) & set(SEPARATORS)
        assert image.dtype == np.uint8 and image.ndim == 2
        assert np.median(image) > image.min() + 40  # dark ink on lighter paper


def test_separators_are_drawn_but_not_labelled():
    synth = LineSynth(*box_digits(), seed=2)
    for char in SEPARATORS:
        assert synth.separator(char, 30).max() > 0.5


def test_normalise_line_shape_range_and_crop():
    rng = np.random.default_rng(0)
    for h, w in ((20, 30), (60, 200), (40, 900)):
        grey = np.full((h, w), 200, np.uint8)
        grey[h // 4: 3 * h // 4, w // 5: w // 2] = 30
        grey = np.clip(grey + rng.normal(0, 3, grey.shape), 0, 255).astype(np.uint8)
        x = normalise_line(grey)
        assert x.shape == (HEIGHT, WIDTH) and x.dtype == np.float32
        assert 0 <= x.min() and x.max() <= 1
        edge = HEIGHT // 8  # the crop keeps a 1 px margin, scaled with the line
        assert x[:, :edge].max() > 0.5 and x[:edge].max() > 0.5 and x[-edge:].max() > 0.5  # cropped to the ink
    assert not normalise_line(np.full((30, 90), 180, np.uint8)).any()  # blank paper: nothing


def test_normalise_line_keeps_the_aspect_and_squeezes_over_wide_lines():
    grey = np.full((50, 400), 220, np.uint8)
    grey[10:40, 10:130] = 20  # ink 30 x 120: 4 times wider than high
    assert np.flatnonzero(normalise_line(grey).max(0) > 0.5)[-1] + 1 in range(4 * HEIGHT - 10, 4 * HEIGHT + 2)
    grey = np.full((80, 400), 220, np.uint8)  # paper must be most of the field (its median)
    grey[10:40, 10:390] = 20  # over 8 times wider than high: squeezed to fill the width
    assert normalise_line(grey)[:, -3:].max() > 0.5


def test_orand_crops_come_from_the_train_split_only(tmp_path):
    train, test = orand_split("train")[0], orand_split("test")[0]
    (tmp_path / "images").mkdir()
    boxes = {}
    for name in (train, test):
        page = np.full((40, 60), 200, np.uint8)
        page[10:30, 10:20] = 20
        Image.fromarray(page).save(tmp_path / "images" / name)
        boxes[name] = [{"bbox": [8, 8, 14, 24], "digit": 1 if name == train else 7}]
    (tmp_path / "boxes.json").write_text(json.dumps(boxes))
    crops = orand_train_crops(tmp_path)
    assert [d for _, d in crops] == [1]


def test_orand_crops_stay_on_the_page(tmp_path):
    """A digit box at the page's edge: its margin is cut at the edge, not filled with black (which reads as ink:
    a fifth of the misread crops were such black borders)."""
    from ml.data import orand_crops

    (tmp_path / "images").mkdir()
    page = np.full((40, 60), 200, np.uint8)
    page[0:30, 0:10] = 20
    Image.fromarray(page).save(tmp_path / "images" / "a.png")
    (tmp_path / "boxes.json").write_text(json.dumps({"a.png": [{"bbox": [0, 0, 10, 30], "digit": 1}]}))
    [(crop, digit, isolated)] = list(orand_crops(tmp_path, margin=2))
    assert (digit, isolated, crop.size) == (1, True, (12, 32))
    assert np.asarray(crop)[:, 10:].min() == 200  # the margin that is on the page is paper


def test_orand_uploads_are_the_crops_as_png_files(tmp_path):
    """Training, fitting and evaluation read the crops as uploads arrive: PNG bytes, one split's only."""
    from ml.data import orand_uploads

    train, test = orand_split("train")[0], orand_split("test")[0]
    (tmp_path / "images").mkdir()
    page = np.full((40, 60), 200, np.uint8)
    page[10:30, 10:20] = 20
    for name in (train, test):
        Image.fromarray(page).save(tmp_path / "images" / name, format="PNG")  # lossless, to compare the pixels
    (tmp_path / "boxes.json").write_text(json.dumps({name: [{"bbox": [8, 8, 14, 24], "digit": d}]
                                                     for name, d in ((train, 1), (test, 7))}))
    [(data, digit)] = list(orand_uploads(tmp_path, split="test"))
    image = Image.open(io.BytesIO(data))
    assert (digit, image.format, image.size) == (7, "PNG", (18, 28))
    assert np.array_equal(np.asarray(image), page[6:34, 6:24])


def one_hot(classes, p=0.9):
    """A (T, 11) matrix giving each column's class probability p, the rest spread evenly."""
    m = np.full((len(classes), 11), (1 - p) / 10)
    m[np.arange(len(classes)), classes] = p
    return m


def test_greedy_decode_merges_runs_and_drops_blanks():
    b = BLANK
    digits, characters = greedy_decode(one_hot([b, 1, 1, b, 1, 2, 2, 2, b, b]))
    assert digits == "112"
    assert [(c[0], c[2], c[3]) for c in characters] == [("1", 1, 2), ("1", 4, 4), ("2", 5, 7)]
    assert all(c[1] == pytest.approx(0.9) for c in characters)
    assert greedy_decode(one_hot([b, b, b]))[0] == ""
    assert greedy_decode(one_hot([3, 3, 0]))[0] == "30"  # runs reaching either end


def test_greedy_decode_reports_a_digits_best_column_probability():
    m = one_hot([b := BLANK, 5, 5, b])
    m[1, 5], m[2, 5] = 0.6, 0.8
    assert greedy_decode(m)[1] == [("5", pytest.approx(0.8), 1, 2)]


@pytest.fixture(scope="module")
def tiny_crnn():
    from ml.model import build_crnn

    return build_crnn(filters=4)


def test_crnn_gives_a_distribution_per_column(tiny_crnn):
    x = np.random.default_rng(0).random((2, HEIGHT, WIDTH, 1)).astype(np.float32)
    p = tiny_crnn.predict(x, verbose=0)
    assert p.shape == (2, WIDTH // 4, 11)
    assert np.allclose(p.sum(-1), 1, atol=1e-5)


def test_litert_export_matches_keras_at_any_width(tmp_path):
    """The export takes lines of any width, its weights in int8; cut to the ink and a margin, a line reads as at
    full width, and as the float Keras model does (within the quantization's error)."""
    from ai_edge_litert.interpreter import Interpreter

    from ml.model import build_crnn
    from ml.strings import read_width
    from ml.train_strings import export_tflite

    model = build_crnn(filters=16)  # wide enough for its convolutions to be quantized (over 1,024 weights)
    export_tflite(model, tmp_path / "crnn.tflite")
    interpreter = Interpreter(model_path=str(tmp_path / "crnn.tflite"))
    assert any(tensor["dtype"] == np.int8 for tensor in interpreter.get_tensor_details())
    index = interpreter.get_input_details()[0]["index"]
    x = normalise_line(LineSynth(*box_digits(), seed=4).line([3, 0, 7])[0])[None, ..., None]
    keras_p = model.predict(x, verbose=0)
    width = read_width(x[0, ..., 0])
    assert width < WIDTH
    for columns in (WIDTH, width):
        interpreter.resize_tensor_input(index, (1, HEIGHT, columns, 1))
        interpreter.allocate_tensors()
        interpreter.set_tensor(index, np.ascontiguousarray(x[:, :, :columns]))
        interpreter.invoke()
        lite = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        assert lite.shape == (1, columns // 4, 11)
        assert np.allclose(lite, keras_p[:, : columns // 4], atol=1e-3)


def test_label_corrections_apply_to_train_and_validation_only(tmp_path):
    from ml.data import SPLITS, orand_labels, orand_split_of, read_labels

    corrections = json.loads((SPLITS / "orand-car-a-corrections.json").read_text())["corrections"]
    assert corrections and all(orand_split_of(name) != "test" for name in corrections)
    test_file = orand_split("test")[0]
    rows = [f"{name},{c['given']}" for name, c in corrections.items()] + [f"{test_file},123"]
    (tmp_path / "labels.csv").write_text("file,digits\n" + "\n".join(rows) + "\n")
    labels = orand_labels(tmp_path)
    assert labels == {**read_labels(tmp_path), **{name: c["corrected"] for name, c in corrections.items()}}
    assert labels[test_file] == "123"


def test_batches_are_the_same_whichever_process_makes_them():
    """Batch i comes from its own random stream: made here or by two worker processes, the run sees the same lines
    and labels, so a run on a GPU machine with many cores trains on what a run here would."""
    from ml.train_strings import batches

    real = real_line([1, 2], gaps=[6]), real_line([7], gaps=[])  # two "real lines", to take that path (spliced) too
    real = tuple(zip(*real))
    here = batches(LineSynth(*box_digits(), seed=0), real, 4, seed=5, real_share=0.5, splice_share=0.5,
                   binarize_share=0.5)
    pooled = batches(LineSynth(*box_digits(), seed=1), real, 4, seed=5, real_share=0.5, workers=2, splice_share=0.5,
                     binarize_share=0.5)
    made = [(next(here), next(pooled)) for _ in range(5)]
    for (x, y), (x2, y2) in made:
        assert x.shape == (4, HEIGHT, WIDTH, 1) and np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(made[0][0][0], made[1][0][0])  # and batch to batch they differ
    pooled.close()


def test_continental_sevens_are_crossed_and_ones_flagged():
    """A 7 gains a bar across its stem near the middle, a 1 a flag to the left of its top; other digits are left
    as they are, and at share 0 the lines are the ones drawn before the option existed (it takes no draw)."""
    stem = np.zeros((28, 28), np.uint8)
    stem[4:24, 13:15] = 255  # an upright stroke: the stem of a 7 without its top, or a 1
    rng = np.random.default_rng(0)
    for _ in range(20):
        seven, one = continental(stem, 7, rng), continental(stem, 1, rng)
        across = seven[11:19] > 100
        assert across[:, :11].any() and across[:, 16:].any()  # both sides of the stem, near its middle
        assert not (seven[:8] > 100)[:, :12].any()  # nothing at the top: that is a 1's flag
        assert (one[5:13, :12] > 100).any() and not (one[14:] > 100)[:, :12].any()  # left of the top only
    assert continental(stem, 4, rng) is stem
    # A 1 leaning 25 degrees runs down to the left from its top: its flag leaves the stem at 25-50 degrees more.
    leaning = lean(stem, 25)
    for _ in range(20):
        flag = (continental(leaning, 1, rng) > 100) & ~ndimage.binary_dilation(leaning > 100)
        rows, cols = np.nonzero(flag)
        assert len(rows) >= 4 and rows.max() < 16  # ink off the stem, in its upper part
    images, labels = box_digits()
    plain, share_0 = LineSynth(images, labels, seed=5), LineSynth(images, labels, seed=5, continental_share=0.0)
    assert all(np.array_equal(plain.line()[0], share_0.line()[0]) for _ in range(10))


def test_binarized_lines_are_black_ink_on_white_and_none_are_drawn_at_share_0():
    """Bitonal scans: every pixel black or white, the ink black and the paper white; at share 0 the batches are the
    ones drawn before the option existed (it takes no draw from the stream)."""
    from ml.train_strings import binarize, make_batch

    rng = np.random.default_rng(0)
    grey = np.full((40, 120), 200.0)
    grey[10:30, 20:26] = 60.0  # a stroke
    grey[::5] -= 30  # a printed pattern, fainter than the ink
    for _ in range(20):
        bitonal = binarize(grey, rng)
        assert set(np.unique(bitonal)) == {0.0, 255.0}
        assert (bitonal[10:30, 20:26] == 0).all() and bitonal[1, 60] == 255
    synth, real = LineSynth(*box_digits(), seed=0), tuple(zip(real_line([1, 2], gaps=[6])))
    plain = make_batch(synth, real, 4, 5, 0, 0.5)
    assert all(np.array_equal(a, b) for a, b in zip(plain, make_batch(synth, real, 4, 5, 0, 0.5, binarize_share=0.0)))
    assert not np.array_equal(plain[0], make_batch(synth, real, 4, 5, 0, 0.5, binarize_share=1.0)[0])


def test_a_run_that_learns_bitonal_lines_is_chosen_on_them_too(tmp_path):
    """With --binarize the validation lines are the split as scanned and then each made black and white, with
    the same labels; without it, the split alone; at 1, the bitonal lines alone."""
    from ml.train_strings import validation_lines

    names = orand_split("validation")
    (tmp_path / "images").mkdir()
    for k, name in enumerate(names):
        page = np.full((30, 60), 190, np.uint8)
        page[8:22, 10 + k % 30: 16 + k % 30] = 50
        Image.fromarray(page).save(tmp_path / "images" / name)
    (tmp_path / "labels.csv").write_text("file,digits\n" + "".join(f"{n},{k % 97}\n" for k, n in enumerate(names)))
    (tmp_path / "boxes.json").write_text("{}")
    scanned, labels = validation_lines(tmp_path, 0.0, 9)
    assert len(scanned) == len(names) and labels == [str(k % 97) for k in range(len(names))]
    both, both_labels = validation_lines(tmp_path, 0.15, 9)
    assert both_labels == labels + labels and all(np.array_equal(a, b) for a, b in zip(both, scanned))
    assert all(set(np.unique(b)) == {0.0, 255.0} and (b[8:22, 10 + k % 30: 16 + k % 30] == 0).all()
               for k, b in enumerate(both[len(names):]))
    bitonal, bitonal_labels = validation_lines(tmp_path, 1.0, 9)  # a reader of bitonal lines only
    assert bitonal_labels == labels and all(np.array_equal(a, b) for a, b in zip(bitonal, both[len(names):]))


def test_a_drawing_process_that_dies_fails_the_run_with_a_clear_error():
    """A drawing process killed (say, out of memory) ends the run with a message saying what happened and what to do,
    instead of leaving the training waiting for a batch that never comes; no process is left behind."""
    fail_the_drawing_process(signal.SIGKILL)


def test_a_drawing_process_that_hangs_fails_the_run_after_the_bound(monkeypatch):
    """A drawing process that stops answering ends the run once a batch has waited BATCH_TIMEOUT, and is ended
    with it, rather than the run (or its shutdown) waiting on it for ever."""
    import ml.train_strings

    monkeypatch.setattr(ml.train_strings, "BATCH_TIMEOUT", 2)
    fail_the_drawing_process(signal.SIGSTOP)


def real_line(digits, gaps, height=30):
    """A stand-in for an ORAND line: box digits ``height`` px high written dark on grey paper, ``gaps`` apart
    (negative: overlapping), 5 px of paper around; (grey, label, boxes as in boxes.json)."""
    images, _ = box_digits()
    glyphs = [np.asarray(Image.fromarray(images[d][4:24, 8:20]).resize((height * 12 // 20, height))) for d in digits]
    left, boxes = 5, []
    for i, glyph in enumerate(glyphs):
        boxes.append((left, 5, glyph.shape[1], height))
        left += glyph.shape[1] + (gaps[i] if i < len(gaps) else 0)
    grey = np.full((height + 10, left + 5), 210.0)
    for glyph, (x, y, w, h) in zip(glyphs, boxes):
        grey[y: y + h, x: x + w] = np.minimum(grey[y: y + h, x: x + w], 210 - 0.6 * glyph)
    return grey, "".join(map(str, digits)), boxes


def test_cuts_fall_between_digits_that_do_not_touch():
    from ml.train_strings import cuts

    grey, _, boxes = real_line([1, 2, 3, 4], gaps=[6, -4, 8])
    found = cuts(boxes, grey.shape[1])
    assert set(found) == {0, 1, 3, 4}  # not between 2 and 3, which overlap
    assert boxes[0][0] + boxes[0][2] <= found[1] <= boxes[1][0] and found[4] <= grey.shape[1]
    assert cuts([], 100) == {}  # a line whose boxes do not spell its label is never cut


def test_a_spliced_line_is_the_start_of_one_and_the_rest_of_another_with_their_label():
    """Two real lines cut between digits and joined: the label is the first's digits up to the cut and the second's
    from its cut, the pixels left of the join are the first line's own, the second's digits are scaled to the
    first's height, and touching digits are never parted."""
    from ml.synth_strings import ink_of
    from ml.train_strings import splice

    a = real_line([1, 2, 3], gaps=[6, 6])
    b = real_line([4, 5, 6, 7], gaps=[-4, 8, 8], height=45)  # 4 and 5 touch; written larger
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(60):
        grey, label = splice(a, b, rng)
        seen.add(label)
        k = next(k for k in (3, 2, 1) if label.startswith("123"[:k]) and "4567".endswith(label[k:]))
        assert label[k:] != "567"  # would part the touching 4 and 5
        ink = ink_of(grey)
        end_a = a[2][k - 1][0] + a[2][k - 1][2]  # the first line's ink is its own left of the join
        assert np.allclose(ink[:, :end_a], ink_of(a[0])[:, :end_a], atol=0.01) and ink[:, :end_a].max() == 1
        inked_rows = np.flatnonzero(ink[:, end_a:].max(1) > 0.1)
        assert abs(len(inked_rows) - 30) <= 2  # the second line's digits came at the first's height
    assert len(seen) > 4 and all(1 <= len(label) <= 10 for label in seen)
    assert splice(a, (*b[:2], []), rng) is None  # no boxes: nothing to cut at


def fail_the_drawing_process(signum):
    """Send `signum` to the one drawing process of a run after its first batch: the run fails with the message that
    names --workers 0, and no drawing process is left."""
    from ml.train_strings import batches

    before = set(multiprocessing.active_children())
    pooled = batches(LineSynth(*box_digits(), seed=1), ([], []), 4, seed=5, real_share=0.0, workers=1)
    next(pooled)
    for child in set(multiprocessing.active_children()) - before:
        os.kill(child.pid, signum)
    with pytest.raises(RuntimeError, match="drawing processes .*--workers 0"):
        for _ in range(10):
            next(pooled)
    assert_none_left(before)


def assert_none_left(before):
    """No drawing process is left. The executor's own thread reaps the dead ones, and while its wait for one has not
    returned, active_children() still lists it (our poll finds nothing left to collect): give that a moment."""
    for _ in range(100):
        if set(multiprocessing.active_children()) <= before:
            break
        time.sleep(0.1)
    assert set(multiprocessing.active_children()) <= before


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_training_runs_on_the_backend_a_machine_has(tmp_path, backend):
    """python -m ml.train --strings trains with whichever Keras backend is set: TensorFlow here, JAX (or PyTorch) on a
    GPU machine, which has no TensorFlow (blocked here for that run). A short run writes a checkpoint and a card; the
    LiteRT export, which needs TensorFlow, is left to where it is, and reads the JAX-trained checkpoint."""
    images, labels = box_digits()
    np.savez(tmp_path / "mnist.npz", x_train=images, y_train=labels, x_test=images, y_test=labels)
    out = tmp_path / "crnn"
    run = ("import runpy, sys\n"
           + ("sys.modules['tensorflow'] = None  # as on the GPU machine\n" if backend != "tensorflow" else "")
           + f"sys.argv = ['ml.train', '--strings', '--mnist', {str(tmp_path / 'mnist.npz')!r}, '--epochs', '2', "
             f"'--steps-per-epoch', '2', '--batch-size', '4', '--width', '4', '--workers', '0', '--out', {str(out)!r}]\n"
             "runpy.run_module('ml.train', run_name='__main__')\n")
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", run], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    card = json.loads((out / "model_card.json").read_text())
    assert card["training"]["backend"].split()[0] == backend and card["training"]["best_epoch"] in (1, 2)
    assert ((out / "crnn.tflite").exists()) == (backend == "tensorflow")
    if backend != "tensorflow":
        assert "no TensorFlow here for the LiteRT export" in done.stdout
        from ml.train_strings import export

        export(out)  # here, where TensorFlow is
        assert json.loads((out / "model_card.json").read_text())["version"].startswith("0.1+")


def test_a_fine_tune_that_does_not_beat_its_start_is_written_only_when_asked(tmp_path, monkeypatch):
    """--init keeps a run only where it beats the model it started from on validation; --keep-best-epoch writes the
    run's best epoch anyway (for a change validation does not measure, judged afterwards)."""
    from ml import train, train_strings
    from ml.model import build_crnn

    images, labels = box_digits()
    np.savez(tmp_path / "mnist.npz", x_train=images, y_train=labels, x_test=images, y_test=labels)
    common = ["--strings", "--mnist", str(tmp_path / "mnist.npz"), "--epochs", "2", "--steps-per-epoch", "1",
              "--batch-size", "4", "--workers", "0"]
    build_crnn(HEIGHT, WIDTH, 4).save(tmp_path / "start.keras")
    again = [*common, "--init", str(tmp_path / "start.keras")]

    def validation_reads(*figures):  # the start's exact accuracy on validation, then each epoch's
        figures = iter(figures)
        monkeypatch.setattr(train_strings, "exact_accuracy", lambda probabilities, labels: next(figures))

    validation_reads(0.5, 0.4, 0.45)
    train.main([*again, "--out", str(tmp_path / "kept-only-if-better")])
    assert not (tmp_path / "kept-only-if-better" / "crnn.keras").exists()
    validation_reads(0.5, 0.4, 0.45)
    train.main([*again, "--keep-best-epoch", "--out", str(tmp_path / "kept")])
    card = json.loads((tmp_path / "kept" / "model_card.json").read_text())
    assert card["training"]["best_epoch"] == 2 and card["validation_exact_accuracy"] == 0.45
    assert (tmp_path / "kept" / "crnn.tflite").exists()
    validation_reads(0.5, 0.4, 0.55)
    train.main([*again, "--out", str(tmp_path / "better")])  # one that beats its start is written either way
    assert json.loads((tmp_path / "better" / "model_card.json").read_text())["training"]["best_epoch"] == 2
    with pytest.raises(SystemExit):
        train.main([*common, "--keep-best-epoch", "--out", str(tmp_path / "no-init")])  # nothing to keep it from
