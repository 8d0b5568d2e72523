"""The weight-space mix of two digit CNNs (ml.soup)."""
import keras
import numpy as np

from ml.model import build_model
from ml.soup import WEIGHTS, accuracy, fit, mix


def two_models():
    keras.utils.set_random_seed(1)
    base = build_model(4)
    keras.utils.set_random_seed(2)
    return base, build_model(4)


def test_the_mix_is_the_weighted_mean_of_every_variable():
    base, tuned = two_models()
    x = np.random.default_rng(0).random((8, 28, 28, 1), np.float32)
    assert np.allclose(mix(base, tuned, 0.0).predict(x, verbose=0), base.predict(x, verbose=0), atol=1e-6)
    assert np.allclose(mix(base, tuned, 1.0).predict(x, verbose=0), tuned.predict(x, verbose=0), atol=1e-6)
    half = mix(base, tuned, 0.3).get_weights()
    for h, b, t in zip(half, base.get_weights(), tuned.get_weights()):
        assert np.allclose(h, 0.7 * b + 0.3 * t)  # BatchNorm's moving statistics included
    assert not np.allclose(half[0], tuned.get_weights()[0])


def test_fit_takes_the_weight_with_the_best_mean_of_the_validation_sets():
    base, tuned = two_models()
    rng = np.random.default_rng(3)
    x = rng.random((60, 28, 28, 1), np.float32)
    # Labels that the base model reads and labels that the other one reads: the ends of the range split the sets.
    sets = {"a": (x[:30], base.predict(x[:30], verbose=0).argmax(1)),
            "b": (x[30:], tuned.predict(x[30:], verbose=0).argmax(1))}
    best, table = fit(base, tuned, sets)
    assert list(table) == [str(w) for w in WEIGHTS]
    assert table["0.0"]["a"] == 1.0 and table["1.0"]["b"] == 1.0
    assert table["1.0"]["a"] == accuracy(tuned, *sets["a"])
    means = {float(w): np.mean(list(s.values())) for w, s in table.items()}
    assert means[best] == max(means.values())
    assert best == max(w for w, m in means.items() if m == means[best])  # a tie goes to the fine-tuned side
