"""Corrections and /delete on a Page: POST /{post-id} with `message`, a re-scrape for the card,
DELETE /{post-id}, through the real facebook-sdk against the fake Graph API."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.errors import PublishError
from bot.publishers.facebook import FacebookPublisher
from tests.fakes.graph_api import GraphApiServer
from tests.publishers.facebook.conftest import ARTICLE, link_post


async def test_an_edit_updates_the_message_then_rereads_the_card(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    sent = await publisher.publish(link_post())
    before = len(graph.requests)
    corrected = replace(link_post(), message="La rentrée scolaire est maintenue au 1er octobre")
    result = await publisher.edit(
        sent.remote_id, corrected, ("facebook_message", "facebook_rescrape")
    )
    assert result.remote_id == sent.remote_id
    edit, scrape = graph.requests[before:]
    assert (edit.method, edit.path) == ("POST", f"/v25.0/{sent.remote_id}")
    assert edit.form["message"] == corrected.message and edit.token_in == "body"
    assert scrape.params["id"] == ARTICLE and scrape.params["scrape"] == "true"
    [stored] = graph.posts
    assert stored.message == corrected.message  # edited in place: no second post
    await publisher.edit(sent.remote_id, corrected, ("facebook_message",))  # again: same text
    assert len(graph.posts) == 1


async def test_delete_removes_the_post_and_a_missing_one_is_an_error(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    sent = await publisher.publish(link_post())
    await publisher.delete(sent.remote_id)
    assert graph.posts == []
    assert graph.requests[-1].method == "DELETE"
    with pytest.raises(PublishError):
        await publisher.edit(sent.remote_id, link_post(), ("facebook_message",))
