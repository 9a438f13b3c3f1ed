"""How English narration says numbers, dates, times, units, money, percentages, abbreviations and web addresses.

Quantities are cardinal words without the commas that would make the voice pause (1,500 → one thousand five
hundred); four-digit numbers from 1100 to 2099 that are not quantities with a unit are years (1999 → nineteen
ninety-nine); 911, 999, 112 and 988, and any number someone is told to call or dial, and phone numbers are read
digit by digit. British English (en-GB, en-AU, en-NZ, en-IE) keeps the "and" of "one hundred and one" and reads
01/02/2026 day first; other English reads it month first. Web addresses use "dot", "slash" and "at".
"""

import re
from typing import Literal

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

BRITISH_REGIONS = frozenset({"gb", "uk", "au", "nz", "ie"})
EMERGENCY_NUMBERS = frozenset({"911", "999", "112", "988"})
_DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_NUMBERS = {name.lower(): number for number, name in enumerate(_MONTHS, start=1)} | {
    name[:3].lower(): number for number, name in enumerate(_MONTHS, start=1)
}
_MONTH_NUMBERS["sept"] = 9
_MONTH_NAMES = "|".join(sorted((name.capitalize() for name in _MONTH_NUMBERS), key=len, reverse=True))
# After 911 or 112, these make it a quantity ("112 people"), not a number to dial.
_QUANTITY_AFTER = re.compile(
    r"\s?(?:%|[.,]\d|°|℃|(?:k?g|k?m|c?m|mm|m?l|L|lbs?|people|persons|times|years|days|hours|minutes|pages|cases"
    r"|calls|points|words|items)\b)"
)

