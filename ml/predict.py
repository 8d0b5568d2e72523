"""Read handwritten digits from image files with the shipped model.

    python -m ml.predict FILE... [--json]
    python -m ml.predict --strings FILE... [--json]

With --json, prints one JSON object per file, in order: the reading (digit,
confidence, probabilities, status, model_version, timings) or an "error" sentence
with its "code". --strings reads each file as one line of digits (ml.strings): the
digit string ("" when none is found), its calibrated confidence, whether it is
auto-accepted at the default threshold, and each digit's box (x, y, w, h) and
probability.
"""
import argparse
import json

from ml.inference import Reading, get_recognizer
from ml.strings import StringReading, get_string_reader


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--strings", action="store_true", help="read a line of digits, not one digit")
    args = parser.parse_args(argv)

    contents, results = [], {}
    for i, name in enumerate(args.files):
        try:
            with open(name, "rb") as f:
                contents.append((i, f.read()))
        except OSError as error:
            results[i] = (f"The file cannot be opened: {error.strerror}.", "unreadable")
    reader = get_string_reader() if args.strings else get_recognizer()
    readings = reader.read([data for _, data in contents])
    results.update((i, reading) for (i, _), reading in zip(contents, readings))

    for i, name in enumerate(args.files):
        result = results[i]
        if isinstance(result, StringReading):
            record = {"file": name, "digits": result.digits, "confidence": result.confidence,
                      "auto_accept": result.auto_accept,
                      "characters": [vars(c) for c in result.characters], "model_version": result.model_version}
        elif isinstance(result, Reading):
            record = {"file": name, **result.to_dict()}
        else:
            message, code = result if isinstance(result, tuple) else (str(result), result.code)
            record = {"file": name, "error": message, "code": code}
        if args.json:
            print(json.dumps(record))
        elif "error" in record:
            print(f"{name}: error: {record['error']}")
        elif args.strings:
            print(f"{name}: {record['digits'] or 'no digits found'} ({record['confidence']:.1%}"
                  f"{', auto-accepted' if record['auto_accept'] else ''})")
        elif record["digit"] is None:
            print(f"{name}: no digit found")
        else:
            print(f"{name}: {record['digit']} ({record['confidence']:.1%})")


if __name__ == "__main__":
    main()
