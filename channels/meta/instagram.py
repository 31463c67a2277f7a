"""Instagram professional account: DMs, comments on its media and mentions, by Graph polling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import aiohttp

from channels.meta.channel import MetaChannel
from channels.meta.config import MetaConfig
from channels.meta.fetch import Platform
from channels.meta.parse import Dialect

CHANNEL = "instagram"
DIALECT = Dialect(
    channel=CHANNEL,
    label="Instagram",
    text_key="text",
    time_key="timestamp",
    caption_key="caption",
    link_key="permalink",
)
_COMMENT_FIELDS = "id,text,timestamp,username,from,parent_id"


class InstagramConfig(MetaConfig):
    """`[channels.instagram]`: the Facebook Page linked to the account, and the account's id."""

    instagram_account_id: str = ""

    def _required(self) -> tuple[str, ...]:
        return ("page_id", "access_token", "instagram_account_id")


def instagram_platform(account_id: str) -> Platform:
    return Platform(
        dialect=DIALECT,
        conversations_platform="instagram",
        message_fields="id,created_time,from,to,message,attachments,shares,story",
        posts_edge=f"{account_id}/media",
        post_fields="id,caption,timestamp,permalink,media_type",
        # Top-level comments only; replies come nested under their comment.
        comment_params={
            "fields": f"{_COMMENT_FIELDS},replies{{{_COMMENT_FIELDS}}}",
            "limit": "50",
        },
        flat_comments=False,
        mentions_edge=f"{account_id}/tags",
        mention_fields="id,caption,timestamp,username,permalink,media_type,media_url",
        reply_edge="replies",
        top_level_replies=True,  # Instagram refuses replies to replies
    )


class InstagramChannel(MetaChannel):
    """One Instagram account, polled through the Graph API of its linked Facebook Page."""

    def __init__(
        self,
        config: InstagramConfig,
        data_dir: Path,
        http: aiohttp.ClientSession,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(
            config,
            instagram_platform(config.instagram_account_id),
            account=config.instagram_account_id,
            own_ids=frozenset({config.instagram_account_id, config.page_id}),
            data_dir=data_dir,
            http=http,
            clock=clock,
        )
