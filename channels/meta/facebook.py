"""Facebook Page: Messenger chats, comments on the Page's posts and tagged posts, by polling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import aiohttp

from channels.meta.channel import MetaChannel
from channels.meta.config import MetaConfig
from channels.meta.fetch import Platform
from channels.meta.parse import Dialect

CHANNEL = "facebook"
DIALECT = Dialect(
    channel=CHANNEL,
    label="Facebook",
    text_key="message",
    time_key="created_time",
    caption_key="message",
    link_key="permalink_url",
)


class FacebookConfig(MetaConfig):
    """`[channels.facebook]`: the Page and its Page access token."""


def facebook_platform(page_id: str) -> Platform:
    return Platform(
        dialect=DIALECT,
        conversations_platform="messenger",
        message_fields="id,created_time,from,to,message,attachments,shares",
        posts_edge=f"{page_id}/posts",
        post_fields="id,message,created_time,updated_time,permalink_url",
        # `stream` lists replies too, in one time order, each naming its parent.
        comment_params={
            "fields": "id,message,created_time,from,parent{id},attachment,permalink_url",
            "filter": "stream",
            "order": "reverse_chronological",
            "limit": "50",
        },
        flat_comments=True,
        mentions_edge=f"{page_id}/tagged",
        mention_fields="id,message,created_time,from,permalink_url",
        reply_edge="comments",
    )


class FacebookChannel(MetaChannel):
    """One Facebook Page, polled through Graph with its Page access token."""

    def __init__(
        self,
        config: FacebookConfig,
        data_dir: Path,
        http: aiohttp.ClientSession,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(
            config,
            facebook_platform(config.page_id),
            account=config.page_id,
            own_ids=frozenset({config.page_id}),
            data_dir=data_dir,
            http=http,
            clock=clock,
        )
