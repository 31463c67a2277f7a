"""Indonesian words for matching: informal spellings, stop words and an affix stemmer.

The stemmer strips the common inflectional suffixes (-lah, -kah, -pun; -nya, -ku, -mu), one
derivational suffix (-kan, -an, -i, and the loan suffix -isasi) and up to two prefixes (me-,
di-, ber-, ter-, ke-, pe-, per-, se- with their nasal forms, and the informal ng-/ny-).
A word that is itself a root in the dictionary of Indonesian roots shipped with PySastrawi
(from KBBI) is kept whole, so "Kencana" and "bencana" stay apart. Otherwise it prefers a
reading found in ROOTS, a list of words common in complaints, then the longest reading found
in the dictionary (strip the least: "kerusakan" is rusak, not rusa), else the usual reading
with a root of at least two syllables. Measured against PySastrawi's own stemmer on
bench/triage/stems.tsv (bench/stem_eval.py): see docs/architecture.md.

`specific_form` tells which derived words mean something other than their root: agent nouns
(pe-/peN-/per- without -an: "pekerja" is a worker, not work) and ke-...-an nouns ("kebakaran"
is a fire, not burning). Report texts and config keywords go through the same functions, so an
unusual stem still matches itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib.resources import files

# Informal and abbreviated spellings seen in reports, mapped to the standard word.
INFORMAL = {
    **dict.fromkeys(
        [
            "gk",
            "ga",
            "gak",
            "g",
            "ngga",
            "nggak",
            "enggak",
            "engga",
            "tdk",
            "ndak",
            "tak",
            "nda",
            "gag",
            "kagak",
            "nggk",
            "ngak",
        ],
        "tidak",
    ),
    **dict.fromkeys(["jln", "jl", "jaln", "jalanan"], "jalan"),
    **dict.fromkeys(["sdh", "udh", "udah", "dah", "sudh"], "sudah"),
    **dict.fromkeys(["blm", "blum", "belom"], "belum"),
    **dict.fromkeys(["krn", "karna", "krna"], "karena"),
    **dict.fromkeys(["kalo", "klo", "klu", "kl"], "kalau"),
    **dict.fromkeys(["deket", "dkt", "dket", "dkat"], "dekat"),
    **dict.fromkeys(["dpn", "dpan", "depn", "dpannya", "depannya"], "depan"),
    **dict.fromkeys(["blkg", "blakang", "belakng", "blk"], "belakang"),
    **dict.fromkeys(["smping", "sampng", "sampingnya"], "samping"),
    **dict.fromkeys(["sbelah", "sblh", "sebelahnya"], "sebelah"),
    **dict.fromkeys(["sebrang", "sbrg", "seberangnya"], "seberang"),
    **dict.fromkeys(["sampe", "ampe", "smpe", "sampek"], "sampai"),
    **dict.fromkeys(["ancur", "hancurr"], "hancur"),
    "yg": "yang",
    "dgn": "dengan",
    "dg": "dengan",
    "tp": "tapi",
    "sy": "saya",
    "gw": "saya",
    "gue": "saya",
    "aq": "saya",
    "dr": "dari",
    "utk": "untuk",
    "bgt": "banget",
    "bnyk": "banyak",
    "byk": "banyak",
    "lg": "lagi",
    "org": "orang",
    "tlg": "tolong",
    "mhn": "mohon",
    "skrg": "sekarang",
    "kmrn": "kemarin",
    "kmarin": "kemarin",
    "hr": "hari",
    "bln": "bulan",
    "thn": "tahun",
    "trs": "terus",
    "jg": "juga",
    "sm": "sama",
    "gmn": "bagaimana",
    "knp": "kenapa",
    "pdhl": "padahal",
    "rmh": "rumah",
    "sklh": "sekolah",
    "ds": "desa",
    "kec": "kecamatan",
    "kab": "kabupaten",
    "kel": "kelurahan",
    "bs": "bisa",
    "msh": "masih",
    "bnr": "benar",
    "tsb": "tersebut",
    "dlm": "dalam",
    "lmpu": "lampu",
    "dmn": "dimana",
    "bkn": "bukan",
    "mlm": "malam",
    "pdhal": "padahal",
    "trims": "terima",
    "makasih": "terima",
    "listrk": "listrik",
}

STOP_WORDS = frozenset(
    """
    yang di ke dari dan atau ini itu ada tidak sudah belum saya kami kita aku anda kamu dia
    mereka dengan untuk pada dalam karena tapi tetapi juga sangat banget sekali mohon tolong
    pak bu bapak ibu min admin mas mbak kak lagi masih akan bisa sama kalau terima kasih sejak
    ya yah kok sih dong deh lah kah pun nya apa bagaimana kenapa mengapa kapan dimana mana
    assalamualaikum assalamu alaikum wr wb selamat pagi siang sore malam hari pun para agar
    supaya oleh tersebut sudah belum jadi menjadi seperti hanya saja lebih banyak semua setiap
    namun padahal terus sampai hingga per bagi tentang the and to of please segera cepat
    dimohon harap sekarang kemarin tadi nih tuh kan gimana orang warga lapor laporan melaporkan
    tanpa
    """.split()
)

# Roots common in complaints: guide the stemmer where an affix reads two ways, and protect
# words that merely end or begin like an affix ("sekolah" is not sekol + -lah).
ROOTS = frozenset(
    """
    jalan jembatan lubang aspal rusak retak ambles amblas tambal cor paving bolong hancur
    banjir genang selokan saluran got gorong drainase sumbat mampet luap rob hujan air alir
    lampu terang gelap mati padam listrik tiang kabel gardu trafo token meter meteran
    sampah buang bau limbah cemar polusi asap bakar pohon tumbang tebang taman
    sehat sakit obat dokter bidan rawat periksa layan pasien puskesmas demam darah
    sekolah guru murid siswa didik ajar belajar ijazah seragam pungut pungli
    tulis daftar urus cetak pindah lahir akta nikah cerai kartu keluarga
    bantu sosial miskin sejahtera lansia terlantar tunai
    parkir angkut terminal rambu marka macet muat
    kerja gaji upah buruh pecat pesangon pabrik karyawan
    dagang jual tertib tata izin bangun liar judi minum mabuk hibur
    tanah sertifikat ukur patok sengketa
    longsor roboh gempa angin
    perintah bupati camat lurah desa dinas kantor petugas pegawai
    sampah bersih selokan sertifikat terminal
    masalah salah kalah olah jumlah nikah sebelah telah sudah
    tahu ada baik besar kecil tinggi tenggelam tutup buka pasang ganti minta tanya jawab
    lapor kirim terima rendam alir kelola tinggal datang pakai bayar tagih
    """.split()
)


def _lexicon() -> frozenset[str]:
    """PySastrawi's list of Indonesian root words (from KBBI), read from the installed package."""
    text = files("Sastrawi.Stemmer").joinpath("data/kata-dasar.txt").read_text()
    return frozenset(word for word in text.split() if word.isalpha())


