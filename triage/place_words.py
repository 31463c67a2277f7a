"""The words around a place name that tell whether it is one, and which names are everyday words.

A name that is also an ordinary Indonesian word ("sumur" a well, "giling" to grind, "gembong"
a ringleader) is read as a place only after a word that makes it one. "Ordinary word" means a
root word of the Indonesian dictionary (KBBI, as shipped with PySastrawi), or a word whose
affixes lead to one ("berlubang" from "lubang").
"""

from __future__ import annotations

from functools import cache, lru_cache

from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary
from Sastrawi.Stemmer.Stemmer import Stemmer
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

# A kind word before a name says which level of area it is (the informal short forms too).
KIND_WORDS: dict[str, str] = {
    "provinsi": "provinsi",
    "prov": "provinsi",
    "propinsi": "provinsi",
    "kabupaten": "kabupaten",
    "kab": "kabupaten",
    "kabupatn": "kabupaten",
    "pemkab": "kabupaten",
    "kota": "kota",
    "kotamadya": "kota",
    "kodya": "kota",
    "pemkot": "kota",
    "kecamatan": "kecamatan",
    "kec": "kecamatan",
    "kc": "kecamatan",
    "kcm": "kecamatan",
    "desa": "desa",
    "ds": "desa",
    "kelurahan": "desa",
    "kel": "desa",
    "kalurahan": "desa",
}
# Words after which a name is most likely a place: "di Jekulo", "warga Rembang", "arah Kudus".
LOCATIVES = frozenset(
    {
        "di",
        "ke",
        "dari",
        "dekat",
        "sekitar",
        "daerah",
        "wilayah",
        "kawasan",
        "area",
        "lokasi",
        "alamat",
        "warga",
        "penduduk",
        "arah",
        "menuju",
        "sampai",
        "hingga",
        "asal",
        "seputar",
        "kampung",
    }
)
# Words of a route or an origin: a name after them is where something comes from or goes to
# ("bus dari Semarang", "jalan ke arah Kudus", "warga asal Jepara"), not where the problem is.
ROUTE_WORDS = frozenset({"dari", "ke", "arah", "menuju", "sampai", "hingga", "asal", "tujuan"})
# ...except where reporters say where they are from ("saya dari Kab. Bogor"): their own place.
SELF_WORDS = frozenset({"saya", "kami", "aku", "kita", "warga", "penduduk", "sy", "aq"})
# Kinds of landmark: followed by a name they locate a report ("pasar Puri", "SDN 2 Kayen").
LANDMARKS = frozenset(
    {
        "sd", "sdn", "smp", "smpn", "sma", "sman", "smk", "smkn", "mi", "mts", "man", "tk",
        "paud", "ponpes", "pesantren", "pondok", "masjid", "mesjid", "musholla", "mushola",
        "musala", "langgar", "gereja", "klenteng", "vihara", "pasar", "terminal", "stasiun",
        "puskesmas", "pustu", "rsud", "rs", "klinik", "balai", "kantor", "alun", "lapangan",
        "stadion", "gor", "spbu", "perumahan", "perum", "pertigaan", "perempatan", "simpang",
        "bundaran", "jembatan", "makam", "tpu", "bendungan", "waduk", "embung", "pabrik",
        "pelabuhan", "tpi", "taman", "hotel", "kampus", "universitas", "gudang", "sungai", "kali",
    }
)  # fmt: skip
# Words that open a street name ("Jl. Sudirman", "Gg. Melati 3").
STREET_WORDS = frozenset({"jl", "jln", "jalan", "gg", "gang", "lorong"})
# Words between a street word and the name that belong to the street ("Jalan Raya Pati").
STREET_QUALIFIERS = frozenset({"raya", "lingkar", "poros", "nasional", "provinsi", "pantura"})
# A hamlet (dukuh, dusun) is below the villages the gazetteer knows: its name is not looked up,
# though it does locate the report.
HAMLET_WORDS = frozenset({"dukuh", "dk", "dkh", "dusun", "dsn", "padukuhan", "lingkungan"})
# Before a person's name: "Pak Slamet" is not the village Slamet.
PERSON_TITLES = frozenset(
    {
        "pak", "bu", "bapak", "ibu", "bpk", "mas", "mbak", "mba", "sdr", "saudara", "saudari",
        "kang", "mbah", "bang", "kak", "h", "hj", "haji", "almarhum", "alm", "nama", "an",
    }
)  # fmt: skip
# The Javanese compass words that name the halves of a split village ("Pati Kidul", "Tayu
# Wetan"). Unlike "utara" or "selatan" they are hardly used outside place names, so a name with
# one is a name even when its other word is an ordinary one ("pati").
HALVES = frozenset({"lor", "kidul", "wetan", "kulon"})


@cache
def _roots() -> frozenset[str]:
    return frozenset(w.strip() for w in StemmerFactory().get_words() if w.strip())


@cache
def _stemmer() -> Stemmer:
    return Stemmer(ArrayDictionary(list(_roots())))


def is_root_word(word: str) -> bool:
    """Whether `word` (lower case) is itself a root word of the dictionary."""
    return word in _roots()


@lru_cache(maxsize=65536)
def is_word(word: str) -> bool:
    """Whether `word` (lower case) is an ordinary word: a root, or affixes on one."""
    if word in _roots():
        return True
    return word.isalpha() and _stemmer().stem(word) in _roots()


def is_common_name(tokens: tuple[str, ...]) -> bool:
    """Whether a place name, in lower-case words, could as well be ordinary words: one root word
    ("sumur"), or only root words and none that makes a compound ("pasar minggu")."""
    if len(tokens) == 1:
        return is_root_word(tokens[0])
    return all(is_root_word(t) for t in tokens) and not HALVES.intersection(tokens)
