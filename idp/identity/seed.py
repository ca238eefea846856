"""Synthetic civil-registry records for development, demos and tests (deterministic)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from .national_id import check_digit

MALE_NAMES = ["علی", "محمد", "حسین", "رضا", "مهدی", "امیر", "سعید", "حمید", "مجید", "کاظم"]
FEMALE_NAMES = ["زهرا", "فاطمه", "مریم", "سارا", "نرگس", "الهام", "لیلا", "مهسا", "شیما", "ندا"]
LAST_NAMES = ["احمدی", "محمدی", "حسینی", "رضایی", "کریمی", "موسوی", "جعفری", "صادقی",
              "رحیمی", "کاظمی", "قاسمی", "نوری"]
MOBILE_PREFIXES = ["0912", "0919", "0935", "0936", "0901", "0921", "0990"]


def national_code(rng: random.Random) -> str:
    while True:
        body = f"{rng.randrange(1, 1000):03d}{rng.randrange(1, 1_000_000):06d}"
        if len(set(body)) > 1:
            return body + str(check_digit(body))


def fida_code(rng: random.Random) -> str:
    while True:
        code = "".join(str(rng.randrange(10)) for _ in range(12))
        if len(set(code)) > 1:
            return code


def synthetic_records(count: int, seed: int = 0, foreign_every: int = 5) -> list[dict]:
    """Return ``count`` valid, distinct records; every ``foreign_every``-th is a FIDA holder."""
    rng = random.Random(seed)
    records, seen = [], set()
    while len(records) < count:
        foreign = foreign_every and len(records) % foreign_every == foreign_every - 1
        code = fida_code(rng) if foreign else national_code(rng)
        if code in seen:
            continue
        seen.add(code)
        gender = rng.choice(["male", "female"])
        first = rng.choice(MALE_NAMES if gender == "male" else FEMALE_NAMES)
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 45))
        records.append({
            "id_type": "fida" if foreign else "national",
            "id_code": code,
            "first_name": first,
            "last_name": rng.choice(LAST_NAMES),
            "father_name": rng.choice(MALE_NAMES),
            "certificate_number": str(rng.randrange(1, 999999)),
            "birth_date": born,
            "gender": gender,
            "mobile": rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(0, 10_000_000):07d}",
            "is_deceased": False,
        })
    return records
