"""The outcome policy: what one attempt's answer (a result or an error, as a value) means."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bot.delivery.schedule import retry_at
from bot.errors import (
    AuthError,
    ChatMovedError,
    CredentialsError,
    PublishError,
    RecipientGoneError,
    TooLongError,
    TransientError,
    UnknownOutcomeError,
)
from bot.models import ChannelType, DeliveryState, Outcome, Pause, PublishResult

# A reader's row keeps this much of an error message (a channel's keeps it whole, for admins).
READER_ERROR_MAX = 300


@dataclass(frozen=True, slots=True)
class NotRendered:
    """The post could not be built from the article (a template, a link): nothing was sent."""

    reason: str


# What an attempt answered: the platform's result, a render failure, or the error it raised
# (our hierarchy from errors.py; anything else is a bug somewhere after the request left).
Answer = PublishResult | NotRendered | BaseException


@dataclass(frozen=True, slots=True)
class Recipient:
    """The few facts about where the row was going that the policy needs.

    `reader`: a reader's private chat (a topic broadcast or a digest), not a channel. A reader
    who refuses the bot is gone, not a reason to pause; nobody is alerted about one message;
    and any wait ends the batch, since the rest of it goes to the same platform. `platform`:
    which adapter answered (the policy is the same for every platform today; its table says so)."""

    platform: ChannelType
    reader: bool = False


CHANNEL_OF = {p: Recipient(p) for p in ChannelType}
READER = Recipient(ChannelType.TELEGRAM, reader=True)


def decide(
    answer: Answer,
    to: Recipient,
    *,
    attempts: int,
    now: datetime,
    rand: float,
    shortened: bool = False,
) -> Outcome:
    """The row's new state and what follows from it, for one attempt's answer.

    `attempts` counts this one; `rand` in [0, 1) jitters a backoff; `shortened`: the post was
    already rendered shorter after a "too long" answer (it is not shortened twice).
    """
    outcome = _decide(answer, to, attempts=attempts, now=now, rand=rand, shortened=shortened)
    if to.reader and outcome.error is not None:
        return replace(outcome, error=outcome.error[:READER_ERROR_MAX])
    return outcome


def _decide(
    answer: Answer, to: Recipient, *, attempts: int, now: datetime, rand: float, shortened: bool
) -> Outcome:
    if isinstance(answer, PublishResult):
        return Outcome(DeliveryState.SENT, result=answer)
    if isinstance(answer, NotRendered):
        return Outcome(DeliveryState.FAILED, f"cannot render: {answer.reason}", alert=not to.reader)
    if not isinstance(answer, PublishError):  # a bug in an adapter: the post may exist
        detail = f"unexpected error: {type(answer).__name__}"
        return Outcome(DeliveryState.UNKNOWN, detail, alert=not to.reader, end_round=not to.reader)
    error = str(answer)
    if isinstance(answer, ChatMovedError) and not to.reader:
        moved = str(answer.new_chat_id)
        return Outcome(DeliveryState.QUEUED, f"chat moved to {moved}", due=now, chat_moved=moved)
    if isinstance(answer, TransientError):
        due = retry_at(now, attempts=attempts, retry_after=answer.retry_after, rand=rand)
        # a rate limit ends the round: the platform asked us to stop hammering it
        limited = answer.retry_after is not None and not isinstance(answer, ChatMovedError)
        end = to.reader or limited
        return Outcome(DeliveryState.QUEUED, error, due=due, end_round=end, rate_limited=limited)
    if isinstance(answer, CredentialsError) or (isinstance(answer, AuthError) and not to.reader):
        # the attempt does not count; the queue waits (a channel's row keeps no error: the
        # reason is the pause's, shown on the channel)
        pause = Pause(error, platform_wide=isinstance(answer, CredentialsError))
        row_error = error if to.reader else None
        return Outcome(DeliveryState.QUEUED, row_error, release=True, pause=pause, end_round=True)
    if isinstance(answer, UnknownOutcomeError):
        # a struggling platform: do not pile up more uncertain posts in this round
        return Outcome(DeliveryState.UNKNOWN, error, alert=not to.reader, end_round=not to.reader)
    if isinstance(answer, RecipientGoneError) and to.reader:
        return Outcome(DeliveryState.SKIPPED, error, unsubscribe=True)
    if isinstance(answer, TooLongError) and not shortened and not to.reader:
        return Outcome(DeliveryState.SENDING, error, shorter=True)
    return Outcome(DeliveryState.FAILED, error, alert=not to.reader)
