"""How one outbox row with files becomes platform calls, by the channel's file carriage."""

from __future__ import annotations

from pathlib import Path

from channels.base import AttachmentKind, FileCarriage, OutboundFile, OutboundMessage
from triage.outbox_parts import parts

MESSAGE = OutboundMessage(
    channel="x",
    account="kanal",
    recipient_id="123",
    text="Sudah ditambal.",
    idempotency_key="k1",
)
PHOTO = OutboundFile(Path("/d/a.png"), "tambalan.png", "image/png", AttachmentKind.IMAGE, 10)
LETTER = OutboundFile(Path("/d/b.pdf"), "surat.pdf", "application/pdf", AttachmentKind.DOCUMENT, 9)
FILES = [(7, PHOTO), (8, LETTER)]


def link(attachment_id: int, file: OutboundFile) -> str:
    return f"https://aduan.example/files/{attachment_id}/t{attachment_id}"


def test_without_files_the_message_is_one_call() -> None:
    assert parts(MESSAGE, [], FileCarriage.EACH, link) == [MESSAGE]


def test_each_file_is_its_own_call_after_the_text_with_its_own_key() -> None:
    text, photo, letter = parts(MESSAGE, FILES, FileCarriage.EACH, link)
    assert (text.text, text.files, text.idempotency_key) == ("Sudah ditambal.", (), "k1")
    assert (photo.text, photo.idempotency_key) == ("", "k1-file1")
    assert photo.files[0].url == "https://aduan.example/files/7/t7"
    assert (letter.files[0].file_name, letter.idempotency_key) == ("surat.pdf", "k1-file2")


def test_together_the_files_go_in_the_one_call() -> None:
    [mail] = parts(MESSAGE, FILES, FileCarriage.TOGETHER, link)
    assert [f.file_name for f in mail.files] == ["tambalan.png", "surat.pdf"]
    assert mail.text == "Sudah ditambal."


def test_a_channel_without_files_gets_links_in_the_text() -> None:
    [sent] = parts(MESSAGE, FILES, FileCarriage.LINK, link, locale="en")
    assert sent.files == ()
    assert sent.text == (
        "Sudah ditambal.\n\nAttachments:\n"
        "- tambalan.png: https://aduan.example/files/7/t7\n"
        "- surat.pdf: https://aduan.example/files/8/t8"
    )


def test_without_a_public_address_the_reporter_is_told_the_files_exist() -> None:
    [sent] = parts(MESSAGE, FILES, FileCarriage.LINK, None)
    assert sent.text == (
        "Sudah ditambal.\n\nLampiran (tambalan.png, surat.pdf) tidak dapat dikirim lewat saluran"
        " ini; mintalah kepada petugas kami lewat saluran lain."
    )
