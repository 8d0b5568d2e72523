"""Every upload path refuses what is not a usable image, says why, and stores nothing."""

import io
import struct
import zlib

import pytest
from django.urls import reverse
from PIL import Image

from ml.tests.synth import flat_png
from recognition.models import Prediction

from .conftest import png, sample, stored_files, upload

pytestmark = pytest.mark.django_db


def gif_animation():
    frames = [Image.new("L", (64, 64), shade) for shade in (0, 128, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def tiff_pages():
    pages = [Image.new("L", (64, 64), shade) for shade in (0, 255)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def png_bomb(side=20_000):
    """A PNG whose header claims side x side pixels (400 megapixels) in a few hundred bytes."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + b"\x00" * (side // 8)
    data = zlib.compress(row * 64, 9)  # far fewer rows than claimed: decoding must never start
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


BAD_FILES = {
    "text": ("notes.png", b"these are not the pixels you are looking for", "not an image we can read"),
    "pdf renamed": ("scan.png", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", "not an image we can read"),
    "html renamed": ("digit.jpg", b"<!doctype html><script>alert(1)</script>", "not an image we can read"),
    "svg": ("digit.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><text>7</text></svg>', "not an image we can read"),
    "zero bytes": ("empty.png", b"", "empty"),
    "truncated": ("cut.jpg", sample("scan_3.jpg")[:400], "damaged or incomplete"),
    "decompression bomb": ("bomb.png", png_bomb(), "too many pixels"),
    # 300 KB that would take 1.5 GB to check and read: 40 megapixels of 16-bit RGBA.
    "too deep for its size": ("deep.png", flat_png(6300, 6300, 16, 6), "too many pixels for its colour depth"),
    "animated": ("moving.gif", gif_animation(), "Animated or multi-page"),
    "multi-page": ("pages.tif", tiff_pages(), "Animated or multi-page"),
    "absurd aspect ratio": ("line.png", png(Image.new("L", (4000, 20), 255)), "too long and thin"),
    "tiny": ("dot.png", png(Image.new("L", (3, 3), 255)), "too small"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
@pytest.mark.parametrize("source", ["upload", "drawing"])
def test_user_is_not_able_to_upload_any_file(owner_client, media_root, case, source):
    name, data, message = BAD_FILES[case]
    response = owner_client.post(reverse("upload"), {"images": [upload(name, data)], "source": source})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "form-errors" in page
    assert not Prediction.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_over_the_size_limit_is_refused(owner_client, media_root, settings):
    settings.RECOGNITION_MAX_UPLOAD_BYTES = 10 * 1024
    big = sample("canvas_7.png") + b"\0" * (11 * 1024)
    response = owner_client.post(reverse("upload"), {"images": [upload("big.png", big)]})
    assert response.status_code == 400
    assert "the limit is 10.0\xa0KB" in response.content.decode()
    assert not Prediction.objects.exists() and stored_files(media_root) == []


def test_the_good_images_of_a_mixed_upload_are_read_and_the_bad_ones_listed(owner_client, media_root):
    files = [
        upload("good.jpg", sample("scan_3.jpg")), upload("statement.pdf", b"%PDF-1.4\n%%EOF"),
        upload("good.png", sample("canvas_1.png")), upload("empty.png", b""),
    ]
    response = owner_client.post(reverse("upload"), {"images": files, "source": "upload"}, follow=True)
    assert response.redirect_chain == [(reverse("history"), 302)]
    assert sorted(Prediction.objects.values_list("original_name", flat=True)) == ["good.jpg", "good.png"]
    assert len(stored_files(media_root)) == 2
    shown = [str(message) for message in response.context["messages"]]
    assert "2 images are being read; they appear here as they finish." in shown
    refused = [m for m in shown if m.startswith("Not read: ")]
    assert len(refused) == 2
    assert refused[0].startswith("Not read: “statement.pdf”: This file is not an image we can read")
    assert refused[1].startswith("Not read: “empty.png”") and "empty" in refused[1].split("”", 1)[1]


def test_one_good_image_and_a_bad_one_open_the_result_with_the_reason(owner_client, media_root):
    files = [upload("statement.pdf", b"%PDF-1.4\n%%EOF"), upload("good.png", sample("canvas_1.png"))]
    response = owner_client.post(reverse("upload"), {"images": files, "source": "upload"}, follow=True)
    prediction = Prediction.objects.get()
    assert response.redirect_chain == [(reverse("prediction-detail", args=[prediction.pk]), 302)]
    page = response.content.decode()
    assert 'class="message warning"' in page and "Not read: “statement.pdf”" in page


def test_an_upload_with_no_good_image_is_refused_whole(owner_client, media_root):
    files = [upload("bad.png", b"nope"), upload("empty.png", b"")]
    response = owner_client.post(reverse("upload"), {"images": files})
    assert response.status_code == 400
    page = response.content.decode()
    assert "“bad.png”" in page and "“empty.png”" in page
    assert not Prediction.objects.exists() and stored_files(media_root) == []


def test_no_file_at_all(owner_client):
    response = owner_client.post(reverse("upload"), {})
    assert response.status_code == 400
    assert "Choose at least one image." in response.content.decode()


def test_too_many_files_at_once(owner_client, settings, media_root):
    settings.RECOGNITION_MAX_FILES = 2
    files = [upload(f"{i}.png", sample("canvas_1.png")) for i in range(3)]
    response = owner_client.post(reverse("upload"), {"images": files})
    assert response.status_code == 400
    assert "at most 2 images" in response.content.decode()
    assert stored_files(media_root) == []
