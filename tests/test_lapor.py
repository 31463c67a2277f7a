"""SP4N-LAPOR! exports: `lapor import` (CSV and XLSX, idempotent, identities of anonymous and
confidential reports dropped, nothing half-imported), `lapor export` round-tripping, and
`triage evaluate` on a labelled export; through main.py on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import col, select
from test_cli import kanal, write_config

from channels.registry import UnknownChannel
from conftest import REPO
from inbox.i18n import translate
from lapor.columns import COLUMNS, parse_date, parse_time
from lapor.records import LaporReport
from notifier.render import labels
from store.db import Database
from store.models import LearnedModel, Message, Reporter, Ticket, TicketEvent
from store.stats import period_stats
from triage.config import CategoryConfig
from triage.evaluate import evaluate

pytestmark = pytest.mark.empty_database  # Alembic builds the schema itself

FIXTURE = REPO / "tests" / "fixtures" / "lapor" / "export.csv"

MAPPING = """
[[opd]]
code = "PUPR"
name = "Dinas PUPR"
lapor = ["Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Pati"]
[[opd]]
code = "DLH"
name = "Dinas Lingkungan Hidup Kabupaten Pati"
[[opd]]
code = "DINKES"
name = "Dinas Kesehatan"
lapor = ["Dinas Kesehatan Kabupaten Pati"]
[[opd]]
code = "PDAM"
name = "Perumda Air Minum"
lapor = ["Perumda Air Minum Tirta Bening Kabupaten Pati"]
[[opd]]
code = "DISDUKCAPIL"
name = "Disdukcapil"
lapor = ["Dinas Kependudukan dan Pencatatan Sipil Kabupaten Pati"]

