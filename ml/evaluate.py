"""Accuracy of the shipped model on the 10,000 MNIST test images.

    python -m ml.evaluate [--mnist PATH] [--json] [--keras] [--orand DIR] [--models DIR] [--mnist-validation N]
    python -m ml.evaluate --strings DIR [--split test] [--json]
    python -m ml.evaluate --photos DIR [--json]

Prints accuracy, per-class precision/recall/F1 and the confusion matrix, and saves
the confusion matrix as a PNG. By default the LiteRT export that the platform
serves is evaluated; --keras evaluates the Keras model (imports TensorFlow).
--orand also reads the digit crops of ORAND-CAR-A (real cheque handwriting, not
in MNIST) through the whole upload path: PNG bytes, preprocessing, model. --mnist-validation N reads the last N
images of MNIST train instead of its test set: the split that ml.train --mnist-validation N holds out, on which a
candidate in --models (with its strings/ and ensemble fitted) is compared without looking at MNIST test.

--strings reads every field of DIR (images/, labels.csv of file,digits) with the string reader (ml.strings),
one file at a time from its bytes, and prints exact string accuracy, accuracy by length, the share
auto-accepted at the default threshold and its accuracy, the expected calibration error and the time per
field; it saves a reliability diagram and an accepted-share-versus-accuracy curve as PNG. Where DIR has
boxes.json (ORAND-CAR-A's per-digit boxes), it also prints how well the digits' boxes of the fields read right
fit them (mean IoU, and the share at IoU >= 0.5). --split takes only that split of ORAND-CAR-A
(ml/splits/orand-car-a.json).

--photos reads every image of DIR (images/, labels.csv of file,digits with one digit each, as ml.photos
writes) with the single-digit engine from its bytes, and prints the accuracy, the share answered blank ("no
digit found") and the share confidently wrong (a wrong digit with confidence >= 0.9).
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from ml.data import MNIST_HELP, load_mnist, mnist_train_split, orand_split, orand_uploads, read_labels
from ml.inference import MODEL_DIR, Recognizer
from ml.strings import STRINGS_DIR

ECE_BINS = 10
CONFIDENT = 0.9  # a wrong answer at or above this confidence is "confidently wrong"
PHOTO_BATCH = 16
MISREAD_SHOWN = 25  # misread fields printed by --strings; --json has them all


def confusion_matrix(labels, predictions):
    """Counts (10, 10): row = true digit, column = predicted digit."""
    return np.bincount(labels * 10 + predictions, minlength=100).reshape(10, 10)


def report(matrix):
    """Per-class precision, recall, F1 and support from a confusion matrix."""
    correct = np.diag(matrix).astype(float)
    precision = correct / np.maximum(matrix.sum(axis=0), 1)
    recall = correct / np.maximum(matrix.sum(axis=1), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return precision, recall, f1, matrix.sum(axis=1)


def print_report(accuracy, matrix, split="test"):
    precision, recall, f1, support = report(matrix)
    print(f"Accuracy, MNIST {split}: {accuracy:.4%} ({np.trace(matrix)}/{matrix.sum()})\n")
    print(f"{'digit':>8} {'precision':>10} {'recall':>10} {'f1-score':>10} {'support':>10}")
    for d in range(10):
        print(f"{d:>8} {precision[d]:>10.4f} {recall[d]:>10.4f} {f1[d]:>10.4f} {support[d]:>10}")
    print(f"{'macro':>8} {precision.mean():>10.4f} {recall.mean():>10.4f} {f1.mean():>10.4f} {support.sum():>10}")
    print("\nConfusion matrix (rows: true digit, columns: predicted digit)")
    print("     " + "".join(f"{d:>6}" for d in range(10)))
    for d in range(10):
        print(f"{d:>5}" + "".join(f"{n:>6}" for n in matrix[d]))


def save_png(matrix, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    # Log colours so that the few errors show next to the ~1,000 correct per class.
    image = ax.imshow(np.log1p(matrix), cmap="Blues")
    for (row, col), n in np.ndenumerate(matrix):
        if n:
            ax.text(col, row, n, ha="center", va="center", fontsize=8,
                    color="white" if np.log1p(n) > np.log1p(matrix.max()) / 2 else "black")
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit", title=title)
    fig.colorbar(image, ax=ax, label="log(1 + count)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def read_orand(recognizer, root, split=None):
    """Accuracy of the full upload path on real handwriting; a blank reading counts as wrong."""
    uploads, labels = zip(*orand_uploads(root, split=split))
    digits = [reading.digit for reading in recognizer.read(uploads)]
    return {"accuracy": float(np.mean([d == label for d, label in zip(digits, labels)])),
            "images": len(labels), "blank": digits.count(None), "split": split or "all"}


def read_photos(recognizer, root):
    """The single-digit engine on photos (root/images, root/labels.csv), from their bytes; figures as a dict."""
    from tqdm import tqdm

    labels = read_labels(root)
    names = sorted(labels)
    if any(len(labels[name]) != 1 for name in names):
        raise SystemExit(f"{root}: --photos needs one digit per image; read lines of digits with --strings")
    readings = []
    with tqdm(total=len(names), desc="photos", unit="photo") as progress:
        for start in range(0, len(names), PHOTO_BATCH):
            batch = names[start: start + PHOTO_BATCH]
            readings += recognizer.read([(Path(root) / "images" / name).read_bytes() for name in batch])
            progress.update(len(batch))
    truth = np.array([int(labels[name]) for name in names])
    digits = np.array([-1 if r.digit is None else r.digit for r in readings])
    confidence = np.array([r.confidence for r in readings])
    preprocess = np.array([r.timings["preprocess"] for r in readings])
    wrong = (digits != truth) & (digits >= 0)
    return {
        "images": len(names), "accuracy": float(np.mean(digits == truth)), "blank": float(np.mean(digits < 0)),
        "confidently_wrong": float(np.mean(wrong & (confidence >= CONFIDENT))),
        "preprocess_ms": {"p50": float(np.median(preprocess)), "p90": float(np.percentile(preprocess, 90))},
        "wrong": [name for name, d, t in zip(names, digits, truth) if d != t],
    }


def print_photos(figures):
    print(f"Photos: {figures['images']}")
    print(f"Accuracy: {figures['accuracy']:.2%}")
    print(f"Blank (no digit found): {figures['blank']:.2%}")
    print(f"Confidently wrong (confidence >= {CONFIDENT}): {figures['confidently_wrong']:.2%}")
    print(f"Preprocessing per photo: p50 {figures['preprocess_ms']['p50']:.1f} ms, "
          f"p90 {figures['preprocess_ms']['p90']:.1f} ms")
    print(f"Misread: {' '.join(figures['wrong'][:40])}{' ...' if len(figures['wrong']) > 40 else ''}")


def expected_calibration_error(confidence, correct, bins=ECE_BINS):
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by the share in each bin."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = sum(abs(correct[which == b].mean() - confidence[which == b].mean()) * np.mean(which == b)
              for b in range(bins) if np.any(which == b))
    return float(gap)


def ece_noise(confidence, draws=2000, seed=0):
    """The ECE that a perfectly calibrated reader would show at these confidences by chance (each reading right
    with probability its confidence): mean and 90th percentile over ``draws``. Below a few hundred readings this
    is a per cent or more, so an ECE within it says the set is too small to tell the calibration wrong."""
    confidence = np.asarray(confidence, float)
    rng = np.random.default_rng(seed)
    ece = [expected_calibration_error(confidence, rng.random(len(confidence)) < confidence) for _ in range(draws)]
    return {"mean": float(np.mean(ece)), "p90": float(np.percentile(ece, 90))}


def box_iou(a, b):
    """Intersection over union of two [x, y, w, h] boxes."""
    (ax, ay, aw, ah), (bx, by, bw, bh) = a, b
    overlap = max(0, min(ax + aw, bx + bw) - max(ax, bx)) * max(0, min(ay + ah, by + bh) - max(ay, by))
    return overlap / (aw * ah + bw * bh - overlap)


def read_strings(root, split=None, model_dir=None):
    """Read each field of root (images/, labels.csv) from its bytes, one at a time, with the shipped string
    reader or the one in model_dir; the figures as a dict."""
    from tqdm import tqdm

    from ml.strings import StringReader, get_string_reader

    reader = StringReader(model_dir) if model_dir else get_string_reader()
    labels = read_labels(root)
    names = orand_split(split) if split else sorted(labels)
    boxes_file = Path(root) / "boxes.json"
    truth_boxes = json.loads(boxes_file.read_text()) if boxes_file.exists() else {}
    rows, ious, misread, versions = [], [], [], set()
    for name in tqdm(names, desc="fields", unit="field"):
        data = (Path(root) / "images" / name).read_bytes()
        start = time.perf_counter()
        reading = reader.read_one(data)
        seconds = time.perf_counter() - start
        versions.add(reading.model_version)
        rows.append((labels[name], reading.digits, reading.confidence, reading.auto_accept, seconds))
        if reading.digits != labels[name]:
            misread.append({"file": name, "digits": labels[name], "read": reading.digits,
                            "confidence": reading.confidence, "auto_accept": reading.auto_accept})
        truth = sorted(truth_boxes.get(name, []), key=lambda item: item["bbox"][0])
        if reading.digits == labels[name] == "".join(str(item["digit"]) for item in truth):
            ious += [box_iou(c.box, item["bbox"]) for c, item in zip(reading.characters, truth)]
    truth, digits, confidence, accepted, seconds = (np.array(column) for column in zip(*rows))
    correct = truth == digits
    lengths = np.array([len(t) for t in truth])
    # The reader that read them (black-and-white files go to the bitonal CRNN), or each, with its threshold.
    thresholds = {r.version: r.threshold for r in (reader, reader.bitonal) if r and r.version in versions}
    return {
        "fields": len(names), "split": split, "model_version": " | ".join(thresholds),
        "threshold": next(iter(thresholds.values())) if len(thresholds) == 1 else thresholds,
        "exact_accuracy": float(correct.mean()),
        "by_length": {int(n): {"fields": int((lengths == n).sum()), "accuracy": float(correct[lengths == n].mean())}
                      for n in np.unique(lengths)},
        "auto_accepted": float(accepted.mean()),
        "auto_accepted_accuracy": float(correct[accepted].mean()) if accepted.any() else None,
        "ece": expected_calibration_error(confidence, correct),
        "ece_if_calibrated": ece_noise(confidence),
        "ms_per_field": {"p50": float(np.median(seconds) * 1000), "p90": float(np.percentile(seconds, 90) * 1000)},
        "boxes": {"digits": len(ious), "mean_iou": float(np.mean(ious)),
                  "iou_at_least_half": float(np.mean(np.array(ious) >= 0.5))} if ious else None,
        # the most confident first: the accepted misreadings are the ones to look at
        "misread": sorted(misread, key=lambda row: -row["confidence"]),
    }, confidence, correct


def save_string_pngs(confidence, correct, threshold, png_dir, title):
    """A reliability diagram and the accuracy of the most confident share, as two PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Path(png_dir).mkdir(parents=True, exist_ok=True)
    which = np.minimum((confidence * ECE_BINS).astype(int), ECE_BINS - 1)
    used = [b for b in range(ECE_BINS) if np.any(which == b)]
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfect calibration")
    ax.plot([confidence[which == b].mean() for b in used], [correct[which == b].mean() for b in used], "o-",
            label="readings, by confidence bin")
    for b in used:
        ax.annotate(str(int((which == b).sum())), (confidence[which == b].mean(), correct[which == b].mean()),
                    textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="calibrated confidence", ylabel="share right", title=title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    reliability = Path(png_dir) / "strings_reliability.png"
    fig.savefig(reliability, dpi=100)
    plt.close(fig)

    order = np.argsort(-confidence, kind="stable")
    share = np.arange(1, len(order) + 1) / len(order)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(share, np.cumsum(correct[order]) / np.arange(1, len(order) + 1))
    if threshold is not None:
        ax.axvline(np.mean(confidence >= threshold), ls="--", color="grey", label=f"default threshold {threshold:.3f}")
        ax.legend(loc="lower left")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="share accepted (most confident first)",
           ylabel="accuracy of the accepted share", title=title)
    fig.tight_layout()
    coverage = Path(png_dir) / "strings_accepted_share.png"
    fig.savefig(coverage, dpi=100)
    plt.close(fig)
    return reliability, coverage


