"""One outbox row as the platform calls that deliver it: the text and its files as the
channel carries them (channels.base.FileCarriage)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from sqlmodel import Session, col, select

from channels.base import AttachmentKind, FileCarriage, OutboundFile, OutboundMessage
from store.models import Attachment, Message
from triage import messages

# attachment id, file -> the signed public address of the file
LinkMaker = Callable[[int, OutboundFile], str]


def parts(
    outbound: OutboundMessage,
    files: Sequence[tuple[int, OutboundFile]],
    carriage: FileCarriage,
    link: LinkMaker | None,
    locale: str = "id",
) -> list[OutboundMessage]:
    """The sends that make up `outbound`, in order; the outbox records each one done, so a
    crash repeats at most the one in flight."""
    if not files:
        return [outbound]
    if link is not None:  # platforms that fetch files by URL need it (Messenger, Instagram)
        files = [(i, replace(f, url=link(i, f))) for i, f in files]
    if carriage is FileCarriage.TOGETHER:
        return [replace(outbound, files=tuple(f for _, f in files))]
    if carriage is FileCarriage.EACH:
        return [outbound] + [
            replace(
                outbound,
                text="",
                files=(f,),
                # Its own key: a receipt or a platform's dedupe never confuses it with the text.
                idempotency_key=f"{outbound.idempotency_key}-file{i}",
            )
            for i, (_, f) in enumerate(files, 1)
        ]
    if link is None:  # no public address to point at: say so instead of sending half
        names = ", ".join(f.file_name for _, f in files)
        listed = messages.render("attachments.unlinked", locale, names=names)
    else:
        lines = "\n".join(f"- {f.file_name}: {f.url}" for _, f in files)
        listed = messages.render("attachments.links", locale, links=lines)
    return [replace(outbound, text=f"{outbound.text}\n\n{listed}".strip())]


def stored_files(
    session: Session, message: Message, data_dir: Path | None
) -> tuple[tuple[int, OutboundFile], ...]:
    """The files staff attached to an outbound message (an OPD's answer), in order, each with
    its attachment id."""
    if message.direction != "out" or data_dir is None:
        return ()
    rows = session.exec(
        select(Attachment)
        .where(Attachment.message_id == message.id, col(Attachment.stored_path).is_not(None))
        .order_by(col(Attachment.position), col(Attachment.id))
    ).all()
    return tuple(
        (
            row.id or 0,
            OutboundFile(
                path=data_dir / (row.stored_path or ""),
                file_name=row.file_name or f"lampiran-{row.position + 1}",
                mime_type=row.mime_type or "application/octet-stream",
                kind=AttachmentKind(row.kind),
                size=row.size or 0,
            ),
        )
        for row in rows
    )
