"""Every word the staff pages show, in Bahasa Indonesia (default) and English, and date formats."""

from __future__ import annotations

from datetime import datetime, tzinfo

from channels.registry import channel_label
from triage.messages import LOCALES, format_due

CHANNEL_PREFIX = "channel."

# key -> (Bahasa Indonesia, English)
TEXTS: dict[str, tuple[str, str]] = {
    "app": ("Kanal — Kotak Masuk Aduan", "Kanal — Complaints Inbox"),
    "nav.queue": ("Antrean", "Queue"),
    "nav.stats": ("Statistik", "Statistics"),
    "nav.users": ("Pengguna", "Users"),
    "nav.signout": ("Keluar", "Sign out"),
    "nav.language": ("Bahasa", "Language"),
    "login.title": ("Masuk", "Sign in"),
    "login.username": ("Nama pengguna", "Username"),
    "login.password": ("Kata sandi", "Password"),
    "login.submit": ("Masuk", "Sign in"),
    "login.refused": (
        "Nama pengguna atau kata sandi salah, atau akun sedang dikunci sementara karena terlalu "
        "banyak percobaan gagal.",
        "Wrong username or password, or the account is locked for a while after too many "
        "failed attempts.",
    ),
    "login.throttled": (
        "Terlalu banyak percobaan masuk. Tunggu sebentar lalu coba lagi.",
        "Too many sign-in attempts. Wait a moment and try again.",
    ),
    "csrf.refused": (
        "Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.",
        "The form has expired or is not valid. Reload the page and try again.",
    ),
    "forbidden": ("Anda tidak berhak membuka halaman ini.", "You may not open this page."),
    "not_found": ("Tiket tidak ditemukan.", "No such ticket."),
    "stats.bad_period": (
        "Periode tidak valid: isi tanggal sebagai TTTT-BB-HH, antara tahun 0001 dan 9999.",
        "Not a valid period: give the days as YYYY-MM-DD, between the years 0001 and 9999.",
    ),
    "queue.title": ("Antrean laporan", "Report queue"),
    "queue.search": ("Cari nomor, nama, atau isi laporan", "Search number, name or text"),
    "queue.filter": ("Saring", "Filter"),
    "queue.reset": ("Hapus saringan", "Clear filters"),
    "queue.empty": ("Tidak ada laporan yang cocok.", "No matching reports."),
    "queue.total": ("{n} laporan", "{n} reports"),
    "queue.page": ("Halaman {page} dari {pages}", "Page {page} of {pages}"),
    "queue.prev": ("Sebelumnya", "Previous"),
    "queue.next": ("Berikutnya", "Next"),
    "filter.status": ("Status", "Status"),
    "filter.channel": ("Kanal", "Channel"),
    "filter.category": ("Kategori", "Category"),
    "filter.opd": ("OPD", "Department"),
    "filter.any": ("Semua", "Any"),
    "filter.flag": ("Tanda dari sistem", "Flags"),
    "filter.overdue": ("Lewat tenggat", "Overdue"),
    "filter.answered": ("Dibalas pelapor", "Answered by reporter"),
    "filter.out_of_jurisdiction": ("Di luar wilayah", "Outside the region"),
    "filter.duplicate": ("Kemungkinan duplikat", "Likely duplicate"),
    "col.number": ("Nomor", "Number"),
    "col.reporter": ("Pelapor", "Reporter"),
    "col.summary": ("Ringkasan", "Summary"),
    "col.status": ("Status", "Status"),
    "col.channel": ("Kanal", "Channel"),
    "col.activity": ("Aktivitas terakhir", "Last activity"),
    "col.due": ("Tenggat", "Due"),
    "status.open": ("Terbuka", "Open"),
    "status.all": ("Semua", "All"),
    "status.new": ("Baru", "New"),
    "status.clarifying": ("Menunggu pelapor", "Waiting for reporter"),
    "status.forwarded": ("Diteruskan ke OPD", "Forwarded"),
    "status.in_progress": ("Diproses OPD", "In progress"),
    "status.resolved": ("Selesai", "Resolved"),
    "status.closed": ("Ditutup", "Closed"),
    "resolution.resolved": ("Selesai ditangani", "Resolved"),
    "resolution.no_response": ("Tidak ada tanggapan pelapor", "No response"),
    "resolution.not_factual": ("Tidak faktual", "Not factual"),
    "resolution.out_of_jurisdiction": ("Di luar wilayah", "Outside the region"),
    "resolution.not_government_affairs": (
        "Bukan urusan pemerintah daerah",
        "Not a government matter",
    ),
    "resolution.private_matter": ("Masalah pribadi", "Private matter"),
    "resolution.duplicate": ("Duplikat", "Duplicate"),
    "resolution.spam": ("Spam", "Spam"),
    "badge.answered": ("Pelapor membalas", "Reporter answered"),
    "badge.overdue": ("Lewat tenggat", "Overdue"),
    "ticket.conversation": ("Percakapan", "Conversation"),
    "ticket.audit": ("Riwayat tindakan", "Audit trail"),
    "ticket.suggestions": ("Saran sistem", "Suggestions"),
    "ticket.suggested_category": ("Kategori yang disarankan", "Suggested category"),
    "ticket.out_of_jurisdiction": ("Kemungkinan di luar wilayah", "Possibly outside the region"),
    "ticket.mentions": (
        "Pesan dari pelapor lain yang menyebut tiket ini (tidak digabung otomatis; periksa dan "
        "gabungkan bila perlu):",
        "A message from another reporter names this ticket (not joined automatically; check it "
        "and merge if needed):",
    ),
    "ticket.duplicate_of": (
        "Kemungkinan duplikat dari {number} (kemiripan {score})",
        "Likely duplicate of {number} (similarity {score})",
    ),
    "ticket.missing": ("Belum ada", "Missing"),
    "ticket.reporter": ("Pelapor", "Reporter"),
    "ticket.category": ("Kategori", "Category"),
    "ticket.opd": ("OPD", "Department"),
    "ticket.opd_due": ("Tenggat OPD", "Department due"),
    "ticket.due": ("Tenggat penyelesaian", "Case due"),
    "ticket.clarification_due": ("Tenggat jawaban pelapor", "Reporter's answer due"),
    "ticket.location": ("Lokasi", "Location"),
    "ticket.map": ("Buka peta", "Open map"),
    "ticket.download": ("Unduh", "Download"),
    "ticket.attachment_pending": ("Lampiran belum diunduh", "Attachment not fetched yet"),
    "ticket.attachment_failed": ("Lampiran gagal diunduh", "Attachment could not be fetched"),
    "ticket.from_reporter": ("Pelapor", "Reporter"),
    "ticket.from_staff": ("Petugas", "Staff"),
    "ticket.delivery": ("Pengiriman", "Delivery"),
    "ticket.done": ("Tindakan tersimpan.", "Action saved."),
    "ticket.action_failed": (
        "Tindakan tidak dapat dilakukan: {reason}",
        "Action refused: {reason}",
    ),
    "error.409": (
        "tindakan ini tidak berlaku untuk status tiket sekarang",
        "this action does not apply to the ticket as it is now",
    ),
    "error.422": ("isian belum lengkap atau tidak dikenal", "a field is missing or unknown"),
    "error.403": ("peran Anda tidak boleh melakukannya", "your role may not do this"),
    "error.503": ("basis data tidak dapat dihubungi; coba lagi", "the database is unreachable"),
    "ticket.merged_into": ("Digabung ke {number}", "Merged into {number}"),
    "missing.location": ("lokasi", "location"),
    "missing.photo": ("foto", "photo"),
    "missing.supporting_data": ("data pendukung", "supporting data"),
    "missing.event_time": ("waktu kejadian", "time of the event"),
    "action.verify": ("Verifikasi", "Verify"),
    "action.request_clarification": ("Minta kelengkapan", "Ask for clarification"),
    "action.reject": ("Tolak", "Reject"),
    "action.forward": ("Teruskan ke OPD", "Forward to department"),
    "action.acknowledge": ("Terima dan proses", "Acknowledge"),
    "action.resolve": ("Selesaikan", "Resolve"),
    "action.reopen": ("Buka kembali", "Reopen"),
    "action.merge": ("Gabungkan", "Merge"),
    "action.reply": ("Balas", "Reply"),
    "action.note": ("Catatan internal", "Internal note"),
    "action.opened": ("Laporan masuk", "Report received"),
    "action.reporter_answered": ("Pelapor menjawab", "Reporter answered"),
    "action.auto_close": ("Ditutup otomatis", "Closed automatically"),
    "action.escalate": ("Eskalasi", "Escalation"),
    "action.remind": ("Pengingat", "Reminder"),
    "action.merged_from": ("Digabung dari laporan lain", "Merged from another report"),
    "form.category": ("Kategori", "Category"),
    "form.opd": ("OPD tujuan", "Department"),
    "form.reason": ("Alasan", "Reason"),
    "form.message": ("Pesan ke pelapor", "Message to the reporter"),
    "form.message_optional": (
        "Pesan ke pelapor (kosongkan untuk memakai templat)",
        "Message to the reporter (leave empty for the template)",
    ),
    "form.facts": ("Yang diminta", "Ask for"),
    "form.into": ("Nomor laporan tujuan", "Merge into ticket"),
    "form.note": ("Catatan (tidak dikirim ke pelapor)", "Note (not sent to the reporter)"),
    "reply.channel": ("Dikirim lewat {channel}", "Sent on {channel}"),
    "reply.window": (
        "Pelapor terakhir menulis lebih dari {hours} jam lalu: di {channel} pesan akan dikirim "
        "dengan templat yang disetujui, bukan teks bebas.",
        "The reporter last wrote more than {hours} hours ago: on {channel} the message will go "
        "out as the approved template, not free text.",
    ),
    "users.title": ("Pengguna", "Users"),
    "users.add": ("Tambah pengguna", "Add user"),
    "users.role": ("Peran", "Role"),
    "users.locked": ("Terkunci sampai {until}", "Locked until {until}"),
    "users.unlock": ("Buka kunci", "Unlock"),
    "users.added": ("Pengguna {name} ditambahkan.", "User {name} added."),
    "users.error": ("Pengguna tidak dapat ditambahkan: {reason}", "User not added: {reason}"),
    "users.invalid.username": (
        "nama pengguna harus 1-64 karakter berupa huruf, angka, titik, garis bawah atau tanda "
        "hubung, diawali huruf atau angka",
        "a username is 1-64 letters, digits, dots, underscores or hyphens, starting with a "
        "letter or digit",
    ),
    "users.not_self": (
        "Anda tidak dapat menonaktifkan akun Anda sendiri.",
        "You cannot disable your own account.",
    ),
    "users.disable": ("Nonaktifkan", "Disable"),
    "users.disable_confirm": (
        "Sesi dan token API pengguna ini akan diakhiri.",
        "This user's sessions and API tokens will be ended.",
    ),
    "users.disabled": ("Nonaktif sejak {since}", "Disabled since {since}"),
    "users.tokens": ("Token API", "API tokens"),
    "users.token_name": ("Nama token", "Token name"),
    "users.created": ("Dibuat", "Created"),
    "users.last_used": ("Terakhir dipakai", "Last used"),
    "users.revoke": ("Cabut", "Revoke"),
    "users.revoked": ("Dicabut {at}", "Revoked {at}"),
    "users.no_tokens": ("Belum ada token API.", "No API tokens yet."),
    "role.operator": ("Operator", "Operator"),
    "role.supervisor": ("Supervisor", "Supervisor"),
    "role.admin": ("Admin", "Admin"),
    "role.opd": ("Penghubung OPD", "Department liaison"),
    "stats.title": ("Statistik", "Statistics"),
    "stats.unavailable": (
        "Statistik belum tersedia di versi ini.",
        "Statistics are not available in this version yet.",
    ),
    "stats.from": ("Dari", "From"),
    "stats.to": ("Sampai", "To"),
    "stats.csv": ("Unduh CSV", "Download CSV"),
    "stats.received": ("Laporan masuk", "Reports received"),
    "stats.valid": ("Valid", "Valid"),
    "stats.not_valid": ("Tidak valid", "Not valid"),
    "stats.rejected": ("Ditolak", "Rejected"),
    "stats.median_first_response": (
        "Median jam sampai tanggapan pertama",
        "Median hours to first response",
    ),
    "stats.median_resolution": ("Median jam sampai selesai", "Median hours to resolution"),
    "stats.by_channel": ("Laporan per kanal", "Reports per channel"),
    "stats.by_stage": ("Tahap penanganan", "Stage"),
    "stats.by_status": ("Per status", "By status"),
    "stats.not_valid_reasons": ("Tidak valid, per alasan", "Not valid, by reason"),
    "stats.rejected_reasons": ("Ditolak, per alasan", "Rejected, by reason"),
    "stats.by_category": ("Per kategori", "By category"),
    "stats.by_opd": ("Per OPD", "By department"),
    "stats.overdue_by_opd": ("Lewat tenggat per OPD", "Overdue per department"),
    "stage.to_follow_up": ("Perlu tindak lanjut", "To follow up"),
    "stage.in_process": ("Dalam proses", "In process"),
    "stage.resolved": ("Selesai", "Resolved"),
    "stage.closed": ("Ditutup", "Closed"),
    "kind.image": ("foto", "photo"),
    "kind.video": ("video", "video"),
    "kind.audio": ("rekaman suara", "audio"),
    "kind.document": ("dokumen", "document"),
    "kind.sticker": ("stiker", "sticker"),
    "kind.voice": ("pesan suara", "voice message"),
    "kind.contact": ("kontak", "contact"),
    "kind.other": ("berkas", "file"),
    "delivery.queued": ("menunggu dikirim", "queued"),
    "delivery.sending": ("sedang dikirim", "sending"),
    "delivery.sent": ("terkirim", "sent"),
    "delivery.delivered": ("sampai", "delivered"),
    "delivery.read": ("dibaca", "read"),
    "delivery.failed": ("gagal", "failed"),
    "submit": ("Kirim", "Submit"),
    "save": ("Simpan", "Save"),
}