def print_strings(figures):
    print(f"Fields: {figures['fields']}" + (f" ({figures['split']} split)" if figures["split"] else ""))
    print(f"Exact string accuracy: {figures['exact_accuracy']:.2%}")
    for n, row in figures["by_length"].items():
        print(f"  {n} digits: {row['accuracy']:.2%} of {row['fields']}")
    accepted = figures["auto_accepted_accuracy"]
    print(f"Auto-accepted at the default threshold ({figures['threshold']}): {figures['auto_accepted']:.2%}, "
          f"of which right: {'-' if accepted is None else f'{accepted:.2%}'}")
    noise = figures["ece_if_calibrated"]
    print(f"Expected calibration error: {figures['ece']:.2%} (a perfectly calibrated reader would show "
          f"{noise['mean']:.2%} by chance here, {noise['p90']:.2%} one time in ten)")
    print(f"Time per field, bytes to answer: p50 {figures['ms_per_field']['p50']:.1f} ms, "
          f"p90 {figures['ms_per_field']['p90']:.1f} ms")
    if figures["boxes"]:
        boxes = figures["boxes"]
        print(f"Digit boxes of the fields read right, against boxes.json: mean IoU {boxes['mean_iou']:.2f}, "
              f"{boxes['iou_at_least_half']:.1%} of {boxes['digits']} at IoU >= 0.5")
    if figures["misread"]:
        print("Misread, most confident first (file: label -> read, confidence):")
        for row in figures["misread"][:MISREAD_SHOWN]:
            print(f"  {row['file']}: {row['digits']} -> {row['read'] or '(none)'}, {row['confidence']:.4f}"
                  + (" AUTO-ACCEPTED" if row["auto_accept"] else ""))
        if len(figures["misread"]) > MISREAD_SHOWN:
            print(f"  ... and {len(figures['misread']) - MISREAD_SHOWN} more (--json lists them all)")
    print(f"Reliability diagram: {figures['pngs'][0]}\nAccepted share vs accuracy: {figures['pngs'][1]}")


