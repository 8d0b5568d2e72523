"""Accuracy of the shipped model on the 10,000 MNIST test images.

    python -m ml.evaluate [--mnist PATH] [--json] [--keras] [--orand DIR]

Prints accuracy, per-class precision/recall/F1 and the confusion matrix, and saves
the confusion matrix as a PNG. By default the LiteRT export that the platform
serves is evaluated; --keras evaluates the Keras model (imports TensorFlow).
--orand also reads the digit crops of ORAND-CAR-A (real cheque handwriting, not
in MNIST) through the whole upload path: PNG bytes, preprocessing, model.
"""
import argparse
import io
import json
from pathlib import Path

import numpy as np

from ml.data import load_mnist, orand_crops
from ml.inference import MODEL_DIR, Recognizer


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


def print_report(accuracy, matrix):
    precision, recall, f1, support = report(matrix)
    print(f"Test accuracy: {accuracy:.4%} ({np.trace(matrix)}/{matrix.sum()})\n")
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


def read_orand(recognizer, root):
    """Accuracy of the full upload path on real handwriting; a blank reading counts as wrong."""
    labels, uploads = [], []
    for crop, digit, _ in orand_crops(root):
        buffer = io.BytesIO()
        crop.save(buffer, format="PNG")
        uploads.append(buffer.getvalue())
        labels.append(digit)
    digits = [reading.digit for reading in recognizer.read(uploads)]
    return {"accuracy": float(np.mean([d == label for d, label in zip(digits, labels)])),
            "images": len(labels), "blank": digits.count(None)}


def keras_probabilities(x, model_dir):
    import keras

    model = keras.saving.load_model(Path(model_dir) / "digits.keras")
    return model.predict(x[..., None], batch_size=1000, verbose=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", help="MNIST .npz (Keras layout); default $MNIST_PATH or download")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary only")
    parser.add_argument("--keras", action="store_true", help="evaluate the Keras model, not the LiteRT export")
    parser.add_argument("--models", type=Path, default=MODEL_DIR, help="directory with the model files")
    parser.add_argument("--png", type=Path, default=MODEL_DIR / "confusion_matrix.png")
    parser.add_argument("--orand", type=Path, help="ORAND-CAR-A directory (images/, boxes.json)")
    args = parser.parse_args(argv)

    _, (x_test, y_test) = load_mnist(args.mnist)
    x = x_test.astype(np.float32) / 255.0
    recognizer = Recognizer(args.models)
    probabilities = keras_probabilities(x, args.models) if args.keras else recognizer.read_arrays(x)
    predictions = probabilities.argmax(axis=1)
    matrix = confusion_matrix(y_test.astype(int), predictions)
    accuracy = float(np.trace(matrix) / matrix.sum())
    runtime = "keras" if args.keras else "litert"
    save_png(matrix, args.png, f"MNIST test, {runtime} {recognizer.version}: {accuracy:.2%}")
    orand = read_orand(recognizer, args.orand) if args.orand else None

    if args.json:
        precision, recall, f1, support = report(matrix)
        print(json.dumps({
            "accuracy": accuracy, "errors": int(matrix.sum() - np.trace(matrix)), "images": int(matrix.sum()),
            "model_version": recognizer.version, "runtime": runtime,
            "per_class": {str(d): {"precision": precision[d], "recall": recall[d], "f1": f1[d],
                                   "support": int(support[d])} for d in range(10)},
            "confusion_matrix": matrix.tolist(), "confusion_matrix_png": str(args.png),
            **({"orand": orand} if orand else {})}))
    else:
        print(f"Model {recognizer.version} ({runtime})")
        print_report(accuracy, matrix)
        print(f"\nConfusion matrix image: {args.png}")
        if orand:
            print(f"Real handwriting, ORAND-CAR-A cheque digits: {orand['accuracy']:.2%} of "
                  f"{orand['images']} (no digit found in {orand['blank']})")


if __name__ == "__main__":
    main()
