"""Other people's predictions and files stay theirs; nothing is served from a public URL."""

import pytest
from django.urls import reverse

from recognition import services
from recognition.models import Prediction

from .conftest import sample, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def prediction(user):
    """A prediction that has been shown in a list, so it has both its image and its thumbnail."""
    prediction = services.create_prediction(user, services.check_image("seven.png", sample("canvas_7.png")))
    services.thumbnail_of(prediction)
    return prediction


OWNER_PAGES = ["prediction-detail", "prediction-panel", "prediction-image", "prediction-thumbnail"]


@pytest.mark.parametrize("name", OWNER_PAGES)
def test_the_owner_sees_each_page_and_file(owner_client, prediction, name):
    response = owner_client.get(reverse(name, args=[prediction.pk]))
    assert response.status_code == 200


def test_image_is_the_uploaded_file_served_privately(owner_client, prediction):
    response = owner_client.get(reverse("prediction-image", args=[prediction.pk]))
    assert b"".join(response.streaming_content) == sample("canvas_7.png")
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", OWNER_PAGES)
def test_another_user_gets_404(client, other_user, prediction, name):
    client.force_login(other_user)
    assert client.get(reverse(name, args=[prediction.pk])).status_code == 404


def test_another_user_cannot_delete(client, other_user, prediction, media_root):
    client.force_login(other_user)
    assert client.post(reverse("prediction-delete", args=[prediction.pk])).status_code == 404
    assert Prediction.objects.filter(pk=prediction.pk).exists()
    assert len(stored_files(media_root)) == 2


def test_another_users_history_does_not_list_it(client, other_user, prediction):
    client.force_login(other_user)
    page = client.get(reverse("history")).content.decode()
    assert str(prediction.pk) not in page


@pytest.mark.parametrize("name", OWNER_PAGES + ["prediction-delete"])
def test_anonymous_visitors_are_sent_to_log_in(client, prediction, name):
    response = client.get(reverse(name, args=[prediction.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["draw", "upload", "history"])
def test_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_home_is_public(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "what happens" in response.content.decode().lower() or "Your images" in response.content.decode()


def test_files_live_in_private_per_user_folders_with_random_names(prediction, media_root, user):
    image_path = media_root / prediction.image.name
    assert image_path.is_file()
    assert prediction.image.name.startswith(f"predictions/{user.pk}/")
    assert "seven" not in prediction.image.name
    assert services.thumbnail_of(prediction).name.startswith(f"thumbnails/{user.pk}/")


def test_no_public_url_serves_uploads(client, owner_client, prediction):
    for path in (f"/media/{prediction.image.name}", f"/{prediction.image.name}", f"/static/{prediction.image.name}"):
        assert owner_client.get(path).status_code == 404
        assert client.get(path).status_code == 404


def test_deleting_removes_the_files_too(owner_client, prediction, media_root):
    assert len(stored_files(media_root)) == 2
    response = owner_client.post(reverse("prediction-delete", args=[prediction.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("history")
    assert not Prediction.objects.exists()
    assert stored_files(media_root) == []


def test_delete_does_not_redirect_off_site(owner_client, prediction):
    response = owner_client.post(
        reverse("prediction-delete", args=[prediction.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("history")
