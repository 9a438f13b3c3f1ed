"""How Korean narration says numbers, dates, times, units, money, percentages, abbreviations and web addresses.

Quantities are Sino-Korean (1,500 → 천오백, 3.5 → 삼 점 오); the common native-Korean counters (개, 명, 살, 시,
시간, 마리 …) take native numbers up to 99 (3개 → 세개, 2시 → 두시), as people say them; emergency and service
numbers (119, 112, 1339 …), any number someone is told to call, and phone numbers are read digit by digit with
공 for 0 (119 → 일일구, 010-1234-5678 → 공일공, 일이삼사, 오육칠팔). Web addresses use 점, 슬래시 and 앳.
"""

import re

from num2words import num2words

from reelflow.tts.written_forms import (
    CLOCK_TIME,
    DOTTED_NUMBER,
    EMAIL,
    ISO_DATE,
    MAX_CARDINAL_DIGITS,
    NUMBER_END,
    NUMBER_START,
    PHONE_NUMBER,
    SIGN,
    SLASH_DATE,
    URL,
    ReadingRule,
    apply_rules,
    digit_groups,
    ends_sentence,
    number_pattern,
    plausible_date,
    speak_web_address,
    web_address,
)

_DIGITS = "공일이삼사오육칠팔구"
_DECIMAL_DIGITS = "영일이삼사오육칠팔구"

# Emergency and public service numbers: said digit by digit unless a counter makes them a quantity (119명).
SERVICE_NUMBERS = frozenset(
    {
        *("109", "110", "111", "112", "113", "114", "117", "118", "119", "120", "122", "125", "127", "128"),
        *("129", "131", "132", "182", "1301", "1330", "1332", "1339", "1345", "1350", "1366", "1388", "1393"),
        *("1399", "1577", "1588", "1644"),
    }
)
# After a number, these make it a quantity, not a number to dial.
_QUANTITY_AFTER = re.compile(r"\s?(?:%|[명개원년월일분초살층호위회차건곳대병장권잔마리]|[.,]\d|km|kg|m\b|g\b|℃|°)")
# "…에 전화하세요", "…번으로 신고": whatever number comes before is dialled.
_DIAL_CONTEXT = r"(?=\s?(?:번)?\s?(?:으로|로|에|에서|에다|은|는|을|를)?\s?(?:전화|연락|신고|문의|걸))"

