"""Train the CRNN string reader with CTC on synthetic lines (ml.synth_strings) plus ORAND-CAR-A's train split;
choose weights on the validation split; write the Keras model, its LiteRT export and a model card.

    python -m ml.train --strings --mnist ../shared/data/mnist.npz --orand ../shared/data/orand-car-a --seed 7
    python -m ml.train_strings --export ml/models/strings      # after a stopped run: export the best checkpoint
    python -m ml.strings --fit-calibration ../shared/data/orand-car-a   # then calibrate on validation
    python -m ml.evaluate --strings ../shared/data/orand-car-a --split test

Run through ml.train (--strings); it writes to ml/models/strings/ unless --out says otherwise.
"""
import argparse
import collections
import concurrent.futures
import datetime
import hashlib
import itertools
import json
import multiprocessing
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from ml.ctc import BLANK, greedy_decode
from ml.data import orand_labels, orand_split
from ml.synth_strings import HEIGHT, WIDTH, LineSynth, ink_of, normalise_line, orand_train_crops

MAX_DIGITS = 10
REAL_SHARE = 0.25  # of each batch: ORAND train-split lines, the real thing the synthetic ones imitate


def orand_lines(root, split):
    """(grey images, labels, digit boxes) of one ORAND-CAR-A split; a line's boxes (x, y, w, h) left to right from
    boxes.json, or none where they do not spell its label."""
    labels = orand_labels(root)
    names = orand_split(split)
    images = [np.asarray(Image.open(Path(root) / "images" / n).convert("L")) for n in names]
    listed = json.loads((Path(root) / "boxes.json").read_text())
    boxes = []
    for name in names:
        items = sorted(listed.get(name, []), key=lambda item: item["bbox"][0])
        spelt = "".join(str(item["digit"]) for item in items) == labels[name]
        boxes.append([tuple(item["bbox"]) for item in items] if spelt else [])
    return images, [labels[n] for n in names], boxes


def cuts(boxes, width):
    """{k: column} where a line can be cut with its first k digits on the left: before the first digit, after
    the last, and midway between neighbours that do not overlap (touching digits stay whole)."""
    if not boxes:
        return {}
    found = {0: max(boxes[0][0] - 2, 0), len(boxes): min(boxes[-1][0] + boxes[-1][2] + 2, width)}
    for k, (left, right) in enumerate(itertools.pairwise(boxes), 1):
        if left[0] + left[2] <= right[0]:
            found[k] = (left[0] + left[2] + right[0]) // 2
    return found


def splice(a, b, rng):
    """A new real line: the start of line ``a`` up to a cut between its digits, then the rest of line ``b`` from a
    cut, scaled to ``a``'s digit height and centred on its digits' middle row; each a (grey, label, boxes).
    None where the two have no cuts that make 1 to MAX_DIGITS digits. Real writers, papers and neighbours, but
    in combinations the 619 train lines do not hold, so that they cannot simply be learnt by heart."""
    (grey_a, label_a, boxes_a), (grey_b, label_b, boxes_b) = a, b
    cuts_a = {k: c for k, c in cuts(boxes_a, grey_a.shape[1]).items() if k > 0}
    cuts_b = {k: c for k, c in cuts(boxes_b, grey_b.shape[1]).items() if k < len(label_b)}
    pairs = [(k, j) for k in cuts_a for j in cuts_b if k + len(label_b) - j <= MAX_DIGITS]
    if not pairs:
        return None
    k, j = pairs[rng.integers(len(pairs))]
    ink_a, ink_b = ink_of(grey_a)[:, : cuts_a[k]], ink_of(grey_b)[:, cuts_b[j]:]
    scale = np.median([h for *_, h in boxes_a]) / np.median([h for *_, h in boxes_b])
    height = max(1, round(ink_b.shape[0] * scale))
    ink_b = np.asarray(Image.fromarray(ink_b).resize((max(1, round(ink_b.shape[1] * scale)), height),
                                                     Image.BILINEAR))
    middle_a, middle_b = (np.median([y + h / 2 for _, y, _, h in boxes]) for boxes in (boxes_a, boxes_b))
    shift = round(middle_a - middle_b * scale)  # row of ink_b's top in ink_a's rows
    top, bottom = min(0, shift), max(ink_a.shape[0], shift + height)
    ink = np.zeros((bottom - top, ink_a.shape[1] + ink_b.shape[1]), np.float32)
    ink[-top: -top + ink_a.shape[0], : ink_a.shape[1]] = ink_a
    ink[shift - top: shift - top + height, ink_a.shape[1]:] = ink_b
    return 255 - 200 * ink, label_a[:k] + label_b[j:]


