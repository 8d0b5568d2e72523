"""Greedy CTC decoding in NumPy, for the LiteRT path (no TensorFlow)."""

BLANK = 10  # the last of the CRNN's 11 classes


def greedy_decode(probabilities, blank=BLANK):
    """(T, classes) probabilities of one line -> (digits, [(digit, probability, first, last column)]).

    Take the best class per column, merge runs of the same class, drop blanks. A digit's probability is
    the highest of its run's columns; first and last are its run's columns (for boxes: output column t
    of the CRNN covers columns 4t to 4t + 3 of the normalised line).
    """
    best = probabilities.argmax(1)
    characters = []
    start = 0
    for t in range(1, len(best) + 1):
        if t == len(best) or best[t] != best[start]:
            if best[start] != blank:
                run = probabilities[start:t, best[start]]
                characters.append((str(best[start]), float(run.max()), start, t - 1))
            start = t
    return "".join(c[0] for c in characters), characters
