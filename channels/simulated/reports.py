"""Realistic sample reports from citizens of Kabupaten Pati, for `main.py simulate` and benchmarks.

They go through the same intake sink the real channels use; nothing here talks to a platform.
"""

from __future__ import annotations

import hashlib
import random
import struct
import zlib
from datetime import datetime, timedelta
from pathlib import Path

from channels.base import Attachment, AttachmentKind, InboundMessage, Location
from channels.simulated.channel import ACCOUNT

# (text, needs a photo, place name, latitude, longitude) — places in Kabupaten Pati.
REPORTS: list[tuple[str, bool, str | None, float, float]] = [
    (
        "Jalan di Desa Kayen depan SD 2 berlubang besar, sudah 2 minggu belum diperbaiki. "
        "Sudah ada 3 motor jatuh.",
        True,
        "Kayen",
        -6.9045,
        111.0007,
    ),
    (
        "Lampu PJU di Jl. Pati-Juwana km 4 mati semua, malam gelap sekali rawan begal.",
        False,
        "Juwana",
        -6.7141,
        111.1486,
    ),
    (
        "Air PDAM di perumahan Puri Pati mati sejak kemarin pagi, belum ada pemberitahuan.",
        False,
        "Pati",
        -6.7559,
        111.0380,
    ),
    (
        "Mohon bantuan, selokan di Desa Sidokerto mampet, kalau hujan air masuk rumah warga.",
        True,
        "Pati",
        -6.7498,
        111.0311,
    ),
    (
        "Jembatan penghubung Desa Gabus ke Tlogoayu retak, truk masih lewat, takut ambruk.",
        True,
        "Gabus",
        -6.8311,
        111.0587,
    ),
    (
        "Sampah menumpuk di pinggir jalan dekat Pasar Puri, bau sekali dan banyak lalat.",
        True,
        "Pati",
        -6.7541,
        111.0402,
    ),
    (
        "Saya sudah daftar bansos PKH dari tahun lalu tapi belum pernah cair, mohon dicek. "
        "NIK saya sudah terdaftar di DTKS.",
        False,
        None,
        0.0,
        0.0,
    ),
    (
        "KTP elektronik saya hilang, mau cetak ulang di Disdukcapil katanya blangko habis. "
        "Sampai kapan?",
        False,
        None,
        0.0,
        0.0,
    ),
    (
        "Banjir setinggi lutut di Desa Tanjang, Kecamatan Gabus. Jalan tidak bisa dilewati.",
        True,
        "Gabus",
        -6.8402,
        111.0719,
    ),
    (
        "Jalan kabupaten Tayu - Dukuhseti rusak parah, aspal mengelupas sepanjang 500 meter.",
        True,
        "Tayu",
        -6.5418,
        111.0514,
    ),
    (
        "Puskesmas Margorejo antrian sangat lama, dokter baru datang jam 10.",
        False,
        "Margorejo",
        -6.7721,
        110.9942,
    ),
    (
        "Atap ruang kelas SDN Trangkil 3 bocor parah, anak-anak belajar di teras.",
        True,
        "Trangkil",
        -6.6497,
        111.0721,
    ),
    (
        "Lampu merah di perempatan Ngantru mati sejak pagi, lalu lintas semrawut.",
        False,
        "Pati",
        -6.7573,
        111.0461,
    ),
    (
        "Pohon tumbang menutup jalan di Desa Gembong arah Kebun Jollong.",
        True,
        "Gembong",
        -6.6847,
        110.9883,
    ),
    (
        "Ada pabrik buang limbah ke sungai Silugonggo, airnya hitam dan ikan mati.",
        True,
        "Juwana",
        -6.7190,
        111.1390,
    ),
    (
        "Listrik padam terus tiap malam di Desa Wedarijaksa, mohon diteruskan ke PLN.",
        False,
        "Wedarijaksa",
        -6.6903,
        111.0536,
    ),
    (
        "Pedagang kaki lima memakai trotoar alun-alun, pejalan kaki harus turun ke jalan.",
        True,
        "Pati",
        -6.7557,
        111.0383,
    ),
    (
        "Jalan desa Sukolilo ke Baturejo berlubang, mohon segera ditambal sebelum musim hujan.",
        False,
        None,
        0.0,
        0.0,
    ),
    (
        "Lowongan kerja di pabrik sepatu Margorejo minta uang pelicin, apakah itu resmi?",
        False,
        None,
        0.0,
        0.0,
    ),
    (
        "Gorong-gorong di Jl. Diponegoro ambles, berbahaya untuk pengendara motor.",
        True,
        "Pati",
        -6.7513,
        111.0374,
    ),
]
NAMES = [
    "Budi Santoso",
    "Siti Aminah",
    "Agus Prasetyo",
    "Dewi Lestari",
    "Sri Wahyuni",
    "Joko Susilo",
    "Nur Hidayah",
    "Bambang Riyadi",
    "Rina Kurniawati",
    "Slamet Widodo",
    "Wahyu Nugroho",
    "Endang Susanti",
    "Eko Saputro",
    "Yuni Astuti",
    "Heru Purnomo",
]
CHANNELS = ["whatsapp"] * 7 + ["instagram", "instagram", "facebook", "email", "x"]