def keras_probabilities(x, model_dir):
    import keras

    model = keras.saving.load_model(Path(model_dir) / "digits.keras")
    return model.predict(x[..., None], batch_size=1000, verbose=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", help=MNIST_HELP)
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary only")
    parser.add_argument("--keras", action="store_true", help="evaluate the Keras model, not the LiteRT export")
    parser.add_argument("--models", type=Path, default=MODEL_DIR, help="directory with the model files")
    parser.add_argument("--mnist-validation", type=int, default=0, metavar="N",
                        help="read the last N images of MNIST train (held out by ml.train --mnist-validation N) "
                        "instead of MNIST test")
    parser.add_argument("--png", type=Path, help="where the picture goes; its folder for --strings' two "
                        "(default: the model's folder)")
    parser.add_argument("--orand", type=Path, help="ORAND-CAR-A directory (images/, boxes.json)")
    parser.add_argument("--strings", type=Path, metavar="DIR", help="read digit strings: DIR/images, DIR/labels.csv")
    parser.add_argument("--photos", type=Path, metavar="DIR",
                        help="read photos of one digit: DIR/images, DIR/labels.csv")
    parser.add_argument("--split", choices=["train", "validation", "test"],
                        help="with --strings or --orand: only this split of ORAND-CAR-A")
    parser.add_argument("--record", action="store_true", help="with --strings: write the figures into the model card")
    parser.add_argument("--string-model", type=Path, metavar="DIR",
                        help="with --strings: a trained CRNN's folder (default: the shipped ml/models/strings)")
    args = parser.parse_args(argv)

    if args.strings:
        figures, confidence, correct = read_strings(args.strings, args.split, args.string_model)
        name = f"{args.strings.name}" + (f" {args.split}" if args.split else "")
        figures["pngs"] = [str(p) for p in save_string_pngs(
            confidence, correct, figures["threshold"] if not isinstance(figures["threshold"], dict) else None,
            args.png.parent if args.png else args.string_model or STRINGS_DIR,
            f"{name}: {figures['exact_accuracy']:.1%} exact, ECE {figures['ece']:.1%}")]
        if args.record:
            card_path = (args.string_model or STRINGS_DIR) / "model_card.json"
            card = json.loads(card_path.read_text())
            card.setdefault("evaluation", {})[f"{args.strings.name} {args.split or 'all'}"] = {
                k: v for k, v in figures.items() if k not in ("pngs", "misread")}
            card_path.write_text(json.dumps(card, indent=1) + "\n")
        if args.json:
            print(json.dumps(figures))
        else:
            print_strings(figures)
        return

    if args.photos:
        figures = read_photos(Recognizer(args.models), args.photos)
        if args.json:
            print(json.dumps(figures))
        else:
            print_photos(figures)
        return

    (x_train, y_train), (images, labels) = load_mnist(args.mnist)
    split = "test"
    if args.mnist_validation:
        _, _, (images, labels) = mnist_train_split(x_train, y_train, args.mnist_validation)
        split = f"validation (the last {len(labels)} of train)"
    # The picture of the models evaluated, beside them; the shipped one's is tracked, so validation's goes apart.
    args.png = args.png or args.models / ("confusion_matrix_validation.png" if args.mnist_validation
                                          else "confusion_matrix.png")
    x = images.astype(np.float32) / 255.0
    recognizer = Recognizer(args.models)
    probabilities = keras_probabilities(x, args.models) if args.keras else recognizer.read_arrays(x)
    predictions = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels.astype(int), predictions)
    accuracy = float(np.trace(matrix) / matrix.sum())
    runtime = "keras" if args.keras else "litert"
    save_png(matrix, args.png, f"MNIST {split}, {runtime} {recognizer.version}: {accuracy:.2%}")
    orand = read_orand(recognizer, args.orand, args.split) if args.orand else None

    if args.json:
        precision, recall, f1, support = report(matrix)
        print(json.dumps({
            "split": split, "accuracy": accuracy, "errors": int(matrix.sum() - np.trace(matrix)),
            "images": int(matrix.sum()),
            "model_version": recognizer.version, "runtime": runtime,
            "per_class": {str(d): {"precision": precision[d], "recall": recall[d], "f1": f1[d],
                                   "support": int(support[d])} for d in range(10)},
            "confusion_matrix": matrix.tolist(), "confusion_matrix_png": str(args.png),
            **({"orand": orand} if orand else {})}))
    else:
        print(f"Model {recognizer.version} ({runtime})")
        print_report(accuracy, matrix, split)
        print(f"\nConfusion matrix image: {args.png}")
        if orand:
            print(f"Real handwriting, ORAND-CAR-A cheque digits ({orand['split']}): {orand['accuracy']:.2%} of "
                  f"{orand['images']} (no digit found in {orand['blank']})")


if __name__ == "__main__":
    main()