LEXICON = _lexicon()

_PARTICLES = ("lah", "kah", "pun")
_POSSESSIVES = ("nya", "ku", "mu")
_VOWELS = re.compile(r"[aiueo]")
_TOKEN = re.compile(r"[a-z0-9]+")
_CASED_TOKEN = re.compile(r"[A-Za-z0-9]+")
_ABBREVIATIONS = frozenset("jl jln kec kab ds kel gg dk dsn no kp perum h hj dr ir".split())
_STRETCHED = re.compile(r"([a-z])\1{2,}")
_REDUPLICATED = re.compile(r"\b([a-z]{2,})2\b")


def tokens(text: str) -> list[str]:
    """Lower-case words of `text` with informal spellings replaced and stretched letters shrunk."""
    return list(_tokens(text))


@lru_cache(maxsize=128)
def _tokens(text: str) -> tuple[str, ...]:
    # Kept a while: triage reads a new report's words three times (places, categories, duplicates).
    text = text.casefold()
    text = _STRETCHED.sub(r"\1", text)  # "parahhh" -> "parah"
    if "2" in text:
        text = _REDUPLICATED.sub(r"\1", text)  # "jalan2" (reduplication) -> "jalan"
    return tuple(INFORMAL.get(word, word) for word in _TOKEN.findall(text))