[[category]]
code = "jalan"
name = "Jalan dan jembatan"
opd = "PUPR"
lapor = ["Pekerjaan Umum dan Penataan Ruang"]
keywords = ["jalan rusak", "jalan berlubang", "jembatan"]
[[category]]
code = "sampah"
name = "Sampah"
opd = "DLH"
lapor = ["Lingkungan Hidup dan Kehutanan"]
keywords = ["sampah"]
[[category]]
code = "kesehatan"
name = "Kesehatan"
opd = "DINKES"
keywords = ["puskesmas"]
[[category]]
code = "air"
name = "Air bersih"
opd = "PDAM"
lapor = ["Air Minum"]
keywords = ["pdam"]
[[category]]
code = "adminduk"
name = "Administrasi kependudukan"
opd = "DISDUKCAPIL"
lapor = ["Kependudukan dan Pencatatan Sipil"]
keywords = ["ktp"]
"""


def config(folder: Path, database_url: str) -> Path:
    return write_config(folder, f'[database]\nurl = "{database_url}"\n{MAPPING}')


@pytest.fixture
def config_for(database_url: str, tmp_path: Path) -> Path:
    path = config(tmp_path, database_url)
    assert kanal(path, "db", "upgrade").returncode == 0
    return path


def as_xlsx(source: Path, target: Path) -> Path:
    book = Workbook()
    sheet = book.active
    with source.open(encoding="utf-8") as rows:
        for row in csv.reader(rows):
            sheet.append(row)
    book.save(target)
    return target


def test_indonesian_dates_and_times() -> None:
    assert parse_date("5 Jan 2024") == date(2024, 1, 5)
    assert parse_date("14 Mei 2024") == date(2024, 5, 14)
    assert parse_date("19 Agu 2024") == parse_date("19 Agt 2024") == date(2024, 8, 19)
    assert parse_date("7 Okt 2024") == date(2024, 10, 7)
    assert parse_date("16 Des 2024") == date(2024, 12, 16)
    assert parse_date("05-Nov-2024") == date(2024, 11, 5)
    assert parse_date("5 Januari 2024") == date(2024, 1, 5)
    assert parse_date(datetime(2024, 3, 1, 9, 0)) == date(2024, 3, 1)  # a typed spreadsheet cell
    with pytest.raises(ValueError, match="unknown month 'Foo'"):
        parse_date("5 Foo 2024")
    assert parse_time("09.30 WIB").isoformat() == "09:30:00"
    assert parse_time("").isoformat() == "00:00:00"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_import_stores_history_once_without_hidden_identities(
    config_for: Path, database_url: str, tmp_path: Path, kind: str
) -> None:
    export = FIXTURE if kind == "csv" else as_xlsx(FIXTURE, tmp_path / "export.xlsx")
    first = kanal(config_for, "lapor", "import", str(export))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("12 reports imported, 0 already stored;")
    again = kanal(config_for, "lapor", "import", str(export))
    assert again.stdout.startswith("0 reports imported, 12 already stored;")

    db = Database(database_url)
    with db.read() as session:
        rows = session.exec(
            select(Ticket, Reporter)
            .join(Reporter, col(Reporter.id) == Ticket.reporter_id)
            .order_by(col(Ticket.number))
        ).all()
        stored = {t.number: (t, r) for t, r in rows}
        assert len(stored) == 12
        road, named = stored["LAPOR-4810001"]
        assert (road.channel, road.status, road.resolution) == ("lapor", "resolved", "resolved")
        assert (road.category, road.opd) == ("jalan", "PUPR")
        assert road.created_at == datetime(2024, 1, 5, 1, 15, tzinfo=UTC)  # 08:15 WIB
        assert named.display_name == "Budi Santoso"
        assert {n: stored[n][0].status for n in ("LAPOR-4810005", "LAPOR-4810012")} == {
            "LAPOR-4810005": "closed",  # Arsip
            "LAPOR-4810012": "clarifying",  # Ditunda
        }
        # Rahasia and Anonim: no name anywhere in the store.
        assert stored["LAPOR-4810002"][1].display_name is None
        assert stored["LAPOR-4810003"][1].display_name is None
        everything = " ".join(
            [m.text for m in session.exec(select(Message))]
            + [json.dumps(e.data) for e in session.exec(select(TicketEvent))]
            + [r.sender_id for _, r in rows]
        )
        assert "Siti Aminah" not in everything
        assert "Wati" not in everything
        message = session.exec(select(Message).where(Message.ticket_id == road.id)).one()
        assert (message.subject, message.direction) == ("Jalan rusak", "in")
        assert message.text.startswith("Jalan di Desa Sukoharjo rusak parah")
        multiline = session.exec(
            select(Message).where(Message.ticket_id == stored["LAPOR-4810007"][0].id)
        ).one()
        assert multiline.text == "Tetangga bakar sampah tiap sore,\nasapnya masuk rumah"
        figures = period_stats(
            session, datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
        )
        assert figures["received"] == {"total": 12, "by_channel": {"lapor": 12}}
        assert figures["by_category"] == {
            "jalan": 4, "sampah": 3, "kesehatan": 3, "air": 1, "adminduk": 1,
        }  # fmt: skip
        model = session.get(LearnedModel, "suggestions")
        assert model is not None and model.examples == 24  # 12 categories and 12 offices
    db.dispose()


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(
    config_for: Path, database_url: str, tmp_path: Path
) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines(keepends=True)
    good = lines[1]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        lines[0]
        + good.replace("4810001", "9000001").replace("5 Jan 2024", "5 Foo 2024")
        + good.replace("4810001", "9000002").replace("Selesai", "Entah")
        + good.replace("4810001", "9000003").replace(
            ",Pekerjaan Umum dan Penataan Ruang,", ",Pariwisata,"
        )
        + good.replace("4810001", "9000004")
        + "".join(lines[7:10])  # 4810007: both of its texts span two lines
        + good.replace("4810001", "9000004"),
        encoding="utf-8",
    )
    result = kanal(config_for, "lapor", "import", str(bad))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"nothing imported: 4 problem(s) in {bad}",
        "  line 2: unknown month 'Foo'",
        "  line 3: unknown Status Laporan 'Entah' (known: Arsip, Belum Ditindaklanjuti,"
        " Belum Terverifikasi, Diarsipkan, Didisposisikan, Diteruskan, Ditindaklanjuti,"
        " Ditunda, Proses, Sedang Diproses, Selesai, Terverifikasi)",
        "  line 4: Kategori 'Pariwisata' is in no [[category]] lapor = [...]",
        "  line 9: Tracking ID 9000004 repeats line 5",
    ]
    db = Database(database_url)
    with db.read() as session:
        assert session.exec(select(Ticket)).all() == []
    db.dispose()
    allowed = kanal(config_for, "lapor", "import", "--allow-unmapped", "--dry-run", str(bad))
    assert allowed.returncode == 1  # the bad date, status and repeat still stop it
    assert "line 4" not in allowed.stderr


def test_export_round_trips_through_import(
    config_for: Path, database_url: str, tmp_path: Path
) -> None:
    assert kanal(config_for, "lapor", "import", str(FIXTURE)).returncode == 0
    assert kanal(config_for, "simulate", "--count", "3", "--seed", "5").returncode == 0
    first = tmp_path / "first.xlsx"
    result = kanal(
        config_for, "lapor", "export", "--from", "2024-01-01", "--to", "2030-12-31",
        "--format", "xlsx", "--output", str(first),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = config(elsewhere, f"sqlite:///{elsewhere / 'kanal.db'}")
    imported = kanal(other, "lapor", "import", str(first))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("15 reports imported")
    again = kanal(config_for, "lapor", "import", str(first))
    assert again.stdout.startswith("0 reports imported, 15 already stored")  # its own tickets

    def exported(path: Path) -> list[dict[str, str]]:
        result = kanal(path, "lapor", "export", "--from", "2024-01-01", "--to", "2030-12-31")
        assert result.returncode == 0, result.stderr
        return list(csv.DictReader(result.stdout.splitlines()))

    before, after = exported(config_for), exported(other)
    assert after == before
    assert list(before[0]) == list(COLUMNS)
    road = before[0]
    assert (road["Tracking ID"], road["Tanggal Laporan Masuk"], road["Waktu Laporan Masuk"]) == (
        "4810001",
        "5 Jan 2024",
        "08:15",
    )
    assert (road["Kategori"], road["Instansi Terdisposisi"], road["Status Laporan"]) == (
        "Pekerjaan Umum dan Penataan Ruang",
        "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Pati",
        "Selesai",
    )
    assert before[1]["Nama Pelapor"] == ""  # Rahasia
    simulated = [row for row in before if row["Tracking ID"].startswith("LBP-")]
    assert len(simulated) == 3
    assert {row["Sumber Laporan"] for row in simulated} == {"Simulasi"}  # the channel's label


def test_evaluate_measures_the_later_half(tmp_path: Path) -> None:
    path = config(tmp_path, f"sqlite:///{tmp_path / 'kanal.db'}")
    result = kanal(path, "triage", "evaluate", str(FIXTURE), "--format", "json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert (figures["trained_on"], figures["measured_on"]) == (6, 6)
    assert figures["examples"] == {"category": 6, "opd": 6}
    # The later six: smoke from burning rubbish, medicine out of stock (no keyword: but the
    # earlier puskesmas report spoke of "obat" and "pasien"), a pothole, wild rubbish, a road
    # in Kudus and a rude doctor at the puskesmas.
    assert figures["keywords_only"] == {
        "top1_category": 0.833,
        "top3_category": 0.833,
        "opd": 0.833,
        "right_by_either": 0.833,
        "without_suggestion": 0.167,
        "confusions": [{"label": "kesehatan", "suggested": "-", "count": 1}],
    }
    assert figures["with_learning"] == {
        "top1_category": 1.0,
        "top3_category": 1.0,
        "opd": 1.0,
        "right_by_either": 1.0,
        "without_suggestion": 0.0,
        "confusions": [],
    }
    assert figures["out_of_region"]["outside"] == 1
    text = kanal(path, "triage", "evaluate", str(FIXTURE), "--split", "0.5")
    assert text.stdout.splitlines()[0] == "trained on 6 earlier reports, measured on 6 later ones"


def test_out_of_region_precision_and_recall() -> None:
    def report(n: int, regency: str, text: str) -> LaporReport:
        when = datetime(2024, 1, n, tzinfo=UTC)
        return LaporReport(
            n, str(n), when, None, "", text, "jalan", None, "new", {"Kota/Kabupaten": regency}
        )

    categories = [CategoryConfig(code="jalan", name="Jalan", keywords=["jalan"])]
    reports = [
        report(1, "Kabupaten Pati", "jalan rusak"),
        report(2, "Kab. Pati", "jalan rusak di pati"),
        report(3, "Kota Pasuruan", "jalan rusak di kota pasuruan"),
        report(4, "Kabupaten Kudus", "jalan rusak"),
        report(5, "PATI", "jalan rusak menuju kudus"),
    ]
    figures = evaluate(
        reports,
        categories,
        split=0.2,
        region="Kabupaten Pati",
        out_of_region=lambda text: "pasuruan" in text or "kudus" in text,
    )
    # Measured on 2..5: two outside (3, 4), two flagged (3, 5), one of them right.
    assert figures["out_of_region"] == {
        "outside": 2,
        "flagged": 2,
        "precision": 0.5,
        "recall": 0.5,
    }


def test_the_lapor_channel_has_a_label_in_the_inbox_and_the_digest() -> None:
    """Imported tickets have no live channel: their name comes from the text catalog."""
    assert translate("channel.lapor", "id") == "SP4N-LAPOR! (impor)"
    assert translate("channel.lapor", "en") == "SP4N-LAPOR! (imported)"
    assert labels("id")["channel"]["lapor"] == "SP4N-LAPOR! (impor)"
    assert translate("channel.whatsapp", "id") == "WhatsApp"
    with pytest.raises(UnknownChannel):
        translate("channel.nowhere", "id")