def distort(grey, rng):
    """A real line, distorted as another writer or scanner would: stretched by up to 20 %, sheared,
    slightly rotated, re-contrasted, blurred or noised. The 619 train lines would otherwise be learnt by
    heart (the first run's validation accuracy peaked at epoch 25 of 40)."""
    h, w = grey.shape
    sx, sy = rng.uniform(0.8, 1.2), rng.uniform(0.9, 1.1)
    shear, angle = rng.uniform(-0.25, 0.25), np.deg2rad(rng.uniform(-2.5, 2.5))
    cos, sin = np.cos(angle), np.sin(angle)
    # Output (row, col) -> input: rotate, shear along x, then scale; about the centre.
    matrix = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1, 0], [shear, 1]]) @ np.diag([1 / sy, 1 / sx])
    out_shape = (round(h * sy), round(w * sx + abs(shear) * h))
    centre_in, centre_out = np.array([h, w]) / 2, np.array(out_shape) / 2
    paper = float(np.median(grey))
    grey = ndimage.affine_transform(grey.astype(np.float32), matrix, offset=centre_in - matrix @ centre_out,
                                    output_shape=out_shape, order=1, cval=paper)
    grey = paper + (grey - paper) * rng.uniform(0.6, 1.2) + rng.uniform(-20, 20)
    if rng.random() < 0.3:
        grey = ndimage.gaussian_filter(grey, rng.uniform(0.3, 1.0))
    return np.clip(grey + rng.normal(0, rng.uniform(0, 6), grey.shape), 0, 255)


def binarize(grey, rng):
    """A line as a bitonal scanner gives it (cheque image exchange: black and white): ink black, paper white, cut at
    a level drawn between the ink's and the paper's. The shipped reader, trained without such lines, reads 80.7 % of
    the test split binarised against 89.0 % as scanned (ml.robustness)."""
    paper, ink = float(np.median(grey)), float(np.percentile(grey, 0.5))
    level = ink + (paper - ink) * rng.uniform(0.35, 0.65)
    return np.where(grey < level, 0.0, 255.0).astype(np.float32)


def validation_lines(root, binarize_share, seed):
    """(grey images, labels) a run is chosen on: ORAND-CAR-A's validation split, and where the run learns bitonal
    lines (binarize_share > 0) each of them made black and white too, so that it is chosen on those as much as on
    the lines as scanned; a reader of bitonal lines only (binarize_share 1) on those alone."""
    images, labels, _ = orand_lines(root, "validation")
    if binarize_share:
        rng = np.random.default_rng(seed)
        bitonal = [binarize(image, rng) for image in images]
        images, labels = (bitonal, labels) if binarize_share == 1 else ([*images, *bitonal], [*labels, *labels])
    return images, labels


def encode(labels):
    """Digit strings -> (N, MAX_DIGITS) int32 padded with -1 (CTC reads each label's length from it)."""
    y = np.full((len(labels), MAX_DIGITS), -1, np.int32)
    for i, label in enumerate(labels):
        y[i, : len(label)] = [int(c) for c in label]
    return y


