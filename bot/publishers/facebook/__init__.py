"""Facebook Pages via facebook-sdk: client, errors, publisher, link matching and token check."""

from bot.publishers.facebook.check import (
    REQUIRED_PERMISSIONS,
    TokenFacts,
    TokenReport,
    advise_token,
    check_token,
)
from bot.publishers.facebook.errors import (
    TOKEN_STEPS,
    DuplicatePostError,
    GraphCallError,
    GraphFailure,
    map_failure,
    retry_after_hint,
    token_problem,
    token_steps,
)
from bot.publishers.facebook.match import link_key, post_matches
from bot.publishers.facebook.publisher import RECONCILE_FIELDS, FacebookPublisher

__all__ = [
    "RECONCILE_FIELDS",
    "REQUIRED_PERMISSIONS",
    "TOKEN_STEPS",
    "DuplicatePostError",
    "FacebookPublisher",
    "GraphCallError",
    "GraphFailure",
    "TokenFacts",
    "TokenReport",
    "advise_token",
    "check_token",
    "link_key",
    "map_failure",
    "post_matches",
    "retry_after_hint",
    "token_problem",
    "token_steps",
]