_NATIVE_ONES = ["", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉"]
_NATIVE_TENS = ["", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔"]
# Counters that take native numbers, with the largest number said natively (2시 is 두시, 14시 is 십사시).
_NATIVE_COUNTERS = {
    "시간": 99,
    "시": 12,
    "개": 99,
    "명": 99,
    "살": 99,
    "마리": 99,
    "권": 99,
    "잔": 99,
    "병": 99,
    "장": 99,
    "벌": 99,
    "켤레": 99,
    "송이": 99,
    "그루": 99,
    "가지": 99,
    "곳": 99,
    "군데": 99,
    "달": 99,
    "번째": 99,
    "사람": 99,
    "척": 99,
    "채": 99,
}
# 3개월 is 삼개월 and 1시대 is not a time: the counter must not go on into these.
_NOT_A_COUNTER_AFTER = {
    "개": "월|국|년|소",
    "시": "대|리|장|청|민|점|각|속",
    "달": "러|력",
    "채": "널|팅",
    "벌": "금|레",
}
_SPECIAL_MONTHS = {6: "유월", 10: "시월"}
# 번 counts times (하루에 3번, 3번씩 → 세번) or names an item (3번 출구 → 삼번): native only with these around it.
_TIMES_BEFORE = re.compile(r"에\s?$")
_TIMES_AFTER = re.compile(r"\s?(?:씩|더|이상|이하|정도|반복|만에|이나|연속|시도|눌|클릭)")
_BIG_UNITS = "십백천만억조"

_UNITS: dict[str, str] = {
    "km/h": "시속 {} 킬로미터",
    "km/s": "초속 {} 킬로미터",
    "m/s": "초속 {} 미터",
    "kcal": "{} 킬로칼로리",
    "mmHg": "{} 수은주밀리미터",
    "kWh": "{} 킬로와트시",
    "kW": "{} 킬로와트",
    "km²": "{} 제곱킬로미터",
    "m²": "{} 제곱미터",
    "㎡": "{} 제곱미터",
    "m³": "{} 세제곱미터",
    "km": "{} 킬로미터",
    "㎞": "{} 킬로미터",
    "cm": "{} 센티미터",
    "㎝": "{} 센티미터",
    "mm": "{} 밀리미터",
    "㎜": "{} 밀리미터",
    "kg": "{} 킬로그램",
    "Kg": "{} 킬로그램",
    "KG": "{} 킬로그램",
    "㎏": "{} 킬로그램",
    "mg": "{} 밀리그램",
    "ml": "{} 밀리리터",
    "mL": "{} 밀리리터",
    "㎖": "{} 밀리리터",
    "°C": "섭씨 {} 도",
    "℃": "섭씨 {} 도",
    "°F": "화씨 {} 도",
    "℉": "화씨 {} 도",
    "GB": "{} 기가바이트",
    "MB": "{} 메가바이트",
    "KB": "{} 킬로바이트",
    "TB": "{} 테라바이트",
    "mph": "시속 {} 마일",
    "g": "{} 그램",
    "m": "{} 미터",
    "L": "{} 리터",
    "l": "{} 리터",
    "ℓ": "{} 리터",
    "W": "{} 와트",
}
_CURRENCY_SYMBOLS = {"₩": "원", "$": "달러", "€": "유로", "£": "파운드", "¥": "엔"}
_CENTS = {"$": "센트", "€": "센트", "£": "펜스"}

_ABBREVIATIONS: dict[str, str] = {
    "e.g.": "예를 들어",
    "i.e.": "즉",
    "etc.": "등",
    "vs.": "대",
    "vs": "대",
    "(주)": "주식회사",
    "㈜": "주식회사",
}


def sino_korean(number: int) -> str:
    """A whole number in Sino-Korean, as num2words says it (1500 → 천오백, 15000 → 만 오천)."""
    if len(str(abs(number))) > MAX_CARDINAL_DIGITS:
        return korean_digits(str(abs(number)))
    spoken = str(num2words(abs(number), lang="ko"))
    return f"마이너스 {spoken}" if number < 0 else spoken


def korean_digits(digits: str) -> str:
    """Digit by digit, as phone and emergency numbers are said: 119 → 일일구, 010 → 공일공."""
    return "".join(_DIGITS[int(digit)] for digit in digits if digit.isdigit())


def native_korean(number: int) -> str:
    """1-99 in native Korean as it stands before a counter: 1 → 한, 20 → 스무, 21 → 스물한."""
    if number == 20:
        return "스무"
    return _NATIVE_TENS[number // 10] + _NATIVE_ONES[number % 10]


def korean_number(whole: str, fraction: str | None = None, *, negative: bool = False) -> str:
    """A written number (thousands commas allowed) in Sino-Korean, its decimals digit by digit: 3.14 → 삼 점 일사."""
    digits = whole.replace(",", "")
    if len(digits) > 1 and digits.startswith("0") and "," not in whole:
        spoken = korean_digits(digits)
    else:
        spoken = sino_korean(int(digits))
    if fraction:
        spoken += " 점 " + "".join(_DECIMAL_DIGITS[int(digit)] for digit in fraction)
    return f"마이너스 {spoken}" if negative else spoken


def _number_in(match: re.Match[str], name: str = "n") -> str:
    negative = bool(match.groupdict().get("sign"))
    return korean_number(match.group(name), match.group(f"{name}_frac"), negative=negative)


def _read_web_address(match: re.Match[str]) -> str:
    spoken = speak_web_address(
        web_address(match.group(0)), dot="점", slash="슬래시", at="앳", dash="대시", underscore="언더바"
    )
    return f" {spoken}" if match.start() and match.string[match.start() - 1].isalnum() else spoken


def _read_abbreviation(match: re.Match[str]) -> str:
    spoken = _ABBREVIATIONS[match.group(0)]
    return spoken + "." if match.group(0) == "etc." and ends_sentence(match) else spoken


def _date(year: int, month: int, day: int) -> str | None:
    if not plausible_date(month, day):
        return None
    return f"{sino_korean(year)}년 {_month(month)} {sino_korean(day)}일"


def _month(month: int) -> str:
    return _SPECIAL_MONTHS.get(month, f"{sino_korean(month)}월")


def _read_iso_date(match: re.Match[str]) -> str | None:
    return _date(int(match.group("year")), int(match.group("month")), int(match.group("day")))


def _read_slash_date(match: re.Match[str]) -> str | None:
    first, second = int(match.group("first")), int(match.group("second"))
    month, day = (second, first) if first > 12 else (first, second)
    return _date(int(match.group("year")), month, day)


def _read_clock_time(match: re.Match[str]) -> str | None:
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    if hour > 24:
        return None
    half = match.group("half")
    meridiem = (match.group("meridiem") or "").lower()
    if meridiem:
        half = "오후" if meridiem.startswith("p") else "오전"
    elif half is None and (hour == 0 or hour > 12 or match.group("hour").startswith("0")):
        half = "오후" if 12 <= hour < 24 else "오전"
    twelve_hour = hour % 12 or 12 if half else hour
    spoken = f"{native_korean(twelve_hour)} 시" if 1 <= twelve_hour <= 12 else f"{sino_korean(twelve_hour)} 시"
    if minute:
        spoken += f" {sino_korean(minute)} 분"
    if match.group("second") and int(match.group("second")):
        spoken += f" {sino_korean(int(match.group('second')))} 초"
    if half:
        spoken = f"{half} {spoken}"
    if meridiem.endswith(".") and ends_sentence(match):
        spoken += "."
    return spoken


def _read_phone_number(match: re.Match[str]) -> str:
    groups = digit_groups(match.group(0))
    if match.group("country"):
        groups[0] = "플러스 " + korean_digits(groups[0])
        return ", ".join([groups[0], *(korean_digits(group) for group in groups[1:])])
    return ", ".join(korean_digits(group) for group in groups)


def _read_service_number(match: re.Match[str]) -> str | None:
    number = match.group("n")
    dialled = number in SERVICE_NUMBERS and not _QUANTITY_AFTER.match(match.string, match.end())
    return korean_digits(number) if dialled or match.group("dial") is not None else None


def _read_money(match: re.Match[str]) -> str:
    symbol = match.group("symbol")
    fraction = match.group("n_frac")
    if symbol in _CENTS and fraction is not None and len(fraction) == 2:
        spoken = f"{korean_number(match.group('n'))} {_CURRENCY_SYMBOLS[symbol]}"
        if int(fraction):
            spoken += f" {sino_korean(int(fraction))} {_CENTS[symbol]}"
        return spoken
    return f"{_number_in(match)} {_CURRENCY_SYMBOLS[symbol]}"


def _read_percentage(match: re.Match[str]) -> str:
    return f"{_number_in(match)} {'퍼센트포인트' if match.group('point') else '퍼센트'}"


def _read_unit(match: re.Match[str]) -> str:
    number = _number_in(match)
    unit = _UNITS[match.group("unit")]
    if unit.startswith("섭씨") and number.startswith("마이너스 "):
        number = "영하 " + number.removeprefix("마이너스 ")
    return unit.format(number)


def _read_dotted_number(match: re.Match[str]) -> str:
    return " 점 ".join(korean_number(part) for part in match.group(0).split("."))


def _read_number(match: re.Match[str]) -> str:
    """A number with what follows it: a big unit (1만 → 만), a month (6월 → 유월) or a native counter (3개 → 세개)."""
    big, counter = match.group("big"), match.group("counter")
    whole = match.group("n").replace(",", "")
    plain = match.group("n_frac") is None and not match.group("sign") and match.group("ordinal_prefix") is None
    if big:
        spoken = "" if plain and whole == "1" and big in "십백천만" else _number_in(match)
        return spoken + big
    if counter is not None:
        space, name = match.group("space"), counter.strip()
        if name == "월" and plain and int(whole) in _SPECIAL_MONTHS:
            return _SPECIAL_MONTHS[int(whole)]
        limit = _NATIVE_COUNTERS.get(name, 0)
        if name == "번" and (
            _TIMES_BEFORE.search(match.string, 0, match.start()) or _TIMES_AFTER.match(match.string, match.end())
        ):
            limit = 99
        if plain and 1 <= int(whole) <= limit:
            native = "첫" if name == "번째" and whole == "1" else native_korean(int(whole))
            return f"{native}{space}{name}"
        return f"{_number_in(match)}{space}{name}"
    return _number_in(match)


def _counter_alternatives() -> str:
    names = sorted([*_NATIVE_COUNTERS, "월", "번"], key=len, reverse=True)
    return "|".join(
        re.escape(name) + (f"(?!{_NOT_A_COUNTER_AFTER[name]})" if name in _NOT_A_COUNTER_AFTER else "")
        for name in names
    )


def _alternatives(words: list[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_NUMBER = number_pattern("n")
_UNIT_END = r"(?![A-Za-z0-9²³/])"

KOREAN_RULES: list[ReadingRule] = [
    ReadingRule("email", EMAIL, _read_web_address),
    ReadingRule("url", URL, _read_web_address),
    ReadingRule(
        "abbreviation",
        re.compile(rf"(?<![\w.]){_alternatives(list(_ABBREVIATIONS))}(?![\w])|㈜|\(주\)"),
        _read_abbreviation,
    ),
    ReadingRule("date", ISO_DATE, _read_iso_date),
    ReadingRule("date", SLASH_DATE, _read_slash_date),
    ReadingRule("time", CLOCK_TIME, _read_clock_time),
    ReadingRule("phone number", PHONE_NUMBER, _read_phone_number),
    ReadingRule(
        "service number",
        re.compile(rf"{NUMBER_START}(?P<n>\d{{3,4}})(?![\d]|[.,]\d)(?P<dial>{_DIAL_CONTEXT})?"),
        _read_service_number,
    ),
    ReadingRule(
        "money",
        re.compile(rf"(?P<symbol>[₩$€£¥])\s?{SIGN}{_NUMBER}{NUMBER_END}"),
        _read_money,
    ),
    ReadingRule(
        "percentage",
        re.compile(rf"{NUMBER_START}{SIGN}{_NUMBER}\s?(?:%|％)(?P<point>p\b)?"),
        _read_percentage,
    ),
    ReadingRule(
        "unit",
        re.compile(rf"{NUMBER_START}{SIGN}{_NUMBER}\s?(?P<unit>{_alternatives(list(_UNITS))}){_UNIT_END}"),
        _read_unit,
    ),
    ReadingRule("dotted number", DOTTED_NUMBER, _read_dotted_number),
    ReadingRule(
        "range",
        re.compile(r"(?<=\d)\s?~\s?(?=\d)"),
        lambda match: "에서 ",
    ),
    ReadingRule(
        "number",
        re.compile(
            rf"(?P<ordinal_prefix>(?<=제)|(?<=제 ))?{NUMBER_START}{SIGN}{_NUMBER}{NUMBER_END}(?![A-Za-z])"
            rf"(?:(?P<big>[{_BIG_UNITS}])|(?P<space>\s?)(?P<counter>{_counter_alternatives()}))?"
        ),
        _read_number,
    ),
]


def read_korean(text: str) -> str:
    """``text`` with every written form the rules know replaced by how a Korean speaker says it."""
    return apply_rules(text, KOREAN_RULES)