# (singular, plural) per unit symbol.
_UNITS: dict[str, tuple[str, str]] = {
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "m/s": ("meter per second", "meters per second"),
    "kcal": ("kilocalorie", "kilocalories"),
    "mmHg": ("millimeter of mercury", "millimeters of mercury"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "kW": ("kilowatt", "kilowatts"),
    "km²": ("square kilometer", "square kilometers"),
    "m²": ("square meter", "square meters"),
    "㎡": ("square meter", "square meters"),
    "m³": ("cubic meter", "cubic meters"),
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "kg": ("kilogram", "kilograms"),
    "mg": ("milligram", "milligrams"),
    "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"),
    "°C": ("degree Celsius", "degrees Celsius"),
    "℃": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "℉": ("degree Fahrenheit", "degrees Fahrenheit"),
    "GB": ("gigabyte", "gigabytes"),
    "MB": ("megabyte", "megabytes"),
    "KB": ("kilobyte", "kilobytes"),
    "TB": ("terabyte", "terabytes"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "sec": ("second", "seconds"),
    "ms": ("millisecond", "milliseconds"),
    "lbs": ("pound", "pounds"),
    "lb": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "ft": ("foot", "feet"),
    "mi": ("mile", "miles"),
    "g": ("gram", "grams"),
    "m": ("meter", "meters"),
    "L": ("liter", "liters"),
    "l": ("liter", "liters"),
    "ℓ": ("liter", "liters"),
    "W": ("watt", "watts"),
}
_CURRENCIES: dict[str, tuple[str, str]] = {
    "$": ("dollar", "dollars"),
    "€": ("euro", "euros"),
    "£": ("pound", "pounds"),
    "₩": ("won", "won"),
    "¥": ("yen", "yen"),
}
_CENTS: dict[str, tuple[str, str]] = {"$": ("cent", "cents"), "€": ("cent", "cents"), "£": ("penny", "pence")}
_SCALES = {"k": "thousand", "m": "million", "bn": "billion", "b": "billion", "tn": "trillion"}

# Written in any case (E.g., ETC.).
_ABBREVIATIONS: dict[str, str] = {
    "e.g.": "for example",
    "i.e.": "that is",
    "etc.": "et cetera",
    "vs.": "versus",
    "vs": "versus",
    "approx.": "approximately",
    "a.k.a.": "also known as",
}
# Capitalised only: "5 ms." is milliseconds, "Ms. Choi" a person.
_TITLES: dict[str, str] = {
    "Dr.": "Doctor",
    "Mr.": "Mister",
    "Mrs.": "Missus",
    "Ms.": "Miz",
    "Prof.": "Professor",
    "Jr.": "Junior",
    "Sr.": "Senior",
    "Inc.": "Incorporated",
    "Ltd.": "Limited",
}
# These can close a sentence, and then their full stop is the sentence's too.
_SENTENCE_FINAL_ABBREVIATIONS = frozenset({"etc.", "Jr.", "Sr.", "Inc.", "Ltd."})

Spelling = Literal["american", "british"]


def _tidy(spoken: str, spelling: Spelling) -> str:
    """num2words writes "one thousand, five hundred and one": commas would make the voice pause mid-number."""
    spoken = spoken.replace(",", "")
    if spelling == "american":
        spoken = spoken.replace(" and ", " ")
    return spoken


def english_cardinal(number: int, spelling: Spelling = "american") -> str:
    if len(str(abs(number))) > MAX_CARDINAL_DIGITS:
        return english_digits(str(abs(number)))
    spoken = _tidy(str(num2words(abs(number), lang="en")), spelling)
    return f"minus {spoken}" if number < 0 else spoken


def english_ordinal(number: int, spelling: Spelling = "american") -> str:
    if len(str(number)) > MAX_CARDINAL_DIGITS:
        return english_digits(str(number))
    return _tidy(str(num2words(number, lang="en", to="ordinal")), spelling)


def english_year(year: int, spelling: Spelling = "american") -> str:
    """1999 → nineteen ninety-nine, 2026 → twenty twenty-six, 2005 → two thousand five."""
    return _tidy(str(num2words(year, lang="en", to="year")), spelling)


def english_digits(digits: str) -> str:
    return " ".join(_DIGIT_WORDS[int(digit)] for digit in digits if digit.isdigit())


class _EnglishReader:
    """The rules, with the region's spelling and date order."""

    def __init__(self, spelling: Spelling) -> None:
        self.spelling: Spelling = spelling
        number = number_pattern("n")
        unit_end = r"(?![A-Za-z0-9²³/])"
        self.rules = [
            ReadingRule("email", EMAIL, self.web_address),
            ReadingRule("url", URL, self.web_address),
            ReadingRule(
                "abbreviation",
                re.compile(rf"(?<![\w.])(?:{_alternatives(list(_ABBREVIATIONS))})(?!\w)", re.IGNORECASE),
                self.abbreviation,
            ),
            ReadingRule(
                "title",
                re.compile(rf"(?<![\w.])(?:{_alternatives(list(_TITLES))})(?!\w)"),
                self.abbreviation,
            ),
            ReadingRule("number sign", re.compile(r"(?:\bNo\.|#)\s?(?=\d)"), lambda match: "number "),
            ReadingRule("ampersand", re.compile(r"(?<=\w)\s?&\s?(?=\w)"), lambda match: " and "),
            ReadingRule("date", ISO_DATE, self.iso_date),
            ReadingRule("date", SLASH_DATE, self.slash_date),
            ReadingRule(
                "date",
                re.compile(
                    rf"\b(?P<month>{_MONTH_NAMES})\.?\s(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s(?P<year>\d{{4}})\b)?"
                ),
                self.month_day,
            ),
            ReadingRule(
                "date",
                re.compile(
                    rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s(?:of\s)?(?P<month>{_MONTH_NAMES})\b\.?"
                    rf"(?:,?\s(?P<year>\d{{4}})\b)?"
                ),
                self.day_month,
            ),
            ReadingRule("time", CLOCK_TIME, self.clock_time),
            ReadingRule(
                "time",
                re.compile(r"(?<![\w:.])(?P<hour>1[0-2]|0?[1-9])\s?(?P<meridiem>[AaPp]\.?[Mm]\b\.?)"),
                self.hour_with_meridiem,
            ),
            ReadingRule("phone number", PHONE_NUMBER, self.phone_number),
            ReadingRule(
                "emergency number",
                re.compile(
                    r"(?P<context>\b(?i:call|dial|ring|phone|text|contact|number|hotline|helpline)\s(?:the\s)?)?"
                    rf"{NUMBER_START}(?P<n>\d{{3,4}})(?![\d]|[.,]\d)"
                ),
                self.emergency_number,
            ),
            ReadingRule(
                "money",
                re.compile(
                    rf"(?P<symbol>[$€£₩¥])\s?{SIGN}{number}{NUMBER_END}"
                    rf"(?:\s?(?P<scale>(?i:thousand|million|billion|trillion|k|m|bn|b|tn))\b)?"
                ),
                self.money,
            ),
            ReadingRule(
                "percentage",
                re.compile(rf"{NUMBER_START}{SIGN}{number}\s?(?:%|％)(?P<point>p\b)?"),
                self.percentage,
            ),
            ReadingRule(
                "unit",
                re.compile(rf"{NUMBER_START}{SIGN}{number}\s?(?P<unit>{_alternatives(list(_UNITS))}){unit_end}"),
                self.unit,
            ),
            ReadingRule(
                "ordinal",
                re.compile(r"(?<![A-Za-z0-9_.])(?P<n>\d+)(?i:st|nd|rd|th)\b"),
                lambda match: english_ordinal(int(match.group("n")), self.spelling),
            ),
            ReadingRule(
                "decade",
                re.compile(r"(?<![A-Za-z0-9_.])(?:'|’)?(?P<n>(?:1[1-9]|20)?\d0)s\b"),
                self.decade,
            ),
            ReadingRule("dotted number", DOTTED_NUMBER, self.dotted_number),
            ReadingRule("range", re.compile(r"(?<=\d)(?:-|–|\s–\s)(?=\d)"), lambda match: " to "),
            ReadingRule(
                "year",
                re.compile(r"(?<![A-Za-z0-9_.,$€£₩¥-])(?P<n>1[1-9]\d\d|20\d\d)(?![0-9]|[.,]\d|[A-Za-z%])"),
                lambda match: english_year(int(match.group("n")), self.spelling),
            ),
            ReadingRule(
                "number",
                re.compile(rf"{NUMBER_START}{SIGN}{number}{NUMBER_END}(?![A-Za-z])"),
                self.number_in,
            ),
        ]

    def number(self, whole: str, fraction: str | None = None, *, negative: bool = False) -> str:
        digits = whole.replace(",", "")
        if len(digits) > 1 and digits.startswith("0") and "," not in whole:
            spoken = english_digits(digits)
        else:
            spoken = english_cardinal(int(digits), self.spelling)
        if fraction:
            spoken += " point " + english_digits(fraction)
        return f"minus {spoken}" if negative else spoken

    def number_in(self, match: re.Match[str]) -> str:
        return self.number(match.group("n"), match.group("n_frac"), negative=bool(match.groupdict().get("sign")))

    def web_address(self, match: re.Match[str]) -> str:
        return speak_web_address(
            web_address(match.group(0)), dot="dot", slash="slash", at="at", dash="dash", underscore="underscore"
        )

    def abbreviation(self, match: re.Match[str]) -> str:
        written = match.group(0)
        spoken = _TITLES.get(written) or _ABBREVIATIONS[written.lower()]
        if written[0].isupper():
            spoken = spoken[0].upper() + spoken[1:]
        if (written in _SENTENCE_FINAL_ABBREVIATIONS or written.lower() == "etc.") and ends_sentence(match):
            spoken += "."
        return spoken

    def date(self, year: int | None, month: int, day: int, *, day_first: bool = False) -> str | None:
        if not plausible_date(month, day):
            return None
        ordinal = english_ordinal(day, self.spelling)
        spoken = f"the {ordinal} of {_MONTHS[month - 1]}" if day_first else f"{_MONTHS[month - 1]} {ordinal}"
        if year is not None:
            spoken += f"{' ' if day_first else ', '}{english_year(year, self.spelling)}"
        return spoken

    def iso_date(self, match: re.Match[str]) -> str | None:
        return self.date(int(match.group("year")), int(match.group("month")), int(match.group("day")))

    def slash_date(self, match: re.Match[str]) -> str | None:
        first, second = int(match.group("first")), int(match.group("second"))
        day_first = first > 12 or (self.spelling == "british" and second <= 12)
        month, day = (second, first) if day_first else (first, second)
        return self.date(int(match.group("year")), month, day)

    def month_day(self, match: re.Match[str]) -> str | None:
        year = int(match.group("year")) if match.group("year") else None
        return self.date(year, _MONTH_NUMBERS[match.group("month").lower()], int(match.group("day")))

    def day_month(self, match: re.Match[str]) -> str | None:
        year = int(match.group("year")) if match.group("year") else None
        month = _MONTH_NUMBERS[match.group("month").lower()]
        return self.date(year, month, int(match.group("day")), day_first=True)

    def clock_time(self, match: re.Match[str]) -> str | None:
        hour, minute = int(match.group("hour")), int(match.group("minute"))
        if hour > 24:
            return None
        meridiem = (match.group("meridiem") or "").lower()
        half = ("PM" if meridiem.startswith("p") else "AM") if meridiem else None
        if half is None and (hour == 0 or hour > 12 or match.group("hour").startswith("0")):
            half = "PM" if 12 <= hour < 24 else "AM"
        if half:
            hour = hour % 12 or 12
        spoken = english_cardinal(hour)
        if minute:
            spoken += " " + (f"oh {english_cardinal(minute)}" if minute < 10 else english_cardinal(minute))
        elif not half:
            spoken += " o'clock"
        if match.group("second") and int(match.group("second")):
            spoken += f" and {english_cardinal(int(match.group('second')))} seconds"
        if half:
            spoken += f" {half}"
        if meridiem.endswith(".") and ends_sentence(match):
            spoken += "."
        return spoken

    def hour_with_meridiem(self, match: re.Match[str]) -> str:
        meridiem = match.group("meridiem").lower()
        spoken = f"{english_cardinal(int(match.group('hour')))} {'PM' if meridiem.startswith('p') else 'AM'}"
        return spoken + "." if meridiem.endswith(".") and ends_sentence(match) else spoken

    def phone_number(self, match: re.Match[str]) -> str:
        groups = [english_digits(group) for group in digit_groups(match.group(0))]
        if match.group("country"):
            groups[0] = f"plus {groups[0]}"
        return ", ".join(groups)

    def emergency_number(self, match: re.Match[str]) -> str | None:
        number, context = match.group("n"), match.group("context")
        if context is not None or (
            number in EMERGENCY_NUMBERS and not _QUANTITY_AFTER.match(match.string, match.end())
        ):
            return (context or "") + english_digits(number)
        return None

    def money(self, match: re.Match[str]) -> str:
        symbol, whole, fraction = match.group("symbol"), match.group("n"), match.group("n_frac")
        singular, plural = _CURRENCIES[symbol]
        negative = bool(match.group("sign"))
        scale = match.group("scale")
        if scale:
            scale_word = _SCALES.get(scale.lower(), scale.lower())
            return f"{self.number(whole, fraction, negative=negative)} {scale_word} {plural}"
        if symbol in _CENTS and fraction is not None and len(fraction) == 2:
            amount = int(whole.replace(",", ""))
            spoken = f"{self.number(whole, negative=negative)} {singular if amount == 1 else plural}"
            cents = int(fraction)
            if cents:
                cent_singular, cent_plural = _CENTS[symbol]
                spoken += f" and {english_cardinal(cents)} {cent_singular if cents == 1 else cent_plural}"
            return spoken
        one = whole == "1" and fraction is None
        return f"{self.number(whole, fraction, negative=negative)} {singular if one else plural}"

    def percentage(self, match: re.Match[str]) -> str:
        return f"{self.number_in(match)} {'percentage points' if match.group('point') else 'percent'}"

    def unit(self, match: re.Match[str]) -> str:
        singular, plural = _UNITS[match.group("unit")]
        one = match.group("n") == "1" and match.group("n_frac") is None
        return f"{self.number_in(match)} {singular if one else plural}"

    def decade(self, match: re.Match[str]) -> str | None:
        number = int(match.group("n"))
        written_as_decade = match.group(0)[0] in "'’" or match.string[: match.start()].endswith("the ")
        if number < 1000 and not written_as_decade:
            return None  # "30s" may as well be thirty seconds
        spoken = english_year(number, self.spelling) if number >= 1000 else english_cardinal(number)
        return spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"

    def dotted_number(self, match: re.Match[str]) -> str:
        return " point ".join(self.number(part) for part in match.group(0).split("."))


def _alternatives(words: list[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_READERS: dict[Spelling, _EnglishReader] = {
    "american": _EnglishReader("american"),
    "british": _EnglishReader("british"),
}


def english_spelling(region: str | None) -> Spelling:
    return "british" if region and region.lower() in BRITISH_REGIONS else "american"


def read_english(text: str, region: str | None = None) -> str:
    """``text`` with every written form the rules know replaced by how an English speaker says it."""
    return apply_rules(text, _READERS[english_spelling(region)].rules)
