"""The Celery broker transport (kombu's Redis, one client per pool), against the real Redis."""

import secrets

from django.conf import settings
from kombu import Connection, Queue

from digitsite.broker import Transport


def test_messages_go_through_the_real_redis_on_one_reused_client():
    queue = Queue(f"test-broker-{secrets.token_hex(4)}")
    with Connection(settings.CELERY_BROKER_URL, transport=Transport) as connection:
        channel = connection.default_channel
        producer = connection.Producer(channel)
        for number in range(3):
            producer.publish({"number": number}, routing_key=queue.name, declare=[queue], retry=True)
        first = channel._create_client()
        assert channel._create_client() is first
        received = [queue(channel).get(no_ack=False) for _ in range(3)]
        for message in received:
            message.ack()
        assert [message.payload["number"] for message in received] == [0, 1, 2]
        assert queue(channel).get() is None
        queue(channel).delete()


def test_a_new_pool_gets_a_new_client():
    with Connection(settings.CELERY_BROKER_URL, transport=Transport) as connection:
        channel = connection.default_channel
        first = channel._create_client()
        channel._pool = None  # as kombu does when it closes its pools
        assert channel._create_client() is not first
        assert channel._create_client().connection_pool is channel.pool
