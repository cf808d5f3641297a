"""The one way out to Telegram for every message the system starts.

Broadcasts, reminders and nudges become rows in the outbox (``services.outbox``: the services
enqueue them); a ``DeliveryWorker``, a front end like the bot and the API, claims due rows,
renders them in each learner's language, sends them within Telegram's limits (``limiter``) and
applies the error policy (``policy``). Replies inside a conversation do not come through here:
handlers send them.
"""

from learntogether.delivery.limiter import SendLimiter
from learntogether.delivery.policy import RetryPolicy
from learntogether.delivery.worker import DeliveryWorker

__all__ = ["DeliveryWorker", "RetryPolicy", "SendLimiter"]
