"""Read handwritten digits from image files with the shipped model.

    python -m ml.predict FILE... [--json]

With --json, prints one JSON object per file, in order: the reading (digit,
confidence, probabilities, status, model_version, timings) or an "error" sentence.
"""
import argparse
import json

from ml.inference import Reading, get_recognizer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)

    contents, results = [], {}
    for i, name in enumerate(args.files):
        try:
            with open(name, "rb") as f:
                contents.append((i, f.read()))
        except OSError as error:
            results[i] = f"The file cannot be opened: {error.strerror}."
    readings = get_recognizer().read([data for _, data in contents])
    results.update((i, reading) for (i, _), reading in zip(contents, readings))

    for i, name in enumerate(args.files):
        result = results[i]
        if isinstance(result, Reading):
            record = {"file": name, **result.to_dict()}
        else:
            record = {"file": name, "error": str(result)}
        if args.json:
            print(json.dumps(record))
        elif "error" in record:
            print(f"{name}: error: {record['error']}")
        elif record["digit"] is None:
            print(f"{name}: no digit found")
        else:
            print(f"{name}: {record['digit']} ({record['confidence']:.1%})")


if __name__ == "__main__":
    main()