def translate(key: str, locale: str, **values: object) -> str:
    """The text of `key` in `locale` (falling back to Indonesian), placeholders filled."""
    if key.startswith(CHANNEL_PREFIX):  # channel names come from the registry, or fail loudly
        return channel_label(key.removeprefix(CHANNEL_PREFIX), "en" if locale == "en" else "id")
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[1] if locale == "en" else pair[0]
    return text.format(**values) if values else text


def known_locale(locale: str | None) -> str:
    return locale if locale in LOCALES else "id"


_MONTHS_SHORT = {
    "id": "Jan Feb Mar Apr Mei Jun Jul Agu Sep Okt Nov Des".split(),
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
}


def short_time(moment: datetime | None, tz: tzinfo, locale: str) -> str:
    """ "23 Nov 2026 09.30 WIB" in a table cell (English: "23 Nov 2026 09:30 WIB")."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    month = _MONTHS_SHORT[known_locale(locale)][local.month - 1]
    clock = f"{local:%H.%M}" if locale != "en" else f"{local:%H:%M}"
    return f"{local.day} {month} {local.year} {clock} {local.tzname() or ''}".rstrip()


def long_time(moment: datetime | None, tz: tzinfo, locale: str) -> str:
    """ "Senin, 23 November 2026 pukul 09.30 WIB", the reporters' format."""
    return format_due(moment, tz, known_locale(locale)) if moment else ""
