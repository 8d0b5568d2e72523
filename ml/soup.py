"""Weight-space mix of the digit CNN fine-tuned on ORAND-CAR-A and the MNIST model it started from (WiSE-FT):
each weight is (1 - w) * base + w * fine-tuned. The fine-tune reads real cheque digits far better and loses a
little of MNIST; a mix of the two can keep most of both.

    python -m ml.soup --fit --base B.keras --fine-tuned F.keras --mnist PATH --mnist-validation 10000 --orand DIR
    python -m ml.soup --base B.keras --fine-tuned F.keras --weight W --mnist PATH --orand DIR --out DIR

--fit prints, for w = 0, 0.1, ..., 1, the accuracy on the held-out last N images of MNIST train and on ORAND's
validation-split crops, and the w with the best mean of the two (a tie: the larger w). Neither split may have been
trained on, so the pair it is given comes from a run that held out both (ml.train --mnist-validation N); the
w it finds is then used to mix the pair trained on everything (--weight), and MNIST test is read once, at the end.
"""
import argparse
import datetime
import hashlib
import json
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from ml.data import MNIST_HELP, load_mnist, mnist_train_split
from ml.train import accuracy, export_tflite, orand_digits, to_input

WEIGHTS = [round(0.1 * i, 1) for i in range(11)]


def mix(base, fine_tuned, weight):
    """A new model whose every variable (BatchNorm's moving statistics too) is the weighted mean of the two's."""
    model = keras.models.clone_model(fine_tuned)
    model.set_weights([(1 - weight) * b + weight * f for b, f in zip(base.get_weights(), fine_tuned.get_weights())])
    return model


def fit(base, fine_tuned, validation_sets):
    """Accuracy on each validation set by weight, and the weight with the best mean (a tie: the larger)."""
    table = {w: [accuracy(mix(base, fine_tuned, w), x, y) for x, y in validation_sets.values()]
             for w in tqdm(WEIGHTS, desc="weights", unit="weight")}
    best = max(WEIGHTS, key=lambda w: (np.mean(table[w]), w))
    return best, {str(w): dict(zip(validation_sets, scores)) for w, scores in table.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="the MNIST model (.keras) the fine-tune began from")
    parser.add_argument("--fine-tuned", type=Path, required=True, help="the fine-tuned model (.keras); its "
                        "model_card.json, beside it, is the mix's card with the figures and the mix added")
    parser.add_argument("--mnist", help=MNIST_HELP)
    parser.add_argument("--orand", type=Path, required=True, help="ORAND-CAR-A directory (validation-split crops)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--fit", action="store_true", help="find the weight on the validation splits")
    which.add_argument("--weight", type=float, help="write the mix at this weight of the fine-tuned model")
    parser.add_argument("--mnist-validation", type=int, default=10000, metavar="N",
                        help="with --fit: the last N images of MNIST train, held out by both models' training")
    parser.add_argument("--chosen", default="", help="with --weight: how the weight was chosen, for the card")
    parser.add_argument("--out", type=Path, help="with --weight: the directory to write the mixed model into")
    args = parser.parse_args(argv)

    base, fine_tuned = keras.models.load_model(args.base), keras.models.load_model(args.fine_tuned)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.mnist)
    orand = orand_digits(args.orand, "validation")
    if args.fit:
        _, _, (x_val, y_val) = mnist_train_split(x_train, y_train, args.mnist_validation)
        best, table = fit(base, fine_tuned, {"mnist_validation": (to_input(x_val), y_val), "orand_validation": orand})
        print("weight  MNIST validation  ORAND validation crops  mean")
        for w, scores in table.items():
            print(f"{w:>6}  {scores['mnist_validation']:>16.2%}  {scores['orand_validation']:>22.2%}"
                  f"  {np.mean(list(scores.values())):.3%}")
        print(f"chosen weight: {best}")
        return best

    model = mix(base, fine_tuned, args.weight)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    card = json.loads((args.fine_tuned.parent / "model_card.json").read_text())
    base_card = args.base.parent / "model_card.json"
    model.save(out / "digits.keras")
    export_tflite(model, out / "digits.tflite")
    tflite_hash = hashlib.sha256((out / "digits.tflite").read_bytes()).hexdigest()
    card.update({
        "version": f"1.0+{tflite_hash[:8]}",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "files": {"keras": "digits.keras", "tflite": "digits.tflite", "tflite_sha256": tflite_hash},
        "mix": {"about": "(1 - weight) * base + weight * fine_tuned, every variable (python -m ml.soup)",
                "base": json.loads(base_card.read_text())["version"] if base_card.exists() else args.base.name,
                "fine_tuned": card["version"], "weight": args.weight, "chosen": args.chosen},
        "test_accuracy": accuracy(model, to_input(x_test), y_test),
        "orand_validation_crops_accuracy": accuracy(model, *orand),
    })
    (out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"MNIST test {card['test_accuracy']:.2%}, ORAND validation crops {card['orand_validation_crops_accuracy']:.2%}")
    print(f"wrote {out}/digits.keras, digits.tflite, model_card.json (version {card['version']})")


if __name__ == "__main__":
    main()