def make_batch(synth, real, batch_size, seed, index, real_share=REAL_SHARE, splice_share=0.0, binarize_share=0.0):
    """Batch ``index`` of a run, (x, y): synthetic lines and, real_share of them, distorted ORAND train lines, of
    which splice_share are two train lines spliced (``splice``); binarize_share of all the lines are then made black
    and white (``binarize``). Each batch draws from its own random stream, so it is the same whichever process
    makes it."""
    rng = synth.rng = np.random.default_rng([seed, index])
    images, labels = [], []
    for _ in range(batch_size):
        if real and rng.random() < real_share:
            i = rng.integers(len(real[0]))
            line = real[0][i], real[1][i]
            if splice_share and rng.random() < splice_share:  # no draw at 0: the same lines as before
                j = rng.integers(len(real[0]))
                line = splice((*line, real[2][i]), (real[0][j], real[1][j], real[2][j]), rng) or line
            image, label = distort(line[0], rng), line[1]
        else:
            image, label = synth.line()
        if binarize_share and rng.random() < binarize_share:  # no draw at 0: the same lines as before
            image = binarize(image, rng)
        images.append(normalise_line(image))
        labels.append(label)
    return np.stack(images)[..., None], encode(labels)


_worker = {}  # a batch-making process's make_batch arguments but the index


def _start_worker(*args):
    _worker["args"] = args


def _worker_batch(index):
    synth, real, batch_size, seed, real_share, splice_share, binarize_share = _worker["args"]
    return make_batch(synth, real, batch_size, seed, index, real_share, splice_share, binarize_share)


BATCH_TIMEOUT = 300  # seconds a drawing process may take for one batch (about 0.2 s for 128 lines): past it, fail


def batches(synth, real, batch_size, seed, real_share=REAL_SHARE, workers=0, splice_share=0.0, binarize_share=0.0):
    """Endless batches 0, 1, 2 ... made here or, with ``workers``, by that many processes, a few batches ahead:
    one core draws about 600 lines/s, which would leave a GPU waiting. The batches are the same either way."""
    if not workers:
        for index in itertools.count():
            yield make_batch(synth, real, batch_size, seed, index, real_share, splice_share, binarize_share)
    # spawn, not fork: this process runs TensorFlow's threads, and a forked child may inherit their held locks.
    # An executor, not multiprocessing.Pool: a drawing process that dies breaks its futures at once (Pool would wait
    # for ever on its lost task, and its terminate() can hang on the queue lock the dead process held).
    pool = concurrent.futures.ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"), _start_worker,
                                                  (synth, real, batch_size, seed, real_share, splice_share,
                                                   binarize_share))
    try:
        ahead = collections.deque(pool.submit(_worker_batch, i) for i in range(2 * workers))
        for index in itertools.count(len(ahead)):
            try:
                batch = ahead.popleft().result(timeout=BATCH_TIMEOUT)
            except (concurrent.futures.TimeoutError, concurrent.futures.BrokenExecutor) as exc:
                raise RuntimeError(f"no batch from the {workers} drawing processes ({exc or 'timed out'}); "
                                   "--workers 0 draws them in the training process") from exc
            ahead.append(pool.submit(_worker_batch, index))
            yield batch
    except GeneratorExit:  # closed by its reader: let the batches in flight land
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    except BaseException:
        # A process that hangs would never end, and shutdown would wait on it: end them all (Python 3.14 has
        # terminate_workers(); until then the executor's own table of them).
        processes = list((pool._processes or {}).values())
        for process in processes:
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # killed, so this is short; the caller sees none of them running
            process.join(BATCH_TIMEOUT)
        raise


def ctc_loss(y_true, y_pred):
    import keras

    lengths = keras.ops.sum(keras.ops.cast(y_true >= 0, "int32"), axis=1)
    steps = keras.ops.full((keras.ops.shape(y_pred)[0],), keras.ops.shape(y_pred)[1], "int32")
    # ctc_loss takes logits; the log of a softmax is its own log-softmax.
    return keras.ops.ctc_loss(keras.ops.maximum(y_true, 0), keras.ops.log(y_pred + 1e-7), lengths, steps,
                              mask_index=BLANK)