# Colours of the sample "photos": asphalt, a gutter, a street at night, water, a green field.
_COLOURS = [(92, 92, 92), (120, 98, 70), (20, 24, 48), (70, 120, 170), (80, 140, 70)]


def _png(width: int, height: int, colour: tuple[int, int, int], seed: int) -> bytes:
    """A small plain PNG with a darker band, so each sample photo looks a little different."""
    band = seed % height
    rows = []
    for y in range(height):
        shade = 0.6 if abs(y - band) < height // 6 else 1.0
        pixel = bytes(int(c * shade) for c in colour)
        rows.append(b"\x00" + pixel * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def _photo(data_dir: Path, index: int, rng: random.Random) -> Attachment:
    """A sample photo stored the way channels store media, under data_dir/media/simulasi/."""
    data = _png(160, 120, rng.choice(_COLOURS), index)
    digest = hashlib.sha256(data).hexdigest()
    relative = Path("media") / "simulasi" / f"{digest}.png"
    (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    (data_dir / relative).write_bytes(data)
    return Attachment(
        AttachmentKind.IMAGE,
        "image/png",
        media_ref=f"sim-photo-{index}",
        size=len(data),
        file_name=f"foto-{index}.png",
        sha256=digest,
        stored_path=str(relative),
    )


def _sender(channel: str, name: str, rng: random.Random) -> tuple[str, str]:
    if channel == "whatsapp":
        number = f"628{rng.randint(11, 59)}{rng.randint(10_000_000, 99_999_999)}"
        return number, f"+{number}"
    handle = name.lower().replace(" ", ".") + str(rng.randint(1, 99))
    if channel == "email":
        return f"{handle}@gmail.com", f"{handle}@gmail.com"
    return str(rng.randint(10**15, 10**16)), f"@{handle.replace('.', '_')}"


def sample_reports(
    count: int,
    *,
    now: datetime,
    seed: int | None = None,
    data_dir: Path | None = None,
    channel: str | None = None,
) -> list[InboundMessage]:
    """`count` reports from different citizens over the last two days; with `data_dir`, the
    reports that carry a photo have a real image stored there. With `channel` (`simulate` gives
    "simulated"), every report arrives on that channel; without, they are spread over the real
    platforms' names, as the benchmarks want. The senders look like each platform's either way."""
    rng = random.Random(seed)
    reports = []
    for index in range(count):
        text, photo, place, lat, lon = rng.choice(REPORTS)
        platform = rng.choice(CHANNELS)
        name = rng.choice(NAMES)
        sender, contact = _sender(platform, name, rng)
        with_location = place is not None and rng.random() < 0.6
        attachments: tuple[Attachment, ...] = ()
        if photo and data_dir is not None and rng.random() < 0.7:
            attachments = (_photo(data_dir, index, rng),)
        reports.append(
            InboundMessage(
                channel=channel or platform,
                account=ACCOUNT,
                external_id=f"sim-{now:%Y%m%d%H%M%S}-{seed}-{index}",
                sender_id=sender,
                sent_at=now - timedelta(minutes=rng.randint(1, 2 * 24 * 60)),
                text=text,
                display_name=name,
                contact=contact,
                attachments=attachments,
                location=(
                    Location(
                        lat + rng.uniform(-0.005, 0.005),
                        lon + rng.uniform(-0.005, 0.005),
                        name=f"Kec. {place}",
                    )
                    if with_location
                    else None
                ),
                subject="Laporan warga" if platform == "email" else None,
                raw={"simulated": True, "index": index},
            )
        )
    return reports
