"""Train the digit CNN on MNIST with augmentation; write the Keras model, its LiteRT export
and a model card under ml/models/.

    python -m ml.train [--mnist PATH] [--epochs 30]
    python -m ml.train --mnist PATH --orand DIR --init ml/models/digits.keras --epochs 6 --lr 5e-4 --out DIR
    python -m ml.train --strings [--mnist PATH] [--orand DIR] [--epochs N] [--steps-per-epoch N] [--out DIR]

--orand adds the digit crops of ORAND-CAR-A's train split (real cheque handwriting), made into MNIST form as
an upload is, ORAND_REPEAT times each; its validation split is watched, its test split never read. --init
starts from a trained model (fine-tuning) instead of random weights; --distill W then also keeps the fine-tuned
model reading MNIST as the --init model does (a second loss, below).
--strings trains the CRNN string reader instead (ml.train_strings), by default into ml/models/strings/.
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np
from tqdm.keras import TqdmCallback

from ml.data import MNIST_HELP, file_sha256, load_mnist, mnist_path, mnist_train_split, orand_uploads
from ml.model import build_model, flops_per_image

MODELS_DIR = Path(__file__).resolve().parent / "models"
CRNN_DIR = MODELS_DIR / "strings"
ORAND_REPEAT = 8  # ~2,700 train-split crops x 8: a quarter of what an epoch sees is real cheque handwriting


def augment(x, y):
    """Random affine warp and stroke-width change of a batch (B, 28, 28, 1) in [0, 1].

    Real drawings and scans differ from MNIST mostly in slant, size, position and pen
    width; the preprocessing normalises size and position only approximately.
    """
    import tensorflow as tf

    b = tf.shape(x)[0]
    # Stroke width: dilate (max filter) or erode (min filter) about a third of the images.
    pick = tf.random.uniform((b, 1, 1, 1))
    thick = tf.nn.max_pool2d(x, 3, 1, "SAME")
    thin = -tf.nn.max_pool2d(-x, 2, 1, "SAME")
    x = tf.where(pick < 0.15, thick, tf.where(pick < 0.3, thin, x))

    # Rotation +-12 deg, scale 0.88-1.12 (x and y slightly independently), shear +-0.2,
    # shift +-2.5 px; the matrix maps output pixel coordinates to input ones.
    angle = tf.random.uniform((b,), -12.0, 12.0) * math.pi / 180
    scale = tf.random.uniform((b,), 0.88, 1.12)
    aspect = tf.random.uniform((b,), 0.93, 1.07)
    sx, sy = 1 / (scale * aspect), aspect / scale
    shear = tf.random.uniform((b,), -0.2, 0.2)
    tx, ty = tf.random.uniform((b,), -2.5, 2.5), tf.random.uniform((b,), -2.5, 2.5)
    cos, sin = tf.cos(angle), tf.sin(angle)
    a0, a1 = sx * cos, sx * (-sin + shear)
    b0, b1 = sy * sin, sy * cos
    c = 13.5  # rotate and scale about the image centre
    a2 = c - a0 * c - a1 * c + tx
    b2 = c - b0 * c - b1 * c + ty
    zeros = tf.zeros_like(a0)
    matrix = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    x = tf.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=matrix, output_shape=[28, 28], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT")
    return x, y


def make_dataset(x, y, batch_size, seed, teacher=None):
    """Shuffled, augmented batches. With a teacher, y is (label, from MNIST) and each batch's target becomes
    (label, from MNIST, the teacher's 10 probabilities of the augmented image) for `distillation_loss`."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed)
    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    if teacher is not None:
        ds = ds.map(lambda x, y: (x, tf.concat([y, teacher(x, training=False)], axis=1)))
    return ds.prefetch(tf.data.AUTOTUNE)


DISTILL_TEMPERATURE = 2.0  # Hinton et al.'s usual softening: the teacher's second choices carry what it knows


def distillation_loss(weight):
    """Cross-entropy on the label, plus `weight` x T^2 x KL(teacher || student) of the probabilities softened by T,
    on MNIST images only (learning without forgetting, Li & Hoiem 2016): the fine-tune on cheque digits may move
    the network, but not what it answers on MNIST. The teacher, MNIST-trained, reads cheque crops poorly, so they
    get the label alone. y_true packs (label, from MNIST, teacher's probabilities)."""
    from keras import ops

    def soften(p):
        return ops.log_softmax(ops.log(p + 1e-7) / DISTILL_TEMPERATURE, axis=-1)

    def loss(y_true, y_pred):
        label = ops.cast(y_true[:, 0], "int32")
        ce = keras.losses.sparse_categorical_crossentropy(label, y_pred)
        log_teacher, log_student = soften(y_true[:, 2:]), soften(y_pred)
        kl = ops.sum(ops.exp(log_teacher) * (log_teacher - log_student), axis=-1)
        return ce + weight * DISTILL_TEMPERATURE ** 2 * y_true[:, 1] * kl

    return loss


def label_accuracy(y_true, y_pred):
    """Keras's accuracy against the label in the first column of a packed target (see `distillation_loss`)."""
    return keras.metrics.sparse_categorical_accuracy(y_true[:, 0], y_pred)


def to_input(images):
    return (images.astype("float32") / 255.0)[..., None]


def continental_digits(images, labels, share, seed):
    """Copies of a share of the 1s and 7s among MNIST images (0-255) written the continental way, 1s flagged and 7s
    crossed (ml.synth_strings.continental), brought back to MNIST form as an upload is (the flag or the bar moves
    the box and the centre). Returns (N, 28, 28, 1) float32 and (N,) labels."""
    from ml.preprocess import to_mnist
    from ml.synth_strings import continental

    rng = np.random.default_rng([seed, 17])
    xs, ys = [], []
    for image, label in zip(images, labels):
        if label in (1, 7) and rng.random() < share:
            digit = to_mnist(continental(image, int(label), rng) / 255.0)
            if digit is not None:
                xs.append(digit)
                ys.append(label)
    x = np.stack(xs)[..., None].astype("float32") if xs else np.zeros((0, 28, 28, 1), np.float32)
    return x, np.array(ys, labels.dtype)


def orand_digits(root, split):
    """The digit crops of one ORAND-CAR-A split in MNIST form, made as an upload is: PNG bytes, decode, prepare.
    Crops where no digit is found are left out. Returns (N, 28, 28, 1) float32 and (N,) labels."""
    from ml.preprocess import decode_image, prepare

    xs, ys = [], []
    for data, digit in orand_uploads(root, split=split):
        x = prepare(decode_image(data))
        if x is not None:
            xs.append(x)
            ys.append(int(digit))
    return np.stack(xs)[..., None], np.array(ys, np.uint8)


def accuracy(model, x, y):
    return float((model.predict(x, batch_size=1000, verbose=0).argmax(1) == y).mean())


def export_tflite(model, path):
    import tensorflow as tf

    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", help=MNIST_HELP)
    parser.add_argument("--strings", action="store_true", help="train the CRNN string reader (CTC)")
    parser.add_argument("--orand", type=Path, help="ORAND-CAR-A directory: its train split is trained on, "
                        "its validation split watched")
    parser.add_argument("--init", type=Path, help="start from this .keras model (fine-tune)")
    parser.add_argument("--keep-best-epoch", action="store_true",
                        help="with --strings --init: write the run's best epoch even where it does not beat the --init "
                        "model on validation (for a change that validation does not measure, judged after)")
    parser.add_argument("--distill", type=float, default=0.0, metavar="W",
                        help="with --init: weight of a second loss keeping the MNIST answers of the --init model "
                        "(knowledge distillation on the MNIST images; default 0, none)")
    parser.add_argument("--real-share", type=float,
                        help="with --strings: share of each batch that is real ORAND train lines (default 0.25)")
    parser.add_argument("--splice", type=float, default=0.0, metavar="P",
                        help="with --strings: share of the real lines made of two train lines cut between digits "
                        "and joined (default 0)")
    parser.add_argument("--binarize", type=float, default=0.0, metavar="P",
                        help="with --strings: share of all lines made black and white, as bitonal scanners give "
                        "them (default 0)")
    parser.add_argument("--continental", type=float, default=0.0, metavar="P",
                        help="a share P of the MNIST 1s and 7s written the continental way, 1s flagged and 7s "
                        "crossed (ml.synth_strings.continental): in the synthetic lines (--strings), or added again "
                        "to the digits (ml.train.continental_digits)")
    parser.add_argument("--steps-per-epoch", type=int, default=500, help="with --strings: batches per epoch")
    parser.add_argument("--workers", type=int, default=max(0, (os.cpu_count() or 1) - 2),
                        help="with --strings: processes drawing the synthetic lines (default: cores - 2; "
                        "0: drawn in the training process)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, help="default 128 (digits), 32 (--strings)")
    parser.add_argument("--width", type=int, help="filters of the first conv block; default 40 (digits), 24")
    parser.add_argument("--lr", type=float, help="peak learning rate; default 3e-3 (digits), 2e-3")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit", type=int, help="train on the first N images only (smoke runs)")
    parser.add_argument("--mnist-validation", type=int, default=0, metavar="N",
                        help="hold out the last N images of MNIST train as a validation split, watched instead of "
                        "MNIST test (for choosing what is tried on MNIST without looking at its test set)")
    parser.add_argument("--out", type=Path, help=f"default {MODELS_DIR} (digits), {CRNN_DIR} (--strings)")
    args = parser.parse_args(argv)
    if args.distill and not args.init:
        parser.error("--distill needs --init: the model whose MNIST answers are kept")
    if args.splice and not (args.strings and args.orand and 0 < args.splice <= 1):
        parser.error("--splice P needs --strings, --orand (it cuts ORAND train lines) and 0 < P <= 1")
    if args.keep_best_epoch and not (args.strings and args.init):
        parser.error("--keep-best-epoch needs --strings and --init")
    if args.binarize and not (args.strings and 0 < args.binarize <= 1):
        parser.error("--binarize P needs --strings and 0 < P <= 1")
    if args.continental and not 0 < args.continental <= 1:
        parser.error("--continental P needs 0 < P <= 1")
    if args.strings:
        from ml.train_strings import train

        args.batch_size, args.width = args.batch_size or 32, args.width or 24
        args.lr, args.out = args.lr or 2e-3, args.out or CRNN_DIR
        return train(args)
    import tensorflow as tf  # the digit CNN's augmentation and input pipeline are TensorFlow's

    args.batch_size, args.width = args.batch_size or 128, args.width or 40
    args.lr, args.out = args.lr or 3e-3, args.out or MODELS_DIR

    keras.utils.set_random_seed(args.seed)
    # A seed alone does not repeat a run: the augmentation's random ops run in parallel batches and the kernels'
    # reductions in any order (the same command read 99.67 % and 99.71 % of MNIST validation). Deterministic ops
    # make the same command give the same weights.
    tf.config.experimental.enable_op_determinism()
    (x_train, y_train), (x_test, y_test) = load_mnist(args.mnist)
    x_train, y_train, (x_val, y_val) = mnist_train_split(x_train, y_train, args.mnist_validation)
    if not args.mnist_validation:
        x_val, y_val = x_test, y_test  # without a validation split MNIST test is watched (never chosen on)
    x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    x_continental, y_continental = (continental_digits(x_train, y_train, args.continental, args.seed)
                                    if args.continental else (None, None))
    x_train = to_input(x_train)
    x_test, x_val = to_input(x_test), to_input(x_val)
    watched = [(x_val, y_val)]
    n_mnist = len(y_train)
    if args.orand:
        x_real, y_real = orand_digits(args.orand, "train")
        x_train = np.concatenate([x_train, np.repeat(x_real, ORAND_REPEAT, axis=0)])
        y_train = np.concatenate([y_train, np.repeat(y_real, ORAND_REPEAT)])
        watched.append(orand_digits(args.orand, "validation"))
        print(f"ORAND-CAR-A: {len(y_real)} train-split crops (x{ORAND_REPEAT}), "
              f"{len(watched[1][1])} validation-split crops watched")

    if args.continental:
        x_train, y_train = np.concatenate([x_train, x_continental]), np.concatenate([y_train, y_continental])
        print(f"continental 1s and 7s: {len(y_continental)} MNIST train digits added again written so")
    model = keras.models.load_model(args.init) if args.init else build_model(args.width)
    # The card gives the width trained, which with --init is the loaded model's, not --width's.
    args.width = next(layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    steps = len(x_train) // args.batch_size
    # One epoch of warm-up, then cosine decay to zero: a one-cycle schedule.
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=steps * (args.epochs - 1), warmup_target=args.lr, warmup_steps=steps)
    teacher = None
    if args.distill:
        teacher = keras.models.load_model(args.init)
        teacher.trainable = False
        from_mnist = (np.arange(len(y_train)) < n_mnist).astype("float32")
        y_train = np.stack([y_train.astype("float32"), from_mnist], axis=1)
        # The watched MNIST split in the same packed form (not from MNIST as far as the loss goes: plain cross-entropy).
        watched[0] = (watched[0][0], np.pad(watched[0][1].astype("float32")[:, None], ((0, 0), (0, 11))))
        loss, metrics = distillation_loss(args.distill), [label_accuracy]
    else:
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=metrics)
    model.summary()

    start = time.time()
    class Watch(keras.callbacks.Callback):
        """Print the ORAND validation accuracy after each epoch. Keras's val_ figures are the MNIST validation split
        (MNIST test without one): only watched, never used to choose weights or stop early."""

        def on_epoch_end(self, epoch, logs=None):
            if len(watched) > 1:
                x, y = watched[1]
                print(f"epoch {epoch + 1}: ORAND validation crops {accuracy(self.model, x, y):.2%}", flush=True)

    model.fit(make_dataset(x_train, y_train, args.batch_size, args.seed, teacher), epochs=args.epochs,
              shuffle=False, validation_data=watched[0], validation_batch_size=1000,  # make_dataset shuffles
              verbose=0, callbacks=[TqdmCallback(verbose=1), Watch()])
    training_time = time.time() - start

    test_accuracy = accuracy(model, x_test, y_test)
    print(f"test accuracy {test_accuracy:.4%}, training time {training_time / 60:.1f} min")
    real = {}
    if args.mnist_validation:
        real["mnist_validation_accuracy"] = accuracy(model, x_val, y_val)
    if args.orand:
        real["orand_validation_crops_accuracy"] = accuracy(model, *watched[1])

    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "digits.keras")
    export_tflite(model, args.out / "digits.tflite")
    tflite_hash = hashlib.sha256((args.out / "digits.tflite").read_bytes()).hexdigest()
    data_file = mnist_path(args.mnist)
    card = {
        "name": "digits-cnn",
        "version": f"1.0+{tflite_hash[:8]}",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "files": {"keras": "digits.keras", "tflite": "digits.tflite", "tflite_sha256": tflite_hash},
        "data": {"name": "MNIST", "file": data_file.name, "sha256": file_sha256(data_file),
                 "train_images": len(x_train), "test_images": len(x_test),
                 **({"mnist_validation": f"the last {args.mnist_validation} images of MNIST train, held out"}
                    if args.mnist_validation else {}),
                 **({"orand": f"ORAND-CAR-A train-split digit crops x{ORAND_REPEAT} (ml/splits/orand-car-a.json)"}
                    if args.orand else {}),
                 **({"continental": f"{len(y_continental)} MNIST train 1s and 7s ({args.continental:.0%} of them) "
                                    "added again, 1s flagged and 7s crossed (ml.train.continental_digits)"}
                    if args.continental else {})},
        "architecture": "VGG-style CNN: conv 3x3 (w, w) pool (2w, 2w) pool 4w, BatchNorm+ReLU, GAP, dropout, dense 10",
        "input": "28x28 float32 in [0, 1], white ink on black, 20 px box centred by mass (MNIST form)",
        "parameters": int(model.count_params()),
        "flops_per_image": flops_per_image(model),
        "training": {"epochs": args.epochs, "batch_size": args.batch_size, "width": args.width,
                     "peak_lr": args.lr, "schedule": "1 epoch warm-up + cosine decay, Adam",
                     "seed": args.seed, "augmentation": "rotation +-12 deg, scale 0.88-1.12, aspect +-7%, "
                     "shear +-0.2, shift +-2.5 px, 15% dilation, 15% erosion",
                     "training_time_s": round(training_time, 1),
                     **({"init": f"fine-tuned from {args.init}"} if args.init else {}),
                     **({"distill": {"weight": args.distill, "temperature": DISTILL_TEMPERATURE,
                                     "teacher": f"{args.init}, on the MNIST images"}} if args.distill else {}),
                     "tensorflow": tf.__version__, "keras": keras.__version__},
        "test_accuracy": test_accuracy, **real,
    }
    (args.out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {args.out}/digits.keras, digits.tflite, model_card.json (version {card['version']})")


if __name__ == "__main__":
    main()
