"""Every main page, in Chromium, checked by axe-core (WCAG 2.2 A/AA rules): no serious or critical violation."""

from unittest import mock

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts.tests.browser import log_in
from accounts.tests.factories import make_official
from batches import services as batch_services
from recognition.models import Prediction
from recognition.services import check_image, create_predictions
from recognition.tests.conftest import media_root, number_png, sample, upload  # noqa: F401 (media_root: autouse)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}
BLOCKING = {"serious", "critical"}
ANONYMOUS_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password_reset/"]
SIGNED_IN_PAGES = [
    "/", "/draw/", "/upload/", "/predictions/", "/accounts/profile/", "/batches/", "/batches/new/", "/organization/",
    "/review/",
]


def violations(page, url):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    results = Axe().run(page, options=WCAG).response["violations"]
    return [(url, v["id"], v["impact"], len(v["nodes"]), v["help"]) for v in results]


def report(found):
    # The summary the note quotes (violations by impact); printed with -s.
    by_impact = {}
    for _url, _rule, impact, nodes, _help in found:
        by_impact[impact] = by_impact.get(impact, 0) + nodes
    print("axe:", by_impact or "no violations", *found, sep="\n  ")
    return [v for v in found if v[2] in BLOCKING]


def done_predictions(official):
    with mock.patch("recognition.services.enqueue"):
        digit, = create_predictions(official, [check_image("seven.png", sample("canvas_7.png"))])
        number, = create_predictions(official, [check_image("107.png", number_png())], kind=Prediction.Kind.NUMBER)
    Prediction.objects.filter(pk=digit.pk).update(
        status=Prediction.Status.DONE, digit=7, confidence=0.97, probabilities=[0.003] * 7 + [0.97] + [0.003] * 2)
    Prediction.objects.filter(pk=number.pk).update(
        status=Prediction.Status.DONE, digits="107", confidence=0.93, characters=[
            {"digit": d, "box": [30 + 110 * i, 15, 70, 90], "confidence": 0.98} for i, d in enumerate("107")])
    digit.refresh_from_db()
    number.refresh_from_db()
    return digit, number


def test_no_page_has_a_serious_or_critical_violation(live_server, page):
    found = [v for path in ANONYMOUS_PAGES for v in violations(page, live_server.url + path)]

    official = make_official(email="clerk@first.example", is_org_admin=True)
    digit, number = done_predictions(official)
    with mock.patch("recognition.services.enqueue"):
        batch = batch_services.create_batch(official, "March cheques", "amount", [upload("107.png", number_png())])
    item = batch.items.get()
    Prediction.objects.filter(pk=item.prediction_id).update(  # unsure: it waits for review
        status=Prediction.Status.DONE, digits="107", confidence=0.6, characters=number.characters)
    log_in(page, live_server, official.email)
    paths = SIGNED_IN_PAGES + [f"/predictions/{digit.pk}/", f"/predictions/{number.pk}/", f"/batches/{batch.pk}/",
                             f"/review/{item.pk}/", f"/review/accept-above/?batch={batch.pk}&confidence=50"]
    found += [v for path in paths for v in violations(page, live_server.url + path)]
    assert not report(found)


def test_the_keyboard_reaches_the_content_first_and_sees_where_it_is(live_server, page):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    assert skip.evaluate("e => getComputedStyle(e).outlineStyle") != "none"  # focus is visible
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is in the content, not back in the menu
    assert page.evaluate("document.activeElement.closest('main') !== null")


SEGMENT_TRANSITION = """() => {
  const bar = document.createElement("div");
  bar.className = "state-bar";
  bar.innerHTML = '<span class="segment"></span>';
  document.body.append(bar);
  return getComputedStyle(bar.firstChild).transitionDuration;
}"""


@pytest.mark.parametrize("motion, duration", [("no-preference", "0.4s"), ("reduce", "0s")])
def test_less_motion_when_the_system_asks_for_it(live_server, page, motion, duration):
    page.emulate_media(reduced_motion=motion)
    page.goto(live_server.url + "/accounts/login/")
    assert page.evaluate(SEGMENT_TRANSITION) == duration  # the batch bar's animation
