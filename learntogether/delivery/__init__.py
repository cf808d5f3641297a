"""The one way out to Telegram for every message the system starts.

Broadcasts, reminders and nudges become rows in the outbox (``outbox.enqueue``, called by
``services.broadcasts``); a ``DeliveryWorker`` claims due rows, renders them in each learner's
language, sends them within Telegram's limits (``limiter``) and applies the error policy
(``policy``). Replies inside a conversation do not come through here: handlers send them.
"""

from learntogether.delivery.limiter import SendLimiter
from learntogether.delivery.policy import RetryPolicy
from learntogether.delivery.render import RESUME_CALLBACK
from learntogether.delivery.worker import DeliveryWorker

__all__ = ["RESUME_CALLBACK", "DeliveryWorker", "RetryPolicy", "SendLimiter"]