@lru_cache(maxsize=256)
def word_tokens(text: str) -> list[tuple[str, bool]]:
    """Like `tokens`, each word with whether it was written as a name: capitalised, not all in
    capitals (PDAM, SDN are acronyms), and not the first word of a sentence."""
    found: list[tuple[str, bool]] = []
    previous = ""
    for match in _CASED_TOKEN.finditer(text):
        raw = match.group()
        word = _STRETCHED.sub(r"\1", raw.casefold())
        word = _REDUPLICATED.sub(r"\1", word) if "2" in word else word
        before = text[: match.start()].rstrip()
        # A full stop after "Jl", "Kec", "Ds" abbreviates; it does not end the sentence.
        ends = bool(before) and before[-1] in ".!?\n" and previous not in _ABBREVIATIONS
        named = raw[0].isupper() and not raw.isupper() and bool(before) and not ends
        found.append((INFORMAL.get(word, word), named))
        previous = word
    return found


def content_stems(text: str) -> list[str]:
    """The stems of `text`'s words in order, without stop words or bare numbers."""
    return [stem(word) for word in _tokens(text) if word not in STOP_WORDS and not word.isdigit()]


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """The root of one lower-case Indonesian word (see the module docstring for the rules)."""
    if len(word) <= 3 or word in ROOTS or not word.isalpha():
        return word
    if word in LEXICON:  # a root; "apakah" is still apa + -kah
        bare = word[:-3]
        return bare if word.endswith(_PARTICLES) and bare in LEXICON else word
    default = found = None
    for bare in _suffix_forms(word):
        for form in _prefix_forms(bare, depth=2):
            if form in ROOTS:
                return form
            if form in LEXICON and (found is None or len(form) > len(found)):
                found = form
            if default is None and _syllabic(form):
                default = form
    return found or default or word


def base_form(word: str) -> str:
    """`word` without its inflectional suffixes (-lah, -kah, -pun, -nya, -ku, -mu)."""
    if word in ROOTS or word in LEXICON:
        return word
    return _without_inflection(word)


@lru_cache(maxsize=8192)
def specific_form(word: str) -> str | None:
    """The word's own form when its derivation names something other than its root: an agent
    noun (pe-/peN-/per- without -an: "pekerja") or a ke-...-an noun ("kebakaran"). None when
    the word is as good as its root ("pengecoran", "dibakar", "kerusakan" as a report word)."""
    root, base = stem(word), base_form(word)
    if base == root or not root:
        return None
    prefixed = base.find(root[1:]) > 1  # the root begins after a prefix (nasal forms eat a letter)
    if base.startswith("ke") and not root.startswith("ke") and prefixed:
        return base
    if base.startswith("pe") and not root.startswith("pe") and prefixed and not base.endswith("an"):
        return base
    return None


def _without_inflection(word: str) -> str:
    """`word` without one particle (-lah, -kah, -pun) and then one possessive (-nya, -ku, -mu),
    each only where a root-sized rest stays."""
    base = word
    for group in (_PARTICLES, _POSSESSIVES):
        for suffix in group:
            if base.endswith(suffix) and _syllabic(base[: -len(suffix)]):
                base = base[: -len(suffix)]
                break
    return base


def _syllabic(rest: str) -> bool:
    """Enough left to be a root: three letters and two vowels (two syllables)."""
    return len(rest) >= 3 and len(_VOWELS.findall(rest)) >= 2


