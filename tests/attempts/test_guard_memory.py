"""The duplicate guard knows what it does not remember.

Its memory is the team-wide order index (files, or Redis). A Redis restarted empty (cheap add-ons keep
nothing on disk) or a new instance folder has forgotten every order: while its memory is younger than the
duplicate window, an order it does not know is first looked for in JustClick, by form and table alike.
Over real HTTP against the stand-in, with a real redis-server."""

import html
import time
from datetime import UTC, datetime, timedelta

import redis

from tests.bulk.test_views import bring, run, tsv
from tests.support.desk import desk_config, sign_in
from webapp import create_app
from webapp.storage.files import FileIndex
from webapp.web.services import services_of

ORDER = {"customer_email": "olga@example.com", "products-0-good_name": "digital"}


def desk(shop, tmp_path, **config):
    app = create_app(desk_config(shop.url, tmp_path, GUARD_ASKS_JUSTCLICK=True, **config))
    return app, sign_in(app.test_client())


def creates(shop) -> int:
    return shop.counted.methods.count("createorder")


def test_after_redis_restarted_empty_nothing_is_sent_twice(shop, tmp_path, redis_url):
    """A table of rows and a form order are sent; Redis then loses everything (as a restart without
    persistence does); the operator signs in again and brings the same table and the same order:
    JustClick is asked, and each is held rather than sent a second time."""
    app, client = desk(shop, tmp_path, REDIS_URL=redis_url)
    rows = [["Email", "Product"], *[[f"row{i}@example.com", "digital"] for i in range(10)]]
    assert "Created: 10" in html.unescape(run(client, bring(client, tsv(*rows))))
    assert client.post("/", data=ORDER).status_code == 303
    assert creates(shop) == 11

    redis.from_url(redis_url).flushall()  # the restart: sessions, history, index, all gone
    client = sign_in(app.test_client())
    final = html.unescape(run(client, bring(client, tsv(*rows))))
    assert "Created: " not in final and final.count("(Created)") == 10 and creates(shop) == 11
    again = client.post("/", data=ORDER)
    page = html.unescape(again.get_data(as_text=True))
    assert again.status_code == 409 and "JustClick already has this order" in page
    number = str(max(o["bill_id"] for o in shop.book.all()))
    assert f"Invoice <strong>{number}</strong>" in page and creates(shop) == 11
    # The question answered, it is sent: the operator decides, the desk never guesses.
    confirmed = client.post("/", data={**ORDER, "confirm": f"justclick-{number}"})
    assert confirmed.status_code == 303 and creates(shop) == 12


def test_a_new_instance_folder_asks_justclick_for_an_order_it_does_not_know(shop, tmp_path):
    recent = shop.book.add({"customer_email": "olga@example.com", "product_names": "digital"},
                           created_at=datetime.now(UTC) - timedelta(minutes=5))
    shop.book.add({"customer_email": "old@example.com", "product_names": "digital"},
                  created_at=datetime.now(UTC) - timedelta(minutes=20))
    app, client = desk(shop, tmp_path)
    held = client.post("/", data=ORDER)
    assert held.status_code == 409 and f"Invoice <strong>{recent}</strong>" in held.get_data(as_text=True)
    assert creates(shop) == 0
    # An order made longer ago than the duplicate window is no reason to ask.
    assert client.post("/", data={**ORDER, "customer_email": "old@example.com"}).status_code == 303
    # Other products are another order.
    assert client.post("/", data={**ORDER, "products-0-good_name": "mentor-session"}).status_code == 303
    assert creates(shop) == 2


def test_a_guard_that_cannot_ask_justclick_asks_the_operator(shop, tmp_path):
    app, client = desk(shop, tmp_path, JUSTCLICK_API_KEY="wrong-key")  # 1.0 reads refused: code 4
    held = client.post("/", data=ORDER)
    page = html.unescape(held.get_data(as_text=True))
    assert held.status_code == 409 and "Check JustClick first: the desk could not" in page
    assert creates(shop) == 0
    confirm = [part.split('"')[0] for part in page.split('name="confirm" value="')[1:]]
    # Confirmed, it is sent (and refused: the same wrong key), once.
    assert client.post("/", data={**ORDER, "confirm": confirm[0]}).status_code == 422
    assert shop.counted.methods.count("createorder") == 1


def test_a_memory_older_than_the_window_asks_justclick_nothing(shop, tmp_path):
    app, client = desk(shop, tmp_path)
    index = services_of(app).index.store
    assert isinstance(index, FileIndex)
    with open(f"{index.root}/.since", "w", encoding="ascii") as f:
        f.write(repr(time.time() - 3600))
    assert client.post("/", data=ORDER).status_code == 303
    assert shop.counted.lookups() == [] and creates(shop) == 1


def test_the_memory_marker_outlives_the_folders_sweep(tmp_path):
    index = FileIndex(str(tmp_path / "orders"), lifetime=0.01)
    began = index.memory_since()
    time.sleep(0.05)
    index.sweep()
    assert index.memory_since() == began