def exact_accuracy(probabilities, labels):
    return float(np.mean([greedy_decode(p)[0] == t for p, t in zip(probabilities, labels)]))


def export_tflite(model, path):
    """The LiteRT file of a trained CRNN, rebuilt to take lines of any width (a multiple of 4): the reader
    gives each line only the columns its ink needs (ml.strings.read_width). Its weights are stored as int8 and
    the activations quantized as it runs (dynamic range): 3.2 times as fast on one core as float32 (AVX-512
    VNNI), and the plain pass reads 206 of 207 validation lines as the float model does."""
    import keras
    import tensorflow as tf

    from ml.model import build_crnn

    filters = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)).filters
    serving = build_crnn(model.input.shape[1], None, filters)
    serving.set_weights(model.get_weights())
    converter = tf.lite.TFLiteConverter.from_keras_model(serving)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative data: dynamic-range quantization
    path.write_bytes(converter.convert())


def train(args):
    """Train with whichever Keras backend is set (KERAS_BACKEND): TensorFlow here, JAX or PyTorch on a GPU machine
    that has no TensorFlow; the LiteRT export needs TensorFlow and runs where it is."""
    import importlib.util

    import keras
    from tqdm.keras import TqdmCallback

    from ml.data import file_sha256, load_mnist, mnist_path
    from ml.model import build_crnn, flops_per_image

    keras.utils.set_random_seed(args.seed)
    backend = keras.backend.backend()
    args.real_share = REAL_SHARE if args.real_share is None else args.real_share
    (x_mnist, y_mnist), _ = load_mnist(args.mnist)
    crops = orand_train_crops(args.orand) if args.orand else None
    real = orand_lines(args.orand, "train") if args.orand else None
    if args.orand:  # choose on the real validation split; the test split is never read here
        val_images, val_labels = validation_lines(args.orand, args.binarize, args.seed + 2)
        validation = "ORAND-CAR-A validation split" + {
            0: "", 1: ", each line made black and white (binarize, seed + 2)"}.get(
            args.binarize, ", each line as scanned and made black and white (binarize, seed + 2)")
    else:
        val_synth = LineSynth(x_mnist, y_mnist, seed=args.seed + 1)
        val_images, val_labels = zip(*(val_synth.line() for _ in range(512)))
        validation = "512 synthetic lines (seed + 1)"
    x_val = np.stack([normalise_line(i) for i in val_images])[..., None]

    synth = LineSynth(x_mnist, y_mnist, crops, seed=args.seed, continental_share=args.continental)
    # A plain generator, which every backend takes (TensorFlow's wraps it in a prefetching tf.data pipeline).
    dataset = batches(synth, real, args.batch_size, args.seed, args.real_share, args.workers, args.splice,
                      args.binarize)

    # --init fine-tunes a trained reader (its width wins); it is kept only where validation improves on it,
    # unless --keep-best-epoch.
    model = keras.models.load_model(args.init, compile=False) if args.init else build_crnn(HEIGHT, WIDTH, args.width)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=args.steps_per_epoch * (args.epochs - 1), warmup_target=args.lr,
        warmup_steps=args.steps_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=5.0), loss=ctc_loss)
    model.summary()
    args.out.mkdir(parents=True, exist_ok=True)
    data_file = mnist_path(args.mnist)
    card = {
        "name": "digits-crnn",
        "files": {"keras": "crnn.keras", "tflite": "crnn.tflite"},
        "data": {"synthetic": "ml.synth_strings.LineSynth: MNIST train digits"
                              + (" + ORAND-CAR-A train-split isolated digit crops" if crops else ""),
                 "mnist_sha256": file_sha256(data_file),
                 "orand_crops": len(crops or []),
                 "real_lines": f"ORAND-CAR-A train split ({len(real[1])} lines, {args.real_share:.0%} of each batch, "
                                f"{args.splice:.0%} of them two lines spliced)"
                               if real else None,
                 "binarized": f"{args.binarize:.0%} of all lines made black and white (ml.train_strings.binarize)",
                 "continental": f"{args.continental:.0%} of the MNIST 1s and 7s written the continental way "
                                "(ml.synth_strings.continental)",
                 "split": "ml/splits/orand-car-a.json", "validation": validation},
        "architecture": "conv 3x3 w pool 2w pool 4w 4w pool(2,1) 4w max over height, BatchNorm+ReLU; "
                        "Conv1D 4w x3 (dilation 1, 2, 4); dense 11 (blank 10); CTC, greedy decoding",
        "input": f"{HEIGHT}x{WIDTH} float32, ink 1 on 0, ml.synth_strings.normalise_line",
        "parameters": int(model.count_params()),
        "flops_per_line": flops_per_image(model),
        "training": {"epochs_planned": args.epochs, "steps_per_epoch": args.steps_per_epoch,
                     "batch_size": args.batch_size, "width": args.width, "peak_lr": args.lr,
                     "schedule": "1 epoch warm-up + cosine decay, Adam, clipnorm 5", "seed": args.seed,
                     "batches": "batch i drawn from its own stream, seeded (seed, i) (until 2026-12-06: one stream)",
                     "init": str(args.init) if args.init else None,
                     "backend": f"{backend} {importlib.import_module(backend).__version__}",
                     "keras": keras.__version__},
    }
    start = time.time()

    class KeepBest(keras.callbacks.Callback):
        """Exact string accuracy on the validation lines after each epoch; save the best weights so far,
        so that a run stopped early leaves a usable model."""

        best = -1.0

        def on_train_begin(self, logs=None):
            if args.init:  # the model to beat is the one fine-tuned
                initial = exact_accuracy(self.model.predict(x_val, batch_size=256, verbose=0), val_labels)
                print(f"initial model: validation exact {initial:.2%}", flush=True)
                self.best = -1.0 if args.keep_best_epoch else initial

        def on_epoch_end(self, epoch, logs=None):
            accuracy = exact_accuracy(self.model.predict(x_val, batch_size=256, verbose=0), val_labels)
            print(f"epoch {epoch + 1}: loss {logs['loss']:.3f}, validation exact {accuracy:.2%}", flush=True)
            if accuracy > self.best:
                self.best = accuracy
                self.model.save(args.out / "crnn.keras")
                card["training"].update(best_epoch=epoch + 1, training_time_s=round(time.time() - start, 1))
                card["validation_exact_accuracy"] = accuracy
                (args.out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")

    model.fit(dataset, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, shuffle=False, verbose=0,
              callbacks=[keep := KeepBest(), TqdmCallback(verbose=1)])
    if "best_epoch" not in card["training"]:  # set where a checkpoint is saved
        print(f"no epoch beat the initial model ({keep.best:.2%} on validation): nothing written")
        return
    if importlib.util.find_spec("tensorflow") is None:
        print(f"no TensorFlow here for the LiteRT export: where it is, python -m ml.train_strings --export {args.out}")
        return
    export(args.out)


def export(out):
    """Export the checkpoint to LiteRT and record the file's hash and version in the card."""
    import keras

    model = keras.models.load_model(out / "crnn.keras", compile=False)
    export_tflite(model, out / "crnn.tflite")
    digest = hashlib.sha256((out / "crnn.tflite").read_bytes()).hexdigest()
    card = json.loads((out / "model_card.json").read_text())
    card["files"]["tflite_sha256"] = digest
    card["version"] = f"0.1+{digest[:8]}"
    card["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    (out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {out}/crnn.keras, crnn.tflite, model_card.json (version {card['version']})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", type=Path, required=True, metavar="DIR",
                        help="export DIR/crnn.keras (the best checkpoint of a run, stopped or not) to LiteRT")
    export(parser.parse_args(argv).export)


if __name__ == "__main__":
    main()