def _suffix_forms(word: str) -> list[str]:
    """Readings of `word` with suffixes removed, the most likely first, `word` itself last."""
    forms: list[str] = []
    base = _without_inflection(word)
    for suffix in ("isasi", "kan", "an", "i"):
        rest = base[: -len(suffix)]
        if not base.endswith(suffix) or not _root_like(rest):
            continue
        if suffix == "i" and rest[-1] in "aiueo":
            continue  # "sungai", "pantai", "sampai": the i belongs to the root
        forms.append(rest)
    forms += [base, word] if base != word else [word]
    return forms


def _prefix_forms(word: str, depth: int) -> Iterator[str]:
    """Readings of `word` with up to `depth` prefixes removed, the usual reading first."""
    if depth == 0:
        yield word
        return
    for rest in _strip_prefix(word):
        yield from _prefix_forms(rest, depth - 1)
    yield word


def _strip_prefix(word: str) -> list[str]:
    """Each way one prefix can come off `word`, most likely first; [] if none applies."""
    for rule in _PREFIX_RULES:
        readings = rule(word)
        if readings:
            return [r for r in readings if _root_like(r)]
    return []


def _root_like(rest: str) -> bool:
    """Long enough to be a root, or a short root the dictionary knows ("cor", "cat")."""
    return _syllabic(rest) or (len(rest) >= 2 and (rest in LEXICON or rest in ROOTS))


def _nasal(word: str, heads: dict[str, str]) -> list[str]:
    """me-/pe- (and informal ng-/ny-) with the root's first sound merged into the nasal."""
    for head, nasal in heads.items():
        rest = word[len(head) :]
        if not word.startswith(head) or not rest:
            continue
        vowel = rest[0] in "aiueo"
        if nasal == "ng":
            return [rest, "k" + rest] if vowel else [rest]
        if nasal == "ny":
            return ["s" + rest, "c" + rest, "ny" + rest] if vowel else []
        if nasal == "m":
            return ["p" + rest, "m" + rest] if vowel else [rest]
        return ["t" + rest, "n" + rest] if vowel else [rest]
    return []


_ME = {"meng": "ng", "meny": "ny", "mem": "m", "men": "n"}
_PE = {"peng": "ng", "peny": "ny", "pem": "m", "pen": "n"}
_NG = {"ng": "ng", "ny": "ny"}


def _me(word: str) -> list[str]:
    if word.startswith("menge") and word[5:6] not in set("aiueo"):
        return [word[5:], *_nasal(word, _ME)]  # mengecor: cor (one-syllable roots)
    if word.startswith(tuple(_ME)):
        return _nasal(word, _ME)
    if word.startswith("me") and word[2:3] in set("lmnrwy"):
        return [word[2:]]
    return []


def _pe(word: str) -> list[str]:
    if word.startswith("per") and word[3:4] not in set("aiueo"):
        return [word[3:], word[2:]]
    if word.startswith("penge") and word[5:6] not in set("aiueo"):
        return [word[5:], *_nasal(word, _PE)]  # pengecoran: cor
    if word.startswith(tuple(_PE)):
        return _nasal(word, _PE)
    if word.startswith("pe"):
        return [word[2:]]
    return []


def _informal_nasal(word: str) -> list[str]:
    # ngalir (mengalir), nyampah (menyampah), ngecat (mengecat)
    if word.startswith("nge") and word[3:4] not in set("aiueo"):
        return [word[3:]]
    if word.startswith(("ng", "ny")) and word[2:3] in set("aiueo"):
        return _nasal(word, _NG)
    return []


def _simple(prefix: str, recode: str = "") -> Callable[[str], list[str]]:
    def rule(word: str) -> list[str]:
        if not word.startswith(prefix):
            return []
        rest = word[len(prefix) :]
        return [rest, recode + rest] if recode and rest[:1] in set("aiueo") else [rest]

    return rule


_PREFIX_RULES = (
    _me,
    _simple("di"),
    _simple("ber", "r"),
    _simple("be"),
    _simple("ter", "r"),
    _simple("ke"),
    _pe,
    _simple("se"),
    _informal_nasal,
)
