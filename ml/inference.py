"""Digit recognition served by the LiteRT runtime; TensorFlow is not imported.

    recognizer = get_recognizer()          # loaded once per process
    reading = recognizer.read_one(data)    # raises ImageError for a bad file
    results = recognizer.read([a, b, c])   # a Reading or an ImageError per item, one model call
"""
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from ml.preprocess import ImageError, decode_image, prepare

# The shipped model; DIGITS_MODEL_DIR points a deployment at another trained one.
MODEL_DIR = Path(os.environ.get("DIGITS_MODEL_DIR", Path(__file__).resolve().parent / "models"))
MAX_BATCH = 256  # images per model call; larger batches gain nothing and cost memory


@dataclass
class Reading:
    """The outcome for one image.

    For a blank image (no ink found) ``digit`` is None, ``confidence`` 0.0, ``status``
    "blank" and ``probabilities`` uniform (0.1 each): the model was not asked.
    ``timings`` holds milliseconds for decode, preprocess, infer (this image's share of
    the batched model call) and total.
    """

    digit: int | None
    confidence: float
    probabilities: list[float]
    status: str
    model_version: str
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self):
        return asdict(self)


class LiteModel:
    """A model card and its LiteRT file behind one interpreter, called in batches; thread-safe."""

    def __init__(self, model_dir, num_threads=None):
        model_dir = Path(model_dir)
        self.card = json.loads((model_dir / "model_card.json").read_text())
        self.version = self.card["version"]
        self.num_threads = num_threads or min(2, os.cpu_count() or 1)
        self.interpreter = Interpreter(
            model_path=str(model_dir / self.card["files"]["tflite"]), num_threads=self.num_threads)
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]
        self.shape = None
        self.lock = threading.Lock()  # one interpreter, so one model call at a time

    def run(self, x):
        """The model's output for a non-empty batch of inputs x, float32 of the model's input shape."""
        outputs = []
        with self.lock:
            for start in range(0, len(x), MAX_BATCH):
                chunk = x[start: start + MAX_BATCH]
                if chunk.shape != self.shape:  # re-planning the tensors costs, so keep the shape
                    self.interpreter.resize_tensor_input(self.input, chunk.shape)
                    self.interpreter.allocate_tensors()
                    self.shape = chunk.shape
                self.interpreter.set_tensor(self.input, chunk)
                self.interpreter.invoke()
                outputs.append(self.interpreter.get_tensor(self.output))
        return np.concatenate(outputs)


def log_mix(p, q, weight):
    """Two models' probabilities of the same classes (last axis) mixed: logs weighted 1 - weight and weight,
    renormalised."""
    log = (1 - weight) * np.log(p + 1e-7) + weight * np.log(q + 1e-7)
    mixed = np.exp(log - log.max(axis=-1, keepdims=True))
    return mixed / mixed.sum(axis=-1, keepdims=True)


