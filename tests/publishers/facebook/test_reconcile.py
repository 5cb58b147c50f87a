"""Reconciliation: after an unknown outcome, is the post on the Page? (published_posts)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.errors import UnknownOutcomeError
from bot.models import ReconcileOutcome
from bot.publishers.facebook import RECONCILE_FIELDS, FacebookPublisher
from tests.fakes.graph_api import PAGE_ID, Delay, GraphApiServer, GraphError, Reset, parse_fields
from tests.publishers.facebook.conftest import ARTICLE, link_post, photo_post


def add_noise(graph: GraphApiServer, clock: FakeClock, count: int) -> None:
    """`count` other posts on the Page, newer than anything already there."""
    for i in range(count):
        clock.advance(60)
        graph.add_post(message=f"Autre article {i}", link=f"https://bamada.net/autre-{i}")


async def test_found_after_a_lost_answer(
    publisher: FacebookPublisher, graph: GraphApiServer, clock: FakeClock
) -> None:
    attempt = clock.now()
    graph.script("feed", Reset(process_first=True))
    with pytest.raises(UnknownOutcomeError):
        await publisher.publish(link_post())
    [stored] = graph.posts

    found = await publisher.reconcile(link_post(), attempt)

    assert found.outcome is ReconcileOutcome.FOUND
    assert found.result is not None
    assert found.result.remote_id == stored.id
    assert (
        found.result.link == f"https://www.facebook.com/{PAGE_ID}/posts/{stored.id.split('_')[1]}"
    )
    [read] = graph.requests_to("published_posts")
    assert read.method == "GET"
    assert read.path == f"/v25.0/{PAGE_ID}/published_posts"
    assert read.token_in == "query"
    # `since` is the attempt time minus a small margin (clock skew between us and Facebook).
    since = int(read.params["since"])
    assert attempt.timestamp() - 600 <= since < attempt.timestamp()


def test_the_link_is_asked_for_where_current_graph_versions_put_it() -> None:
    fields = parse_fields(RECONCILE_FIELDS)
    assert "link" not in fields  # deprecated on Page posts since v3.3 (error #12)
    assert {"id", "message", "created_time", "permalink_url"} <= fields.keys()
    assert "unshimmed_url" in fields["attachments"]


async def test_found_when_facebook_reports_a_cleaned_link(
    publisher: FacebookPublisher, graph: GraphApiServer, clock: FakeClock
) -> None:
    """Facebook may show the og:url (no utm, other case, no trailing slash) instead of ours."""
    attempt = clock.now()
    stored = graph.add_post(
        message="texte réécrit", link="https://BAMADA.net/2026/11/02/la-rentree-scolaire-reportee"
    )
    post = link_post(link=ARTICLE + "?utm_source=facebook&utm_medium=social")

    found = await publisher.reconcile(post, attempt)

    assert found.outcome is ReconcileOutcome.FOUND
    assert found.result is not None
    assert found.result.remote_id == stored.id


async def test_found_photo_post_by_the_link_in_its_caption(
    publisher: FacebookPublisher, graph: GraphApiServer, clock: FakeClock
) -> None:
    attempt = clock.now()
    graph.script("photos", Delay(2.0, process_first=True))
    with pytest.raises(UnknownOutcomeError):
        await publisher.publish(photo_post())
    [stored] = graph.posts
    add_noise(graph, clock, 3)

    found = await publisher.reconcile(photo_post(), attempt)

    assert found.outcome is ReconcileOutcome.FOUND
    assert found.result is not None
    assert found.result.remote_id == stored.id


async def test_absent_when_only_other_posts(
    publisher: FacebookPublisher, graph: GraphApiServer, clock: FakeClock
) -> None:
    attempt = clock.now()
    add_noise(graph, clock, 5)
    graph.add_post(message="Sans lien")

    result = await publisher.reconcile(link_post(), attempt)

    assert result.outcome is ReconcileOutcome.ABSENT
    assert result.result is None


async def test_a_post_older_than_the_attempt_does_not_count(
    publisher: FacebookPublisher, graph: GraphApiServer, clock: FakeClock
) -> None:
    """The same article posted yesterday is not this attempt (since= filters it out)."""
    graph.add_post(message="hier", link=ARTICLE, created_time=clock.now() - timedelta(days=1))

    result = await publisher.reconcile(link_post(), clock.now())

    assert result.outcome is ReconcileOutcome.ABSENT


async def test_follows_paging_to_find_an_older_post(
    publisher: FacebookPublisher, graph: GraphApiServer, clock: FakeClock
) -> None:
    attempt = clock.now()
    stored = graph.add_post(message="notre article", link=ARTICLE)
    add_noise(graph, clock, 60)  # newest first: ours is on the third page of 25

    found = await publisher.reconcile(link_post(), attempt)

    assert found.outcome is ReconcileOutcome.FOUND
    assert found.result is not None
    assert found.result.remote_id == stored.id
    reads = graph.requests_to("published_posts")
    assert len(reads) == 3
    assert "after" not in reads[0].params
    assert all("after" in r.params for r in reads[1:])
    assert all(r.params["fields"] == RECONCILE_FIELDS for r in reads)
    assert all(r.version == "v25.0" for r in reads)


async def test_absent_after_reading_every_page(
    publisher: FacebookPublisher, graph: GraphApiServer, clock: FakeClock
) -> None:
    attempt = clock.now()
    add_noise(graph, clock, 40)

    result = await publisher.reconcile(link_post(), attempt)

    assert result.outcome is ReconcileOutcome.ABSENT
    assert len(graph.requests_to("published_posts")) == 2


async def test_too_many_posts_to_read_cannot_tell(
    publisher: FacebookPublisher, graph: GraphApiServer, clock: FakeClock
) -> None:
    attempt = clock.now()
    add_noise(graph, clock, 130)

    result = await publisher.reconcile(link_post(), attempt)

    assert result.outcome is ReconcileOutcome.CANNOT_TELL
    assert len(graph.requests_to("published_posts")) == 4  # 100 posts, then it stops


@pytest.mark.parametrize(
    "failures",
    [
        [GraphError(code=2, status=500, is_transient=True)],
        [GraphError(code=190, subcode=463)],
        [Reset()],
        [Delay(2.0)],
        [None, GraphError(code=17, status=403)],  # the second page fails
    ],
    ids=["graph-2", "token-expired", "reset", "slow", "second-page"],
)
async def test_cannot_tell_when_the_read_fails(
    publisher: FacebookPublisher,
    graph: GraphApiServer,
    clock: FakeClock,
    failures: list[GraphError | Reset | Delay | None],
) -> None:
    attempt = clock.now()
    graph.add_post(message="notre article", link=ARTICLE)
    add_noise(graph, clock, 30)
    for failure in failures:
        # `None`: answer normally (a Delay of 0 that processes first does exactly that).
        graph.script("published_posts", failure or Delay(0, process_first=True))

    result = await publisher.reconcile(link_post(), attempt)

    assert result.outcome is ReconcileOutcome.CANNOT_TELL
    assert len(graph.requests_to("published_posts")) == len(failures)


async def test_duplicate_506_is_reconciled_to_the_existing_post(
    publisher: FacebookPublisher, graph: GraphApiServer, clock: FakeClock
) -> None:
    """First attempt posted but the answer was lost; the retry gets #506; we find the post."""
    graph.script("feed", Delay(2.0, process_first=True))
    with pytest.raises(UnknownOutcomeError):
        await publisher.publish(link_post())
    clock.advance(120)

    result = await publisher.publish(link_post())

    [stored] = graph.posts  # still one post on the Page
    assert result.remote_id == stored.id
    feeds = graph.requests_to("feed")
    assert len(feeds) == 2  # the second one was answered #506
    assert len(graph.requests_to("published_posts")) == 1


async def test_duplicate_506_with_an_unreadable_page_is_unknown(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    graph.script("feed", GraphError(code=506, message="(#506) Duplicate status message"))
    graph.script("published_posts", GraphError(code=2, status=500))
    with pytest.raises(UnknownOutcomeError, match="doublon"):
        await publisher.publish(link_post())