class Recognizer(LiteModel):
    """The shipped digit model, with the string reader's opinion where the card's "ensemble" gives it a weight;
    thread-safe.

    The CNN and the CRNN misread different real digits: the CRNN learnt from whole cheque lines, digits touching and
    pieces of their neighbours included. Where the CNN is less sure than the card's consult_below, the engine's
    probabilities are their log probabilities, weighted; elsewhere the CNN's (ensemble=False: the CNN's alone).
    """

    def __init__(self, model_dir=MODEL_DIR, num_threads=None, ensemble=True):
        super().__init__(model_dir, num_threads)
        self.ensemble = self.card.get("ensemble") if ensemble else None
        self.strings = None
        if self.ensemble:
            from ml.strings import StringReader, get_string_reader

            strings_dir = Path(model_dir) / "strings"
            shipped = strings_dir.resolve() == (MODEL_DIR / "strings").resolve()
            # The engine asks the CRNN for digit probabilities only, never for a re-read string: another model's
            # folder needs no re-reading fitted to its CNN (ml.evaluate --models on a candidate).
            self.strings = (get_string_reader() if shipped
                            else StringReader(strings_dir, calibrated=False, reread=False, bitonal=False))
            crnn = self.strings.card["version"]
            if crnn != self.ensemble["string_model_version"]:
                raise ValueError(f"{model_dir}: the ensemble was fitted with string model "
                                 f"{self.ensemble['string_model_version']}, not {crnn}")
            self.version = f"{self.version} {crnn}"

    def read_arrays(self, x, files=None):
        """Class probabilities (N, 10) for digits already in MNIST form, (N, 28, 28) in [0, 1]. Where the CNN is
        unsure, the CRNN reads the digit as a line: from ``files[i]``, the bytes it came in, where given (ORAND
        validation crops: 97.9 % against 97.2 % from the MNIST form), else drawn from its MNIST form; each source
        with its own weight and passes from the card."""
        from ml.strings import mnist_line, prepare_line

        x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1)
        p = self.run(x)
        unsure = p.max(axis=1) < self.ensemble["consult_below"] if self.strings else np.zeros(len(p), bool)
        asked = {"file": ([], []), "mnist_form": ([], [])}  # source: (indices, lines)
        for i in np.flatnonzero(unsure):
            line = prepare_line(files[i]) if files is not None else None  # decoded again: a few ms, no memory
            indices, lines = asked["mnist_form" if line is None else "file"]
            indices.append(i)
            lines.append(mnist_line(x[i]) if line is None else line.x)
        for source, (indices, lines) in asked.items():
            if indices:
                how = self.ensemble if source == "file" else self.ensemble["mnist_form"]
                q = self.strings.digit_probabilities(lines, how["passes"])
                p[indices] = log_mix(p[indices], q, how["string_weight"])
        return p

    def read(self, images: list[bytes]) -> list["Reading | ImageError"]:
        """Read many uploads with one model call; a bad file yields its ImageError in place."""
        prepared, timings = [], []
        for data in images:
            start = time.perf_counter()
            try:
                image = decode_image(data)
                decoded = time.perf_counter()
                prepared.append(prepare(image))
            except ImageError as error:
                prepared.append(error)
                timings.append(None)
                continue
            timings.append({"decode": decoded - start, "preprocess": time.perf_counter() - decoded})

        digits = [item for item in prepared if isinstance(item, np.ndarray)]
        files = [data for data, item in zip(images, prepared) if isinstance(item, np.ndarray)]
        start = time.perf_counter()
        probabilities = iter(self.read_arrays(np.stack(digits), files) if digits else [])
        infer = (time.perf_counter() - start) / max(len(digits), 1)

        results = []
        for item, t in zip(prepared, timings):
            if isinstance(item, ImageError):
                results.append(item)
                continue
            blank = item is None
            p = np.full(10, 0.1) if blank else next(probabilities)
            t["infer"] = 0.0 if blank else infer
            t = {name: round(seconds * 1000, 3) for name, seconds in t.items()}
            t["total"] = round(sum(t.values()), 3)
            results.append(Reading(
                digit=None if blank else int(p.argmax()),
                confidence=0.0 if blank else float(p.max()),
                probabilities=[float(v) for v in p], status="blank" if blank else "done",
                model_version=self.version, timings=t))
        return results

    def read_one(self, data: bytes) -> Reading:
        """Read one upload; raises ImageError when it is not a usable image."""
        result = self.read([data])[0]
        if isinstance(result, ImageError):
            raise result
        return result


class ProcessWide:
    """A getter of one instance per process, made by ``make`` on first use (models load once); ``instance``
    is None until then."""

    def __init__(self, make):
        self.make, self.instance, self.lock = make, None, threading.Lock()

    def __call__(self):
        if self.instance is None:
            with self.lock:
                if self.instance is None:
                    self.instance = self.make()
        return self.instance


get_recognizer = ProcessWide(Recognizer)  # the process-wide Recognizer
